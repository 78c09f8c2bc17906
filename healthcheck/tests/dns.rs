//! DNS checks against a loopback UDP server that answers rightly and wrongly.
#![allow(clippy::unwrap_used)]

mod common;

use common::probe;
use healthcheck::checkers::{DnsCheck, RecordType};
use healthcheck::{Outcome, Reason};
use hickory_proto::op::{Message, MessageType, ResponseCode};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::UdpSocket;

const T: Duration = Duration::from_millis(600);

#[derive(Clone, Copy)]
enum Mode {
    Good,
    WrongId,
    NotResponse,
    ServFail,
    Garbage,
    Silent,
}

async fn dns_server(mode: Mode) -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        while let Ok((n, peer)) = socket.recv_from(&mut buf).await {
            let Ok(query) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            let mut reply = query.clone();
            reply.metadata.message_type = MessageType::Response;
            match mode {
                Mode::Good => {}
                Mode::WrongId => reply.metadata.id = query.metadata.id.wrapping_add(1),
                Mode::NotResponse => reply.metadata.message_type = MessageType::Query,
                Mode::ServFail => reply.metadata.response_code = ResponseCode::ServFail,
                Mode::Garbage => {
                    let _ = socket.send_to(&[0xde, 0xad], peer).await;
                    continue;
                }
                Mode::Silent => continue,
            }
            let _ = socket.send_to(&reply.to_vec().unwrap(), peer).await;
        }
    });
    addr
}

fn check(addr: SocketAddr) -> DnsCheck {
    DnsCheck::new(addr, "example.org.", RecordType::SOA).unwrap()
}

#[tokio::test]
async fn matching_response_passes() {
    let addr = dns_server(Mode::Good).await;
    assert_eq!(probe(&check(addr), T).await, Outcome::UP);
}

#[tokio::test]
async fn wrong_answers_are_reported_by_rule() {
    let c = check(dns_server(Mode::WrongId).await);
    assert!(matches!(
        probe(&c, T).await,
        Outcome::Down(Reason::DnsId { .. })
    ));
    let c = check(dns_server(Mode::NotResponse).await);
    assert_eq!(probe(&c, T).await, Outcome::Down(Reason::DnsNotResponse));
    let c = check(dns_server(Mode::ServFail).await);
    assert_eq!(probe(&c, T).await, Outcome::Down(Reason::DnsRcode(2)));
    let c = check(dns_server(Mode::Garbage).await);
    assert_eq!(probe(&c, T).await, Outcome::Down(Reason::DnsMalformed));
}

#[tokio::test]
async fn silence_times_out_and_a_closed_port_is_refused() {
    let c = check(dns_server(Mode::Silent).await);
    assert_eq!(probe(&c, T).await, Outcome::Down(Reason::Timeout));
    let closed = UdpSocket::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    assert_eq!(
        probe(&check(closed), T).await,
        Outcome::Down(Reason::Refused)
    );
}
