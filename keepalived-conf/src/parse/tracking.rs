//! `vrrp_track_process` blocks and `track_file`'s `weight` and `init_file`, read as
//! keepalived 2.2.7 reads them (`vrrp_tprocess_*`, `track_file_*_handler`), except that a
//! value keepalived would ignore with a message is an error here.

use std::time::Duration;

use super::Ctx;
use super::values::{arg, block, flag, name, number, seconds};
use crate::error::ConfError;
use crate::tracking::{ParamMatch, TrackFileInit, TrackProcess};
use crate::tree::Node;

/// Longest `delay`, `fork_delay`, `terminate_delay` keepalived accepts.
const MAX_DELAY: Duration = Duration::from_secs(3600);

fn delay(n: &Node) -> Result<Duration, ConfError> {
    let d = seconds(n, arg(n)?)?;
    if d < Duration::from_micros(1) || d > MAX_DELAY {
        return Err(ConfError::invalid(
            &n.loc,
            n.keyword(),
            format!("{d:?} is outside 0.000001..3600 seconds"),
        ));
    }
    Ok(d)
}

/// `weight W [reverse]` of a `vrrp_track_process` or `track_file` block, W in -254..254.
pub(super) fn weight(n: &Node) -> Result<(i32, bool), ConfError> {
    let (w, reverse) = match n.args() {
        [w] => (w, false),
        [w, r] if r == "reverse" => (w, true),
        _ => {
            return Err(ConfError::invalid(
                &n.loc,
                "weight",
                "expects W or W reverse",
            ));
        }
    };
    let w: i32 = number(n, w, "a weight")?;
    if !(-254..=254).contains(&w) {
        return Err(ConfError::invalid(
            &n.loc,
            "weight",
            format!("{w} is outside -254..254"),
        ));
    }
    Ok((w, reverse))
}

/// One `vrrp_track_process NAME { ... }` block.
pub(super) fn track_process(ctx: &mut Ctx, node: &Node) -> Result<TrackProcess, ConfError> {
    let name = name(node)?;
    let mut p = TrackProcess {
        name: name.clone(),
        loc: node.loc.clone(),
        process: String::new(),
        params: Vec::new(),
        param_match: ParamMatch::None,
        full_command: false,
        weight: 0,
        weight_reverse: false,
        quorum: 1,
        quorum_max: u32::MAX,
        fork_delay: Duration::ZERO,
        terminate_delay: Duration::ZERO,
    };
    let invalid = |n: &Node, m: String| ConfError::invalid(&n.loc, n.keyword(), m);
    for n in block(node)? {
        match n.keyword() {
            "process" => {
                let Some((process, params)) = n.args().split_first() else {
                    return Err(invalid(n, "missing process name".into()));
                };
                if !p.process.is_empty() {
                    return Err(invalid(n, format!("{name}: process is already set")));
                }
                p.process = process.clone();
                if !params.is_empty() {
                    p.params = params.to_vec();
                    if p.param_match == ParamMatch::None {
                        p.param_match = ParamMatch::Exact;
                    }
                    p.full_command = true;
                }
            }
            "param_match" => {
                p.param_match = match n.args() {
                    [] => ParamMatch::Exact,
                    [m] if m == "initial" => ParamMatch::Initial,
                    [m] if m == "partial" => ParamMatch::Partial,
                    other => {
                        return Err(invalid(
                            n,
                            format!("{:?} is not initial or partial", other.join(" ")),
                        ));
                    }
                };
                p.full_command = true;
            }
            "weight" => {
                (p.weight, p.weight_reverse) = weight(n)?;
            }
            "quorum" => {
                let q: u32 = number(n, arg(n)?, "a count")?;
                if !(1..=65535).contains(&q) {
                    return Err(invalid(n, format!("{q} is outside 1..65535")));
                }
                if q > p.quorum_max {
                    return Err(invalid(n, format!("{q} is greater than quorum_max")));
                }
                p.quorum = q;
            }
            "quorum_max" => {
                let q: u32 = number(n, arg(n)?, "a count")?;
                if q > 65535 {
                    return Err(invalid(n, format!("{q} is outside 0..65535")));
                }
                // keepalived allows `quorum_max 0` when quorum was left at its default.
                if (q != 0 || p.quorum > 1) && q < p.quorum {
                    return Err(invalid(n, format!("{q} is less than quorum")));
                }
                p.quorum_max = q;
                if q == 0 {
                    p.quorum = 0;
                } else if p.quorum == 0 {
                    p.quorum = 1;
                }
            }
            "delay" => {
                let d = delay(n)?;
                p.fork_delay = d;
                p.terminate_delay = d;
            }
            "fork_delay" => p.fork_delay = delay(n)?,
            "terminate_delay" => p.terminate_delay = delay(n)?,
            "full_command" => p.full_command = p.full_command || flag(n)?,
            _ => ctx.unknown(n, "vrrp_track_process"),
        }
    }
    if p.process.is_empty() {
        return Err(ConfError::invalid(
            &node.loc,
            "vrrp_track_process",
            format!("{name}: no process"),
        ));
    }
    Ok(p)
}

/// `init_file [VALUE] [overwrite]` of a `track_file` block. A value outside -254..254 is
/// kept with a warning, as keepalived does.
pub(super) fn init_file(ctx: &mut Ctx, n: &Node) -> Result<TrackFileInit, ConfError> {
    let mut init = TrackFileInit {
        value: 0,
        overwrite: false,
    };
    for word in n.args() {
        if word == "overwrite" {
            init.overwrite = true;
        } else if word.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
            init.value = number(n, word, "an integer")?;
            if !(-254..=254).contains(&init.value) {
                ctx.warn(n, &format!("init value {word} is outside -254..254"));
            }
        } else {
            return Err(ConfError::invalid(
                &n.loc,
                "init_file",
                format!("unknown option {word:?} (a value or overwrite)"),
            ));
        }
    }
    Ok(init)
}
