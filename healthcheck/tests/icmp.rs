//! ICMP echo: loopback answers; in private network namespaces, silence and missing
//! routes. Needs root (raw socket, or `ping_group_range`, and namespaces).
#![allow(clippy::unwrap_used)]

mod common;

use common::{block_on, in_new_netns, probe};
use healthcheck::checkers::{IcmpCheck, TcpCheck};
use healthcheck::{Outcome, Reason};
use std::time::Duration;
use testbed::privileged::skip as skip_privileged;

const T: Duration = Duration::from_millis(500);

#[tokio::test]
async fn loopback_answers_echo_over_ipv4_and_ipv6() {
    let c = IcmpCheck::new("127.0.0.1".parse().unwrap());
    if let Outcome::Down(Reason::Io(kind)) = probe(&c, T).await {
        // neither a ping socket nor a raw socket may be opened here
        skip_privileged(&format!("cannot open an ICMP socket: {kind}"));
        return;
    }
    assert_eq!(probe(&c, T).await, Outcome::UP);
    let c = IcmpCheck::new("127.3.2.1".parse().unwrap());
    assert_eq!(probe(&c, T).await, Outcome::UP);
    let c = IcmpCheck::new("::1".parse().unwrap());
    assert_eq!(probe(&c, T).await, Outcome::UP);
}

#[test]
fn a_host_that_ignores_echo_times_out() {
    let setup = &[
        "ip link set lo up",
        "echo 1 > /proc/sys/net/ipv4/icmp_echo_ignore_all",
        "echo 1 > /proc/sys/net/ipv6/icmp/echo_ignore_all",
    ];
    let result = in_new_netns(setup, || {
        block_on(async {
            let v4 = probe(&IcmpCheck::new("127.0.0.1".parse().unwrap()), T).await;
            let v6 = probe(&IcmpCheck::new("::1".parse().unwrap()), T).await;
            (v4, v6)
        })
    });
    match result {
        Ok((v4, v6)) => {
            assert_eq!(v4, Outcome::Down(Reason::Timeout));
            assert_eq!(v6, Outcome::Down(Reason::Timeout));
        }
        Err(reason) => {
            skip_privileged(&reason);
        }
    }
}

#[test]
fn unprivileged_ping_sockets_work_where_allowed() {
    // ping_group_range is per namespace: allow every group, so the datagram ICMP
    // socket path is taken instead of the raw one
    let setup = &[
        "ip link set lo up",
        "echo '0 2147483647' > /proc/sys/net/ipv4/ping_group_range",
    ];
    let result = in_new_netns(setup, || {
        block_on(async { probe(&IcmpCheck::new("127.0.0.1".parse().unwrap()), T).await })
    });
    match result {
        Ok(outcome) => assert_eq!(outcome, Outcome::UP),
        Err(reason) => {
            skip_privileged(&reason);
        }
    }
}

#[test]
fn no_route_is_unreachable_without_waiting() {
    // a fresh namespace: lo down, no routes at all
    let result = in_new_netns(&[], || {
        block_on(async {
            let icmp = probe(&IcmpCheck::new("192.0.2.1".parse().unwrap()), T).await;
            let tcp = probe(&TcpCheck::new("192.0.2.1:80".parse().unwrap()), T).await;
            (icmp, tcp)
        })
    });
    match result {
        Ok((icmp, tcp)) => {
            assert_eq!(icmp, Outcome::Down(Reason::Unreachable));
            assert_eq!(tcp, Outcome::Down(Reason::Unreachable));
        }
        Err(reason) => {
            skip_privileged(&reason);
        }
    }
}
