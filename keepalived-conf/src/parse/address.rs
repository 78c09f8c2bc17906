//! Address lines (`virtual_ipaddress`, `virtual_ipaddress_excluded`, `static_ipaddress`), as
//! keepalived 2.2.7's `alloc_ipaddress` reads them.

use std::net::{IpAddr, Ipv4Addr};

use super::Ctx;
use crate::error::ConfError;
use crate::model::VipSpec;
use crate::tree::Node;

/// `ADDR[/LEN]`: the address and its prefix length (default the whole address).
pub(super) fn prefix(text: &str) -> Option<(IpAddr, u8)> {
    let (addr, len) = match text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (text, None),
    };
    let addr: IpAddr = addr.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = match len {
        Some(l) => l.parse::<u8>().ok().filter(|l| *l <= max)?,
        None => max,
    };
    Some((addr, len))
}

const SCOPES: [&str; 10] = [
    "global", "site", "link", "host", "nowhere", "0", "200", "253", "254", "255",
];

/// The broadcast address of `brd +` (`plus`) or `brd -` for `base`/`len`, if `len` <= 30.
fn derived_broadcast(base: Ipv4Addr, len: u8, plus: bool) -> Option<Ipv4Addr> {
    if len > 30 {
        return None;
    }
    let host = u32::MAX >> len;
    let base = u32::from(base);
    Some(Ipv4Addr::from(if plus {
        base | host
    } else {
        base & !host
    }))
}

/// One address line; `static_address` for `static_ipaddress` (no `use_vmac` there, and
/// `track_group` belongs to it only).
pub(super) fn address(
    ctx: &mut Ctx,
    node: &Node,
    static_address: bool,
) -> Result<VipSpec, ConfError> {
    let words = &node.words;
    let first = words.first().map_or("", String::as_str);
    let bad = |m: String| ConfError::invalid(&node.loc, first, m);
    let (addr, prefix_len) =
        prefix(first).ok_or_else(|| bad(format!("{first:?} is not an ip address[/prefix]")))?;
    let mut spec = VipSpec {
        addr,
        prefix_len,
        dev: None,
        label: None,
        scope: None,
        broadcast: None,
        peer: None,
        no_track: false,
        dad: false,
        noprefixroute: false,
        home: false,
        mngtmpaddr: false,
        autojoin: false,
        preferred_lft: None,
        loc: node.loc.clone(),
    };
    // `brd +` / `brd -`: computed once the prefix (or the peer's) is known.
    let mut derived: Option<bool> = None;
    let mut preferred_lft: Option<Option<u32>> = None;
    let mut rest = words.iter().skip(1);
    while let Some(opt) = rest.next() {
        let mut value = || {
            rest.next()
                .cloned()
                .ok_or_else(|| bad(format!("no {opt} parameter specified")))
        };
        match opt.as_str() {
            "dev" => {
                if spec.dev.is_some() {
                    return Err(bad("dev given more than once".into()));
                }
                spec.dev = Some(value()?);
            }
            "label" => {
                let label = value()?;
                if label.len() >= 16 {
                    return Err(bad(format!("label {label:?} is longer than 15 bytes")));
                }
                spec.label = Some(label);
            }
            "scope" => {
                let s = value()?;
                if !SCOPES.contains(&s.as_str()) {
                    return Err(bad(format!(
                        "scope {s:?} is not global, site, link, host or nowhere"
                    )));
                }
                if addr.is_ipv4() && (s == "site" || s == "200") {
                    return Err(bad(format!("scope {s} is for ipv6 addresses only")));
                }
                spec.scope = Some(s);
            }
            "brd" | "broadcast" => {
                let v = value()?;
                if addr.is_ipv6() {
                    return Err(bad(format!("{opt} {v}: ipv6 addresses have no broadcast")));
                }
                match v.as_str() {
                    "+" => derived = Some(true),
                    "-" => derived = Some(false),
                    _ => {
                        spec.broadcast = Some(v.parse().map_err(|_| {
                            bad(format!("{opt} {v:?} is not an ipv4 address, + or -"))
                        })?);
                        derived = None;
                    }
                }
            }
            "peer" => {
                let v = value()?;
                if spec.peer.is_some() {
                    return Err(bad(format!("peer {v}: another peer is already given")));
                }
                let (peer, len) = prefix(&v)
                    .ok_or_else(|| bad(format!("peer {v:?} is not an ip address[/prefix]")))?;
                if peer.is_ipv4() != addr.is_ipv4() {
                    return Err(bad(format!("peer {v} is not of the address's family")));
                }
                if spec.prefix_len != if addr.is_ipv4() { 32 } else { 128 } {
                    ctx.warn(
                        node,
                        "an address prefix cannot be given with a peer, the peer's is used",
                    );
                }
                spec.peer = Some(peer);
                spec.prefix_len = len;
            }
            "home" => spec.home = true,
            "-nodad" => spec.dad = true,
            "mngtmpaddr" => spec.mngtmpaddr = true,
            "noprefixroute" => spec.noprefixroute = true,
            "autojoin" => spec.autojoin = true,
            "no_track" => spec.no_track = true,
            "preferred_lft" => {
                let v = value()?;
                preferred_lft = Some(if v == "forever" {
                    None
                } else {
                    Some(v.parse::<u32>().map_err(|_| {
                        bad(format!(
                            "preferred_lft {v:?} is not a number of seconds or forever"
                        ))
                    })?)
                });
            }
            "track_group" if static_address => {
                return Err(bad("track_group is not supported by this daemon".into()));
            }
            "use_vmac" if !static_address => {
                return Err(bad(
                    "use_vmac on an address is not supported by this daemon".into(),
                ));
            }
            other => return Err(bad(format!("unknown address option {other:?}"))),
        }
    }
    if spec.peer.is_some() && (spec.broadcast.is_some() || derived.is_some()) {
        ctx.warn(
            node,
            "a broadcast and a peer address cannot both be given, broadcast ignored",
        );
        spec.broadcast = None;
    } else if let (Some(plus), IpAddr::V4(base)) = (derived, addr) {
        spec.broadcast = derived_broadcast(base, spec.prefix_len, plus);
        if spec.broadcast.is_none() {
            ctx.warn(
                node,
                &format!(
                    "prefix length {} is too long for a broadcast address, none set",
                    spec.prefix_len
                ),
            );
        }
    }
    if addr.is_ipv6() {
        if spec.scope.take().is_some() {
            ctx.warn(
                node,
                "ipv6 addresses take no scope (as in keepalived), ignored",
            );
        }
        if spec.label.take().is_some() {
            ctx.warn(
                node,
                "ipv6 addresses take no label (as in keepalived), ignored",
            );
        }
        // keepalived's default: a /128 is installed deprecated, anything else forever.
        spec.preferred_lft = preferred_lft.unwrap_or(if spec.prefix_len == 128 {
            Some(0)
        } else {
            None
        });
    }
    Ok(spec)
}
