//! A backend HTTP server: answers every request with `200` and its name, one request per
//! connection. Stopping it closes its listener, so new connections are refused (RST).

use super::{Host, spawn_in_netns};
use std::net::SocketAddr;
use std::sync::mpsc as sync_mpsc;
use std::thread::JoinHandle;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// The port every backend listens on.
pub const PORT: u16 = 8080;

enum Command {
    Start(sync_mpsc::Sender<()>),
    Stop(sync_mpsc::Sender<()>),
}

/// A running backend in its host's namespace; stopped for good on drop.
pub struct Backend {
    /// Where it listens.
    pub addr: SocketAddr,
    commands: Option<mpsc::UnboundedSender<Command>>,
    thread: Option<JoinHandle<()>>,
}

impl Backend {
    /// Starts serving on `host`'s address, port [`PORT`].
    pub fn start(host: &Host) -> Backend {
        let addr: SocketAddr = format!("{}:{PORT}", host.v4).parse().unwrap();
        let name = host.role.clone();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let thread = spawn_in_netns(&host.ns, move || async move {
            let mut server = None;
            while let Some(command) = rx.recv().await {
                match command {
                    Command::Start(done) => {
                        let listener = TcpListener::bind(addr).await.unwrap();
                        server = Some(tokio::spawn(serve(listener, name.clone())));
                        let _ = done.send(());
                    }
                    Command::Stop(done) => {
                        if let Some(s) = server.take() {
                            s.abort();
                            let _ = s.await;
                        }
                        let _ = done.send(());
                    }
                }
            }
        });
        let backend = Backend {
            addr,
            commands: Some(tx),
            thread: Some(thread),
        };
        backend.command(Command::Start);
        backend
    }

    /// Closes the listener: new connections are refused.
    pub fn stop(&self) {
        self.command(Command::Stop);
    }

    /// Listens again.
    pub fn resume(&self) {
        self.command(Command::Start);
    }

    fn command(&self, make: fn(sync_mpsc::Sender<()>) -> Command) {
        let (done, wait) = sync_mpsc::channel();
        self.commands.as_ref().unwrap().send(make(done)).unwrap();
        wait.recv().unwrap();
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.commands.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn serve(listener: TcpListener, name: String) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(answer(stream, name.clone()));
    }
}

/// Reads one request head and answers `200 <name>`, then closes.
async fn answer(mut stream: TcpStream, name: String) {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        if head.len() > 16 * 1024 {
            return;
        }
    }
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{name}",
        name.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}
