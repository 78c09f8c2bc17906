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
