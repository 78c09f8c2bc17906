//! keepalived 2.2.7 and keepalived-compat side by side on the same network configuration
//! (VIP options, `virtual_routes`, `virtual_rules`, `static_ipaddress`, `static_routes`,
//! `static_rules`): each runs alone, becomes master in a namespace of its own, and the
//! kernel's addresses, routes and rules are compared, then again after a graceful stop.

use std::time::Duration;

use crate::harness::{Daemon, Host, Keepalived, Lab, RouterConf, require, wait_until};

const TOOLS: &[&str] = &["ip", "keepalived"];

/// One instance with every address option keepalived-compat implements, routes and rules
/// of both families, and the static blocks.
fn conf() -> RouterConf {
    let mut c = RouterConf::v3(100);
    c.vips = vec!["192.0.2.100/24 brd + noprefixroute".into()];
    c.prelude = "static_ipaddress {\n    198.51.100.10/24 dev eth0 brd +\n    \
                 2001:db8:5::10/64 dev eth0\n}\n\
                 static_routes {\n    203.0.113.0/25 via 192.0.2.1 dev eth0\n    \
                 2001:db8:6::/48 via 2001:db8::1 dev eth0 metric 50\n}\n\
                 static_rules {\n    from 198.51.100.10 table 101 priority 101\n}\n"
        .into();
    c.extra = vec![
        "virtual_ipaddress_excluded {\n        2001:db8::100/64 -nodad dev eth0\n        \
         2001:db8::101/64 preferred_lft 0 noprefixroute dev eth0\n        \
         2001:db8::102 dev eth0\n    }"
            .into(),
        "virtual_routes {\n        198.51.100.128/25 via 192.0.2.1 dev eth0 table 100 metric 7\n        \
         198.51.100.64/26 dev eth0 src 192.0.2.100 table 100\n        \
         blackhole 203.0.113.128/25 table 100\n        \
         2001:db8:7::/48 via 2001:db8::1 dev eth0 table 100\n    }"
            .into(),
        "virtual_rules {\n        from 192.0.2.100 table 100 priority 100\n        \
         from 2001:db8::100 table 100 priority 100\n        \
         fwmark 7 table 100 priority 102\n    }"
            .into(),
    ];
    c
}

/// What the kernel of `host` holds, in a form that does not depend on the namespace (no
/// link-layer or link-local addresses, sorted).
fn snapshot(host: &Host) -> Vec<String> {
    let mut out = Vec::new();
    let addrs = host.ip(&["-d", "addr", "show", "dev", "eth0"]);
    let lines: Vec<&str> = addrs.lines().map(str::trim).collect();
    for (k, line) in lines.iter().enumerate() {
        if (line.starts_with("inet ") || line.starts_with("inet6 ")) && !line.contains("fe80:") {
            let lifetimes = lines.get(k + 1).copied().unwrap_or("");
            out.push(format!("addr: {line} | {lifetimes}"));
        }
    }
    for family in ["-4", "-6"] {
        for line in host.ip(&[family, "route", "show", "table", "all"]).lines() {
            let line = line.trim();
            // Link-local and multicast routes are the kernel's own, named after the MAC.
            if (line.contains("fe80:") && !line.starts_with("fe80::/64")) || line.is_empty() {
                continue;
            }
            out.push(format!("route{family}: {line}"));
        }
        for line in host.ip(&[family, "rule"]).lines() {
            out.push(format!("rule{family}: {}", line.trim()));
        }
    }
    out.sort();
    out
}

/// Waits until `host` holds everything a master of [`conf`] installs (the -nodad address
/// past DAD included), or 10 s.
fn settled_master(host: &Host) -> bool {
    wait_until(Duration::from_secs(10), || {
        let s = snapshot(host).join("\n");
        s.contains("2001:db8::100/64")
            && !s.contains("tentative")
            && s.contains("from 192.0.2.100 lookup 100")
            && s.contains("2001:db8:7::/48")
    })
}

/// The lines of `a` and `b` that differ, for the failure message.
fn difference(a: &[String], b: &[String]) -> String {
    let only_a: Vec<&String> = a.iter().filter(|l| !b.contains(l)).collect();
    let only_b: Vec<&String> = b.iter().filter(|l| !a.contains(l)).collect();
    format!("only keepalived 2.2.7:\n{only_a:#?}\nonly keepalived-compat:\n{only_b:#?}")
}

#[test]
fn network_configuration_matches_keepalived_as_master_and_after_a_stop() {
    if !require(
        "network_configuration_matches_keepalived_as_master_and_after_a_stop",
        TOOLS,
    ) {
        return;
    }
    let conf = conf();
    let ka_lab = Lab::new(1);
    let ka_host = ka_lab.hosts[0].clone();
    let before = snapshot(&ka_host);
    let mut ka = Keepalived::start(&ka_lab, &ka_host, &conf);
    assert!(
        wait_until(Duration::from_secs(10), || ka
            .log_text()
            .contains("Entering MASTER STATE")),
        "keepalived did not become master:\n{}",
        ka.log_text()
    );
    assert!(
        settled_master(&ka_host),
        "keepalived: {:#?}",
        snapshot(&ka_host)
    );
    let ka_master = snapshot(&ka_host);
    ka.stop();
    let ka_stopped = snapshot(&ka_host);

    let ours_lab = Lab::new(1);
    let ours_host = ours_lab.hosts[0].clone();
    assert_eq!(
        before,
        snapshot(&ours_host),
        "the two namespaces differ at the start"
    );
    let mut ours = Daemon::start(&ours_lab, &ours_host, &conf);
    assert!(
        wait_until(Duration::from_secs(10), || ours
            .log_text()
            .contains("Entering MASTER STATE")),
        "ours did not become master:\n{}",
        ours.log_text()
    );
    assert!(
        settled_master(&ours_host),
        "ours: {:#?}\n{}",
        snapshot(&ours_host),
        ours.log_text()
    );
    let ours_master = snapshot(&ours_host);
    ours.stop();
    let ours_stopped = snapshot(&ours_host);

    assert_eq!(
        ka_master,
        ours_master,
        "as master: {}\nkeepalived's log:\n{}\nours' log:\n{}",
        difference(&ka_master, &ours_master),
        ka.log_text(),
        ours.log_text()
    );
    assert_eq!(
        ka_stopped,
        ours_stopped,
        "after a stop: {}",
        difference(&ka_stopped, &ours_stopped)
    );
    // keepalived 2.2.7 removes its static entries too: the host is as it was.
    assert_eq!(ka_stopped, before, "{}", difference(&before, &ka_stopped));
}
