//! UDP checks against loopback echo, silent and closed ports.
#![allow(clippy::unwrap_used)]

mod common;

use common::probe;
use healthcheck::checkers::{HexPattern, ReplyRule, UdpCheck};
use healthcheck::{Outcome, Reason};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::UdpSocket;

const T: Duration = Duration::from_millis(400);

/// Answers every datagram with `reply` (or stays silent when `None`).
async fn udp_server(reply: Option<&'static [u8]>) -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        while let Ok((_, peer)) = socket.recv_from(&mut buf).await {
            if let Some(reply) = reply {
                let _ = socket.send_to(reply, peer).await;
            }
        }
    });
    addr
}

async fn closed_port() -> SocketAddr {
    UdpSocket::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
}

fn rule(pattern: &str) -> ReplyRule {
    ReplyRule::new(2, 16)
        .unwrap()
        .pattern(HexPattern::parse(pattern, true).unwrap())
}

#[tokio::test]
async fn matching_reply_passes_and_mismatches_fail() {
    let addr = udp_server(Some(b"\x01\x02\x03\x04")).await;
    let c = UdpCheck::new(addr, b"ping".to_vec()).require_reply(rule("01 x2"));
    assert_eq!(probe(&c, T).await, Outcome::UP);
    let c = UdpCheck::new(addr, b"ping".to_vec()).require_reply(rule("01 03"));
    assert_eq!(probe(&c, T).await, Outcome::Down(Reason::ReplyMismatch));
    let short = ReplyRule::new(5, 16).unwrap();
    let c = UdpCheck::new(addr, b"ping".to_vec()).require_reply(short);
    assert_eq!(probe(&c, T).await, Outcome::Down(Reason::ReplyLength(4)));
    let long = ReplyRule::new(0, 3).unwrap();
    let c = UdpCheck::new(addr, b"ping".to_vec()).require_reply(long);
    assert_eq!(probe(&c, T).await, Outcome::Down(Reason::ReplyLength(4)));
}

#[tokio::test]
async fn port_unreachable_means_down() {
    let addr = closed_port().await;
    let c = UdpCheck::new(addr, b"ping".to_vec());
    assert_eq!(probe(&c, T).await, Outcome::Down(Reason::Refused));
    let c = UdpCheck::new(addr, b"ping".to_vec()).require_reply(rule("01"));
    assert_eq!(probe(&c, T).await, Outcome::Down(Reason::Refused));
}

#[tokio::test]
async fn silence_passes_only_when_no_reply_is_required() {
    let addr = udp_server(None).await;
    let c = UdpCheck::new(addr, b"ping".to_vec());
    assert_eq!(probe(&c, T).await, Outcome::UP);
    let c = UdpCheck::new(addr, b"ping".to_vec()).require_reply(ReplyRule::new(0, 255).unwrap());
    assert_eq!(probe(&c, T).await, Outcome::Down(Reason::Timeout));
}
