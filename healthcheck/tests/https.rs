//! HTTPS checks (`tls` with the *ring* provider) against loopback servers.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use healthcheck::checkers::{HttpCheck, RootCerts, TlsClient, Url, Verify};
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

fn roots(der: &[u8]) -> Verify {
    let mut roots = RootCerts::new();
    roots.add_der(der).unwrap();
    Verify::Roots(roots)
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
    let tls = TlsClient::new(roots(&der)).unwrap();
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
    let tls = TlsClient::new(roots(other.cert.der()))
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

#[test]
fn root_certs_read_every_certificate_of_a_pem_bundle() {
    let a = rcgen::generate_simple_self_signed(vec!["a.example".into()]).unwrap();
    let b = rcgen::generate_simple_self_signed(vec!["b.example".into()]).unwrap();
    let bundle = format!("{}{}", a.cert.pem(), b.cert.pem());
    let mut roots = RootCerts::new();
    assert_eq!(roots.add_pem(bundle.as_bytes()).unwrap(), 2);
    assert_eq!(roots.len(), 2);
    assert!(TlsClient::new(Verify::Roots(roots)).is_ok());
}
