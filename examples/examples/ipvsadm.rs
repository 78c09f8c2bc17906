//! A subset of `ipvsadm` built on `ipvs-sys`.
//!
//! ```text
//! ipvsadm -A|-E -t|-u|--sctp-service ADDR:PORT | -f MARK [-6] [-s SCHED] [-p [TIMEOUT]] [-M MASK]
//!               [-b FLAGS] [-o] [--pe ENGINE]
//! ipvsadm -D SERVICE
//! ipvsadm -a|-e SERVICE -r ADDR[:PORT] [-g|-i|-m] [-w WEIGHT] [-x UPPER] [-y LOWER]
//!               [--tun-type ipip|gue|gre] [--tun-port PORT] [--tun-nocsum|--tun-csum|--tun-remcsum]
//! ipvsadm -d SERVICE -r ADDR[:PORT]
//! ipvsadm -C | -Z [SERVICE] | --set TCP TCPFIN UDP
//! ipvsadm -L|-l -n [--stats|--rate|--timeout|--daemon] [--exact]
//! ipvsadm -S -n | -R (commands from stdin, one per line, sent pipelined)
//! ```
//!
//! `-L -n` and `-S -n` print exactly what ipvsadm 1.31 prints for the same kernel state
//! (services and destinations sorted as ipvsadm sorts them). Names are never resolved: `-L`
//! and `-S` behave as with `-n`.

use std::cmp::Ordering;
use std::fmt::Write as _;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use ipvs_sys::{
    Command, Destination, DestinationEntry, Family, ForwardMethod, IpvsHandle, Protocol, Scheduler,
    Service, ServiceEntry, ServiceFlags, ServiceKey, Stats, Timeouts, Tunnel, TunnelCsum,
    TunnelType,
};

/// ipvsadm's default persistence timeout, seconds.
const DEFAULT_PERSISTENCE: u32 = 360;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    AddService,
    EditService,
    DeleteService,
    AddDest,
    EditDest,
    DeleteDest,
    Clear,
    Zero,
    List,
    Save,
    Restore,
    SetTimeouts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListFormat {
    Plain,
    Stats,
    Rate,
    Timeout,
    Daemon,
}

/// One parsed command line (or `-R` line).
#[derive(Debug)]
struct Args {
    op: Op,
    key: Option<ServiceKey>,
    scheduler: Option<Scheduler>,
    persistent: Option<u32>,
    netmask: Option<u32>,
    flags: ServiceFlags,
    pe: Option<String>,
    real: Option<(IpAddr, Option<u16>)>,
    forward: Option<ForwardMethod>,
    weight: Option<u32>,
    upper: u32,
    lower: u32,
    timeouts: Option<Timeouts>,
    format: ListFormat,
    exact: bool,
}

/// The `-h` text: the subset of ipvsadm 1.31 this example implements.
const HELP: &str = "\
ipvsadm (ipvs-sys example): a subset of ipvsadm 1.31
  -A|-E -t|-u|--sctp-service ADDR:PORT | -f FWMARK [-6] [-s SCHED] [-b FLAGS] [-o]
        [-p [TIMEOUT]] [-M NETMASK] [--pe ENGINE]
  -D -t|-u|--sctp-service ADDR:PORT | -f FWMARK
  -a|-e -t|-u|--sctp-service ADDR:PORT | -f FWMARK -r ADDR[:PORT] [-g|-i|-m] [-w WEIGHT] [-x UPPER] [-y LOWER]
        [--tun-type ipip|gue|gre [--tun-port PORT] [--tun-nocsum|--tun-csum|--tun-remcsum]]
  -d -t|-u|--sctp-service ADDR:PORT | -f FWMARK -r ADDR[:PORT]
  -C                      clear the whole table
  -Z [SERVICE]            zero counters
  -L|-l -n [SERVICE] [--stats|--rate|--timeout|--daemon] [--exact]
  -S -n                   save rules to stdout
  -R                      restore rules from stdin
  --set TCP TCPFIN UDP    set connection timeouts
  -h, --help              this text
";

#[derive(Debug)]
struct UsageError(String);

fn usage<T>(msg: impl Into<String>) -> Result<T, UsageError> {
    Err(UsageError(msg.into()))
}

fn parse_args(argv: &[String]) -> Result<Args, UsageError> {
    let mut op = None;
    let set_op = |new: Op, op: &mut Option<Op>| -> Result<(), UsageError> {
        match op.replace(new) {
            Some(old) if old != new => usage("only one command may be given"),
            _ => Ok(()),
        }
    };
    let mut a = Args {
        op: Op::List,
        key: None,
        scheduler: None,
        persistent: None,
        netmask: None,
        flags: ServiceFlags::NONE,
        pe: None,
        real: None,
        forward: None,
        weight: None,
        upper: 0,
        lower: 0,
        timeouts: None,
        format: ListFormat::Plain,
        exact: false,
    };
    let mut proto_addr: Option<(Protocol, String)> = None;
    let mut fwmark: Option<u32> = None;
    let mut ipv6 = false;
    let mut real: Option<String> = None;
    let mut tunnel = Tunnel::default();
    let mut it = argv.iter().peekable();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-A" | "--add-service" => set_op(Op::AddService, &mut op)?,
            "-E" | "--edit-service" => set_op(Op::EditService, &mut op)?,
            "-D" | "--delete-service" => set_op(Op::DeleteService, &mut op)?,
            "-a" | "--add-server" => set_op(Op::AddDest, &mut op)?,
            "-e" | "--edit-server" => set_op(Op::EditDest, &mut op)?,
            "-d" | "--delete-server" => set_op(Op::DeleteDest, &mut op)?,
            "-C" | "--clear" => set_op(Op::Clear, &mut op)?,
            "-Z" | "--zero" => set_op(Op::Zero, &mut op)?,
            "-L" | "-l" | "--list" => set_op(Op::List, &mut op)?,
            "-S" | "--save" => set_op(Op::Save, &mut op)?,
            "-R" | "--restore" => set_op(Op::Restore, &mut op)?,
            "--set" => {
                set_op(Op::SetTimeouts, &mut op)?;
                let mut t = [0u32; 3];
                for slot in &mut t {
                    let v = take(&mut it, "--set")?;
                    *slot = v
                        .parse()
                        .map_err(|_| UsageError(format!("illegal timeout {v:?}")))?;
                }
                a.timeouts = Some(Timeouts {
                    tcp: t[0],
                    tcp_fin: t[1],
                    udp: t[2],
                });
            }
            "-t" | "--tcp-service" => proto_addr = Some((Protocol::Tcp, take(&mut it, arg)?)),
            "-u" | "--udp-service" => proto_addr = Some((Protocol::Udp, take(&mut it, arg)?)),
            "--sctp-service" => proto_addr = Some((Protocol::Sctp, take(&mut it, arg)?)),
            "-f" | "--fwmark-service" => {
                let v = take(&mut it, arg)?;
                let mark = parse_number(&v).filter(|m| *m != 0);
                fwmark = Some(mark.ok_or_else(|| UsageError(format!("illegal fwmark {v:?}")))?);
            }
            "-6" | "--ipv6" => ipv6 = true,
            "-s" | "--scheduler" => {
                let v = take(&mut it, arg)?;
                a.scheduler = Some(v.parse().map_err(|e| UsageError(format!("{e}")))?);
            }
            "-p" | "--persistent" => {
                let timeout = match it.peek() {
                    Some(next) if !next.starts_with('-') => {
                        let v = take(&mut it, arg)?;
                        v.parse().ok().filter(|t| *t > 0).ok_or_else(|| {
                            UsageError(format!("illegal timeout {v:?} for persistent service"))
                        })?
                    }
                    _ => DEFAULT_PERSISTENCE,
                };
                a.persistent = Some(timeout);
            }
            "-M" | "--netmask" => {
                let v = take(&mut it, arg)?;
                let mask = match v.parse::<Ipv4Addr>() {
                    Ok(ip) => Some(u32::from(ip)),
                    Err(_) => v.parse::<u32>().ok().filter(|p| (1..=128).contains(p)),
                };
                a.netmask = Some(mask.ok_or_else(|| UsageError(format!("illegal netmask {v:?}")))?);
            }
            "-b" | "--sched-flags" => {
                for name in take(&mut it, arg)?.split(',') {
                    a.flags = a.flags
                        | match name {
                            "sh-fallback" | "mh-fallback" | "flag-1" => ServiceFlags::SCHED1,
                            "sh-port" | "mh-port" | "flag-2" => ServiceFlags::SCHED2,
                            "flag-3" => ServiceFlags::SCHED3,
                            other => return usage(format!("invalid scheduler flag {other:?}")),
                        };
                }
            }
            "-o" | "--ops" => a.flags = a.flags | ServiceFlags::ONEPACKET,
            "--pe" => a.pe = Some(take(&mut it, arg)?),
            "-r" | "--real-server" => real = Some(take(&mut it, arg)?),
            "-g" | "--gatewaying" => a.forward = Some(ForwardMethod::DirectRoute),
            "-i" | "--ipip" => a.forward = Some(ForwardMethod::Tunnel(Tunnel::default())),
            "-m" | "--masquerading" => a.forward = Some(ForwardMethod::Masquerade),
            "--tun-type" => {
                tunnel.kind = match take(&mut it, arg)?.as_str() {
                    "ipip" => TunnelType::Ipip,
                    "gue" => TunnelType::Gue,
                    "gre" => TunnelType::Gre,
                    other => return usage(format!("illegal tunnel type {other:?}")),
                }
            }
            "--tun-port" => {
                let v = take(&mut it, arg)?;
                tunnel.port = v
                    .parse()
                    .map_err(|_| UsageError(format!("illegal tunnel port {v:?}")))?;
            }
            "--tun-nocsum" => tunnel.csum = TunnelCsum::NoCsum,
            "--tun-csum" => tunnel.csum = TunnelCsum::Csum,
            "--tun-remcsum" => tunnel.csum = TunnelCsum::RemCsum,
            "-w" | "--weight" => {
                let v = take(&mut it, arg)?;
                let w = v.parse().ok().filter(|w| *w <= 65535);
                a.weight = Some(w.ok_or_else(|| UsageError(format!("illegal weight {v:?}")))?);
            }
            "-x" | "--u-threshold" => {
                let v = take(&mut it, arg)?;
                a.upper = v
                    .parse()
                    .map_err(|_| UsageError(format!("illegal upper threshold {v:?}")))?;
            }
            "-y" | "--l-threshold" => {
                let v = take(&mut it, arg)?;
                a.lower = v
                    .parse()
                    .map_err(|_| UsageError(format!("illegal lower threshold {v:?}")))?;
            }
            "-n" | "--numeric" => {}
            "--stats" => a.format = ListFormat::Stats,
            "--rate" => a.format = ListFormat::Rate,
            "--timeout" => a.format = ListFormat::Timeout,
            "--daemon" => a.format = ListFormat::Daemon,
            "--exact" | "-X" => a.exact = true,
            other => return usage(format!("unknown option {other:?}")),
        }
    }
    if tunnel.kind != TunnelType::Gue && (tunnel.port != 0 || tunnel.csum == TunnelCsum::RemCsum) {
        return usage("--tun-port and --tun-remcsum need --tun-type gue");
    }
    if let Some(ForwardMethod::Tunnel(t)) = &mut a.forward {
        *t = tunnel;
    }
    a.op = op.unwrap_or(Op::List);
    a.key = match (proto_addr, fwmark) {
        (Some(_), Some(_)) => return usage("give either a service address or a fwmark, not both"),
        (Some((protocol, text)), None) => {
            let addr = parse_addr_port(&text)
                .and_then(|(ip, port)| port.map(|p| SocketAddr::new(ip, p)))
                .ok_or_else(|| {
                    UsageError(format!("illegal virtual server address[:port] {text:?}"))
                })?;
            Some(ServiceKey::Inet { protocol, addr })
        }
        (None, Some(mark)) => Some(ServiceKey::fwmark(
            if ipv6 { Family::Inet6 } else { Family::Inet },
            mark,
        )),
        (None, None) => None,
    };
    if let Some(text) = real {
        a.real =
            Some(parse_addr_port(&text).ok_or_else(|| {
                UsageError(format!("illegal real server address[:port] {text:?}"))
            })?);
    }
    Ok(a)
}

fn take(
    it: &mut std::iter::Peekable<std::slice::Iter<'_, String>>,
    name: &str,
) -> Result<String, UsageError> {
    it.next()
        .cloned()
        .ok_or_else(|| UsageError(format!("option {name} needs a value")))
}

fn parse_number(s: &str) -> Option<u32> {
    match s.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// `192.0.2.1`, `192.0.2.1:80`, `[2001:db8::1]`, `[2001:db8::1]:80`.
fn parse_addr_port(s: &str) -> Option<(IpAddr, Option<u16>)> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some((ip, None));
    }
    if let Some(rest) = s.strip_prefix('[') {
        let (ip, tail) = rest.split_once(']')?;
        let port = match tail.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None if tail.is_empty() => None,
            None => return None,
        };
        return Some((IpAddr::V6(ip.parse().ok()?), port));
    }
    match s.split_once(':') {
        Some((ip, port)) => Some((IpAddr::V4(ip.parse().ok()?), Some(port.parse().ok()?))),
        None => Some((s.parse().ok()?, None)),
    }
}

fn need_key(a: &Args) -> Result<ServiceKey, UsageError> {
    a.key
        .ok_or_else(|| UsageError("a service (-t, -u, --sctp-service or -f) is required".into()))
}

fn service_of(a: &Args) -> Result<Service, UsageError> {
    let key = need_key(a)?;
    let mut svc = Service::new(key, a.scheduler.clone().unwrap_or_default());
    svc.flags = a.flags;
    if let Some(timeout) = a.persistent {
        svc = svc.persistent(timeout);
    }
    if let Some(mask) = a.netmask {
        svc.netmask = mask;
    }
    svc.pe_name = a.pe.clone();
    Ok(svc)
}

fn destination_of(a: &Args, key: ServiceKey) -> Result<Destination, UsageError> {
    let (ip, port) = a
        .real
        .ok_or_else(|| UsageError("a real server (-r) is required".into()))?;
    let forward = a.forward.unwrap_or(ForwardMethod::DirectRoute);
    // Tunnelled and routed packets keep their destination port: the real port is the
    // service's (fwmark services: 0).
    let port = match (forward, port) {
        (ForwardMethod::Masquerade, Some(p)) => p,
        _ => key.port(),
    };
    let mut d = Destination::new(SocketAddr::new(ip, port)).forward(forward);
    d.weight = a.weight.unwrap_or(1);
    d.upper_threshold = a.upper;
    d.lower_threshold = a.lower;
    Ok(d)
}

/// The write command of a line, or `None` for commands that only read.
fn command_of(a: &Args) -> Result<Option<Command>, UsageError> {
    Ok(Some(match a.op {
        Op::AddService => Command::AddService(service_of(a)?),
        Op::EditService => Command::UpdateService(service_of(a)?),
        Op::DeleteService => Command::DeleteService(need_key(a)?),
        Op::AddDest => {
            let key = need_key(a)?;
            Command::AddDestination(key, destination_of(a, key)?)
        }
        Op::EditDest => {
            let key = need_key(a)?;
            Command::UpdateDestination(key, destination_of(a, key)?)
        }
        Op::DeleteDest => {
            let key = need_key(a)?;
            Command::DeleteDestination(key, destination_of(a, key)?.addr)
        }
        Op::Clear => Command::Flush,
        Op::Zero => Command::Zero(a.key),
        Op::SetTimeouts => Command::SetTimeouts(a.timeouts.unwrap_or_default()),
        Op::List | Op::Save | Op::Restore => return Ok(None),
    }))
}

/// ipvsadm's service order: fwmark, family, protocol, address, port, compared as its C code
/// does (differences of unsigned values read as `int`).
fn cmp_services(a: &Service, b: &Service) -> Ordering {
    let fields = |s: &Service| {
        let (fwmark, proto, ip, port) = match s.key {
            ServiceKey::Fwmark { mark, .. } => (mark, 0u16, None, 0u16),
            ServiceKey::Inet { protocol, addr } => {
                let proto = match protocol {
                    Protocol::Tcp => 6,
                    Protocol::Udp => 17,
                    Protocol::Sctp => 132,
                };
                (0, proto, Some(addr.ip()), addr.port())
            }
        };
        let af: i32 = if s.key.family() == Family::Inet {
            2
        } else {
            10
        };
        (fwmark, af, proto, ip, port)
    };
    let (fa, afa, pa, ia, porta) = fields(a);
    let (fb, afb, pb, ib, portb) = fields(b);
    let steps = [
        fa.wrapping_sub(fb) as i32,
        afa - afb,
        i32::from(pa) - i32::from(pb),
        cmp_ip(ia, ib),
        i32::from(porta) - i32::from(portb),
    ];
    steps.into_iter().find(|r| *r != 0).unwrap_or(0).cmp(&0)
}

fn cmp_ip(a: Option<IpAddr>, b: Option<IpAddr>) -> i32 {
    let words = |ip: Option<IpAddr>| -> [u32; 4] {
        match ip {
            Some(IpAddr::V4(v4)) => [u32::from(v4), 0, 0, 0],
            Some(IpAddr::V6(v6)) => {
                let o = v6.octets();
                std::array::from_fn(|i| {
                    u32::from_be_bytes([o[4 * i], o[4 * i + 1], o[4 * i + 2], o[4 * i + 3]])
                })
            }
            None => [0; 4],
        }
    };
    let (wa, wb) = (words(a), words(b));
    wa.iter()
        .zip(wb.iter())
        .map(|(x, y)| x.wrapping_sub(*y) as i32)
        .find(|r| *r != 0)
        .unwrap_or(0)
}

fn cmp_dests(a: &Destination, b: &Destination) -> Ordering {
    let r = cmp_ip(Some(a.addr.ip()), Some(b.addr.ip()));
    let r = if r != 0 {
        r
    } else {
        i32::from(a.addr.port()) - i32::from(b.addr.port())
    };
    r.cmp(&0)
}

/// `TCP  192.0.2.1:80`, `FWM  7 IPv6`.
fn service_name(key: &ServiceKey) -> String {
    match key {
        ServiceKey::Inet { protocol, addr } => {
            let proto = match protocol {
                Protocol::Tcp => "TCP ",
                Protocol::Udp => "UDP ",
                Protocol::Sctp => "SCTP",
            };
            format!("{proto} {}", addr_port(*addr))
        }
        ServiceKey::Fwmark {
            family: Family::Inet,
            mark,
        } => format!("FWM  {mark}"),
        ServiceKey::Fwmark {
            family: Family::Inet6,
            mark,
        } => format!("FWM  {mark} IPv6"),
    }
}

/// The service option of a saved rule: `-t 192.0.2.1:80`, `-f 7 -6`.
fn service_switch(key: &ServiceKey) -> String {
    match key {
        ServiceKey::Inet { protocol, addr } => {
            let switch = match protocol {
                Protocol::Tcp => "-t",
                Protocol::Udp => "-u",
                Protocol::Sctp => "--sctp-service",
            };
            format!("{switch} {}", addr_port(*addr))
        }
        ServiceKey::Fwmark {
            family: Family::Inet,
            mark,
        } => format!("-f {mark}"),
        ServiceKey::Fwmark {
            family: Family::Inet6,
            mark,
        } => format!("-f {mark} -6"),
    }
}

fn addr_port(addr: SocketAddr) -> String {
    match addr.ip() {
        IpAddr::V4(ip) => format!("{ip}:{}", addr.port()),
        IpAddr::V6(ip) => format!("[{ip}]:{}", addr.port()),
    }
}

fn sched_flags(svc: &Service) -> Option<String> {
    let (one, two) = match svc.scheduler.name() {
        "sh" => ("sh-fallback", "sh-port"),
        "mh" => ("mh-fallback", "mh-port"),
        _ => ("flag-1", "flag-2"),
    };
    let names: Vec<&str> = [
        (ServiceFlags::SCHED1, one),
        (ServiceFlags::SCHED2, two),
        (ServiceFlags::SCHED3, "flag-3"),
    ]
    .into_iter()
    .filter(|(f, _)| svc.flags.contains(*f))
    .map(|(_, n)| n)
    .collect();
    (!names.is_empty()).then(|| names.join(","))
}

/// The persistence netmask when it is not the host mask: `255.255.255.0` or `64`.
fn netmask_text(svc: &Service) -> Option<String> {
    match svc.key.family() {
        Family::Inet if svc.netmask != u32::MAX => Some(Ipv4Addr::from(svc.netmask).to_string()),
        Family::Inet6 if svc.netmask != 128 => Some(svc.netmask.to_string()),
        _ => None,
    }
}

fn forward_name(f: ForwardMethod) -> &'static str {
    match f {
        ForwardMethod::Masquerade => "Masq",
        ForwardMethod::Local => "Local",
        ForwardMethod::Tunnel(_) => "Tunnel",
        ForwardMethod::DirectRoute => "Route",
        ForwardMethod::Bypass => "Bypass",
    }
}

fn forward_switch(f: ForwardMethod) -> &'static str {
    match f {
        ForwardMethod::Masquerade => "-m",
        ForwardMethod::Tunnel(_) => "-i",
        _ => "-g",
    }
}

/// ipvsadm's counter column: 9 wide, abbreviated with K/M/G/T above 10^8 unless `--exact`.
fn large_number(out: &mut String, n: u64, exact: bool) {
    let _ = if exact {
        let width = n.to_string().len().max(8) + 1;
        write!(out, "{n:>width$}")
    } else if n < 100_000_000 {
        write!(out, "{n:>9}")
    } else if n < 1_000_000_000 {
        write!(out, "{:>8}K", n / 1_000)
    } else if n < 100_000_000_000 {
        write!(out, "{:>8}M", n / 1_000_000)
    } else if n < 100_000_000_000_000 {
        write!(out, "{:>8}G", n / 1_000_000_000)
    } else {
        write!(out, "{:>8}T", n / 1_000_000_000_000)
    };
}

fn counters(out: &mut String, format: ListFormat, s: &Stats, exact: bool) {
    let values = match format {
        ListFormat::Rate => [s.cps, s.inpps, s.outpps, s.inbps, s.outbps],
        _ => [s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes],
    };
    for v in values {
        large_number(out, v, exact);
    }
}

fn list_service(out: &mut String, a: &Args, entry: &ServiceEntry, dests: &[DestinationEntry]) {
    let svc = &entry.service;
    match a.format {
        ListFormat::Stats | ListFormat::Rate => {
            let _ = write!(out, "{:<33}", service_name(&svc.key));
            counters(out, a.format, &entry.stats, a.exact);
        }
        _ => {
            let _ = write!(out, "{} {}", service_name(&svc.key), svc.scheduler);
            if let Some(flags) = sched_flags(svc) {
                let _ = write!(out, " ({flags})");
            }
            if svc.flags.contains(ServiceFlags::PERSISTENT) {
                let _ = write!(out, " persistent {}", svc.timeout);
                if let Some(mask) = netmask_text(svc) {
                    let _ = write!(out, " mask {mask}");
                }
                if let Some(pe) = &svc.pe_name {
                    let _ = write!(out, " pe {pe}");
                }
            }
            if svc.flags.contains(ServiceFlags::ONEPACKET) {
                out.push_str(" ops");
            }
        }
    }
    out.push('\n');
    for e in dests {
        let d = &e.destination;
        let name = addr_port(d.addr);
        match a.format {
            ListFormat::Stats | ListFormat::Rate => {
                let _ = write!(out, "  -> {name:<28}");
                counters(out, a.format, &e.stats, a.exact);
                out.push('\n');
            }
            _ => {
                let _ = writeln!(
                    out,
                    "  -> {name:<28} {:<7} {:<6} {:<10} {:<10}",
                    forward_name(d.forward),
                    d.weight,
                    e.active_conns,
                    e.inactive_conns
                );
            }
        }
    }
}

fn save_service(out: &mut String, entry: &ServiceEntry, dests: &[DestinationEntry]) {
    let svc = &entry.service;
    let switch = service_switch(&svc.key);
    let _ = write!(out, "-A {switch} -s {}", svc.scheduler);
    if svc.flags.contains(ServiceFlags::PERSISTENT) {
        let _ = write!(out, " -p {}", svc.timeout);
        if let Some(mask) = netmask_text(svc) {
            let _ = write!(out, " -M {mask}");
        }
        if let Some(pe) = &svc.pe_name {
            let _ = write!(out, " --pe {pe}");
        }
    }
    if svc.flags.contains(ServiceFlags::ONEPACKET) {
        out.push_str(" -o");
    }
    if let Some(flags) = sched_flags(svc) {
        let _ = write!(out, " -b {flags}");
    }
    out.push('\n');
    for e in dests {
        let d = &e.destination;
        let _ = write!(
            out,
            "-a {switch} -r {} {} -w {}",
            addr_port(d.addr),
            forward_switch(d.forward),
            d.weight
        );
        if let ForwardMethod::Tunnel(t) = d.forward {
            tunnel_options(out, t);
        }
        out.push('\n');
    }
}

/// ipvsadm saves the tunnel type of every tunnelled destination, and GUE's port and checksum.
fn tunnel_options(out: &mut String, t: Tunnel) {
    let kind = match t.kind {
        TunnelType::Ipip => "ipip",
        TunnelType::Gue => "gue",
        TunnelType::Gre => "gre",
    };
    let _ = write!(out, " --tun-type {kind}");
    if t.kind == TunnelType::Gue {
        let _ = write!(out, " --tun-port {}", t.port);
    }
    if t.kind != TunnelType::Ipip {
        out.push_str(match t.csum {
            TunnelCsum::NoCsum => " --tun-nocsum",
            TunnelCsum::Csum => " --tun-csum",
            TunnelCsum::RemCsum => " --tun-remcsum",
        });
    }
}

async fn list(ipvs: &IpvsHandle, a: &Args) -> Result<String, ipvs_sys::Error> {
    let mut out = String::new();
    match a.format {
        ListFormat::Timeout => {
            let t = ipvs.timeouts().await?;
            let _ = writeln!(
                out,
                "Timeout (tcp tcpfin udp): {} {} {}",
                t.tcp, t.tcp_fin, t.udp
            );
            return Ok(out);
        }
        ListFormat::Daemon => {
            for d in ipvs.daemons().await? {
                let group = d.group.map(|g| g.to_string()).unwrap_or_default();
                let _ = writeln!(
                    out,
                    "{} sync daemon (mcast={}, syncid={}, maxlen={}, group={group}, port={}, ttl={})",
                    d.state, d.interface, d.sync_id, d.max_len, d.port, d.ttl
                );
            }
            return Ok(out);
        }
        _ => {}
    }
    let save = a.op == Op::Save;
    if !save && a.key.is_none() {
        let info = ipvs.info().await?;
        let (major, minor, patch) = info.version_triple();
        let _ = writeln!(
            out,
            "IP Virtual Server version {major}.{minor}.{patch} (size={})",
            info.conn_tab_size
        );
    }
    if !save {
        out.push_str(match a.format {
            ListFormat::Stats => {
                "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n  -> RemoteAddress:Port\n"
            }
            ListFormat::Rate => {
                "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n  -> RemoteAddress:Port\n"
            }
            _ => {
                "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
            }
        });
    }
    let mut services = match a.key {
        Some(key) => vec![ipvs.service(&key).await?],
        None => ipvs.services().await?,
    };
    services.sort_by(|x, y| cmp_services(&x.service, &y.service));
    for entry in &services {
        let mut dests = ipvs.destinations(&entry.service.key).await?;
        dests.sort_by(|x, y| cmp_dests(&x.destination, &y.destination));
        if save {
            save_service(&mut out, entry, &dests);
        } else {
            list_service(&mut out, a, entry, &dests);
        }
    }
    Ok(out)
}

/// `-R`: every line is one command; all are sent pipelined, then failures are reported with
/// their line numbers.
async fn restore(ipvs: &IpvsHandle) -> Result<bool, String> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| format!("reading stdin: {e}"))?;
    let mut commands = Vec::new();
    let mut lines = Vec::new();
    for (n, line) in input.lines().enumerate() {
        let words: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        if words.is_empty() || words[0].starts_with('#') {
            continue;
        }
        let args = parse_args(&words).map_err(|UsageError(e)| format!("line {}: {e}", n + 1))?;
        match command_of(&args).map_err(|UsageError(e)| format!("line {}: {e}", n + 1))? {
            Some(c) => {
                commands.push(c);
                lines.push(n + 1);
            }
            None => return Err(format!("line {}: only changes can be restored", n + 1)),
        }
    }
    let results = ipvs
        .execute_batch(&commands)
        .await
        .map_err(|e| e.to_string())?;
    let mut ok = true;
    for (result, line) in results.into_iter().zip(lines) {
        if let Err(e) = result {
            eprintln!("ipvsadm: line {line}: {e}");
            ok = false;
        }
    }
    Ok(ok)
}

async fn run(argv: &[String]) -> Result<bool, String> {
    let args = parse_args(argv).map_err(|UsageError(e)| e)?;
    let ipvs = IpvsHandle::new().await.map_err(|e| e.to_string())?;
    match args.op {
        Op::List | Op::Save => {
            let out = list(&ipvs, &args).await.map_err(|e| e.to_string())?;
            print!("{out}");
            Ok(true)
        }
        Op::Restore => restore(&ipvs).await,
        _ => {
            let command = command_of(&args).map_err(|UsageError(e)| e)?;
            if let Some(command) = command {
                ipvs.execute(&command).await.map_err(|e| e.to_string())?;
            }
            Ok(true)
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.iter().any(|a| a == "-h" || a == "--help") {
        print!("{HELP}");
        return ExitCode::SUCCESS;
    }
    match run(&argv).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("ipvsadm: {e}");
            ExitCode::from(2)
        }
    }
}
