//! Our daemon against keepalived 2.2.7 in neighbouring namespaces, both reading the same
//! keepalived.conf syntax: election, crash failover both ways, no dual master after
//! convergence, for v3 IPv4, v2 with PASS authentication, v3 IPv6 and unicast (both v3
//! checksum modes). Privileged: see `harness::require`.
#![allow(clippy::unwrap_used)]

mod harness;

use std::time::Duration;

use harness::{Daemon, Host, Keepalived, Lab, RouterConf, require, wait_until};

/// One interop scenario: a configuration maker (priority, own host, peer host) and its VIP.
struct Mode {
    name: &'static str,
    vip: &'static str,
    cidr: &'static str,
    conf: fn(u8, &Host, &Host) -> RouterConf,
    /// Failover bound: a few Master_Down_Intervals.
    limit: Duration,
}

fn only(lab: &Lab, vip: &str, host: &Host) -> bool {
    lab.holders(vip) == [host.ns.clone()]
}

fn assert_converged(lab: &Lab, m: &Mode, host: &Host, what: &str) {
    assert_sole(lab, m.name, m.vip, m.limit, host, what);
}

/// `host` alone holds `vip` within `limit`, and still does a quarter of `limit` later.
fn assert_sole(lab: &Lab, name: &str, vip: &str, limit: Duration, host: &Host, what: &str) {
    assert!(
        wait_until(limit, || only(lab, vip, host)),
        "{name}: {what}: holders {:?}",
        lab.holders(vip)
    );
    // Several advert intervals later there is still exactly one master.
    std::thread::sleep(limit / 4);
    assert!(
        only(lab, vip, host),
        "{name}: {what}: dual master or flap: holders {:?}",
        lab.holders(vip)
    );
}

fn assert_clean_keepalived_log(m: &Mode, k: &Keepalived) {
    let log = k.log_text();
    for bad in ["Invalid", "invalid", "bad checksum", "auth"] {
        let offending: Vec<&str> = log
            .lines()
            .filter(|l| l.contains(bad) && !l.contains("Opening file"))
            .collect();
        assert!(
            offending.is_empty(),
            "{}: keepalived complained: {offending:?}",
            m.name
        );
    }
}

/// Ours as master with keepalived as backup, then the roles swapped; each master crashes.
fn interop(m: &Mode) {
    interop_with(m, |_| (), |_| ());
}

/// [`interop`] with something started on the lab first (`watch`) and checked at the end.
fn interop_with<W>(m: &Mode, watch: impl FnOnce(&Lab) -> W, check: impl FnOnce(&W)) {
    let lab = Lab::new(2);
    let (h1, h2) = (&lab.hosts[0], &lab.hosts[1]);
    let watched = watch(&lab);

    // Ours master (200), keepalived backup (100).
    let mut ours = Daemon::start(&lab, h1, &(m.conf)(200, h1, h2));
    let mut ka = Keepalived::start(&lab, h2, &(m.conf)(100, h2, h1));
    assert_converged(&lab, m, h1, "ours (200) vs keepalived (100)");
    ours.crash(&[m.cidr]);
    assert_converged(&lab, m, h2, "keepalived after ours crashed");
    // Ours comes back with the higher priority and preempts keepalived.
    let mut ours = Daemon::start(&lab, h1, &(m.conf)(200, h1, h2));
    assert_converged(&lab, m, h1, "ours preempting keepalived");
    assert_clean_keepalived_log(m, &ka);
    ours.crash(&[m.cidr]);
    ka.crash(&[m.cidr]);
    drop((ours, ka));

    // Keepalived master (200), ours backup (100).
    let mut ka = Keepalived::start(&lab, h1, &(m.conf)(200, h1, h2));
    let ours = Daemon::start(&lab, h2, &(m.conf)(100, h2, h1));
    assert_converged(&lab, m, h1, "keepalived (200) vs ours (100)");
    assert_clean_keepalived_log(m, &ka);
    ka.crash(&[m.cidr]);
    assert_converged(&lab, m, h2, "ours after keepalived crashed");
    assert!(
        ours.log_text().contains("master down interval expired"),
        "{}",
        ours.log_text()
    );
    check(&watched);
}

fn v3_ipv4(p: u8, _: &Host, _: &Host) -> RouterConf {
    RouterConf::v3(p)
}

fn v2_pass(p: u8, _: &Host, _: &Host) -> RouterConf {
    RouterConf {
        version: 2,
        advert_int: "1",
        auth_pass: Some("s3cret"),
        ..RouterConf::v3(p)
    }
}

fn v3_ipv6(p: u8, _: &Host, _: &Host) -> RouterConf {
    RouterConf {
        vips: vec!["2001:db8::100/64".into()],
        ..RouterConf::v3(p)
    }
}

fn v3_unicast(p: u8, me: &Host, peer: &Host) -> RouterConf {
    RouterConf {
        unicast_src: Some(me.v4.clone()),
        unicast_peers: vec![peer.v4.clone()],
        ..RouterConf::v3(p)
    }
}

fn v3_unicast_old_checksum(p: u8, me: &Host, peer: &Host) -> RouterConf {
    RouterConf {
        old_unicast_checksum: true,
        ..v3_unicast(p, me, peer)
    }
}

fn v3_ipv6_unicast_global(p: u8, me: &Host, peer: &Host) -> RouterConf {
    RouterConf {
        unicast_src: Some(me.v6.clone()),
        unicast_peers: vec![peer.v6.clone()],
        ..v3_ipv6(p, me, peer)
    }
}

fn v3_ipv6_unicast_link_local(p: u8, me: &Host, peer: &Host) -> RouterConf {
    let ll = |h: &Host| {
        let mut found = None;
        wait_until(Duration::from_secs(5), || {
            found = h.link_local();
            found.is_some()
        });
        found.unwrap_or_else(|| panic!("{}: no link-local address", h.ns))
    };
    RouterConf {
        unicast_src: Some(ll(me)),
        unicast_peers: vec![ll(peer)],
        ..v3_ipv6(p, me, peer)
    }
}

/// `interop` while the bridge is captured: keepalived's unicast adverts must really carry a
/// hop limit other than 255 (64, the kernel default), so the test proves ours accepts them.
fn interop_seeing_keepalived_hop_limit(m: &Mode) {
    interop_with(
        m,
        |lab| harness::Capture::start_with(lab, "unicast6", &["-v"], "ip6 and ip6[6] == 112"),
        |wire| {
            assert!(
                wire.wait_for(FAST, &["hlim 64", "VRRP"]).is_some(),
                "{}: no hop-limit-64 advert from keepalived on the wire: {:?}",
                m.name,
                wire.lines().iter().take(5).collect::<Vec<_>>()
            );
        },
    );
}

const TOOLS: &[&str] = &["ip", "keepalived"];
const FAST: Duration = Duration::from_secs(4);

#[test]
fn interop_v3_ipv4_multicast() {
    if require("interop_v3_ipv4_multicast", TOOLS) {
        interop(&Mode {
            name: "v3 ipv4",
            vip: "192.0.2.100",
            cidr: "192.0.2.100/24",
            conf: v3_ipv4,
            limit: FAST,
        });
    }
}

#[test]
fn interop_v2_with_pass_authentication() {
    if require("interop_v2_with_pass_authentication", TOOLS) {
        let m = Mode {
            name: "v2 pass",
            vip: "192.0.2.100",
            cidr: "192.0.2.100/24",
            conf: v2_pass,
            limit: Duration::from_secs(12),
        };
        interop(&m);
    }
}

#[test]
fn interop_v3_ipv6() {
    if require("interop_v3_ipv6", TOOLS) {
        interop(&Mode {
            name: "v3 ipv6",
            vip: "2001:db8::100",
            cidr: "2001:db8::100/64",
            conf: v3_ipv6,
            limit: FAST,
        });
    }
}

#[test]
fn interop_v3_unicast_with_pseudo_header_checksum() {
    if require("interop_v3_unicast_with_pseudo_header_checksum", TOOLS) {
        interop(&Mode {
            name: "v3 unicast",
            vip: "192.0.2.100",
            cidr: "192.0.2.100/24",
            conf: v3_unicast,
            limit: FAST,
        });
    }
}

#[test]
fn interop_v3_unicast_with_old_checksum() {
    if require("interop_v3_unicast_with_old_checksum", TOOLS) {
        let m = Mode {
            name: "v3 unicast old_unicast_checksum",
            vip: "192.0.2.100",
            cidr: "192.0.2.100/24",
            conf: v3_unicast_old_checksum,
            limit: FAST,
        };
        interop(&m);
    }
}

#[test]
fn interop_v3_ipv6_unicast_global_sources() {
    if require(
        "interop_v3_ipv6_unicast_global_sources",
        &["ip", "keepalived", "tcpdump"],
    ) {
        interop_seeing_keepalived_hop_limit(&Mode {
            name: "v3 ipv6 unicast (global)",
            vip: "2001:db8::100",
            cidr: "2001:db8::100/64",
            conf: v3_ipv6_unicast_global,
            limit: FAST,
        });
    }
}

#[test]
fn interop_v3_ipv6_unicast_link_local_sources() {
    if require(
        "interop_v3_ipv6_unicast_link_local_sources",
        &["ip", "keepalived", "tcpdump"],
    ) {
        interop_seeing_keepalived_hop_limit(&Mode {
            name: "v3 ipv6 unicast (link-local)",
            vip: "2001:db8::100",
            cidr: "2001:db8::100/64",
            conf: v3_ipv6_unicast_link_local,
            limit: FAST,
        });
    }
}

#[test]
fn mismatched_passwords_never_agree() {
    if !require("mismatched_passwords_never_agree", TOOLS) {
        return;
    }
    // Both sides drop the other's adverts, so both become master: the check that PASS is
    // really compared.
    let lab = Lab::new(2);
    let (h1, h2) = (&lab.hosts[0], &lab.hosts[1]);
    let ours = Daemon::start(
        &lab,
        h1,
        &RouterConf {
            auth_pass: Some("right"),
            ..v2_pass(200, h1, h2)
        },
    );
    let _ka = Keepalived::start(
        &lab,
        h2,
        &RouterConf {
            auth_pass: Some("wrong"),
            ..v2_pass(100, h2, h1)
        },
    );
    assert!(
        wait_until(Duration::from_secs(12), || lab.holders("192.0.2.100").len()
            == 2),
        "{:?}",
        lab.holders("192.0.2.100")
    );
    drop(ours);
}

#[test]
fn a_configured_multicast_group_is_sent_to_and_joined() {
    if !require(
        "a_configured_multicast_group_is_sent_to_and_joined",
        &["ip", "keepalived", "tcpdump"],
    ) {
        return;
    }
    let lab = Lab::new(2);
    let (h1, h2) = (&lab.hosts[0], &lab.hosts[1]);
    let conf = |p: u8| RouterConf {
        global_extra: vec!["vrrp_mcast_group4 224.0.0.19".into()],
        ..RouterConf::v3(p)
    };
    let wire = harness::Capture::start(&lab, "group", "ip proto 112");
    // Ours sends to the group: keepalived (backup) hears it, so there is one master.
    let ours = Daemon::start(&lab, h1, &conf(200));
    let ka = Keepalived::start(&lab, h2, &conf(100));
    assert!(
        wait_until(FAST, || only(&lab, "192.0.2.100", h1)),
        "{:?}",
        lab.holders("192.0.2.100")
    );
    assert!(
        wire.wait_for(FAST, &["192.0.2.11 > 224.0.0.19"]).is_some(),
        "{:?}",
        wire.lines()
    );
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        only(&lab, "192.0.2.100", h1),
        "{:?}",
        lab.holders("192.0.2.100")
    );
    drop((ours, ka));
    h1.del_addr("192.0.2.100/24");
    h2.del_addr("192.0.2.100/24");
    // Ours as backup has joined the group: keepalived's adverts keep it backup.
    let _ka = Keepalived::start(&lab, h1, &conf(200));
    let ours = Daemon::start(&lab, h2, &conf(100));
    assert!(
        wait_until(FAST, || only(&lab, "192.0.2.100", h1)),
        "{:?}",
        lab.holders("192.0.2.100")
    );
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        only(&lab, "192.0.2.100", h1),
        "ours did not hear 224.0.0.19: {:?}\n{}",
        lab.holders("192.0.2.100"),
        ours.log_text()
    );
}

/// use_vmac against keepalived 2.2.7 in both roles, with the wire watched: each daemon as
/// master keeps the VIP on its macvlan (no FAULT on the first advert, no flapping), hands over
/// on a stop or crash, and nothing but adverts, ARP and neighbour advertisements ever leaves
/// with the virtual MAC (a backup's macvlan stays silent: no IGMP / MLD report, router or
/// neighbour solicitation from it).
fn use_vmac_both_ways(vip: &'static str, cidr: &'static str, vmac_mac: &str) {
    let lab = Lab::new(2);
    let (h1, h2) = (&lab.hosts[0], &lab.hosts[1]);
    let conf = |p: u8| RouterConf {
        vips: vec![cidr.to_owned()],
        extra: vec!["use_vmac".into()],
        ..RouterConf::v3(p)
    };
    let wire =
        harness::Capture::start_with(&lab, "vmac", &["-e"], "not ip proto 112 or ip proto 112");
    let on_vmac = |h: &Host| h.has_addr_on("vrrp.51", vip);
    let only_on = |h: &Host, other: &Host| on_vmac(h) && !on_vmac(other);
    let hold = |h: &Host, other: &Host, what: &str, log: &dyn Fn() -> String| {
        assert!(
            wait_until(FAST, || only_on(h, other)),
            "{what}: {}\n{}",
            h.ip(&["addr"]),
            log()
        );
        std::thread::sleep(Duration::from_secs(2));
        assert!(
            only_on(h, other),
            "{what}: lost or shared the VIP\n{}",
            log()
        );
    };
    // Ours master, keepalived backup; ours stops gracefully.
    let mut ours = Daemon::start(&lab, h1, &conf(200));
    let ka = Keepalived::start(&lab, h2, &conf(100));
    hold(h1, h2, "ours master on the vmac", &|| ours.log_text());
    ours.stop();
    hold(h2, h1, "keepalived after ours stopped", &|| ka.log_text());
    // Ours backup, then master after keepalived crashes (its macvlan goes with the host).
    let ours = Daemon::start(&lab, h1, &conf(100));
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        only_on(h2, h1),
        "ours as backup took the VIP\n{}",
        ours.log_text()
    );
    let mut ka = ka;
    ka.crash(&[]);
    h2.ip(&["link", "del", "vrrp.51"]);
    hold(h1, h2, "ours after keepalived crashed", &|| ours.log_text());
    let log = ours.log_text();
    assert!(!log.contains("FAULT") && !log.contains("Fault"), "{log}");
    drop(ours);
    let lines = wire.lines();
    let from_vmac: Vec<&String> = lines
        .iter()
        .filter(|l| l.split_whitespace().nth(1) == Some(vmac_mac))
        .collect();
    assert!(
        from_vmac.iter().any(|l| l.contains("VRRP")),
        "no advert from the virtual MAC: {:?}",
        lines.iter().take(10).collect::<Vec<_>>()
    );
    let strays: Vec<&&String> = from_vmac
        .iter()
        .filter(|l| {
            !["VRRP", "neighbor advertisement", "ARP"]
                .iter()
                .any(|k| l.contains(k))
        })
        .collect();
    assert!(
        strays.is_empty(),
        "frames from the virtual MAC that must not be: {strays:?}"
    );
}

#[test]
fn interop_use_vmac_ipv4() {
    if require(
        "interop_use_vmac_ipv4",
        &["ip", "keepalived", "tcpdump", "nft"],
    ) {
        use_vmac_both_ways("192.0.2.100", "192.0.2.100/24", "00:00:5e:00:01:33");
    }
}

#[test]
fn interop_use_vmac_ipv6() {
    if require(
        "interop_use_vmac_ipv6",
        &["ip", "keepalived", "tcpdump", "nft"],
    ) {
        use_vmac_both_ways("2001:db8::100", "2001:db8::100/64", "00:00:5e:00:02:33");
    }
}

/// `nft list ruleset` in `host`'s namespace.
fn ruleset(host: &Host) -> String {
    let out = std::process::Command::new("ip")
        .args(["netns", "exec", &host.ns, "nft", "list", "ruleset"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether one ping from `from` to `addr` is answered.
fn answers_ping(from: &Host, addr: &str) -> bool {
    std::process::Command::new("ip")
        .args(["netns", "exec", &from.ns, "ping", "-c1", "-W1", addr])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether `from` has resolved `addr` to a link-layer address (ARP / ND answered).
fn resolved(from: &Host, addr: &str) -> bool {
    from.ip(&["neigh", "show", addr]).contains("lladdr")
}

/// The element list of `table`'s `vips` set for `family` (`ip` or `ip6`), as nft prints it.
fn blocked(host: &Host, family: &str, table: &str) -> Option<String> {
    let out = std::process::Command::new("ip")
        .args([
            "netns", "exec", &host.ns, "nft", "list", "set", family, table, "vips",
        ])
        .output()
        .unwrap();
    out.status.success().then(|| {
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.split_once("elements = {")
            .map(|(_, rest)| rest.split('}').next().unwrap_or("").trim().to_owned())
            .unwrap_or_default()
    })
}

const OUR_TABLE: &str = "keepalived_compat";

/// vrrp_strict (no_accept by default) against keepalived 2.2.7, for one VIP: as master each
/// daemon answers ARP / ND for the VIP and drops what is addressed to it; the VIP is in the
/// set only while installed; a graceful stop removes our tables; a crash leaves them, and the
/// next start replaces them with an empty set.
fn strict_no_accept(vip: &str, cidr: &str, family: &str) {
    let lab = Lab::new(2);
    let (h1, h2) = (&lab.hosts[0], &lab.hosts[1]);
    let conf = |p: u8| RouterConf {
        global_extra: vec!["vrrp_strict".into()],
        vips: vec![cidr.to_owned()],
        ..RouterConf::v3(p)
    };
    let converged = |host: &Host, what: &str| assert_sole(&lab, "strict", vip, FAST, host, what);
    let mut ours = Daemon::start(&lab, h1, &conf(200));
    let mut ka = Keepalived::start(&lab, h2, &conf(100));
    converged(h1, "ours master under vrrp_strict");
    assert!(
        !answers_ping(h2, vip),
        "ours as strict master answered a ping to {vip}:\n{}",
        ruleset(h1)
    );
    assert!(resolved(h2, vip), "ours did not answer ARP/ND for {vip}");
    assert_eq!(
        blocked(h1, family, OUR_TABLE).as_deref(),
        Some(vip),
        "{}",
        ruleset(h1)
    );
    assert!(
        !ruleset(h1).contains("table ip keepalived {")
            && !ruleset(h1).contains("table ip6 keepalived {"),
        "ours must not touch keepalived's table name"
    );
    // Graceful stop: priority 0, the VIP and our tables go; keepalived takes over and
    // enforces no_accept itself.
    ours.stop();
    converged(h2, "keepalived after ours stopped");
    assert!(
        !ruleset(h1).contains(OUR_TABLE),
        "tables left after SIGTERM:\n{}",
        ruleset(h1)
    );
    assert!(
        !answers_ping(h1, vip),
        "keepalived answered under vrrp_strict"
    );
    // Ours as backup: tables exist, the set is empty.
    let mut ours = Daemon::start(&lab, h1, &conf(50));
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(blocked(h1, family, OUR_TABLE).as_deref(), Some(""));
    assert!(!h1.has_addr(vip));
    // Keepalived gone: ours takes over (no_accept enforced), then crashes with its table.
    ka.crash(&[cidr]);
    converged(h1, "ours after keepalived crashed");
    assert!(!answers_ping(h2, vip));
    ours.crash(&[cidr]);
    assert_eq!(blocked(h1, family, OUR_TABLE).as_deref(), Some(vip));
    // The restart replaces the crashed run's tables: nothing blocked while backup.
    let _ka = Keepalived::start(&lab, h2, &conf(200));
    let _ours = Daemon::start(&lab, h1, &conf(100));
    converged(h2, "keepalived master again");
    assert_eq!(
        blocked(h1, family, OUR_TABLE).as_deref(),
        Some(""),
        "a crashed run's block survived the restart:\n{}",
        ruleset(h1)
    );
}

const STRICT_TOOLS: &[&str] = &["ip", "keepalived", "nft", "ping"];

#[test]
fn interop_vrrp_strict_enforces_no_accept_ipv4() {
    if require("interop_vrrp_strict_enforces_no_accept_ipv4", STRICT_TOOLS) {
        strict_no_accept("192.0.2.100", "192.0.2.100/24", "ip");
    }
}

#[test]
fn interop_vrrp_strict_enforces_no_accept_ipv6() {
    if require("interop_vrrp_strict_enforces_no_accept_ipv6", STRICT_TOOLS) {
        strict_no_accept("2001:db8::100", "2001:db8::100/64", "ip6");
    }
}

/// What keepalived 2.2.7 resets under vrrp_strict, ours resets too (same log wording), and
/// both start as backup despite `state MASTER` at priority 100.
#[test]
fn vrrp_strict_adjusts_like_keepalived() {
    if !require("vrrp_strict_adjusts_like_keepalived", STRICT_TOOLS) {
        return;
    }
    let lab = Lab::new(2);
    let (h1, h2) = (&lab.hosts[0], &lab.hosts[1]);
    let conf = RouterConf {
        global_extra: vec!["vrrp_strict".into()],
        version: 2,
        advert_int: "1",
        auth_pass: Some("x"),
        extra: vec![
            "state MASTER".into(),
            "accept".into(),
            "preempt_delay 5".into(),
        ],
        ..RouterConf::v3(100)
    };
    let ours = Daemon::start(&lab, h1, &conf);
    let ka = Keepalived::start(&lab, h2, &conf);
    for line in [
        "State MASTER must match being address owner",
        "Strict mode does not support authentication. Ignoring.",
        "preempt_delay is incompatible with strict mode - resetting",
        "accept mode for VRRP version 2 does not comply with RFC3768 - resetting",
    ] {
        assert!(ka.log_text().contains(line), "keepalived: {line}");
        assert!(
            ours.log_text().contains(line),
            "ours: {line}\n{}",
            ours.log_text()
        );
    }
    let first_state = |log: String| {
        log.lines()
            .find(|l| l.contains("Entering"))
            .map(str::to_owned)
            .unwrap_or_default()
    };
    assert!(
        first_state(ours.log_text()).contains("BACKUP"),
        "{}",
        ours.log_text()
    );
    assert!(first_state(ka.log_text()).contains("BACKUP"));
}

/// keepalived's unicast options on the real daemons (IPv6): ours sends with `unicast_ttl`,
/// and `check_unicast_src` with a peer's `min_ttl` / `max_ttl` decides whether keepalived's
/// hop-limit-64 adverts are heard.
#[test]
fn unicast_ttl_and_peer_ttl_ranges_against_keepalived() {
    if !require(
        "unicast_ttl_and_peer_ttl_ranges_against_keepalived",
        &["ip", "keepalived", "tcpdump"],
    ) {
        return;
    }
    let lab = Lab::new(2);
    let (h1, h2) = (&lab.hosts[0], &lab.hosts[1]);
    let m = Mode {
        name: "unicast ttl",
        vip: "2001:db8::100",
        cidr: "2001:db8::100/64",
        conf: v3_ipv6_unicast_global,
        limit: FAST,
    };
    let wire = harness::Capture::start_with(&lab, "ttl", &["-v"], "ip6 and ip6[6] == 112");
    let mut ours = Daemon::start(
        &lab,
        h1,
        &RouterConf {
            extra: vec!["unicast_ttl 10".into()],
            ..v3_ipv6_unicast_global(200, h1, h2)
        },
    );
    let ka = Keepalived::start(&lab, h2, &v3_ipv6_unicast_global(100, h2, h1));
    assert_converged(&lab, &m, h1, "ours with unicast_ttl 10");
    let from_ours = format!("{} > {}", h1.v6, h2.v6);
    assert!(
        wire.wait_for(FAST, &["hlim 10", &from_ours]).is_some(),
        "{:?}",
        wire.lines().iter().take(5).collect::<Vec<_>>()
    );
    ours.stop();
    assert_converged(&lab, &m, h2, "keepalived after ours stopped");
    // A range that contains keepalived's 64: ours hears it and stays backup.
    let with_peer = |peer: &str| RouterConf {
        extra: vec!["check_unicast_src".into()],
        unicast_peers: vec![format!("{} {peer}", h2.v6)],
        ..v3_ipv6_unicast_global(100, h1, h2)
    };
    let mut ours = Daemon::start(&lab, h1, &with_peer("min_ttl 1 max_ttl 64"));
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        only(&lab, m.vip, h2),
        "ours did not hear keepalived within its peer range"
    );
    ours.crash(&[]);
    // A range that excludes it: every advert is dropped, so ours takes the VIP too.
    let _ours = Daemon::start(&lab, h1, &with_peer("min_ttl 250 max_ttl 255"));
    assert!(
        wait_until(FAST, || lab.holders(m.vip).len() == 2),
        "ours accepted hop limit 64 outside min_ttl 250: {:?}",
        lab.holders(m.vip)
    );
    drop(ka);
}
