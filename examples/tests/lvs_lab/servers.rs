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

/// Answers requests on one connection: one, then closes (HTTP/1.0, the health checks), or
/// one after the other while the client asks `Connection: keep-alive` (the long-lived
/// connections of the anycast scenario, idle for seconds between requests).
fn answer(mut stream: TcpStream, body: &str) {
    let _ = stream.set_nonblocking(false);
    let mut timeout = Duration::from_secs(1);
    loop {
        let _ = stream.set_read_timeout(Some(timeout));
        // A client sends its next request only after reading the answer: nothing follows.
        let Ok((head, _)) = read_head(&mut stream) else {
            return;
        };
        let keep_alive = head.to_ascii_lowercase().contains("connection: keep-alive");
        let connection = if keep_alive { "keep-alive" } else { "close" };
        let response = format!(
            "HTTP/1.0 200 OK\r\nContent-Length: {}\r\nConnection: {connection}\r\n\r\n{body}",
            body.len()
        );
        if stream.write_all(response.as_bytes()).is_err() || !keep_alive {
            return;
        }
        timeout = Duration::from_secs(30);
    }
}

/// Reads one request or response head, through the blank line: the head, and the bytes
/// read after it (the start of a body).
fn read_head(stream: &mut TcpStream) -> std::io::Result<(String, Vec<u8>)> {
    let mut data = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = data.split_off(end + 4);
            let head = String::from_utf8(data)
                .map_err(|e| std::io::Error::new(ErrorKind::InvalidData, e))?;
            return Ok((head, rest));
        }
        if data.len() >= 4096 {
            return Err(std::io::Error::new(ErrorKind::InvalidData, "head too long"));
        }
        match stream.read(&mut buf)? {
            0 => return Err(ErrorKind::UnexpectedEof.into()),
            n => data.extend_from_slice(&buf[..n]),
        }
    }
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

/// A client socket bound to `port` (`SO_REUSEADDR`, so the same 5-tuple can be used again
/// as soon as the previous connection is closed), connected to `vip`:80. Call inside the
/// client's namespace.
fn connect_from(port: u16, vip: SocketAddr) -> std::io::Result<TcpStream> {
    use socket2::{Domain, Socket, Type};
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
        socket.set_reuse_address(true)?;
        socket.bind(&SocketAddr::from(([0, 0, 0, 0], port)).into())?;
        match socket.connect_timeout(&vip.into(), Duration::from_secs(1)) {
            Ok(()) => return Ok(socket.into()),
            // The previous connection of this 5-tuple is still closing (LAST_ACK).
            Err(e) if e.kind() == ErrorKind::AddrNotAvailable && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(e),
        }
    }
}

/// One HTTP/1.0 request to `vip`:80 from source port `port` (a fixed 5-tuple): the name of
/// the real server that answered. Call inside the client's namespace.
pub(crate) fn request_from(port: u16, vip: SocketAddr) -> Result<String, String> {
    let mut stream = connect_from(port, vip).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(1)))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(b"GET / HTTP/1.0\r\nHost: lvs-lab\r\n\r\n")
        .map_err(|e| format!("send: {e}"))?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| format!("receive: {e}"))?;
    match response.split_once("\r\n\r\n") {
        Some((head, body)) if head.starts_with("HTTP/1.0 200") => Ok(body.to_owned()),
        _ => Err(format!("bad answer {response:?}")),
    }
}

/// A long-lived keep-alive connection to the VIP from a fixed source port.
#[derive(Debug)]
pub(crate) struct Held {
    /// The client's source port.
    pub(crate) port: u16,
    stream: TcpStream,
}

impl Held {
    /// Connects from `port` to `vip`:80. Call inside the client's namespace; the socket
    /// stays there and can be used from any thread.
    pub(crate) fn open(port: u16, vip: SocketAddr) -> std::io::Result<Held> {
        let stream = connect_from(port, vip)?;
        stream.set_read_timeout(Some(Duration::from_secs(1)))?;
        Ok(Held { port, stream })
    }

    /// One request on the connection: the name of the real server that answered, or why
    /// none did (a reset when the director the packets reach has no entry for it).
    pub(crate) fn ask(&mut self) -> Result<String, String> {
        self.stream
            .write_all(b"GET / HTTP/1.1\r\nHost: lvs-lab\r\nConnection: keep-alive\r\n\r\n")
            .map_err(|e| format!("send: {e}"))?;
        let (head, mut body) = read_head(&mut self.stream).map_err(|e| format!("receive: {e}"))?;
        let length = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse::<usize>())
            })
            .and_then(Result::ok)
            .ok_or_else(|| format!("no content-length in {head:?}"))?;
        let mut rest = vec![0u8; length.saturating_sub(body.len())];
        self.stream
            .read_exact(&mut rest)
            .map_err(|e| format!("receive body: {e}"))?;
        body.extend(rest);
        String::from_utf8(body).map_err(|e| e.to_string())
    }
}
