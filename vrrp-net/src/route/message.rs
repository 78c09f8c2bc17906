//! The rtnetlink messages of [`Route`]s and [`Rule`]s (RTM_NEWROUTE / RTM_DELROUTE and
//! RTM_NEWRULE / RTM_DELRULE bodies), as keepalived 2.2.7 builds them.

use std::net::IpAddr;

use netlink_packet_route::AddressFamily;
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::rule::{
    RuleAction as NlRuleAction, RuleAttribute, RuleFlags, RuleMessage,
};
use vrrp_core::Family;

use super::{Route, RouteError, RouteKind, Rule, RuleAction};
use crate::vip::VipScope;

/// Whether the message adds or deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// RTM_NEWROUTE / RTM_NEWRULE.
    Add,
    /// RTM_DELROUTE / RTM_DELRULE.
    Delete,
}

fn family_of(addr: IpAddr) -> AddressFamily {
    match addr {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    }
}

fn route_type(kind: RouteKind) -> RouteType {
    match kind {
        RouteKind::Unicast => RouteType::Unicast,
        RouteKind::Local => RouteType::Local,
        RouteKind::Broadcast => RouteType::Broadcast,
        RouteKind::Anycast => RouteType::Anycast,
        RouteKind::Multicast => RouteType::Multicast,
        RouteKind::Blackhole => RouteType::BlackHole,
        RouteKind::Unreachable => RouteType::Unreachable,
        RouteKind::Prohibit => RouteType::Prohibit,
        RouteKind::Throw => RouteType::Throw,
    }
}

fn route_scope(scope: VipScope) -> RouteScope {
    match scope {
        VipScope::Global => RouteScope::Universe,
        VipScope::Site => RouteScope::Site,
        VipScope::Link => RouteScope::Link,
        VipScope::Host => RouteScope::Host,
        VipScope::Nowhere => RouteScope::NoWhere,
    }
}

/// The message of `route`. A delete names the route as keepalived does: scope "nowhere"
/// (any), the type only when it is not unicast, everything else as when added, so the
/// kernel removes exactly that route.
pub(crate) fn route_message(route: &Route, op: Op) -> Result<RouteMessage, RouteError> {
    let v4 = route.destination.is_ipv4();
    for (what, addr) in [
        ("gateway", route.gateway),
        ("src", route.pref_src),
        ("from", route.source.map(|s| s.0)),
    ] {
        if addr.is_some_and(|a| a.is_ipv4() != v4) {
            return Err(RouteError::MixedFamilies {
                route: route.to_string(),
                what,
            });
        }
    }
    let mut msg = RouteMessage::default();
    let h = &mut msg.header;
    h.address_family = family_of(route.destination);
    h.destination_prefix_length = route.prefix_len;
    h.tos = route.tos;
    h.protocol = RouteProtocol::from(route.protocol);
    match op {
        Op::Add => {
            h.scope = route_scope(route.scope);
            h.kind = route_type(route.kind);
        }
        Op::Delete => {
            h.scope = if route.scope == VipScope::Global {
                RouteScope::NoWhere
            } else {
                route_scope(route.scope)
            };
            h.kind = match route.kind {
                RouteKind::Unicast => RouteType::Unspec,
                other => route_type(other),
            };
        }
    }
    // Tables above 255 only fit the attribute; the header then says "unspec".
    match u8::try_from(route.table) {
        Ok(t) => h.table = t,
        Err(_) => {
            h.table = 0;
            msg.attributes.push(RouteAttribute::Table(route.table));
        }
    }
    msg.attributes
        .push(RouteAttribute::Destination(RouteAddress::from(
            route.destination,
        )));
    if let Some((addr, len)) = route.source {
        msg.header.source_prefix_length = len;
        msg.attributes
            .push(RouteAttribute::Source(RouteAddress::from(addr)));
    }
    if let Some(src) = route.pref_src {
        msg.attributes
            .push(RouteAttribute::PrefSource(RouteAddress::from(src)));
    }
    if let Some(gw) = route.gateway {
        msg.attributes
            .push(RouteAttribute::Gateway(RouteAddress::from(gw)));
    }
    if let Some(oif) = route.oif {
        msg.attributes.push(RouteAttribute::Oif(oif));
    }
    if let Some(metric) = route.metric {
        msg.attributes.push(RouteAttribute::Priority(metric));
    }
    Ok(msg)
}

/// The message of `rule` (the same for adding and deleting: the kernel deletes the rule
/// matching every attribute given).
pub(crate) fn rule_message(rule: &Rule) -> Result<RuleMessage, RouteError> {
    let v4 = rule.family == Family::V4;
    if [rule.from, rule.to]
        .iter()
        .flatten()
        .any(|(a, _)| a.is_ipv4() != v4)
    {
        return Err(RouteError::RuleFamily {
            rule: rule.to_string(),
        });
    }
    let mut msg = RuleMessage::default();
    msg.header.family = if v4 {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    };
    msg.header.tos = rule.tos;
    if rule.invert {
        msg.header.flags = RuleFlags::Invert;
    }
    msg.header.action = match rule.action {
        RuleAction::Table(_) => NlRuleAction::ToTable,
        RuleAction::Goto(_) => NlRuleAction::Goto,
        RuleAction::Nop => NlRuleAction::Nop,
        RuleAction::Blackhole => NlRuleAction::Blackhole,
        RuleAction::Unreachable => NlRuleAction::Unreachable,
        RuleAction::Prohibit => NlRuleAction::Prohibit,
    };
    if let RuleAction::Table(table) = rule.action {
        match u8::try_from(table) {
            Ok(t) => msg.header.table = t,
            Err(_) => msg.attributes.push(RuleAttribute::Table(table)),
        }
    }
    if let Some((addr, len)) = rule.from {
        msg.header.src_len = len;
        msg.attributes.push(RuleAttribute::Source(addr));
    }
    if let Some((addr, len)) = rule.to {
        msg.header.dst_len = len;
        msg.attributes.push(RuleAttribute::Destination(addr));
    }
    msg.attributes.push(RuleAttribute::Priority(rule.priority));
    if let Some(mark) = rule.fwmark {
        msg.attributes.push(RuleAttribute::FwMark(mark));
    }
    if let Some(mask) = rule.fwmask {
        msg.attributes.push(RuleAttribute::FwMask(mask));
    }
    if let Some(iif) = &rule.iif {
        msg.attributes.push(RuleAttribute::Iifname(iif.clone()));
    }
    if let Some(oif) = &rule.oif {
        msg.attributes.push(RuleAttribute::Oifname(oif.clone()));
    }
    if let Some(protocol) = rule.protocol {
        msg.attributes
            .push(RuleAttribute::Protocol(RouteProtocol::from(protocol)));
    }
    if let RuleAction::Goto(target) = rule.action {
        msg.attributes.push(RuleAttribute::Goto(target));
    }
    Ok(msg)
}

#[cfg(test)]
#[path = "message_tests.rs"]
mod tests;
