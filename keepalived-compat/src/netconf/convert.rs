//! From the configuration's address, route and rule lines to `vrrp_net`'s types, and the
//! interfaces keepalived tracks because of them.

use keepalived_conf::{RouteSpec, RuleActionSpec, RuleSpec, VipSpec, VrrpInstance};
use vrrp_core::Family;
use vrrp_net::route::{Route, RouteKind, Rule, RuleAction};
use vrrp_net::vip::{VipOptions, VipScope};

/// A line this daemon parsed but cannot install (a route type or scope number `vrrp_net`
/// has no name for).
#[derive(Debug, thiserror::Error)]
#[error("{loc}: {what} is not supported by this daemon")]
pub(crate) struct Unsupported {
    loc: keepalived_conf::Location,
    what: String,
}

/// The per-address options of `v`.
pub(crate) fn vip_options(v: &VipSpec) -> VipOptions {
    let mut o = VipOptions::new()
        .dad(v.dad)
        .noprefixroute(v.noprefixroute)
        .home(v.home)
        .mngtmpaddr(v.mngtmpaddr)
        .autojoin(v.autojoin)
        .preferred_lft(v.preferred_lft)
        .no_track(v.no_track);
    if let Some(brd) = v.broadcast {
        o = o.broadcast(brd);
    }
    if let Some(peer) = v.peer {
        o = o.peer(peer);
    }
    o
}

/// The interfaces other than its own that keepalived 2.2.7 makes instance `i` track (a
/// fault when one goes down): those of its addresses, routes (`dev`) and rules (`iif`,
/// `oif`) that are not `no_track`, without the ones `track_interface` names already.
pub(crate) fn tracked_devices(i: &VrrpInstance) -> Vec<String> {
    let addresses = i
        .vips
        .iter()
        .chain(&i.vips_excluded)
        .filter(|v| !v.no_track)
        .filter_map(|v| v.dev.clone());
    let routes = i
        .routes
        .iter()
        .filter(|r| !r.no_track)
        .filter_map(|r| r.dev.clone());
    let rules = i
        .rules
        .iter()
        .filter(|r| !r.no_track)
        .flat_map(|r| [r.iif.clone(), r.oif.clone()])
        .flatten();
    let mut out: Vec<String> = Vec::new();
    for dev in addresses.chain(routes).chain(rules) {
        if dev != i.interface
            && !i.track_interfaces.iter().any(|t| t.name == dev)
            && !out.contains(&dev)
        {
            out.push(dev);
        }
    }
    out
}

fn scope(loc: &keepalived_conf::Location, n: u8) -> Result<VipScope, Unsupported> {
    VipScope::from_name(&n.to_string()).ok_or_else(|| Unsupported {
        loc: loc.clone(),
        what: format!("scope {n}"),
    })
}

fn kind(loc: &keepalived_conf::Location, n: u8) -> Result<RouteKind, Unsupported> {
    Ok(match n {
        1 => RouteKind::Unicast,
        2 => RouteKind::Local,
        3 => RouteKind::Broadcast,
        4 => RouteKind::Anycast,
        5 => RouteKind::Multicast,
        6 => RouteKind::Blackhole,
        7 => RouteKind::Unreachable,
        8 => RouteKind::Prohibit,
        9 => RouteKind::Throw,
        other => {
            return Err(Unsupported {
                loc: loc.clone(),
                what: format!("route type {other}"),
            });
        }
    })
}

/// The route of `r`, out of interface index `oif` (its `dev`, looked up by the caller).
pub(crate) fn route(r: &RouteSpec, oif: Option<u32>) -> Result<Route, Unsupported> {
    let mut route = Route::new(r.destination, r.prefix_len)
        .table(r.table)
        .scope(scope(&r.loc, r.scope)?)
        .protocol(r.protocol)
        .kind(kind(&r.loc, r.kind)?)
        .tos(r.tos);
    if let Some((addr, len)) = r.from {
        route = route.source(addr, len);
    }
    if let Some(src) = r.src {
        route = route.pref_src(src);
    }
    if let Some(via) = r.via {
        route = route.gateway(via);
    }
    if let Some(oif) = oif {
        route = route.oif(oif);
    }
    if let Some(metric) = r.metric {
        route = route.metric(metric);
    }
    Ok(route)
}

/// The rule of `r`.
pub(crate) fn rule(r: &RuleSpec) -> Rule {
    let family = if r.ipv6 { Family::V6 } else { Family::V4 };
    let action = match r.action {
        RuleActionSpec::Table(t) => RuleAction::Table(t),
        RuleActionSpec::Goto(p) => RuleAction::Goto(p),
        RuleActionSpec::Blackhole => RuleAction::Blackhole,
        RuleActionSpec::Unreachable => RuleAction::Unreachable,
        RuleActionSpec::Prohibit => RuleAction::Prohibit,
        // Nop, and any action a later keepalived-conf adds.
        _ => RuleAction::Nop,
    };
    let mut rule = Rule::new(family, r.priority, action)
        .tos(r.tos)
        .invert(r.invert)
        .protocol(r.protocol);
    if let Some((addr, len)) = r.from {
        rule = rule.from(addr, len);
    }
    if let Some((addr, len)) = r.to {
        rule = rule.to(addr, len);
    }
    if let Some(iif) = &r.iif {
        rule = rule.iif(iif.clone());
    }
    if let Some(oif) = &r.oif {
        rule = rule.oif(oif.clone());
    }
    if let Some(mark) = r.fwmark {
        rule = rule.fwmark(mark, r.fwmask);
    }
    rule
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use keepalived_conf::parse_str;

    const CONF: &str = "vrrp_instance V {\ninterface eth0\nvirtual_router_id 7\n\
        track_interface {\neth3\n}\n\
        virtual_ipaddress {\n192.0.2.7/24 brd + dev eth1\n192.0.2.8 dev eth2 no_track\n\
        192.0.2.9 peer 192.0.2.1 dev eth3\n}\n\
        virtual_routes {\nblackhole 198.51.100.0/24 dev eth4 table 100 metric 3\n\
        198.51.101.0/24 dev eth5 no_track\n}\n\
        virtual_rules {\nfrom 192.0.2.7 iif eth6 oif eth1 table 100 priority 9\n}\n}\n";

    #[test]
    fn options_and_routes_carry_what_was_written() {
        let c = parse_str("k.conf", CONF).unwrap();
        let i = &c.instances[0];
        let o = vip_options(&i.vips[0]);
        assert_eq!(o.broadcast, Some("192.0.2.255".parse().unwrap()));
        assert!(!o.no_track && vip_options(&i.vips[1]).no_track);
        assert_eq!(
            vip_options(&i.vips[2]).peer,
            Some("192.0.2.1".parse().unwrap())
        );
        let r = route(&i.routes[0], Some(4)).unwrap();
        assert_eq!(
            (r.kind, r.table, r.metric, r.oif, r.protocol),
            (RouteKind::Blackhole, 100, Some(3), Some(4), 18)
        );
        let rule = rule(&i.rules[0]);
        assert_eq!(
            (rule.priority, rule.action, rule.iif.as_deref()),
            (9, RuleAction::Table(100), Some("eth6"))
        );
    }

    #[test]
    fn keepalived_tracks_the_interfaces_of_tracked_addresses_routes_and_rules() {
        let c = parse_str("k.conf", CONF).unwrap();
        // eth2 and eth5 are no_track, eth3 is a track_interface already, eth0 the
        // instance's own.
        assert_eq!(tracked_devices(&c.instances[0]), ["eth1", "eth4", "eth6"]);
    }
}
