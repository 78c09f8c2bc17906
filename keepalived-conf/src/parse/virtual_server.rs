//! `virtual_server`, `virtual_server_group`, `real_server` and `track_file` blocks.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use super::checker;
use super::values::{arg, block, flag, name, number, seconds};
use super::{Ctx, script_command};
use crate::error::ConfError;
use crate::tree::Node;
use crate::virtual_server::{
    CheckTiming, Granularity, LbKind, LvsMethod, Protocol, RealServer, TrackFile, Tunnel,
    TunnelCsum, TunnelType, VirtualServer, VsAddress, VsGroup,
};

/// keepalived keywords of `virtual_server` that only shape IPVS details this daemon does not
/// program.
const VS_NO_EFFECT: &[&str] = &[
    "persistence_engine",
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

/// `IP [PORT]` of a real or sorry server; no port is 0 until [`server_ports`] decides.
fn socket_args(node: &Node) -> Result<SocketAddr, ConfError> {
    match node.args() {
        [a, p] => socket(node, a, p),
        [a] => Ok(SocketAddr::new(ip(node, a)?, 0)),
        _ => Err(ConfError::invalid(
            &node.loc,
            node.keyword(),
            format!("expects IP [PORT], got {:?}", node.args().join(" ")),
        )),
    }
}

/// The ports of the real and sorry servers as keepalived 2.2.7 settles them
/// (`check_data.c`): a server without a port takes the virtual server's; with direct routing
/// or a tunnel the packet keeps the virtual port, so a different port is reset to it (with
/// keepalived's warning), and a firewall-mark service has none. NAT servers keep theirs.
fn server_ports(ctx: &mut Ctx, node: &Node, vs: &mut VirtualServer) {
    let proto = vs.protocol.name();
    let (vs_port, vs_name) = match &vs.addr {
        VsAddress::Inet(a) => (Some(a.port()), format!("[{}]:{proto}:{}", a.ip(), a.port())),
        VsAddress::Fwmark(m) => (None, format!("FWM {m}")),
        // keepalived only warns for groups; the ports stay as written.
        VsAddress::Group(_) => return,
    };
    let method = vs.lvs_method();
    let mut settle = |addr: &mut SocketAddr, nat: bool, what: &str| {
        let name = format!("[{}]:{proto}:{}", addr.ip(), addr.port());
        match vs_port {
            Some(p) if addr.port() == 0 => addr.set_port(p),
            Some(p) if !nat && addr.port() != p => {
                ctx.warn(
                    node,
                    &format!(
                        "WARNING - virtual server {vs_name} and {what} {name} ports don't match \
                         - resetting"
                    ),
                );
                addr.set_port(p);
            }
            None if !nat && addr.port() != 0 => {
                ctx.warn(
                    node,
                    &format!(
                        "WARNING - fwmark virtual server {vs_name}, {what} {name} has port \
                         specified - clearing"
                    ),
                );
                addr.set_port(0);
            }
            _ => {}
        }
    };
    for rs in &mut vs.real_servers {
        let nat = rs.lvs_method.unwrap_or(method).kind == LbKind::Nat;
        settle(&mut rs.addr, nat, "real server");
    }
    if let Some(sorry) = vs.sorry_server.as_mut() {
        settle(sorry, method.kind == LbKind::Nat, "sorry server");
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
        tunnel: Tunnel::default(),
        protocol: Protocol::Tcp,
        persistence_timeout: None,
        persistence_granularity: None,
        ops: false,
        ha_suspend: false,
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
            "lb_kind" | "lvs_method" => {
                let method = lvs_method(n, "virtual")?;
                vs.lb_kind = method.kind;
                vs.tunnel = method.tunnel;
            }
            "persistence_granularity" => {
                vs.persistence_granularity = Some(granularity(n, &vs.addr)?)
            }
            "ops" => vs.ops = true,
            "ha_suspend" => vs.ha_suspend = true,
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
            "quorum_up" => vs.quorum_up = Some(script_command(n)?),
            "quorum_down" => vs.quorum_down = Some(script_command(n)?),
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
    // keepalived: granularity without a timeout makes the service persistent for 360 s.
    if vs.persistence_granularity.is_some() && vs.persistence_timeout.is_none() {
        vs.persistence_timeout = Some(360);
    }
    // keepalived resets these with a configuration error; here they are refused.
    if vs.ops && matches!(vs.addr, VsAddress::Inet(_)) && vs.protocol != Protocol::Udp {
        return Err(ConfError::invalid(
            &node.loc,
            "ops",
            format!(
                "one packet scheduling requires UDP, {} is {}",
                node.args().join(" "),
                vs.protocol.name().to_ascii_uppercase()
            ),
        ));
    }
    if vs.ha_suspend && matches!(vs.addr, VsAddress::Fwmark(_)) {
        return Err(ConfError::invalid(
            &node.loc,
            "ha_suspend",
            "cannot be used with a firewall mark",
        ));
    }
    server_ports(ctx, node, &mut vs);
    for (i, rs) in vs.real_servers.iter().enumerate() {
        if vs.real_servers[..i].iter().any(|r| r.addr == rs.addr) {
            return Err(ConfError::invalid(
                &rs.loc,
                "real_server",
                format!("{} is listed twice (once its port is settled)", rs.addr),
            ));
        }
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

/// `lb_kind` / `lvs_method` `NAT|DR|TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum]`,
/// checked as keepalived 2.2.7's `svr_forwarding_handler` does (`whose`: "virtual" or
/// "real", for the messages).
fn lvs_method(n: &Node, whose: &str) -> Result<LvsMethod, ConfError> {
    let bad = |m: String| ConfError::invalid(&n.loc, n.keyword(), m);
    let first = n
        .args()
        .first()
        .ok_or_else(|| bad("expects NAT, DR or TUN".to_owned()))?;
    let kind = match first.to_ascii_uppercase().as_str() {
        "NAT" => LbKind::Nat,
        "DR" => LbKind::Dr,
        "TUN" => LbKind::Tun,
        _ => return Err(bad(format!("{first:?} is not NAT, DR or TUN"))),
    };
    let mut tunnel = Tunnel::default();
    let mut words = n.args()[1..].iter();
    while let Some(word) = words.next() {
        match word.as_str() {
            "type" => {
                let value = words
                    .next()
                    .ok_or_else(|| bad(format!("missing tunnel type for {whose} server")))?;
                tunnel.kind = match value.as_str() {
                    "ipip" => TunnelType::Ipip,
                    "gue" => TunnelType::Gue,
                    "gre" => TunnelType::Gre,
                    _ => {
                        return Err(bad(format!(
                            "unknown tunnel type {value:?} for {whose} server (ipip, gue, gre)"
                        )));
                    }
                };
            }
            "port" => {
                let value = words
                    .next()
                    .ok_or_else(|| bad(format!("missing port for {whose} server gue tunnel")))?;
                tunnel.port = match value.parse::<u16>() {
                    Ok(p) if p > 0 => p,
                    _ => return Err(bad(format!("invalid gue tunnel port {value:?}"))),
                };
            }
            "nocsum" => tunnel.csum = TunnelCsum::NoCsum,
            "csum" => tunnel.csum = TunnelCsum::Csum,
            "remcsum" => tunnel.csum = TunnelCsum::RemCsum,
            other => {
                return Err(bad(format!(
                    "invalid tunnel option {other:?} for {whose} server"
                )));
            }
        }
    }
    if (tunnel.kind == TunnelType::Gue) != (tunnel.port != 0) {
        return Err(bad(
            "gue tunnels require port, otherwise cannot have port".to_owned()
        ));
    }
    if tunnel.kind == TunnelType::Ipip && tunnel.csum != TunnelCsum::NoCsum {
        return Err(bad("ipip tunnels do not support checksum option".to_owned()));
    }
    if tunnel.kind == TunnelType::Gre && tunnel.csum == TunnelCsum::RemCsum {
        return Err(bad(
            "gre tunnels do not support remote checksum option".to_owned()
        ));
    }
    Ok(LvsMethod { kind, tunnel })
}

/// `persistence_granularity`: a netmask for an IPv4 service, a prefix length for IPv6 (a
/// service of neither, a mark or group, by whether the value has a dot).
fn granularity(n: &Node, addr: &VsAddress) -> Result<Granularity, ConfError> {
    let value = arg(n)?;
    let v4 = match addr {
        VsAddress::Inet(a) => a.is_ipv4(),
        _ => value.contains('.'),
    };
    if v4 {
        value.parse().map(Granularity::Netmask).map_err(|_| {
            ConfError::invalid(
                &n.loc,
                n.keyword(),
                format!("invalid IPv4 persistence_granularity {value:?} (a netmask)"),
            )
        })
    } else {
        match value.parse::<u8>() {
            Ok(p) if (1..=128).contains(&p) => Ok(Granularity::Prefix(p)),
            _ => Err(ConfError::invalid(
                &n.loc,
                n.keyword(),
                format!("invalid IPv6 persistence_granularity {value:?} (1..128)"),
            )),
        }
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
        lvs_method: None,
        uthreshold: 0,
        lthreshold: 0,
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
            "lvs_method" => rs.lvs_method = Some(lvs_method(n, "real")?),
            "uthreshold" => rs.uthreshold = number(n, arg(n)?, "a connection count")?,
            "lthreshold" => rs.lthreshold = number(n, arg(n)?, "a connection count")?,
            "inhibit_on_failure" => rs.inhibit_on_failure = Some(flag(n)?),
            "notify_up" => rs.notify_up = Some(script_command(n)?),
            "notify_down" => rs.notify_down = Some(script_command(n)?),
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
    let (mut weight, mut reverse, mut init) = (1, false, None);
    for n in block(node)? {
        match n.keyword() {
            "file" => path = Some(PathBuf::from(arg(n)?)),
            "weight" => {
                weight = file_weight(n)?;
                reverse = n.args().len() == 2;
            }
            "init_file" => init = Some(super::tracking::init_file(ctx, n)?),
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
        reverse,
        init,
    })
}

/// `weight W [reverse]`, W in -254..254, as one signed weight (reverse negates it).
pub(super) fn file_weight(n: &Node) -> Result<i64, ConfError> {
    let (w, reverse) = super::tracking::weight(n)?;
    let w = i64::from(w);
    Ok(if reverse { -w } else { w })
}
