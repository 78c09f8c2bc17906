//! SMTP checks against loopback servers that answer rightly and wrongly.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use healthcheck::checkers::SmtpCheck;
use healthcheck::{Outcome, Reason};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const T: Duration = Duration::from_millis(800);

/// A scripted SMTP server: sends `banner`, answers HELO with `helo_reply`, records
/// the commands it received.
async fn smtp_server(
    banner: &'static [u8],
    helo_reply: &'static [u8],
) -> (std::net::SocketAddr, Arc<Mutex<Vec<String>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = log.clone();
    let addr = serve(move |s| {
        let log = seen.clone();
        async move {
            let (rd, mut wr) = s.into_split();
            let mut rd = BufReader::new(rd);
            let _ = wr.write_all(banner).await;
            let mut line = String::new();
            while rd.read_line(&mut line).await.unwrap_or(0) > 0 {
                let cmd = line.trim_end().to_owned();
                log.lock().unwrap().push(cmd.clone());
                let reply: &[u8] = if cmd.starts_with("HELO") {
                    helo_reply
                } else {
                    b"221 bye\r\n"
                };
                let _ = wr.write_all(reply).await;
                line.clear();
            }
        }
    })
    .await;
    (addr, log)
}

#[tokio::test]
async fn healthy_server_passes_and_sees_helo_and_quit() {
    let (addr, log) = smtp_server(
        b"220-mx.example.org ESMTP\r\n220 ready\r\n",
        b"250 hello\r\n",
    )
    .await;
    let c = SmtpCheck::new(addr, "checker.example.org").unwrap();
    assert_eq!(probe(&c, T).await, Outcome::UP);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        log.lock().unwrap().as_slice(),
        ["HELO checker.example.org", "QUIT"]
    );
}

#[tokio::test]
async fn wrong_banner_and_wrong_helo_reply_are_reported() {
    let (addr, _) = smtp_server(b"554 no service\r\n", b"250 hello\r\n").await;
    let c = SmtpCheck::new(addr, "c").unwrap();
    let want = Reason::SmtpReply {
        stage: "banner",
        expected: 220,
        code: 554,
    };
    assert_eq!(probe(&c, T).await, Outcome::Down(want));
    let (addr, _) = smtp_server(b"220 ready\r\n", b"501 bad helo\r\n").await;
    let c = SmtpCheck::new(addr, "c").unwrap();
    let want = Reason::SmtpReply {
        stage: "helo",
        expected: 250,
        code: 501,
    };
    assert_eq!(probe(&c, T).await, Outcome::Down(want));
}

#[tokio::test]
async fn garbage_silence_and_refusal_are_told_apart() {
    let (addr, _) = smtp_server(b"HTTP/1.1 400 Bad Request\r\n", b"").await;
    let c = SmtpCheck::new(addr, "c").unwrap();
    assert_eq!(probe(&c, T).await, Outcome::Down(Reason::SmtpMalformed));
    let (_keep, silent) = silent_listener().await;
    let c = SmtpCheck::new(silent, "c").unwrap();
    assert_eq!(probe(&c, T).await, Outcome::Down(Reason::Timeout));
    let c = SmtpCheck::new(refusing_addr().await, "c").unwrap();
    assert_eq!(probe(&c, T).await, Outcome::Down(Reason::Refused));
    // an endless line without newline is cut at the line bound, not buffered
    let addr = serve(|mut s| async move {
        let junk = [b'2'; 4096];
        while s.write_all(&junk).await.is_ok() {}
    })
    .await;
    let c = SmtpCheck::new(addr, "c").unwrap();
    assert_eq!(probe(&c, T).await, Outcome::Down(Reason::SmtpMalformed));
}

#[test]
fn helo_names_that_would_inject_commands_are_rejected() {
    let addr = "127.0.0.1:25".parse().unwrap();
    let err = SmtpCheck::new(addr, "a\r\nRCPT TO:<x>").unwrap_err();
    assert!(err.to_string().starts_with("smtp helo name"), "{err}");
}
