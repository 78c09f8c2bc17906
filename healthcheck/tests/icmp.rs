//! ICMP echo on loopback (needs root or a permissive `ping_group_range`).
#![allow(clippy::unwrap_used)]

mod common;

use common::probe;
use healthcheck::Outcome;
use healthcheck::checkers::IcmpCheck;
use std::time::Duration;

#[tokio::test]
async fn loopback_answers_echo_over_ipv4_and_ipv6() {
    let c = IcmpCheck::new("127.0.0.1".parse().unwrap());
    assert_eq!(probe(&c, Duration::from_secs(1)).await, Outcome::UP);
    let c = IcmpCheck::new("127.3.2.1".parse().unwrap());
    assert_eq!(probe(&c, Duration::from_secs(1)).await, Outcome::UP);
    let c = IcmpCheck::new("::1".parse().unwrap());
    assert_eq!(probe(&c, Duration::from_secs(1)).await, Outcome::UP);
}
