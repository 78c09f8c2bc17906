//! TCP connect checks on loopback.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use healthcheck::checkers::TcpCheck;
use healthcheck::{Outcome, Reason};
use std::time::Duration;
use tokio::net::TcpListener;

const T: Duration = Duration::from_millis(500);

#[tokio::test]
async fn accepting_listener_is_up_and_closed_port_is_refused() {
    let (_keep, addr) = silent_listener().await;
    assert_eq!(probe(&TcpCheck::new(addr), T).await, Outcome::UP);
    let closed = refusing_addr().await;
    assert_eq!(
        probe(&TcpCheck::new(closed), T).await,
        Outcome::Down(Reason::Refused)
    );
}

#[tokio::test]
async fn bind_address_is_used_as_the_source() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let check = TcpCheck::new(addr).bind("127.0.0.2:0".parse().unwrap());
    let (outcome, accepted) = tokio::join!(probe(&check, T), listener.accept());
    assert_eq!(outcome, Outcome::UP);
    assert_eq!(accepted.unwrap().1.ip().to_string(), "127.0.0.2");
}
