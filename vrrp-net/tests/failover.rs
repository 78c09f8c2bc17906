//! Our daemon against itself in network namespaces: election, crash failover, graceful
//! handover, preemption, IPv4 and IPv6, multicast and unicast, announcements on the wire.
//! Privileged: see `harness::require`.
#![allow(clippy::unwrap_used)]

mod harness;

use std::time::Duration;

use harness::{Capture, Daemon, Lab, RouterConf, require, wait_until};

const VIP: &str = "192.0.2.100";
const VIP_CIDR: &str = "192.0.2.100/24";
const LIMIT: Duration = Duration::from_secs(5);

fn exactly_one(lab: &Lab, vip: &str, ns: &str) -> bool {
    lab.holders(vip) == [ns.to_owned()]
}

#[test]
fn higher_priority_is_elected_and_backup_takes_over_after_a_crash() {
    if !require(
        "higher_priority_is_elected_and_backup_takes_over_after_a_crash",
        &["ip", "tcpdump"],
    ) {
        return;
    }
    let lab = Lab::new(2);
    let (h1, h2) = (&lab.hosts[0], &lab.hosts[1]);
    let mut a = Daemon::start(&lab, h1, &RouterConf::v3(200));
    let _b = Daemon::start(&lab, h2, &RouterConf::v3(100));
    assert!(
        wait_until(LIMIT, || exactly_one(&lab, VIP, &h1.ns)),
        "{:?}",
        lab.holders(VIP)
    );
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        exactly_one(&lab, VIP, &h1.ns),
        "dual master after convergence: {:?}",
        lab.holders(VIP)
    );

    let garp = Capture::start(&lab, "garp", "arp");
    a.crash(&[VIP_CIDR]);
    assert!(
        wait_until(LIMIT, || exactly_one(&lab, VIP, &h2.ns)),
        "{:?}",
        lab.holders(VIP)
    );
    let line = garp.wait_for(LIMIT, &["who-has 192.0.2.100", "tell 192.0.2.100"]);
    assert!(
        line.is_some(),
        "no gratuitous ARP on the wire: {:?}",
        garp.lines()
    );
}

#[test]
fn graceful_stop_hands_over_and_removes_the_vip() {
    if !require(
        "graceful_stop_hands_over_and_removes_the_vip",
        &["ip", "tcpdump"],
    ) {
        return;
    }
    let lab = Lab::new(2);
    let (h1, h2) = (&lab.hosts[0], &lab.hosts[1]);
    let mut a = Daemon::start(&lab, h1, &RouterConf::v3(200));
    let _b = Daemon::start(&lab, h2, &RouterConf::v3(100));
    assert!(wait_until(LIMIT, || exactly_one(&lab, VIP, &h1.ns)));
    let adverts = Capture::start(&lab, "prio0", "ip proto 112");
    a.stop();
    assert!(!h1.has_addr(VIP), "the stopped master kept its VIP");
    assert!(
        adverts
            .wait_for(LIMIT, &["192.0.2.11 >", "prio 0"])
            .is_some(),
        "no priority-0 advert: {:?}",
        adverts.lines()
    );
    assert!(wait_until(LIMIT, || exactly_one(&lab, VIP, &h2.ns)));
    assert!(
        _b.log_text().contains("master sent priority 0"),
        "{}",
        _b.log_text()
    );
}

#[test]
fn a_returning_higher_priority_router_preempts_unless_nopreempt() {
    if !require(
        "a_returning_higher_priority_router_preempts_unless_nopreempt",
        &["ip"],
    ) {
        return;
    }
    let lab = Lab::new(3);
    let (h1, h2, h3) = (&lab.hosts[0], &lab.hosts[1], &lab.hosts[2]);
    let _b = Daemon::start(&lab, h2, &RouterConf::v3(100));
    assert!(wait_until(LIMIT, || exactly_one(&lab, VIP, &h2.ns)));
    let _a = Daemon::start(&lab, h1, &RouterConf::v3(200));
    assert!(
        wait_until(LIMIT, || exactly_one(&lab, VIP, &h1.ns)),
        "no preemption: {:?}",
        lab.holders(VIP)
    );
    // A third router with a higher priority but nopreempt stays backup.
    let mut conf = RouterConf::v3(250);
    conf.nopreempt = true;
    let _c = Daemon::start(&lab, h3, &conf);
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        exactly_one(&lab, VIP, &h1.ns),
        "nopreempt router took over: {:?}",
        lab.holders(VIP)
    );
}

#[test]
fn three_routers_fail_over_in_priority_order() {
    if !require("three_routers_fail_over_in_priority_order", &["ip"]) {
        return;
    }
    let lab = Lab::new(3);
    let mut a = Daemon::start(&lab, &lab.hosts[0], &RouterConf::v3(200));
    let mut b = Daemon::start(&lab, &lab.hosts[1], &RouterConf::v3(150));
    let _c = Daemon::start(&lab, &lab.hosts[2], &RouterConf::v3(100));
    assert!(wait_until(LIMIT, || exactly_one(
        &lab,
        VIP,
        &lab.hosts[0].ns
    )));
    a.crash(&[VIP_CIDR]);
    assert!(
        wait_until(LIMIT, || exactly_one(&lab, VIP, &lab.hosts[1].ns)),
        "{:?}",
        lab.holders(VIP)
    );
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        exactly_one(&lab, VIP, &lab.hosts[1].ns),
        "{:?}",
        lab.holders(VIP)
    );
    b.crash(&[VIP_CIDR]);
    assert!(
        wait_until(LIMIT, || exactly_one(&lab, VIP, &lab.hosts[2].ns)),
        "{:?}",
        lab.holders(VIP)
    );
}

#[test]
fn ipv6_failover_with_unsolicited_neighbour_advertisements() {
    if !require(
        "ipv6_failover_with_unsolicited_neighbour_advertisements",
        &["ip", "tcpdump"],
    ) {
        return;
    }
    let lab = Lab::new(2);
    let (h1, h2) = (&lab.hosts[0], &lab.hosts[1]);
    let conf = |p| RouterConf {
        vips: vec!["2001:db8::100/64".into()],
        ..RouterConf::v3(p)
    };
    let mut a = Daemon::start(&lab, h1, &conf(200));
    let _b = Daemon::start(&lab, h2, &conf(100));
    assert!(
        wait_until(LIMIT, || exactly_one(&lab, "2001:db8::100", &h1.ns)),
        "{:?}",
        lab.holders("2001:db8::100")
    );
    let na = Capture::start(&lab, "na", "icmp6 and ip6[40] == 136");
    a.crash(&["2001:db8::100/64"]);
    assert!(wait_until(LIMIT, || exactly_one(
        &lab,
        "2001:db8::100",
        &h2.ns
    )));
    let line = na.wait_for(LIMIT, &["neighbor advertisement", "tgt is 2001:db8::100"]);
    assert!(line.is_some(), "no unsolicited NA: {:?}", na.lines());
}

#[test]
fn unicast_peers_elect_and_fail_over() {
    if !require("unicast_peers_elect_and_fail_over", &["ip", "tcpdump"]) {
        return;
    }
    let lab = Lab::new(2);
    let (h1, h2) = (&lab.hosts[0], &lab.hosts[1]);
    let conf = |p, me: &str, peer: &str| RouterConf {
        unicast_src: Some(me.to_owned()),
        unicast_peers: vec![peer.to_owned()],
        ..RouterConf::v3(p)
    };
    let wire = Capture::start(&lab, "unicast", "ip proto 112");
    let mut a = Daemon::start(&lab, h1, &conf(200, &h1.v4, &h2.v4));
    let _b = Daemon::start(&lab, h2, &conf(100, &h2.v4, &h1.v4));
    assert!(wait_until(LIMIT, || exactly_one(&lab, VIP, &h1.ns)));
    assert!(
        wire.wait_for(LIMIT, &["192.0.2.11 > 192.0.2.12", "VRRPv3"])
            .is_some(),
        "{:?}",
        wire.lines()
    );
    assert!(
        !wire.lines().iter().any(|l| l.contains("224.0.0.18")),
        "multicast seen in unicast mode"
    );
    a.crash(&[VIP_CIDR]);
    assert!(wait_until(LIMIT, || exactly_one(&lab, VIP, &h2.ns)));
}

#[test]
fn vip_label_scope_and_nodad_reach_the_kernel() {
    // (A secondary IPv4 address must share its primary's scope, hence another subnet here.)
    if !require("vip_label_scope_and_nodad_reach_the_kernel", &["ip"]) {
        return;
    }
    let lab = Lab::new(1);
    let h = &lab.hosts[0];
    let v4 = RouterConf {
        vips: vec!["198.51.100.100/24 label eth0:vip scope link".into()],
        ..RouterConf::v3(200)
    };
    let mut a = Daemon::start(&lab, h, &v4);
    assert!(
        wait_until(LIMIT, || h.has_addr("198.51.100.100")),
        "{}",
        a.log_text()
    );
    let shown = h.ip(&["-4", "addr", "show", "dev", "eth0"]);
    let line = shown
        .lines()
        .find(|l| l.contains("198.51.100.100/24"))
        .unwrap_or_default();
    assert!(
        line.contains("scope link") && line.contains("eth0:vip"),
        "{shown}"
    );
    a.stop();
    assert!(!h.has_addr("198.51.100.100"));

    let v6 = RouterConf {
        vips: vec!["2001:db8::100/64".into()],
        ..RouterConf::v3(200)
    };
    let _b = Daemon::start(&lab, h, &v6);
    assert!(wait_until(LIMIT, || h.has_addr("2001:db8::100")));
    let shown = h.ip(&["-6", "addr", "show", "dev", "eth0"]);
    let line = shown
        .lines()
        .find(|l| l.contains("2001:db8::100/64"))
        .unwrap_or_default();
    assert!(
        line.contains("nodad") && !line.contains("tentative"),
        "{shown}"
    );
}
