//! Loopback servers and a probe runner shared by the checker tests.
#![allow(dead_code, clippy::unwrap_used)]

use healthcheck::{Check, Outcome, Reason};
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

/// Runs one probe the way the scheduler does (hard deadline) and asserts it returned
/// in time.
pub(crate) async fn probe(check: &dyn Check, timeout: Duration) -> Outcome {
    let start = Instant::now();
    let deadline = start + timeout;
    let outcome = tokio::time::timeout_at(deadline, check.check(deadline))
        .await
        .unwrap_or(Outcome::Down(Reason::Timeout));
    let took = start.elapsed();
    assert!(
        took < timeout + Duration::from_millis(200),
        "probe took {took:?}"
    );
    outcome
}

/// Spawns a TCP server on 127.0.0.1 running `handler` for every connection.
pub(crate) async fn serve<F, Fut>(handler: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(handler(stream));
        }
    });
    addr
}

/// An address whose port refuses connections (a listener bound, then closed).
pub(crate) async fn refusing_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

/// A listener that completes handshakes (kernel backlog) but never reads or answers.
pub(crate) async fn silent_listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// Reads an HTTP request head (bounded), returning it as text.
pub(crate) async fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
        match stream.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// A plain HTTP server answering every request with `response` bytes.
pub(crate) async fn http_server(response: &'static [u8]) -> SocketAddr {
    serve(move |mut s| async move {
        read_head(&mut s).await;
        let _ = s.write_all(response).await;
    })
    .await
}

/// Runs `body` on a thread moved into a fresh network namespace (only `lo`, down),
/// after running each `setup` shell command inside it. The namespace disappears
/// with the thread. `Err` says why it could not be created.
pub(crate) fn in_new_netns<T: Send + 'static>(
    setup: &'static [&'static str],
    body: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    if !nix::unistd::geteuid().is_root() {
        return Err("not root: cannot create a network namespace".into());
    }
    std::thread::spawn(move || {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)
            .map_err(|e| format!("unshare(CLONE_NEWNET): {e}"))?;
        for cmd in setup {
            // a child forked from this thread starts in its namespace
            let status = std::process::Command::new("sh")
                .args(["-c", cmd])
                .status()
                .map_err(|e| format!("{cmd}: {e}"))?;
            if !status.success() {
                return Err(format!("{cmd}: {status}"));
            }
        }
        Ok(body())
    })
    .join()
    .map_err(|_| "the namespace thread panicked".to_string())?
}

/// A current-thread tokio runtime (for bodies run by [`in_new_netns`]).
pub(crate) fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}
