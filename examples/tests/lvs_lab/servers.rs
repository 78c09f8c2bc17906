//! Real servers and a client as threads of the test process, each inside its namespace.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{VIP, enter};

/// How often a stopped-accepting loop looks at its flags.
const POLL: Duration = Duration::from_millis(5);

/// A tiny HTTP server on 0.0.0.0:80 in host `name`'s namespace (so it answers both its own
/// address, for health checks, and the VIP on `lo`, for direct-routed clients); the body
/// of every answer is its name. Stopping closes the listening socket: connects are refused.
#[derive(Debug)]
pub(crate) struct RealServer {
    up: Arc<AtomicBool>,
    quit: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl RealServer {
    /// Starts serving.
    pub(crate) fn start(name: &str) -> RealServer {
        let up = Arc::new(AtomicBool::new(true));
        let quit = Arc::new(AtomicBool::new(false));
        let (u, q, n) = (Arc::clone(&up), Arc::clone(&quit), name.to_owned());
        let thread = std::thread::spawn(move || serve(&n, &u, &q));
        RealServer {
            up,
            quit,
            thread: Some(thread),
        }
    }

    /// Stops (`false`) or restarts (`true`) listening.
    pub(crate) fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
    }
}

impl Drop for RealServer {
    fn drop(&mut self) {
        self.quit.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(name: &str, up: &AtomicBool, quit: &AtomicBool) {
    enter(name);
    let mut listener: Option<TcpListener> = None;
    while !quit.load(Ordering::SeqCst) {
        if !up.load(Ordering::SeqCst) {
            listener = None;
            std::thread::sleep(POLL);
            continue;
        }
        let l = listener.get_or_insert_with(|| {
            let l = TcpListener::bind("0.0.0.0:80").unwrap();
            l.set_nonblocking(true).unwrap();
            l
        });
        match l.accept() {
            Ok((stream, _)) => {
                let body = name.to_owned();
                std::thread::spawn(move || answer(stream, &body));
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::sleep(POLL),
            Err(e) => panic!("accept in {name}: {e}"),
        }
    }
}

fn answer(mut stream: TcpStream, body: &str) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let mut head = Vec::new();
    let mut buf = [0u8; 512];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 4096 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let response = format!(
        "HTTP/1.0 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
}

/// One client request: when it started and ended, and which real server answered.
#[derive(Debug, Clone)]
pub(crate) struct Attempt {
    /// When the connect started.
    pub(crate) start: Instant,
    /// When the answer (or the failure) came.
    pub(crate) end: Instant,
    /// The answering real server, `None` on failure.
    pub(crate) server: Option<String>,
}

/// Requests `http://VIP/` one after the other from host `name`, each on a new
/// connection with short timeouts, and records every attempt.
#[derive(Debug)]
pub(crate) struct Client {
    log: Arc<Mutex<Vec<Attempt>>>,
    quit: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// Connect timeout of one attempt: a SYN sent to a dead director's MAC is given up on
/// after this, so it bounds how late the client notices a takeover.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_millis(100);
/// Pause between attempts.
pub(crate) const PAUSE: Duration = Duration::from_millis(20);

impl Client {
    /// Starts requesting.
    pub(crate) fn start(name: &str) -> Client {
        let log = Arc::new(Mutex::new(Vec::new()));
        let quit = Arc::new(AtomicBool::new(false));
        let (l, q, n) = (Arc::clone(&log), Arc::clone(&quit), name.to_owned());
        let thread = std::thread::spawn(move || {
            enter(&n);
            let vip: SocketAddr = format!("{VIP}:80").parse().unwrap();
            while !q.load(Ordering::SeqCst) {
                let start = Instant::now();
                let server = request(vip);
                l.lock().unwrap().push(Attempt {
                    start,
                    end: Instant::now(),
                    server,
                });
                std::thread::sleep(PAUSE);
            }
        });
        Client {
            log,
            quit,
            thread: Some(thread),
        }
    }

    /// The attempts that started at or after `since`.
    pub(crate) fn since(&self, since: Instant) -> Vec<Attempt> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|a| a.start >= since)
            .cloned()
            .collect()
    }

    /// Waits up to `timeout` for an attempt started at or after `since` to be answered by
    /// `server` (any server with `None`); returns it.
    pub(crate) fn wait_answer(
        &self,
        since: Instant,
        server: Option<&str>,
        timeout: Duration,
    ) -> Attempt {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(a) = self.since(since).into_iter().find(|a| match server {
                Some(s) => a.server.as_deref() == Some(s),
                None => a.server.is_some(),
            }) {
                return a;
            }
            assert!(
                Instant::now() < deadline,
                "client: no answer from {server:?} within {timeout:?}; last attempts: {:?}",
                self.since(since).iter().rev().take(5).collect::<Vec<_>>()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.quit.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn request(vip: SocketAddr) -> Option<String> {
    let mut stream = TcpStream::connect_timeout(&vip, CONNECT_TIMEOUT).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .ok()?;
    stream
        .write_all(b"GET / HTTP/1.0\r\nHost: lvs-lab\r\n\r\n")
        .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.0 200").then(|| body.to_owned())
}
