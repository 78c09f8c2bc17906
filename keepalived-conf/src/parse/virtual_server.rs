//! `virtual_server`, `virtual_server_group`, `real_server` and `track_file` blocks.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use super::Ctx;
use super::checker;
use super::values::{arg, block, command, flag, name, number, seconds};
use crate::error::ConfError;
use crate::tree::Node;
use crate::virtual_server::{
    CheckTiming, LbKind, Protocol, RealServer, TrackFile, VirtualServer, VsAddress, VsGroup,
};

/// keepalived keywords of `virtual_server` that only shape IPVS details this daemon does not
/// program.
const VS_NO_EFFECT: &[&str] = &[
    "persistence_granularity",
    "persistence_engine",
    "ops",
    "ha_suspend",
    "virtualhost",
    "smtp_alert",
    "lb_flags",
    "lvs_flags",
    "hashed",
    "flag-1",
    "flag-2",
    "flag-3",
    "sh-port",
    "sh-fallback",
    "mh-port",
    "mh-fallback",
    "one-packet",
    "ip_family",
];

pub(super) fn ip(node: &Node, value: &str) -> Result<IpAddr, ConfError> {
    number(node, value, "an ip address")
}

pub(super) fn port(node: &Node, value: &str) -> Result<u16, ConfError> {
    number(node, value, "a port")
}

fn socket(node: &Node, addr: &str, p: &str) -> Result<SocketAddr, ConfError> {
    Ok(SocketAddr::new(ip(node, addr)?, port(node, p)?))
}

fn socket_args(node: &Node) -> Result<SocketAddr, ConfError> {
    match node.args() {
        [a, p] => socket(node, a, p),
        _ => Err(ConfError::invalid(
            &node.loc,
            node.keyword(),
            format!("expects IP PORT, got {:?}", node.args().join(" ")),
        )),
    }
}

/// Reads a timing keyword into `t`; `false` if `n` is not one.
pub(super) fn timing(n: &Node, t: &mut CheckTiming) -> Result<bool, ConfError> {
    match n.keyword() {
        "delay_loop" => t.delay_loop = Some(positive(n)?),
        "retry" | "nb_get_retry" | "nb_sock_retry" => {
            t.retry = Some(number(n, arg(n)?, "a count")?)
        }
        "delay_before_retry" => t.delay_before_retry = Some(seconds(n, arg(n)?)?),
        "warmup" => t.warmup = Some(seconds(n, arg(n)?)?),
        "connect_timeout" => t.connect_timeout = Some(positive(n)?),
        _ => return Ok(false),
    }
    Ok(true)
}

fn positive(n: &Node) -> Result<std::time::Duration, ConfError> {
    let d = seconds(n, arg(n)?)?;
    if d.is_zero() {
        return Err(ConfError::invalid(&n.loc, n.keyword(), "must be positive"));
    }
    Ok(d)
}

pub(super) fn virtual_server(
    ctx: &mut Ctx,
    node: &Node,
    track_files: &[TrackFile],
) -> Result<VirtualServer, ConfError> {
    let addr = match node.args() {
        [fw, mark] if fw == "fwmark" => VsAddress::Fwmark(number(node, mark, "a firewall mark")?),
        [g, name] if g == "group" => VsAddress::Group(name.clone()),
        [a, p] => VsAddress::Inet(socket(node, a, p)?),
        _ => {
            return Err(ConfError::invalid(
                &node.loc,
                "virtual_server",
                format!(
                    "expects IP PORT, fwmark N or group NAME, got {:?}",
                    node.args().join(" ")
                ),
            ));
        }
    };
    let mut vs = VirtualServer {
        loc: node.loc.clone(),
        addr,
        lb_algo: "wlc".to_owned(),
        lb_kind: LbKind::Nat,
        protocol: Protocol::Tcp,
        persistence_timeout: None,
        quorum: 1,
        hysteresis: 0,
        quorum_up: None,
        quorum_down: None,
        sorry_server: None,
        alpha: false,
        omega: false,
        inhibit_on_failure: false,
        timing: CheckTiming::default(),
        real_servers: Vec::new(),
    };
    for n in block(node)? {
        if timing(n, &mut vs.timing)? {
            continue;
        }
        match n.keyword() {
            "lb_algo" | "lvs_sched" => vs.lb_algo = lb_algo(n)?,
            "lb_kind" | "lvs_method" => vs.lb_kind = lb_kind(n)?,
            "protocol" => vs.protocol = protocol(n)?,
            "persistence_timeout" => {
                vs.persistence_timeout = Some(match n.args() {
                    [] => 360,
                    [v] => number(n, v, "a number of seconds")?,
                    _ => return Err(ConfError::invalid(&n.loc, n.keyword(), "expects one value")),
                })
            }
            "quorum" => vs.quorum = number(n, arg(n)?, "a weight sum")?,
            "hysteresis" => vs.hysteresis = number(n, arg(n)?, "a weight")?,
            "quorum_up" => vs.quorum_up = Some(command(n)?),
            "quorum_down" => vs.quorum_down = Some(command(n)?),
            "sorry_server" => vs.sorry_server = Some(socket_args(n)?),
            "sorry_server_inhibit" | "sorry_server_lvs_method" => {
                ctx.warn(n, "not supported by this daemon, ignored")
            }
            "alpha" => vs.alpha = flag(n)?,
            "omega" => vs.omega = flag(n)?,
            "inhibit_on_failure" => vs.inhibit_on_failure = flag(n)?,
            "real_server" => {
                let rs = real_server(ctx, n, track_files)?;
                if vs.real_servers.iter().any(|r| r.addr == rs.addr) {
                    return Err(ConfError::invalid(
                        &n.loc,
                        "real_server",
                        format!("{} is listed twice", rs.addr),
                    ));
                }
                vs.real_servers.push(rs);
            }
            kw if VS_NO_EFFECT.contains(&kw) => ctx.warn(n, "has no effect in this daemon"),
            _ => ctx.unknown(n, "virtual_server"),
        }
    }
    if vs.quorum == 0 {
        return Err(ConfError::invalid(
            &node.loc,
            "quorum",
            "0 is not at least 1",
        ));
    }
    if let Some(s) = vs.sorry_server
        && vs.real_servers.iter().any(|r| r.addr == s)
    {
        return Err(ConfError::invalid(
            &node.loc,
            "sorry_server",
            format!("{s} is also a real server"),
        ));
    }
    Ok(vs)
}

fn lb_algo(n: &Node) -> Result<String, ConfError> {
    const ALGOS: &[&str] = &[
        "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh",
        "twos",
    ];
    let v = arg(n)?;
    if !ALGOS.contains(&v) {
        return Err(ConfError::invalid(
            &n.loc,
            n.keyword(),
            format!("{v:?} is not an ipvs scheduler ({})", ALGOS.join(", ")),
        ));
    }
    Ok(v.to_owned())
}

fn lb_kind(n: &Node) -> Result<LbKind, ConfError> {
    match arg(n)?.to_ascii_uppercase().as_str() {
        "NAT" => Ok(LbKind::Nat),
        "DR" => Ok(LbKind::Dr),
        "TUN" => Ok(LbKind::Tun),
        _ => Err(ConfError::invalid(
            &n.loc,
            n.keyword(),
            format!("{:?} is not NAT, DR or TUN", arg(n)?),
        )),
    }
}

fn protocol(n: &Node) -> Result<Protocol, ConfError> {
    match arg(n)?.to_ascii_uppercase().as_str() {
        "TCP" => Ok(Protocol::Tcp),
        "UDP" => Ok(Protocol::Udp),
        "SCTP" => Ok(Protocol::Sctp),
        _ => Err(ConfError::invalid(
            &n.loc,
            "protocol",
            format!("{:?} is not TCP, UDP or SCTP", arg(n)?),
        )),
    }
}

fn real_server(
    ctx: &mut Ctx,
    node: &Node,
    track_files: &[TrackFile],
) -> Result<RealServer, ConfError> {
    let mut rs = RealServer {
        loc: node.loc.clone(),
        addr: socket_args(node)?,
        weight: 1,
        inhibit_on_failure: None,
        notify_up: None,
        notify_down: None,
        timing: CheckTiming::default(),
        checkers: Vec::new(),
    };
    for n in block(node)? {
        if timing(n, &mut rs.timing)? {
            continue;
        }
        match n.keyword() {
            "weight" => rs.weight = number(n, arg(n)?, "a weight")?,
            "inhibit_on_failure" => rs.inhibit_on_failure = Some(flag(n)?),
            "notify_up" => rs.notify_up = Some(command(n)?),
            "notify_down" => rs.notify_down = Some(command(n)?),
            "alpha" => ctx.warn(n, "per real_server alpha is not supported, ignored"),
            "smtp_alert" | "virtualhost" => ctx.warn(n, "has no effect in this daemon"),
            kw if checker::KINDS.contains(&kw) => {
                rs.checkers.push(checker::checker(ctx, n, track_files)?)
            }
            _ => ctx.unknown(n, "real_server"),
        }
    }
    if rs.weight > 65535 {
        return Err(ConfError::invalid(
            &node.loc,
            "weight",
            format!("{} is outside 0..65535", rs.weight),
        ));
    }
    Ok(rs)
}

pub(super) fn virtual_server_group(ctx: &mut Ctx, node: &Node) -> Result<VsGroup, ConfError> {
    let mut g = VsGroup {
        name: name(node)?,
        loc: node.loc.clone(),
        addrs: Vec::new(),
        fwmarks: Vec::new(),
    };
    for n in block(node)? {
        match n.words.as_slice() {
            [fw, mark] if fw == "fwmark" => g.fwmarks.push(number(n, mark, "a firewall mark")?),
            [range, p] => {
                let port = port(n, p)?;
                for addr in ip_range(n, range)? {
                    g.addrs.push(SocketAddr::new(addr, port));
                }
            }
            _ => ctx.warn(n, "expected IP PORT, IP-LAST PORT or fwmark N; ignored"),
        }
    }
    Ok(g)
}

/// `192.0.2.10` or `192.0.2.10-20` (the last byte of an IPv4 address, or the last group of
/// an IPv6 address, runs up to the number after `-`).
fn ip_range(n: &Node, text: &str) -> Result<Vec<IpAddr>, ConfError> {
    let Some((first, last)) = text.split_once('-') else {
        return Ok(vec![ip(n, text)?]);
    };
    let bad = |m: String| ConfError::invalid(&n.loc, n.keyword(), m);
    match ip(n, first)? {
        IpAddr::V4(a) => {
            let o = a.octets();
            let end: u8 = number(n, last, "the last byte of a range")?;
            if end < o[3] {
                return Err(bad(format!("range {text} runs backwards")));
            }
            Ok((o[3]..=end)
                .map(|b| IpAddr::from([o[0], o[1], o[2], b]))
                .collect())
        }
        IpAddr::V6(a) => {
            let mut s = a.segments();
            let end = u16::from_str_radix(last, 16)
                .map_err(|_| bad(format!("{last:?} is not a hexadecimal group")))?;
            if end < s[7] || end - s[7] > 1024 {
                return Err(bad(format!("range {text} runs backwards or is too long")));
            }
            let start = s[7];
            Ok((start..=end)
                .map(|g| {
                    s[7] = g;
                    IpAddr::from(s)
                })
                .collect())
        }
    }
}

pub(super) fn track_file(ctx: &mut Ctx, node: &Node) -> Result<TrackFile, ConfError> {
    let name = name(node)?;
    let mut path = None;
    let mut weight = 1;
    for n in block(node)? {
        match n.keyword() {
            "file" => path = Some(PathBuf::from(arg(n)?)),
            "weight" => weight = file_weight(n)?,
            "init_file" => ctx.warn(n, "not supported by this daemon, ignored"),
            _ => ctx.unknown(n, "track_file"),
        }
    }
    let path = path
        .ok_or_else(|| ConfError::invalid(&node.loc, "track_file", format!("{name}: no file")))?;
    Ok(TrackFile {
        name,
        loc: node.loc.clone(),
        path,
        weight,
    })
}

/// `weight W [reverse]`, W in -254..254.
pub(super) fn file_weight(n: &Node) -> Result<i64, ConfError> {
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
    let w: i64 = number(n, w, "a weight")?;
    if !(-254..=254).contains(&w) {
        return Err(ConfError::invalid(
            &n.loc,
            "weight",
            format!("{w} is outside -254..254"),
        ));
    }
    Ok(if reverse { -w } else { w })
}
