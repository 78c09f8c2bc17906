//! HTTP checks against misbehaving loopback servers (HTTPS: `https.rs`).
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use healthcheck::checkers::{HttpCheck, Url};
use healthcheck::{Outcome, Reason};
use std::sync::{Arc, Mutex};

use std::time::Duration;
use tokio::io::AsyncWriteExt;

const T: Duration = Duration::from_millis(800);
const OK_BODY: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Length: 43\r\n\r\nThe quick brown fox jumps over the lazy dog";
/// MD5("The quick brown fox jumps over the lazy dog"), as genhash prints it.
const OK_DIGEST: &str = "9e107d9d372bb6826bd81d3542a419d6";

fn check(addr: std::net::SocketAddr, url: Url) -> HttpCheck {
    HttpCheck::new(addr, vec![url]).unwrap()
}

#[tokio::test]
async fn healthy_server_passes_status_and_digest() {
    let addr = http_server(OK_BODY).await;
    let url = Url::new("/").unwrap().digest(OK_DIGEST).unwrap();
    assert_eq!(probe(&check(addr, url), T).await, Outcome::UP);
}

#[cfg(feature = "regex")]
#[tokio::test]
async fn healthy_server_passes_digest_and_regex() {
    let addr = http_server(OK_BODY).await;
    let url = Url::new("/")
        .unwrap()
        .digest(OK_DIGEST)
        .unwrap()
        .regex(regex::bytes::Regex::new("brown fox").unwrap());
    assert_eq!(probe(&check(addr, url), T).await, Outcome::UP);
}

#[tokio::test]
async fn wrong_status_is_reported_with_its_code() {
    let addr = http_server(b"HTTP/1.1 503 Unavailable\r\nContent-Length: 0\r\n\r\n").await;
    let c = check(addr, Url::new("/").unwrap());
    assert_eq!(probe(&c, T).await, Outcome::Down(Reason::Status(503)));
    // an explicit status list accepts it
    let c = check(addr, Url::new("/").unwrap().status([503..=503]).unwrap());
    assert_eq!(probe(&c, T).await, Outcome::UP);
}

#[tokio::test]
async fn wrong_body_fails_digest_and_regex() {
    let addr = http_server(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello").await;
    let c = check(addr, Url::new("/").unwrap().digest(OK_DIGEST).unwrap());
    assert_eq!(
        probe(&c, T).await,
        Outcome::Down(Reason::DigestMismatch {
            actual: "5d41402abc4b2a76b9719d911017c592".into()
        })
    );
    #[cfg(feature = "regex")]
    {
        let c = check(
            addr,
            Url::new("/")
                .unwrap()
                .regex(regex::bytes::Regex::new("^bye").unwrap()),
        );
        assert_eq!(
            probe(&c, T).await,
            Outcome::Down(Reason::BodyMismatch("^bye".into()))
        );
    }
}

#[tokio::test]
async fn huge_body_stops_at_the_read_bound() {
    // an endless chunked body: the check must stop reading at max_body
    let addr = serve(|mut s| async move {
        read_head(&mut s).await;
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            .await;
        let chunk = [b'a'; 65536];
        loop {
            let head = format!("{:x}\r\n", chunk.len());
            if s.write_all(head.as_bytes()).await.is_err()
                || s.write_all(&chunk).await.is_err()
                || s.write_all(b"\r\n").await.is_err()
            {
                return;
            }
        }
    })
    .await;
    let c = check(addr, Url::new("/").unwrap().digest(OK_DIGEST).unwrap()).max_body(256 * 1024);
    assert_eq!(
        probe(&c, T).await,
        Outcome::Down(Reason::BodyTooLarge(256 * 1024))
    );
    // without digest or regex the body is not read at all
    let c = check(addr, Url::new("/").unwrap());
    assert_eq!(probe(&c, T).await, Outcome::UP);
}

#[tokio::test]
async fn closing_mid_response_is_closed() {
    let addr = http_server(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b").await;
    let c = check(addr, Url::new("/").unwrap().digest(OK_DIGEST).unwrap());
    assert_eq!(probe(&c, T).await, Outcome::Down(Reason::Closed));
    let addr = http_server(b"HTTP/1.1 2").await;
    let c = check(addr, Url::new("/").unwrap());
    assert_eq!(probe(&c, T).await, Outcome::Down(Reason::Closed));
}

#[tokio::test]
async fn garbage_response_is_malformed() {
    let addr = http_server(b"SSH-2.0-OpenSSH_9.6\r\n\r\n").await;
    let c = check(addr, Url::new("/").unwrap());
    assert_eq!(probe(&c, T).await, Outcome::Down(Reason::Http));
}

#[tokio::test]
async fn slow_byte_by_byte_server_times_out() {
    let addr = serve(|mut s| async move {
        read_head(&mut s).await;
        for b in OK_BODY {
            if s.write_all(&[*b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    let c = check(addr, Url::new("/").unwrap().digest(OK_DIGEST).unwrap());
    assert_eq!(probe(&c, T).await, Outcome::Down(Reason::Timeout));
}

#[tokio::test]
async fn silent_and_refusing_servers_are_told_apart() {
    let (_keep, silent) = silent_listener().await;
    let c = check(silent, Url::new("/").unwrap());
    assert_eq!(probe(&c, T).await, Outcome::Down(Reason::Timeout));
    let c = check(refusing_addr().await, Url::new("/").unwrap());
    assert_eq!(probe(&c, T).await, Outcome::Down(Reason::Refused));
}

#[tokio::test]
async fn http10_virtualhost_and_every_url_are_sent() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let addr = serve(move |mut s| {
        let log = log.clone();
        async move {
            let head = read_head(&mut s).await;
            let fail = head.starts_with("GET /bad ");
            log.lock().unwrap().push(head);
            let response: &[u8] = if fail {
                b"HTTP/1.0 404 Not Found\r\n\r\n"
            } else {
                b"HTTP/1.0 200 OK\r\n\r\nok"
            };
            let _ = s.write_all(response).await;
        }
    })
    .await;
    let urls = vec![Url::new("/a").unwrap(), Url::new("/bad").unwrap()];
    let c = HttpCheck::new(addr, urls)
        .unwrap()
        .http10()
        .virtualhost("www.example.org")
        .unwrap();
    assert_eq!(probe(&c, T).await, Outcome::Down(Reason::Status(404)));
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert!(seen[0].starts_with("GET /a HTTP/1.0\r\n"), "{}", seen[0]);
    assert!(
        seen[0]
            .to_ascii_lowercase()
            .contains("host: www.example.org\r\n"),
        "{}",
        seen[0]
    );
}

#[tokio::test]
async fn endless_headers_are_cut_by_the_parser_bound() {
    let addr = serve(|mut s| async move {
        read_head(&mut s).await;
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\n").await;
        let line =
            b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n".repeat(64);
        while s.write_all(&line).await.is_ok() {}
    })
    .await;
    let c = check(addr, Url::new("/").unwrap());
    assert_eq!(probe(&c, T).await, Outcome::Down(Reason::Http));
}
