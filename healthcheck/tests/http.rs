//! HTTP and HTTPS checks against misbehaving loopback servers.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use healthcheck::checkers::{HttpCheck, RootCertStore, TlsClient, Url, Verify};
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
async fn healthy_server_passes_status_digest_and_regex() {
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

/// An HTTPS server with a fresh self-signed certificate for `localhost`; returns its
/// address, the certificate, and the SNI names it saw.
async fn https_server() -> (
    std::net::SocketAddr,
    rustls::pki_types::CertificateDer<'static>,
    Arc<Mutex<Vec<String>>>,
) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let der = cert.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::try_from(cert.signing_key.serialize_der()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![der.clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let sni = Arc::new(Mutex::new(Vec::new()));
    let log = sni.clone();
    let addr = serve(move |tcp| {
        let acceptor = acceptor.clone();
        let log = log.clone();
        async move {
            let Ok(mut tls) = acceptor.accept(tcp).await else {
                return;
            };
            let name = tls.get_ref().1.server_name().unwrap_or("").to_owned();
            log.lock().unwrap().push(name);
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.ends_with(b"\r\n\r\n") {
                match tokio::io::AsyncReadExt::read(&mut tls, &mut buf).await {
                    Ok(n @ 1..) => head.extend_from_slice(&buf[..n]),
                    _ => return,
                }
            }
            let _ = tls.write_all(OK_BODY).await;
            let _ = tls.shutdown().await;
        }
    })
    .await;
    (addr, der, sni)
}

#[tokio::test]
async fn https_verifies_against_given_roots_and_sends_sni() {
    let (addr, der, sni) = https_server().await;
    let mut roots = RootCertStore::empty();
    roots.add(der).unwrap();
    let tls = TlsClient::new(Verify::Roots(Arc::new(roots))).unwrap();
    let c = check(addr, Url::new("/").unwrap().digest(OK_DIGEST).unwrap())
        .virtualhost("localhost")
        .unwrap()
        .tls(tls);
    assert_eq!(probe(&c, T).await, Outcome::UP);
    assert_eq!(sni.lock().unwrap().as_slice(), ["localhost"]);
}

#[tokio::test]
async fn https_bad_certificate_is_down_unless_verification_is_skipped() {
    let (addr, _der, _) = https_server().await;
    // trust some other certificate
    let other = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let mut roots = RootCertStore::empty();
    roots.add(other.cert.der().clone()).unwrap();
    let tls = TlsClient::new(Verify::Roots(Arc::new(roots)))
        .unwrap()
        .server_name("localhost")
        .unwrap();
    let c = check(addr, Url::new("/").unwrap()).tls(tls);
    match probe(&c, T).await {
        Outcome::Down(Reason::Tls(msg)) => assert!(msg.contains("certificate"), "{msg}"),
        other => panic!("expected a tls failure, got {other:?}"),
    }
    let skip = TlsClient::new(Verify::Skip).unwrap();
    let c = check(addr, Url::new("/").unwrap().digest(OK_DIGEST).unwrap()).tls(skip);
    assert_eq!(probe(&c, T).await, Outcome::UP);
}

#[tokio::test]
async fn https_against_plain_http_fails_the_handshake() {
    // a plain-text server that speaks first: its bytes are not a TLS record
    let addr = serve(|mut s| async move {
        let _ = s.write_all(OK_BODY).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    })
    .await;
    let c = check(addr, Url::new("/").unwrap()).tls(TlsClient::new(Verify::Skip).unwrap());
    assert!(matches!(probe(&c, T).await, Outcome::Down(Reason::Tls(_))));
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
