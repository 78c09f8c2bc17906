//! Rule lines (`virtual_rules`, `static_rules`), as keepalived 2.2.7's `alloc_rule` reads
//! them.

use super::Ctx;
use super::rttables;
use crate::error::ConfError;
use crate::net::{RTPROT_KEEPALIVED, RuleActionSpec, RuleSpec};
use crate::tree::Node;

/// keepalived's first automatic preference of each family.
pub(super) const RULE_START_PRIORITY: u32 = 16384;

/// Options keepalived 2.2.7 accepts that this daemon does not install.
const UNSUPPORTED: &[&str] = &[
    "realms",
    "suppress_prefixlength",
    "sup_pl",
    "suppress_ifgroup",
    "sup_group",
    "tunnel-id",
    "uidrange",
    "l3mdev",
    "ipproto",
    "sport",
    "dport",
    "track_group",
];

/// `MARK[/MASK]`, each a number (`strtoul(.., 0)`) of at most 32 bits.
fn fwmark(text: &str) -> Option<(u32, Option<u32>)> {
    let number = |t: &str| {
        (!t.starts_with('-'))
            .then(|| rttables::unsigned(t))
            .flatten()
            .and_then(|n| u32::try_from(n).ok())
    };
    match text.split_once('/') {
        Some((mark, mask)) => Some((number(mark)?, Some(number(mask)?))),
        None => Some((number(text)?, None)),
    }
}

/// One rule line of section `section`.
pub(super) fn rule(ctx: &mut Ctx, node: &Node, section: &str) -> Result<RuleSpec, ConfError> {
    let bad = |m: String| ConfError::invalid(&node.loc, section, m);
    let words = &node.words;
    let value = |i: usize, opt: &str| {
        words
            .get(i)
            .map(String::as_str)
            .ok_or_else(|| bad(format!("no {opt} parameter specified")))
    };
    let mut ipv6: Option<bool> = None;
    let mut join = |v6: bool, what: &str| match ipv6 {
        None => {
            ipv6 = Some(v6);
            Ok(())
        }
        Some(x) if x == v6 => Ok(()),
        Some(_) => Err(bad(format!(
            "{what}: rule specification has mixed ipv4 and ipv6"
        ))),
    };
    let mut spec = RuleSpec {
        ipv6: false,
        priority: 0,
        action: RuleActionSpec::Nop,
        from: None,
        to: None,
        iif: None,
        oif: None,
        fwmark: None,
        fwmask: None,
        tos: 0,
        invert: false,
        protocol: None,
        no_track: false,
        loc: node.loc.clone(),
    };
    let mut action: Option<RuleActionSpec> = None;
    let mut set_action = |a: RuleActionSpec| {
        if action.is_some() {
            return Err(bad(
                "cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable"
                    .into(),
            ));
        }
        action = Some(a);
        Ok(())
    };
    let mut priority: Option<u32> = None;
    let mut i = 0;
    while i < words.len() {
        let word = words[i].as_str();
        match word {
            // keepalived 2.2.7 steps over the word after `inet` / `inet6` as well (its
            // loop advances twice), so `inet6 from ADDR` leaves ADDR as an unknown option.
            "inet" | "inet6" => {
                join(word == "inet6", word)?;
                i += 1;
            }
            "from" | "to" => {
                i += 1;
                let v = value(i, word)?;
                let p = match v {
                    "default" | "any" | "all" => None,
                    _ => Some(
                        super::address::prefix(v)
                            .ok_or_else(|| bad(format!("invalid rule {word} address {v:?}")))?,
                    ),
                };
                if let Some((a, _)) = p {
                    join(a.is_ipv6(), word)?;
                }
                if word == "from" {
                    spec.from = p;
                } else {
                    spec.to = p;
                }
            }
            "table" | "lookup" => {
                i += 1;
                let v = value(i, word)?;
                let t = rttables::table(v).ok_or_else(|| {
                    bad(format!(
                        "routing table {v:?} not found (a number, main, local or default)"
                    ))
                })?;
                if t == 0 {
                    return Err(bad("table 0 is not valid".into()));
                }
                set_action(RuleActionSpec::Table(t))?;
            }
            "not" => spec.invert = true,
            "preference" | "order" | "priority" => {
                i += 1;
                let v = value(i, word)?;
                priority = Some(
                    rttables::unsigned(v)
                        .and_then(|n| u32::try_from(n).ok())
                        .ok_or_else(|| bad(format!("invalid rule preference {v:?}")))?,
                );
            }
            "tos" | "dsfield" => {
                i += 1;
                let v = value(i, word)?;
                spec.tos = rttables::dsfield(v)
                    .ok_or_else(|| bad(format!("TOS value {v:?} is invalid")))?;
            }
            "fwmark" => {
                i += 1;
                let v = value(i, word)?;
                let (mark, mask) =
                    fwmark(v).ok_or_else(|| bad(format!("invalid rule fwmark {v:?}")))?;
                spec.fwmark = Some(mark);
                spec.fwmask = mask;
            }
            "dev" | "iif" => {
                i += 1;
                spec.iif = Some(value(i, word)?.to_owned());
            }
            "oif" => {
                i += 1;
                spec.oif = Some(value(i, word)?.to_owned());
            }
            "protocol" => {
                i += 1;
                let v = value(i, word)?;
                spec.protocol = Some(
                    rttables::unsigned(v)
                        .and_then(|n| u8::try_from(n).ok())
                        .ok_or_else(|| bad(format!("invalid protocol {v:?}")))?,
                );
            }
            "no_track" => spec.no_track = true,
            w if UNSUPPORTED.contains(&w) => {
                return Err(bad(format!(
                    "rule option {w:?} is not supported by this daemon"
                )));
            }
            _ => {
                let mut w = word;
                if w == "type" {
                    i += 1;
                    w = value(i, "type")?;
                }
                let a = match w {
                    "goto" => {
                        i += 1;
                        let v = value(i, "goto")?;
                        RuleActionSpec::Goto(
                            rttables::unsigned(v)
                                .and_then(|n| u32::try_from(n).ok())
                                .ok_or_else(|| bad(format!("invalid goto target {v:?}")))?,
                        )
                    }
                    "nop" => RuleActionSpec::Nop,
                    "blackhole" => RuleActionSpec::Blackhole,
                    "unreachable" => RuleActionSpec::Unreachable,
                    "prohibit" => RuleActionSpec::Prohibit,
                    _ if rttables::route_type(w).is_some() => {
                        return Err(bad(format!("invalid rule action {w:?}")));
                    }
                    _ => return Err(bad(format!("unknown rule option {w:?}"))),
                };
                set_action(a)?;
            }
        }
        i += 1;
    }
    let action = action.ok_or_else(|| bad("no action specified for rule".into()))?;
    if let RuleActionSpec::Goto(target) = action {
        match priority {
            Some(p) if p >= target => {
                return Err(bad(format!(
                    "preference {p} is not below goto target {target}"
                )));
            }
            Some(_) => {}
            None => {
                return Err(bad(format!(
                    "goto target {target} specified without preference"
                )));
            }
        }
    }
    spec.action = action;
    spec.ipv6 = ipv6.unwrap_or(false);
    if !spec.no_track {
        if spec.protocol.is_some_and(|p| p != RTPROT_KEEPALIVED) {
            ctx.warn(
                node,
                "a tracked rule's protocol is keepalived (18), protocol reset (add no_track to keep it)",
            );
        }
        spec.protocol = Some(RTPROT_KEEPALIVED);
    }
    spec.priority = match priority {
        Some(p) => p,
        None => {
            let next = &mut ctx.next_rule_priority[usize::from(spec.ipv6)];
            let p = *next;
            *next = next.saturating_sub(1);
            ctx.warn(
                node,
                &format!(
                    "rule has no preference, set to {p} (as keepalived does); this is probably not what you want"
                ),
            );
            p
        }
    };
    Ok(spec)
}
