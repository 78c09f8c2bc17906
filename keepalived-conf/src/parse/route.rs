//! Route lines (`virtual_routes`, `static_routes`), as keepalived 2.2.7's `alloc_route`
//! reads them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::Ctx;
use super::address::prefix;
use super::rttables;
use crate::error::ConfError;
use crate::net::{RT_TABLE_MAIN, RTN_UNICAST, RTPROT_KEEPALIVED, RouteSpec};
use crate::tree::Node;

/// Options keepalived 2.2.7 accepts that this daemon does not install.
const UNSUPPORTED: &[&str] = &[
    "as",
    "onlink",
    "encap",
    "expires",
    "mtu",
    "hoplimit",
    "advmss",
    "rtt",
    "rttvar",
    "reordering",
    "window",
    "cwnd",
    "ssthresh",
    "realms",
    "rto_min",
    "initcwnd",
    "initrwnd",
    "features",
    "quickack",
    "congctl",
    "pref",
    "ttl-propagate",
    "fastopen_no_cookie",
    "add",
    "prepend",
    "append",
    "or",
    "nexthop",
    "vrf",
    "track_group",
];

/// `default` / `any` / `all` (no family yet), `default6` (IPv6), or a prefix.
fn destination(text: &str) -> Option<(Option<IpAddr>, u8, Option<bool>)> {
    match text {
        "default" | "any" | "all" => Some((None, 0, None)),
        "default6" => Some((None, 0, Some(true))),
        _ => prefix(text).map(|(a, l)| (Some(a), l, Some(a.is_ipv6()))),
    }
}

struct Family<'a> {
    ipv6: Option<bool>,
    bad: &'a dyn Fn(String) -> ConfError,
}

impl Family<'_> {
    fn join(&mut self, ipv6: bool, what: &str) -> Result<(), ConfError> {
        match self.ipv6 {
            None => {
                self.ipv6 = Some(ipv6);
                Ok(())
            }
            Some(v) if v == ipv6 => Ok(()),
            Some(_) => Err((self.bad)(format!(
                "{what}: cannot mix ipv4 and ipv6 addresses in a route"
            ))),
        }
    }
}

/// One route line of section `section`.
pub(super) fn route(ctx: &mut Ctx, node: &Node, section: &str) -> Result<RouteSpec, ConfError> {
    let bad = |m: String| ConfError::invalid(&node.loc, section, m);
    let mut family = Family {
        ipv6: None,
        bad: &bad,
    };
    let mut dst: Option<(Option<IpAddr>, u8)> = None;
    let mut spec = RouteSpec {
        destination: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        prefix_len: 0,
        from: None,
        src: None,
        via: None,
        dev: None,
        table: RT_TABLE_MAIN,
        metric: None,
        scope: 0,
        protocol: RTPROT_KEEPALIVED,
        kind: RTN_UNICAST,
        tos: 0,
        no_track: false,
        loc: node.loc.clone(),
    };
    let mut protocol: Option<u8> = None;
    let words = &node.words;
    let mut i = 0;
    let value = |i: usize, opt: &str| {
        words
            .get(i)
            .map(String::as_str)
            .ok_or_else(|| bad(format!("no {opt} parameter specified")))
    };
    while i < words.len() {
        let word = words[i].as_str();
        match word {
            // keepalived 2.2.7 steps over the word after `inet` / `inet6` as well (its
            // loop advances twice): `inet6 default via ..` has no destination there.
            "inet" | "inet6" => {
                family.join(word == "inet6", word)?;
                i += 1;
            }
            "src" => {
                i += 1;
                let v = value(i, word)?;
                let a: IpAddr = v
                    .parse()
                    .map_err(|_| bad(format!("invalid route src address {v:?}")))?;
                family.join(a.is_ipv6(), "src")?;
                spec.src = Some(a);
            }
            "via" | "gw" => {
                if word == "gw" {
                    ctx.warn(node, "\"gw\" for routes is deprecated, use \"via\"");
                }
                i += 1;
                let mut v = value(i, word)?;
                if v == "inet" || v == "inet6" {
                    family.join(v == "inet6", word)?;
                    i += 1;
                    v = value(i, word)?;
                }
                let a: IpAddr = v
                    .parse()
                    .map_err(|_| bad(format!("invalid route via address {v:?}")))?;
                family.join(a.is_ipv6(), "via")?;
                spec.via = Some(a);
            }
            "from" => {
                i += 1;
                let v = value(i, word)?;
                match prefix(v) {
                    Some((a, l)) if a.is_ipv6() => {
                        family.join(true, "from")?;
                        spec.from = Some((a, l));
                    }
                    Some(_) => {
                        return Err(bad(format!(
                            "route from address only supported with ipv6 ({v})"
                        )));
                    }
                    None => return Err(bad(format!("invalid route from address {v:?}"))),
                }
            }
            "tos" | "dsfield" => {
                i += 1;
                let v = value(i, word)?;
                spec.tos = rttables::dsfield(v)
                    .ok_or_else(|| bad(format!("TOS value {v:?} is invalid")))?;
            }
            "table" => {
                i += 1;
                let v = value(i, word)?;
                spec.table = rttables::table(v).ok_or_else(|| {
                    bad(format!(
                        "routing table {v:?} not found (a number, main, local or default)"
                    ))
                })?;
            }
            "protocol" => {
                i += 1;
                let v = value(i, word)?;
                protocol = Some(
                    rttables::protocol(v)
                        .ok_or_else(|| bad(format!("protocol {v:?} not found or invalid")))?,
                );
            }
            "scope" => {
                i += 1;
                let v = value(i, word)?;
                spec.scope = rttables::scope(v)
                    .ok_or_else(|| bad(format!("scope {v:?} not found or invalid")))?;
            }
            "metric" | "priority" | "preference" => {
                i += 1;
                let v = value(i, word)?;
                spec.metric = Some(
                    rttables::unsigned(v)
                        .and_then(|n| u32::try_from(n).ok())
                        .ok_or_else(|| bad(format!("invalid metric {v:?}")))?,
                );
            }
            "dev" | "oif" => {
                i += 1;
                spec.dev = Some(value(i, word)?.to_owned());
            }
            "no_track" => spec.no_track = true,
            w if UNSUPPORTED.contains(&w) => {
                return Err(bad(format!(
                    "route option {w:?} is not supported by this daemon"
                )));
            }
            _ => {
                if word == "to" {
                    i += 1;
                }
                let mut v = value(i, "to")?;
                if let Some(kind) = rttables::route_type(v) {
                    spec.kind = kind;
                    i += 1;
                    v = value(i, "route type")?;
                }
                let (addr, len, ipv6) =
                    destination(v).ok_or_else(|| bad(format!("unknown route keyword {v:?}")))?;
                if let Some(ipv6) = ipv6 {
                    family.join(ipv6, v)?;
                }
                dst = Some((addr, len));
            }
        }
        i += 1;
    }
    let Some((addr, len)) = dst else {
        return Err(bad("a route must have a destination".into()));
    };
    let ipv6 = family.ipv6.unwrap_or(false);
    spec.destination = addr.unwrap_or(if ipv6 {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    });
    spec.prefix_len = len;
    spec.protocol = protocol.unwrap_or(RTPROT_KEEPALIVED);
    if !spec.no_track {
        if protocol.is_some_and(|p| p != RTPROT_KEEPALIVED) {
            ctx.warn(
                node,
                "a tracked route's protocol is keepalived (18), protocol reset (add no_track to keep it)",
            );
        }
        spec.protocol = RTPROT_KEEPALIVED;
        if spec.dev.is_none() {
            ctx.warn(
                node,
                "a route without dev cannot be tracked (as in keepalived), not tracking",
            );
            spec.no_track = true;
        }
    }
    Ok(spec)
}
