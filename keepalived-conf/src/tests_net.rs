//! Parsing of the network keywords: address options, `virtual_routes` / `virtual_rules`,
//! `static_ipaddress` / `static_routes` / `static_rules`.

#![allow(clippy::unwrap_used)]

use std::net::IpAddr;

use crate::net::{RT_TABLE_MAIN, RTPROT_KEEPALIVED, RuleActionSpec};
use crate::{KeepalivedConf, VipSpec, parse_str};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn instance(body: &str) -> Result<KeepalivedConf, String> {
    parse_str(
        "k.conf",
        &format!("vrrp_instance V {{\ninterface eth0\nvirtual_router_id 5\n{body}\n}}\n"),
    )
    .map_err(|e| e.to_string())
}

fn vip(line: &str) -> Result<VipSpec, String> {
    instance(&format!("virtual_ipaddress {{\n{line}\n}}")).map(|c| c.instances[0].vips[0].clone())
}

fn warnings(c: &KeepalivedConf) -> Vec<String> {
    c.warnings.iter().map(|w| w.message.clone()).collect()
}

#[test]
fn broadcast_is_an_address_or_derived_from_the_prefix() {
    assert_eq!(
        vip("192.0.2.100/24 brd 192.0.2.255").unwrap().broadcast,
        Some("192.0.2.255".parse().unwrap())
    );
    assert_eq!(
        vip("192.0.2.100/24 broadcast +").unwrap().broadcast,
        Some("192.0.2.255".parse().unwrap())
    );
    assert_eq!(
        vip("192.0.2.100/25 brd -").unwrap().broadcast,
        Some("192.0.2.0".parse().unwrap())
    );
    // Too long a prefix: keepalived keeps the address without a broadcast.
    let c = instance("virtual_ipaddress {\n192.0.2.100/31 brd +\n}").unwrap();
    assert_eq!(c.instances[0].vips[0].broadcast, None);
    assert!(
        warnings(&c).iter().any(|w| w.contains("too long")),
        "{:?}",
        c.warnings
    );
    let e = vip("192.0.2.100/24 brd nonsense").unwrap_err();
    assert!(
        e.contains("k.conf:5") && e.contains("not an ipv4 address"),
        "{e}"
    );
    let e = instance("virtual_ipaddress {\n2001:db8::1/64 brd +\n}").unwrap_err();
    assert!(e.contains("ipv6 addresses have no broadcast"), "{e}");
    let e = vip("192.0.2.100/24 brd").unwrap_err();
    assert!(e.contains("no brd parameter"), "{e}");
}

#[test]
fn a_peer_takes_its_prefix_and_drops_a_broadcast() {
    let c = instance("virtual_ipaddress {\n192.0.2.100 peer 192.0.2.1/30 brd +\n}").unwrap();
    let v = &c.instances[0].vips[0];
    assert_eq!(
        (v.peer, v.prefix_len, v.broadcast),
        (Some(ip("192.0.2.1")), 30, None)
    );
    assert!(warnings(&c).iter().any(|w| w.contains("broadcast ignored")));
    let e = vip("192.0.2.100 peer 2001:db8::1").unwrap_err();
    assert!(e.contains("not of the address's family"), "{e}");
}

#[test]
fn flags_and_tracking_options_are_read() {
    let v = instance(
        "virtual_ipaddress {\n2001:db8::100/64 -nodad noprefixroute home mngtmpaddr autojoin no_track\n}",
    )
    .unwrap()
    .instances[0]
        .vips[0]
        .clone();
    assert!(v.dad && v.noprefixroute && v.home && v.mngtmpaddr && v.autojoin && v.no_track);
    let plain = vip("192.0.2.1").unwrap();
    assert!(!plain.dad && !plain.noprefixroute && !plain.no_track);
    let e = vip("192.0.2.1 use_vmac").unwrap_err();
    assert!(e.contains("not supported"), "{e}");
    let e = vip("192.0.2.1 bogus").unwrap_err();
    assert!(e.contains("unknown address option \"bogus\""), "{e}");
}

#[test]
fn preferred_lifetime_follows_keepalived_defaults() {
    let v6 = |line: &str| {
        instance(&format!("virtual_ipaddress {{\n{line}\n}}"))
            .unwrap()
            .instances[0]
            .vips[0]
            .preferred_lft
    };
    // keepalived 2.2.7: a /128 is deprecated unless told otherwise, anything else forever.
    assert_eq!(v6("2001:db8::1"), Some(0));
    assert_eq!(v6("2001:db8::1/64"), None);
    assert_eq!(v6("2001:db8::1 preferred_lft forever"), None);
    assert_eq!(v6("2001:db8::1/64 preferred_lft 0"), Some(0));
    assert_eq!(v6("2001:db8::1/64 preferred_lft 300"), Some(300));
    assert_eq!(
        vip("192.0.2.1 preferred_lft 0").unwrap().preferred_lft,
        None
    );
    let e = vip("192.0.2.1 preferred_lft soon").unwrap_err();
    assert!(e.contains("preferred_lft \"soon\""), "{e}");
}

#[test]
fn ipv6_scope_and_label_are_ignored_with_a_warning() {
    let c = instance("virtual_ipaddress {\n2001:db8::1 scope site label x\n}").unwrap();
    let v = &c.instances[0].vips[0];
    assert_eq!((v.scope.as_deref(), v.label.as_deref()), (None, None));
    assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
}

#[test]
fn virtual_routes_read_keepalived_options() {
    let c = instance(
        "virtual_ipaddress {\n192.0.2.100/24\n}\nvirtual_routes {\n\
         198.51.100.0/24 via 192.0.2.1 dev eth0 table 100 metric 5 src 192.0.2.100\n\
         to blackhole 203.0.113.0/24 dev eth0 no_track\n\
         default via 192.0.2.1\n\
         ::/0 via 2001:db8::1 dev eth0 table main\n\
         unreachable 203.0.113.128/25 dev eth0 scope link protocol static no_track\n\
         }",
    )
    .unwrap();
    let r = &c.instances[0].routes;
    assert_eq!(r.len(), 5);
    assert_eq!(
        (r[0].destination, r[0].prefix_len),
        (ip("198.51.100.0"), 24)
    );
    assert_eq!(r[0].via, Some(ip("192.0.2.1")));
    assert_eq!(r[0].src, Some(ip("192.0.2.100")));
    assert_eq!(r[0].dev.as_deref(), Some("eth0"));
    assert_eq!((r[0].table, r[0].metric), (100, Some(5)));
    assert_eq!(
        (r[0].protocol, r[0].kind, r[0].no_track),
        (RTPROT_KEEPALIVED, 1, false)
    );
    assert_eq!((r[1].kind, r[1].no_track), (6, true));
    // No dev: keepalived cannot track it.
    assert_eq!(
        (r[2].destination, r[2].prefix_len, r[2].no_track),
        (ip("0.0.0.0"), 0, true)
    );
    assert!(
        warnings(&c)
            .iter()
            .any(|w| w.contains("without dev cannot be tracked"))
    );
    assert_eq!((r[3].destination, r[3].table), (ip("::"), RT_TABLE_MAIN));
    assert_eq!((r[4].kind, r[4].scope, r[4].protocol), (7, 253, 4));
}

#[test]
fn route_errors_are_located_and_worded_like_keepalived() {
    let route = |line: &str| {
        instance(&format!(
            "virtual_ipaddress {{\n192.0.2.100\n}}\nvirtual_routes {{\n{line}\n}}"
        ))
        .unwrap_err()
    };
    let e = route("198.51.100.0/24 via 2001:db8::1");
    assert!(
        e.starts_with("k.conf:8: virtual_routes:") && e.contains("cannot mix"),
        "{e}"
    );
    assert!(route("via 192.0.2.1 dev eth0").contains("must have a destination"));
    // keepalived 2.2.7 steps over the word after inet6: here, the destination.
    assert!(route("inet6 default via 2001:db8::1 dev eth0").contains("must have a destination"));
    assert!(route("198.51.100.0/24 table nosuch").contains("routing table \"nosuch\""));
    assert!(route("198.51.100.0/24 frob").contains("unknown route keyword \"frob\""));
    assert!(route("198.51.100.0/24 from 192.0.2.0/24").contains("only supported with ipv6"));
    assert!(route("198.51.100.0/24 mtu 1400").contains("\"mtu\" is not supported"));
    assert!(route("198.51.100.0/24 metric").contains("no metric parameter"));
    assert!(route("type blackhole 198.51.100.0/24").contains("unknown route keyword \"type\""));
    // A tracked route's protocol is keepalived's.
    let c = instance(
        "virtual_ipaddress {\n192.0.2.100\n}\nvirtual_routes {\n198.51.100.0/24 dev eth0 protocol static\n}",
    )
    .unwrap();
    assert_eq!(c.instances[0].routes[0].protocol, RTPROT_KEEPALIVED);
    assert!(warnings(&c).iter().any(|w| w.contains("protocol reset")));
}

#[test]
fn virtual_rules_read_keepalived_options() {
    let c = instance(
        "virtual_ipaddress {\n192.0.2.100\n}\nvirtual_rules {\n\
         from 192.0.2.0/24 to 198.51.100.0/24 table 100 priority 100 iif eth0 oif eth1\n\
         fwmark 0x10/0xff lookup 200 pref 101 not\n\
         from 2001:db8::/32 blackhole\n\
         from all type unreachable preference 300 no_track\n\
         priority 10 goto 20\n\
         }",
    );
    // `pref` is not a keepalived keyword.
    assert!(c.unwrap_err().contains("unknown rule option \"pref\""));
    let c = instance(
        "virtual_ipaddress {\n192.0.2.100\n}\nvirtual_rules {\n\
         from 192.0.2.0/24 to 198.51.100.0/24 table 100 priority 100 iif eth0 oif eth1\n\
         fwmark 0x10/0xff lookup 200 order 101 not\n\
         from 2001:db8::/32 blackhole\n\
         from all type unreachable preference 300 no_track\n\
         priority 10 goto 20\n\
         to 198.51.100.0/24 table main\n\
         }",
    )
    .unwrap();
    let r = &c.instances[0].rules;
    assert_eq!(r[0].from, Some((ip("192.0.2.0"), 24)));
    assert_eq!(r[0].to, Some((ip("198.51.100.0"), 24)));
    assert_eq!(
        (r[0].action, r[0].priority),
        (RuleActionSpec::Table(100), 100)
    );
    assert_eq!(
        (r[0].iif.as_deref(), r[0].oif.as_deref()),
        (Some("eth0"), Some("eth1"))
    );
    assert_eq!(r[0].protocol, Some(RTPROT_KEEPALIVED));
    assert_eq!(
        (r[1].fwmark, r[1].fwmask, r[1].invert),
        (Some(0x10), Some(0xff), true)
    );
    assert_eq!((r[2].ipv6, r[2].action), (true, RuleActionSpec::Blackhole));
    // No preference: keepalived's counter, per family, with a warning.
    assert_eq!(r[2].priority, 16384);
    assert_eq!(r[5].priority, 16384);
    assert_eq!(
        (r[3].action, r[3].from, r[3].no_track),
        (RuleActionSpec::Unreachable, None, true)
    );
    assert_eq!(r[3].protocol, None);
    assert_eq!(r[4].action, RuleActionSpec::Goto(20));
    assert_eq!(r[5].action, RuleActionSpec::Table(254));
    assert!(
        warnings(&c)
            .iter()
            .any(|w| w.contains("no preference, set to 16384"))
    );
}

#[test]
fn rule_errors_are_located_and_worded_like_keepalived() {
    let rule = |line: &str| {
        instance(&format!(
            "virtual_ipaddress {{\n192.0.2.100\n}}\nvirtual_rules {{\n{line}\n}}"
        ))
        .unwrap_err()
    };
    let e = rule("from 192.0.2.0/24 priority 5");
    assert!(
        e.starts_with("k.conf:8: virtual_rules:") && e.contains("no action"),
        "{e}"
    );
    assert!(rule("from 192.0.2.0/24 table 0").contains("table 0 is not valid"));
    assert!(rule("table 5 blackhole").contains("more than one of"));
    assert!(rule("goto 20").contains("without preference"));
    assert!(rule("priority 30 goto 20").contains("not below goto target"));
    assert!(rule("from 192.0.2.0/24 to 2001:db8::/32 table 5").contains("mixed ipv4 and ipv6"));
    assert!(rule("fwmark -1 table 5").contains("invalid rule fwmark"));
    assert!(rule("table 5 local").contains("invalid rule action \"local\""));
    assert!(rule("table 5 sport 80").contains("\"sport\" is not supported"));
    // keepalived 2.2.7 steps over the word after inet6: `from` here.
    assert!(
        rule("inet6 from 2001:db8::/32 table 5").contains("unknown rule option \"2001:db8::/32\"")
    );
    assert!(rule("inet6 x from 192.0.2.0/24 table 5").contains("mixed ipv4 and ipv6"));
}

#[test]
fn static_blocks_are_read_at_the_top_level() {
    let c = parse_str(
        "k.conf",
        "static_ipaddress {\n192.0.2.50/24 dev eth0 brd +\n2001:db8::50 dev eth0\n}\n\
         static_routes {\n198.51.100.0/24 via 192.0.2.1 dev eth0\n}\n\
         static_rules {\nfrom 192.0.2.50 table 100 priority 50\n}\n",
    )
    .unwrap();
    assert_eq!(c.static_addresses.len(), 2);
    assert_eq!(
        c.static_addresses[0].broadcast,
        Some("192.0.2.255".parse().unwrap())
    );
    assert_eq!(c.static_addresses[1].preferred_lft, Some(0));
    assert_eq!(c.static_routes[0].via, Some(ip("192.0.2.1")));
    assert_eq!(c.static_rules[0].from, Some((ip("192.0.2.50"), 32)));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let e = parse_str("k.conf", "static_routes {\n198.51.100.0/24 bogus\n}\n")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("k.conf:2: static_routes:"), "{e}");
    let e = parse_str(
        "k.conf",
        "static_ipaddress {\n192.0.2.1 dev eth0 use_vmac\n}\n",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("unknown address option \"use_vmac\""), "{e}");
}
