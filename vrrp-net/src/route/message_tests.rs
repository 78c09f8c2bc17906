#![allow(clippy::unwrap_used)]

use std::net::IpAddr;

use netlink_packet_core::Emitable;
use netlink_packet_route::AddressFamily;
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::rule::{RuleAction as NlRuleAction, RuleAttribute, RuleFlags};
use vrrp_core::Family;

use super::{Op, route_message, rule_message};
use crate::route::{Route, RouteError, RouteKind, Rule, RuleAction};
use crate::vip::VipScope;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn a_route_is_sent_as_keepalived_sends_it() {
    let route = Route::new(ip("198.51.100.0"), 24)
        .gateway(ip("192.0.2.1"))
        .pref_src(ip("192.0.2.100"))
        .oif(7)
        .metric(5)
        .table(100);
    let msg = route_message(&route, Op::Add).unwrap();
    assert_eq!(msg.header.address_family, AddressFamily::Inet);
    assert_eq!(msg.header.destination_prefix_length, 24);
    assert_eq!(msg.header.table, 100);
    assert_eq!(msg.header.protocol, RouteProtocol::KeepAlived);
    assert_eq!(msg.header.scope, RouteScope::Universe);
    assert_eq!(msg.header.kind, RouteType::Unicast);
    assert_eq!(
        msg.attributes,
        [
            RouteAttribute::Destination(RouteAddress::Inet("198.51.100.0".parse().unwrap())),
            RouteAttribute::PrefSource(RouteAddress::Inet("192.0.2.100".parse().unwrap())),
            RouteAttribute::Gateway(RouteAddress::Inet("192.0.2.1".parse().unwrap())),
            RouteAttribute::Oif(7),
            RouteAttribute::Priority(5),
        ]
    );
    // The whole message emits (lengths and attribute layout are consistent).
    let mut buf = vec![0; msg.buffer_len()];
    msg.emit(&mut buf);
    assert_eq!(buf[0], libc::AF_INET as u8);
}

#[test]
fn a_delete_matches_any_scope_and_only_a_named_type() {
    let unicast = Route::new(ip("198.51.100.0"), 24);
    let msg = route_message(&unicast, Op::Delete).unwrap();
    assert_eq!(msg.header.scope, RouteScope::NoWhere);
    assert_eq!(msg.header.kind, RouteType::Unspec);
    let blackhole = unicast.clone().kind(RouteKind::Blackhole);
    let msg = route_message(&blackhole, Op::Delete).unwrap();
    assert_eq!(msg.header.kind, RouteType::BlackHole);
    let linked = Route::new(ip("198.51.100.0"), 24).scope(VipScope::Link);
    assert_eq!(
        route_message(&linked, Op::Delete).unwrap().header.scope,
        RouteScope::Link
    );
}

#[test]
fn tables_above_255_go_in_the_attribute() {
    let route = Route::new(ip("2001:db8:1::"), 48).table(1000);
    let msg = route_message(&route, Op::Add).unwrap();
    assert_eq!(msg.header.table, 0);
    assert!(msg.attributes.contains(&RouteAttribute::Table(1000)));
    assert_eq!(msg.header.address_family, AddressFamily::Inet6);
}

#[test]
fn an_ipv6_source_prefix_sets_the_source_length() {
    let route = Route::new(ip("2001:db8:1::"), 48).source(ip("2001:db8:2::"), 64);
    let msg = route_message(&route, Op::Add).unwrap();
    assert_eq!(msg.header.source_prefix_length, 64);
    assert!(
        msg.attributes
            .contains(&RouteAttribute::Source(RouteAddress::Inet6(
                "2001:db8:2::".parse().unwrap()
            )))
    );
}

#[test]
fn mixed_families_are_refused_by_name() {
    let route = Route::new(ip("198.51.100.0"), 24).gateway(ip("2001:db8::1"));
    let e = route_message(&route, Op::Add).unwrap_err();
    assert!(
        matches!(
            e,
            RouteError::MixedFamilies {
                what: "gateway",
                ..
            }
        ),
        "{e}"
    );
    let rule = Rule::new(Family::V6, 100, RuleAction::Table(100)).from(ip("192.0.2.0"), 24);
    assert!(matches!(
        rule_message(&rule).unwrap_err(),
        RouteError::RuleFamily { .. }
    ));
}

#[test]
fn a_rule_is_sent_as_keepalived_sends_it() {
    let rule = Rule::new(Family::V4, 100, RuleAction::Table(100))
        .from(ip("192.0.2.0"), 24)
        .to(ip("198.51.100.0"), 25)
        .iif("eth0")
        .oif("eth1")
        .fwmark(0x10, Some(0xff))
        .invert(true);
    let msg = rule_message(&rule).unwrap();
    assert_eq!(msg.header.family, AddressFamily::Inet);
    assert_eq!((msg.header.src_len, msg.header.dst_len), (24, 25));
    assert_eq!(msg.header.table, 100);
    assert_eq!(msg.header.action, NlRuleAction::ToTable);
    assert_eq!(msg.header.flags, RuleFlags::Invert);
    assert_eq!(
        msg.attributes,
        [
            RuleAttribute::Source(ip("192.0.2.0")),
            RuleAttribute::Destination(ip("198.51.100.0")),
            RuleAttribute::Priority(100),
            RuleAttribute::FwMark(0x10),
            RuleAttribute::FwMask(0xff),
            RuleAttribute::Iifname("eth0".into()),
            RuleAttribute::Oifname("eth1".into()),
            RuleAttribute::Protocol(RouteProtocol::KeepAlived),
        ]
    );
    let mut buf = vec![0; msg.buffer_len()];
    msg.emit(&mut buf);
}

#[test]
fn rule_actions_other_than_a_table() {
    let goto = Rule::new(Family::V6, 10, RuleAction::Goto(20)).protocol(None);
    let msg = rule_message(&goto).unwrap();
    assert_eq!(msg.header.action, NlRuleAction::Goto);
    assert_eq!(msg.header.table, 0);
    assert_eq!(
        msg.attributes,
        [RuleAttribute::Priority(10), RuleAttribute::Goto(20)]
    );
    let big = Rule::new(Family::V4, 10, RuleAction::Table(300));
    let msg = rule_message(&big).unwrap();
    assert_eq!(msg.header.table, 0);
    assert!(msg.attributes.contains(&RuleAttribute::Table(300)));
    let drop = Rule::new(Family::V4, 10, RuleAction::Blackhole);
    assert_eq!(
        rule_message(&drop).unwrap().header.action,
        NlRuleAction::Blackhole
    );
}
