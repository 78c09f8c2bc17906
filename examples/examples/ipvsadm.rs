//! `ipvsadm` on `ipvs-sys`: the command line, output and exit statuses of ipvsadm 1.31.
//!
//! ```text
//! ipvsadm -A|-E -t|-u|--sctp-service ADDR:PORT | -f MARK [-6] [-s SCHED] [-p [TIMEOUT]]
//!               [-M MASK] [-b FLAGS] [-o] [--pe ENGINE]
//! ipvsadm -D SERVICE
//! ipvsadm -a|-e SERVICE -r ADDR[:PORT] [-g|-i|-m] [-w WEIGHT] [-x UPPER] [-y LOWER]
//!               [--tun-type ipip|gue|gre] [--tun-port PORT] [--tun-nocsum|--tun-csum|--tun-remcsum]
//! ipvsadm -d SERVICE -r ADDR[:PORT]
//! ipvsadm -C | -Z [SERVICE] | --set TCP TCPFIN UDP
//! ipvsadm -L|-l [SERVICE] [-n] [--stats|--rate|--thresholds|--persistent-conn|--tun-info]
//!               [--exact] [--nosort] | -L -c [--persistent-conn] | -L --timeout | -L --daemon
//! ipvsadm -S [-n] | -R (commands from stdin, one per line)
//! ipvsadm --start-daemon master|backup [--mcast-interface IF] [--syncid ID] [--sync-maxlen LEN]
//!               [--mcast-group ADDR] [--mcast-port PORT] [--mcast-ttl TTL]
//! ipvsadm --stop-daemon master|backup
//! ```
//!
//! The command line is read as ipvsadm reads it (with popt): short options may be grouped
//! (`-Ln`) and take their value attached or as the next argument (`-w3`, `-w 3`), long ones
//! as `--weight 3` or `--weight=3`; `-p`'s timeout is optional; the first option must be the
//! command and each option may be given once; which options go with which command, and the
//! ranges of values, are ipvsadm's.
//!
//! `-L` and `-S` print exactly what ipvsadm 1.31 prints for the same kernel state (services
//! and destinations sorted as ipvsadm sorts them, unless `--nosort`).
//!
//! Where the example departs from ipvsadm on purpose: names are never resolved, so output is
//! as with `-n` and addresses and ports must be numbers (IPv4 in any form `inet_aton` reads,
//! like ipvsadm), where ipvsadm also looks up host and service names; `-h` and `-v` work
//! without IPVS (ipvsadm needs it for everything); empty names in `-b`'s list are skipped
//! (ipvsadm 1.31 crashes on `-b ,`).
//!
//! # Exit statuses and messages
//!
//! The example exits with ipvsadm's status for every failure ([`Error::exit_status`]):
//!
//! | status | failure |
//! | --- | --- |
//! | 2 | a command line ipvsadm's own checks refuse (bad value, option not allowed with the command, missing option...), or no IPVS to talk to |
//! | 255 | the option parser cannot read an option (unknown, or its value missing), or the line does not start with a command |
//! | 255 | the kernel refuses the change (service exists, no such destination, unknown scheduler, daemon already running...) |
//! | 1 | listing fails (`-L` of a service that does not exist, `-c` without `/proc/net/ip_vs_conn`) |
//!
//! Messages about the command line are ipvsadm's own words, so that scripts matching them
//! keep working. Kernel refusals are ipvs-sys's messages, which name the service or
//! destination (`no such service tcp 192.0.2.1:80`) where ipvsadm only says `No such service`.
//!
//! `-R` runs the lines of stdin as ipvsadm does: a line the kernel refuses, or with an option
//! the parser cannot read, is reported and the next line runs; a line ipvsadm's checks refuse
//! (status 2), one without a command first (255, as a `#` comment line is for ipvsadm 1.31) or
//! a failed listing (1) ends the restore with that status, the lines before it applied. Else
//! the status is the last line's: 255 if it failed, 0 if it succeeded. Words `ipvsadm` are
//! ignored, so saved `ipvsadm -A ...` lines restore too. Changes are sent pipelined, many per
//! netlink datagram, in line order; errors are reported with their line numbers.

use std::cmp::Ordering;
use std::fmt::Write as _;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::process::ExitCode;

use ipvs_sys::{
    Command, DaemonState, Destination, DestinationEntry, Family, ForwardMethod, IpvsHandle,
    Protocol, Scheduler, Service, ServiceEntry, ServiceFlags, ServiceKey, SyncDaemon, Timeouts,
    Tunnel, TunnelCsum, TunnelType,
};

/// ipvsadm's default persistence timeout, seconds.
const DEFAULT_PERSISTENCE: u32 = 360;
/// The longest persistence or connection timeout ipvsadm takes: 31 days.
const MAX_TIMEOUT: i64 = 86_400 * 31;
/// ipvsadm's default scheduler.
const DEFAULT_SCHEDULER: &str = "wlc";
/// ipvsadm's default sync daemon interface.
const DEFAULT_MCAST_INTERFACE: &str = "eth0";
/// The largest sync message: a UDP datagram in an IPv4 packet.
const MAX_SYNC_LEN: i64 = 65_535 - 20 - 8;
/// Where the kernel lists IPVS connections (`-c`).
const PROC_CONN: &str = "/proc/net/ip_vs_conn";

/// The `-h` text.
const HELP: &str = "\
ipvsadm (ipvs-sys example): ipvsadm 1.31's commands, output and exit statuses
  -A|-E SERVICE [-s SCHED] [-p [TIMEOUT]] [-M NETMASK] [--pe ENGINE] [-b FLAGS] [-o]
  -D SERVICE
  -a|-e SERVICE -r ADDR[:PORT] [-g|-i|-m] [-w WEIGHT] [-x UPPER] [-y LOWER]
        [--tun-type ipip|gue|gre] [--tun-port PORT] [--tun-nocsum|--tun-csum|--tun-remcsum]
  -d SERVICE -r ADDR[:PORT]
  -C                      clear the whole table
  -Z [SERVICE]            zero counters
  -L|-l [SERVICE] [-n] [--stats|--rate|--thresholds|--persistent-conn|--tun-info]
        [--exact] [--nosort]
  -L -c [--persistent-conn] | -L --timeout | -L --daemon
  -S [-n]                 save rules to stdout
  -R                      restore rules from stdin
  --set TCP TCPFIN UDP    set connection timeouts
  --start-daemon master|backup [--mcast-interface IF] [--syncid ID] [--sync-maxlen LEN]
        [--mcast-group ADDR] [--mcast-port PORT] [--mcast-ttl TTL]
  --stop-daemon master|backup
  -h, --help              this text
  -v, --version           the version
SERVICE: -t|-u|--sctp-service ADDR[:PORT] | -f FWMARK [-6]
Names are not resolved: addresses and ports are numbers, and output is as with -n.
";

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Why a command line failed; [`Error::exit_status`] is ipvsadm's status for it.
#[derive(Debug, thiserror::Error)]
enum Error {
    /// A command line ipvsadm's own checks refuse (a bad value, an option that does not go
    /// with the command...), in ipvsadm's words.
    #[error("{0}")]
    Usage(String),
    /// An option the option parser cannot read: unknown, or its value missing.
    #[error("{0}")]
    Option(String),
    /// The line does not start with a command.
    #[error("Try `ipvsadm -h' or 'ipvsadm --help' for more information.")]
    NoCommand,
    /// The kernel refused a change, or ipvs-sys refused a value the kernel would refuse.
    #[error("{}", chain(.0))]
    Kernel(ipvs_sys::Error),
    /// Reading the table failed.
    #[error("{}", chain(.0))]
    List(ipvs_sys::Error),
    /// `-c`: the kernel's connection table cannot be read.
    #[error("cannot read {PROC_CONN}: {0}")]
    Connections(std::io::Error),
    /// IPVS cannot be reached (ipvsadm's words).
    #[error("Can't initialize ipvs: {}", chain(.0))]
    Init(ipvs_sys::Error),
    /// `-R`: stdin cannot be read.
    #[error("cannot read stdin: {0}")]
    Stdin(std::io::Error),
    /// A line of `-R`'s input failed.
    #[error("line {line}: {source}")]
    Line {
        /// Its number, from 1.
        line: usize,
        /// Why.
        source: Box<Error>,
    },
}

impl Error {
    /// ipvsadm 1.31's exit status for this failure.
    fn exit_status(&self) -> u8 {
        match self {
            // ipvsadm's fail(2, ...), also when it cannot initialise IPVS.
            Error::Usage(_) | Error::Init(_) | Error::Stdin(_) => 2,
            // A listing that fails exits 1.
            Error::List(_) | Error::Connections(_) => 1,
            // popt errors, its "Try -h" exit and kernel errors all return -1 from main.
            Error::Option(_) | Error::NoCommand | Error::Kernel(_) => 255,
            Error::Line { source, .. } => source.exit_status(),
        }
    }

    /// Whether `-R` stops at a line failing so (ipvsadm exits), or goes on with the next.
    fn ends_restore(&self) -> bool {
        match self {
            Error::Usage(_)
            | Error::NoCommand
            | Error::List(_)
            | Error::Connections(_)
            | Error::Init(_)
            | Error::Stdin(_) => true,
            Error::Option(_) | Error::Kernel(_) => false,
            Error::Line { source, .. } => source.ends_restore(),
        }
    }
}

/// An error and its causes, `: `-separated.
fn chain(e: &ipvs_sys::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let _ = write!(text, ": {cause}");
        source = cause.source();
    }
    text
}

fn usage<T>(msg: impl Into<String>) -> Result<T, Error> {
    Err(Error::Usage(msg.into()))
}

// ---------------------------------------------------------------------------------------------
// The option parser: ipvsadm's options, read as popt reads them
// ---------------------------------------------------------------------------------------------

/// Every option of ipvsadm 1.31's command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    AddService,
    EditService,
    DeleteService,
    Clear,
    List,
    Zero,
    AddServer,
    EditServer,
    DeleteServer,
    Set,
    Help,
    Version,
    Restore,
    Save,
    StartDaemon,
    StopDaemon,
    TcpService,
    UdpService,
    SctpService,
    FwmarkService,
    Scheduler,
    Persistent,
    Netmask,
    RealServer,
    Masquerading,
    Ipip,
    Gatewaying,
    Weight,
    UThreshold,
    LThreshold,
    Numeric,
    Connection,
    McastInterface,
    SyncId,
    Timeout,
    Daemon,
    Stats,
    Rate,
    Thresholds,
    PersistentConn,
    NoSort,
    Sort,
    Exact,
    Ipv6,
    Ops,
    Pe,
    SchedFlags,
    McastGroup,
    McastPort,
    McastTtl,
    SyncMaxlen,
    TunInfo,
    TunType,
    TunPort,
    TunNocsum,
    TunCsum,
    TunRemcsum,
}

/// Whether an option takes a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Takes {
    Nothing,
    Value,
    /// Attached (`-p60`, `--persistent=60`), or the next argument unless it starts with `-`.
    OptionalValue,
}

/// ipvsadm's option table: long name, short letter, value, option.
const OPTIONS: &[(&str, Option<char>, Takes, Key)] = {
    use Key::*;
    use Takes::{Nothing, OptionalValue, Value};
    &[
        ("add-service", Some('A'), Nothing, AddService),
        ("edit-service", Some('E'), Nothing, EditService),
        ("delete-service", Some('D'), Nothing, DeleteService),
        ("clear", Some('C'), Nothing, Clear),
        ("list", Some('L'), Nothing, List),
        ("list", Some('l'), Nothing, List),
        ("zero", Some('Z'), Nothing, Zero),
        ("add-server", Some('a'), Nothing, AddServer),
        ("edit-server", Some('e'), Nothing, EditServer),
        ("delete-server", Some('d'), Nothing, DeleteServer),
        ("set", None, Nothing, Set),
        ("help", Some('h'), Nothing, Help),
        ("version", Some('v'), Nothing, Version),
        ("restore", Some('R'), Nothing, Restore),
        ("save", Some('S'), Nothing, Save),
        ("start-daemon", None, Value, StartDaemon),
        ("stop-daemon", None, Value, StopDaemon),
        ("tcp-service", Some('t'), Value, TcpService),
        ("udp-service", Some('u'), Value, UdpService),
        ("sctp-service", None, Value, SctpService),
        ("fwmark-service", Some('f'), Value, FwmarkService),
        ("scheduler", Some('s'), Value, Scheduler),
        ("persistent", Some('p'), OptionalValue, Persistent),
        ("netmask", Some('M'), Value, Netmask),
        ("real-server", Some('r'), Value, RealServer),
        ("masquerading", Some('m'), Nothing, Masquerading),
        ("ipip", Some('i'), Nothing, Ipip),
        ("gatewaying", Some('g'), Nothing, Gatewaying),
        ("weight", Some('w'), Value, Weight),
        ("u-threshold", Some('x'), Value, UThreshold),
        ("l-threshold", Some('y'), Value, LThreshold),
        ("numeric", Some('n'), Nothing, Numeric),
        ("connection", Some('c'), Nothing, Connection),
        ("mcast-interface", None, Value, McastInterface),
        ("syncid", None, Value, SyncId),
        ("timeout", None, Nothing, Timeout),
        ("daemon", None, Nothing, Daemon),
        ("stats", None, Nothing, Stats),
        ("rate", None, Nothing, Rate),
        ("thresholds", None, Nothing, Thresholds),
        ("persistent-conn", None, Nothing, PersistentConn),
        ("nosort", None, Nothing, NoSort),
        ("sort", None, Nothing, Sort),
        ("exact", Some('X'), Nothing, Exact),
        ("ipv6", Some('6'), Nothing, Ipv6),
        ("ops", Some('o'), Nothing, Ops),
        ("pe", None, Value, Pe),
        ("sched-flags", Some('b'), Value, SchedFlags),
        ("mcast-group", None, Value, McastGroup),
        ("mcast-port", None, Value, McastPort),
        ("mcast-ttl", None, Value, McastTtl),
        ("sync-maxlen", None, Value, SyncMaxlen),
        ("tun-info", None, Nothing, TunInfo),
        ("tun-type", None, Value, TunType),
        ("tun-port", None, Value, TunPort),
        ("tun-nocsum", None, Nothing, TunNocsum),
        ("tun-csum", None, Nothing, TunCsum),
        ("tun-remcsum", None, Nothing, TunRemcsum),
    ]
};

/// One option found on the command line.
#[derive(Debug)]
struct Found<'a> {
    key: Key,
    value: Option<&'a str>,
    /// The argument it was found in, for messages.
    token: &'a str,
}

/// Reads options as popt does: `--name`, `--name=value`, grouped short options (`-Ln`,
/// `-w3`), `--` ending the options; other arguments are kept for `--set` (or refused).
struct Scanner<'a> {
    argv: &'a [String],
    next: usize,
    /// Inside a group of short options: its argument's index and the offset of its next letter.
    group: Option<(usize, usize)>,
    /// After `--`.
    only_args: bool,
    /// Arguments that are not options, in order.
    args: Vec<&'a str>,
}

impl<'a> Scanner<'a> {
    fn new(argv: &'a [String]) -> Self {
        Self {
            argv,
            next: 0,
            group: None,
            only_args: false,
            args: Vec::new(),
        }
    }

    /// The next option, `None` at the end.
    fn next_option(&mut self) -> Option<Result<Found<'a>, Error>> {
        if let Some((index, offset)) = self.group {
            return Some(self.short(index, offset));
        }
        let argv = self.argv;
        while let Some(token) = argv.get(self.next) {
            self.next += 1;
            if self.only_args {
                self.args.push(token);
            } else if token == "--" {
                self.only_args = true;
            } else if let Some(body) = token.strip_prefix("--") {
                return Some(self.long(token, body));
            } else if token.len() > 1 && token.starts_with('-') {
                return Some(self.short(self.next - 1, 1));
            } else {
                self.args.push(token);
            }
        }
        None
    }

    fn long(&mut self, token: &'a str, body: &'a str) -> Result<Found<'a>, Error> {
        let (name, attached) = match body.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (body, None),
        };
        let &(_, _, takes, key) = OPTIONS
            .iter()
            .find(|(long, ..)| *long == name)
            .ok_or_else(|| popt_error(token, "unknown option"))?;
        let value = match (takes, attached) {
            (Takes::Nothing, Some(_)) => {
                return Err(popt_error(token, "option does not take an argument"));
            }
            (Takes::Nothing, None) => None,
            (_, Some(value)) => Some(value),
            (takes, None) => self.following(takes, token)?,
        };
        Ok(Found { key, value, token })
    }

    fn short(&mut self, index: usize, offset: usize) -> Result<Found<'a>, Error> {
        self.group = None;
        let token = self.argv[index].as_str();
        let Some(letter) = token[offset..].chars().next() else {
            return Err(popt_error(token, "unknown option"));
        };
        let rest_at = offset + letter.len_utf8();
        let rest = &token[rest_at..];
        let &(_, _, takes, key) = OPTIONS
            .iter()
            .find(|(_, short, ..)| *short == Some(letter))
            .ok_or_else(|| popt_error(token, "unknown option"))?;
        let value = match takes {
            Takes::Nothing => {
                if !rest.is_empty() {
                    self.group = Some((index, rest_at));
                }
                None
            }
            _ if !rest.is_empty() => Some(rest),
            takes => self.following(takes, token)?,
        };
        Ok(Found { key, value, token })
    }

    /// The value of an option given as the next argument.
    fn following(&mut self, takes: Takes, token: &'a str) -> Result<Option<&'a str>, Error> {
        match self.argv.get(self.next) {
            Some(value) if takes == Takes::Value || !value.starts_with('-') => {
                self.next += 1;
                Ok(Some(value))
            }
            None if takes == Takes::Value => Err(popt_error(token, "missing argument")),
            _ => Ok(None),
        }
    }
}

fn popt_error(token: &str, what: &str) -> Error {
    Error::Option(format!("{token}: {what}"))
}

// ---------------------------------------------------------------------------------------------
// Commands, options and which go together
// ---------------------------------------------------------------------------------------------

/// The command of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    AddService,
    EditService,
    DeleteService,
    Flush,
    List,
    AddDest,
    DeleteDest,
    EditDest,
    SetTimeouts,
    StartDaemon(DaemonState),
    StopDaemon(DaemonState),
    Restore,
    Save,
    Zero,
}

impl Cmd {
    /// ipvsadm's name of the command, in its messages.
    fn name(self) -> &'static str {
        match self {
            Cmd::AddService => "add-service",
            Cmd::EditService => "edit-service",
            Cmd::DeleteService => "delete-service",
            Cmd::Flush => "flush",
            Cmd::List => "list",
            Cmd::AddDest => "add-server",
            Cmd::DeleteDest => "delete-server",
            Cmd::EditDest => "edit-server",
            Cmd::SetTimeouts => "set",
            Cmd::StartDaemon(_) => "start-daemon",
            Cmd::StopDaemon(_) => "stop-daemon",
            Cmd::Restore => "restore",
            Cmd::Save => "save",
            Cmd::Zero => "zero",
        }
    }

    /// The options that must be given, may be given, and of which at most one may be given;
    /// any other is refused.
    fn options(self) -> (&'static [Opt], &'static [Opt], &'static [Opt]) {
        use Opt::*;
        match self {
            Cmd::AddService | Cmd::EditService => (
                &[Service],
                &[Scheduler, Persistent, Netmask, Ops, Pe, SchedFlags],
                &[],
            ),
            Cmd::DeleteService => (&[Service], &[], &[]),
            Cmd::Flush | Cmd::SetTimeouts | Cmd::Restore => (&[], &[], &[]),
            Cmd::List => (
                &[],
                &[
                    Numeric,
                    Stats,
                    Rate,
                    Thresholds,
                    PersistentConn,
                    NoSort,
                    SyncId,
                    Exact,
                    TunInfo,
                ],
                &[Connection, Service, Timeout, Daemon],
            ),
            Cmd::AddDest | Cmd::EditDest => (
                &[Service, Server],
                &[
                    Forward, Weight, UThreshold, LThreshold, TunType, TunPort, TunNocsum, TunCsum,
                    TunRemcsum,
                ],
                &[],
            ),
            Cmd::DeleteDest => (&[Service, Server], &[], &[]),
            Cmd::StartDaemon(_) => (
                &[],
                &[Mcast, SyncId, McastGroup, McastPort, McastTtl, SyncMaxlen],
                &[],
            ),
            Cmd::StopDaemon(_) => (&[], &[SyncId], &[]),
            Cmd::Save => (&[], &[Numeric], &[]),
            Cmd::Zero => (&[], &[Service], &[]),
        }
    }
}

/// The options ipvsadm checks against the command (each may be given once), in its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opt {
    Numeric,
    Connection,
    Service,
    Scheduler,
    Persistent,
    Netmask,
    Server,
    Forward,
    Weight,
    UThreshold,
    LThreshold,
    Mcast,
    Timeout,
    Daemon,
    Stats,
    Rate,
    Thresholds,
    PersistentConn,
    NoSort,
    SyncId,
    Exact,
    Ops,
    Pe,
    SchedFlags,
    McastGroup,
    McastPort,
    McastTtl,
    SyncMaxlen,
    TunInfo,
    TunType,
    TunPort,
    TunNocsum,
    TunCsum,
    TunRemcsum,
}

impl Opt {
    const ALL: [Opt; 34] = {
        use Opt::*;
        [
            Numeric,
            Connection,
            Service,
            Scheduler,
            Persistent,
            Netmask,
            Server,
            Forward,
            Weight,
            UThreshold,
            LThreshold,
            Mcast,
            Timeout,
            Daemon,
            Stats,
            Rate,
            Thresholds,
            PersistentConn,
            NoSort,
            SyncId,
            Exact,
            Ops,
            Pe,
            SchedFlags,
            McastGroup,
            McastPort,
            McastTtl,
            SyncMaxlen,
            TunInfo,
            TunType,
            TunPort,
            TunNocsum,
            TunCsum,
            TunRemcsum,
        ]
    };

    /// ipvsadm's name of the option, in its messages.
    fn name(self) -> &'static str {
        use Opt::*;
        match self {
            Numeric => "numeric",
            Connection => "connection",
            Service => "service-address",
            Scheduler => "scheduler",
            Persistent => "persistent",
            Netmask => "netmask",
            Server => "real-server",
            Forward => "forwarding-method",
            Weight => "weight",
            UThreshold => "u-threshold",
            LThreshold => "l-threshold",
            Mcast => "mcast-interface",
            Timeout => "timeout",
            Daemon => "daemon",
            Stats => "stats",
            Rate => "rate",
            Thresholds => "thresholds",
            PersistentConn => "persistent-conn",
            NoSort => "nosort",
            SyncId => "syncid",
            Exact => "exact",
            Ops => "ops",
            Pe => "pe",
            SchedFlags => "sched-flags",
            McastGroup => "mcast-group",
            McastPort => "mcast-port",
            McastTtl => "mcast-ttl",
            SyncMaxlen => "sync-maxlen",
            TunInfo => "tun-info",
            TunType => "tun-type",
            TunPort => "tun-port",
            TunNocsum => "tun-nocsum",
            TunCsum => "tun-csum",
            TunRemcsum => "tun-remcsum",
        }
    }

    fn bit(self) -> u64 {
        1 << (self as u32)
    }
}

/// A set of [`Opt`]s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Opts(u64);

impl Opts {
    fn has(self, opt: Opt) -> bool {
        self.0 & opt.bit() != 0
    }
}

/// What `-L` shows of each destination (the first of these given wins, as in ipvsadm).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum View {
    Plain,
    Stats,
    Rate,
    Thresholds,
    PersistentConn,
    TunInfo,
}

// ---------------------------------------------------------------------------------------------
// One command line, parsed and checked
// ---------------------------------------------------------------------------------------------

/// What a command line asks for.
#[derive(Debug)]
enum Parsed {
    Help,
    Version,
    Line(Box<Line>),
}

/// A command line (or `-R` line) with its options' values.
#[derive(Debug)]
struct Line {
    cmd: Cmd,
    opts: Opts,
    protocol: Protocol,
    /// Set by `-t`, `-u` or `--sctp-service`.
    vaddr: Option<IpAddr>,
    vport: u16,
    /// Set by `-f`.
    fwmark: u32,
    /// The service's family: an address's, or IPv4 for `-f` until `-6`.
    family: Option<Family>,
    scheduler: String,
    flags: ServiceFlags,
    timeout: u32,
    netmask: u32,
    pe: Option<String>,
    sched_flags: Option<String>,
    /// Set by `-r`.
    raddr: Option<IpAddr>,
    rport: u16,
    forward: ForwardMethod,
    weight: u32,
    upper: u32,
    lower: u32,
    tunnel: Tunnel,
    daemon: SyncDaemon,
    timeouts: Timeouts,
    view: Option<View>,
    nosort: bool,
    exact: bool,
}

impl Line {
    fn new(cmd: Cmd) -> Self {
        let state = match cmd {
            Cmd::StartDaemon(s) | Cmd::StopDaemon(s) => s,
            _ => DaemonState::Master,
        };
        Self {
            cmd,
            opts: Opts::default(),
            protocol: Protocol::Tcp,
            vaddr: None,
            vport: 0,
            fwmark: 0,
            family: None,
            scheduler: String::new(),
            flags: ServiceFlags::NONE,
            timeout: 0,
            netmask: u32::MAX,
            pe: None,
            sched_flags: None,
            raddr: None,
            rport: 0,
            forward: ForwardMethod::DirectRoute,
            weight: 1,
            upper: 0,
            lower: 0,
            tunnel: Tunnel::default(),
            daemon: SyncDaemon::new(state, String::new(), 0),
            timeouts: Timeouts::default(),
            view: None,
            nosort: false,
            exact: false,
        }
    }

    /// Notes an option, refusing it given twice.
    fn set(&mut self, opt: Opt) -> Result<(), Error> {
        if self.opts.has(opt) {
            return usage(format!("multiple '{}' options specified", opt.name()));
        }
        self.opts.0 |= opt.bit();
        Ok(())
    }

    fn set_view(&mut self, opt: Opt, view: View) -> Result<(), Error> {
        self.set(opt)?;
        let rank = |v: View| v as u8;
        if self.view.is_none_or(|old| rank(view) < rank(old)) {
            self.view = Some(view);
        }
        Ok(())
    }

    /// Applies one option (after the command), checking its value.
    fn apply(&mut self, found: &Found<'_>) -> Result<(), Error> {
        let value = found.value.unwrap_or_default();
        match found.key {
            Key::TcpService | Key::UdpService | Key::SctpService => {
                self.set(Opt::Service)?;
                self.protocol = match found.key {
                    Key::UdpService => Protocol::Udp,
                    Key::SctpService => Protocol::Sctp,
                    _ => Protocol::Tcp,
                };
                let (ip, port) = parse_service(value).ok_or_else(|| {
                    Error::Usage("illegal virtual server address[:port] specified".into())
                })?;
                self.vaddr = Some(ip);
                self.family = Some(Family::of(ip));
                if ip.is_ipv6() {
                    self.netmask = 128;
                }
                if let Some(port) = port {
                    self.vport = port;
                }
            }
            Key::FwmarkService => {
                self.set(Opt::Service)?;
                let mark = number(value, 1..=i64::from(u32::MAX)).ok_or_else(|| {
                    Error::Usage(format!("invalid fwmark value `{value}' specified"))
                })?;
                self.fwmark = mark as u32;
                self.family = Some(Family::Inet);
            }
            Key::Ipv6 => {
                if self.fwmark == 0 {
                    return usage("-6 used before -f");
                }
                self.family = Some(Family::Inet6);
                self.netmask = 128;
            }
            Key::Scheduler => {
                self.set(Opt::Scheduler)?;
                self.scheduler = value.to_owned();
            }
            Key::Persistent => {
                self.set(Opt::Persistent)?;
                self.flags = self.flags | ServiceFlags::PERSISTENT;
                self.timeout = match found.value {
                    Some(text) => timeout(text, 1)?,
                    None => DEFAULT_PERSISTENCE,
                };
            }
            Key::Netmask => {
                self.set(Opt::Netmask)?;
                if self.family == Some(Family::Inet6) {
                    let bits = leading_int(value);
                    if !(1..=128).contains(&bits) {
                        return usage("illegal ipv6 netmask specified");
                    }
                    self.netmask = bits as u32;
                } else {
                    let mask = inet_aton(value).ok_or_else(|| {
                        Error::Usage("illegal virtual server persistent mask specified".into())
                    })?;
                    self.netmask = u32::from(mask);
                }
            }
            Key::RealServer => {
                self.set(Opt::Server)?;
                let (ip, port) = parse_service(value).ok_or_else(|| {
                    Error::Usage("illegal real server address[:port] specified".into())
                })?;
                self.raddr = Some(ip);
                self.rport = port.unwrap_or(self.vport);
            }
            Key::Masquerading | Key::Ipip | Key::Gatewaying => {
                self.set(Opt::Forward)?;
                self.forward = match found.key {
                    Key::Masquerading => ForwardMethod::Masquerade,
                    Key::Ipip => ForwardMethod::Tunnel(Tunnel::default()),
                    _ => ForwardMethod::DirectRoute,
                };
            }
            Key::Weight => {
                self.set(Opt::Weight)?;
                // ipvsadm 1.31 (Debian) takes any int: the kernel's weight is one.
                self.weight = number(value, 0..=i64::from(i32::MAX))
                    .ok_or_else(|| Error::Usage("illegal weight specified".into()))?
                    as u32;
            }
            Key::UThreshold => {
                self.set(Opt::UThreshold)?;
                self.upper = number(value, 0..=i64::from(i32::MAX))
                    .ok_or_else(|| Error::Usage("illegal u_threshold specified".into()))?
                    as u32;
            }
            Key::LThreshold => {
                self.set(Opt::LThreshold)?;
                self.lower = number(value, 0..=i64::from(i32::MAX))
                    .ok_or_else(|| Error::Usage("illegal l_threshold specified".into()))?
                    as u32;
            }
            Key::Connection => self.set(Opt::Connection)?,
            Key::Numeric => self.set(Opt::Numeric)?,
            Key::McastInterface => {
                self.set(Opt::Mcast)?;
                self.daemon.interface = value.to_owned();
            }
            Key::SyncId => {
                self.set(Opt::SyncId)?;
                self.daemon.sync_id = number(value, 0..=255)
                    .ok_or_else(|| Error::Usage("illegal syncid specified".into()))?
                    as u32;
            }
            Key::Timeout => self.set(Opt::Timeout)?,
            Key::Daemon => self.set(Opt::Daemon)?,
            Key::Stats => self.set_view(Opt::Stats, View::Stats)?,
            Key::Rate => self.set_view(Opt::Rate, View::Rate)?,
            Key::Thresholds => self.set_view(Opt::Thresholds, View::Thresholds)?,
            Key::PersistentConn => self.set_view(Opt::PersistentConn, View::PersistentConn)?,
            Key::TunInfo => self.set_view(Opt::TunInfo, View::TunInfo)?,
            Key::NoSort => {
                self.set(Opt::NoSort)?;
                self.nosort = true;
            }
            Key::Sort => {}
            Key::Exact => {
                self.set(Opt::Exact)?;
                self.exact = true;
            }
            Key::Ops => {
                self.set(Opt::Ops)?;
                self.flags = self.flags | ServiceFlags::ONEPACKET;
            }
            Key::Pe => {
                self.set(Opt::Pe)?;
                self.pe = Some(value.to_owned());
            }
            Key::SchedFlags => {
                self.set(Opt::SchedFlags)?;
                self.sched_flags = Some(value.to_owned());
            }
            Key::McastGroup => {
                self.set(Opt::McastGroup)?;
                let group = if value.contains(':') {
                    value
                        .parse::<Ipv6Addr>()
                        .ok()
                        .filter(Ipv6Addr::is_multicast)
                        .map(IpAddr::V6)
                        .ok_or_else(|| {
                            Error::Usage(format!("invalid IPv6 mcast-group `{value}'"))
                        })?
                } else {
                    value
                        .parse::<Ipv4Addr>()
                        .ok()
                        .filter(Ipv4Addr::is_multicast)
                        .map(IpAddr::V4)
                        .ok_or_else(|| {
                            Error::Usage(format!("invalid IPv4 mcast-group `{value}'"))
                        })?
                };
                self.daemon.group = Some(group);
            }
            Key::McastPort => {
                self.set(Opt::McastPort)?;
                self.daemon.port = number(value, 1..=65_535)
                    .ok_or_else(|| Error::Usage("illegal mcast-port specified".into()))?
                    as u16;
            }
            Key::McastTtl => {
                self.set(Opt::McastTtl)?;
                self.daemon.ttl = number(value, 1..=255)
                    .ok_or_else(|| Error::Usage("illegal mcast-ttl specified".into()))?
                    as u8;
            }
            Key::SyncMaxlen => {
                self.set(Opt::SyncMaxlen)?;
                self.daemon.max_len = number(value, 1..=MAX_SYNC_LEN)
                    .ok_or_else(|| Error::Usage("illegal sync-maxlen specified".into()))?
                    as u16;
            }
            Key::TunType => {
                self.set(Opt::TunType)?;
                self.tunnel.kind = match value {
                    "ipip" => TunnelType::Ipip,
                    "gue" => TunnelType::Gue,
                    "gre" => TunnelType::Gre,
                    _ => return usage("illegal tunnel type specified"),
                };
            }
            Key::TunPort => {
                self.set(Opt::TunPort)?;
                self.tunnel.port = number(value, 1..=65_535)
                    .ok_or_else(|| Error::Usage("illegal tunnel port specified".into()))?
                    as u16;
            }
            Key::TunNocsum => {
                self.set(Opt::TunNocsum)?;
                self.tunnel.csum = TunnelCsum::NoCsum;
            }
            Key::TunCsum => {
                self.set(Opt::TunCsum)?;
                self.tunnel.csum = TunnelCsum::Csum;
            }
            Key::TunRemcsum => {
                self.set(Opt::TunRemcsum)?;
                self.tunnel.csum = TunnelCsum::RemCsum;
            }
            // A second command, or -h/-v after the command.
            Key::AddService
            | Key::EditService
            | Key::DeleteService
            | Key::Clear
            | Key::List
            | Key::Zero
            | Key::AddServer
            | Key::EditServer
            | Key::DeleteServer
            | Key::Set
            | Key::Help
            | Key::Version
            | Key::Restore
            | Key::Save
            | Key::StartDaemon
            | Key::StopDaemon => return usage(format!("invalid option `{}'", found.token)),
        }
        Ok(())
    }

    /// ipvsadm's checks once every option is read.
    fn check(&mut self, args: &[&str]) -> Result<(), Error> {
        let mut args = args.iter();
        if self.cmd == Cmd::SetTimeouts {
            let (Some(tcp), Some(tcp_fin), Some(udp)) = (args.next(), args.next(), args.next())
            else {
                return usage("--set option requires 3 timeout values");
            };
            self.timeouts = Timeouts {
                tcp: timeout(tcp, 0)?,
                tcp_fin: timeout(tcp_fin, 0)?,
                udp: timeout(udp, 0)?,
            };
        }
        if let Some(extra) = args.next() {
            return usage(format!("unexpected argument {extra}"));
        }
        if let Some(text) = self.sched_flags.take().filter(|t| !t.is_empty()) {
            let scheduler = if self.scheduler.is_empty() {
                DEFAULT_SCHEDULER
            } else {
                self.scheduler.as_str()
            };
            self.flags = self.flags | sched_flags(scheduler, &text)?;
        }
        self.check_options()?;
        match self.cmd {
            Cmd::AddService | Cmd::EditService => {
                if self.fwmark == 0
                    && self.vport == 0
                    && !self.flags.contains(ServiceFlags::PERSISTENT)
                {
                    return usage("Zero port specified for non-persistent service");
                }
                if self.flags.contains(ServiceFlags::ONEPACKET)
                    && self.fwmark == 0
                    && self.protocol != Protocol::Udp
                {
                    return usage("One-Packet Scheduling is only for UDP virtual services");
                }
                if self.scheduler.is_empty() {
                    self.scheduler = DEFAULT_SCHEDULER.to_owned();
                }
            }
            Cmd::StartDaemon(_) if self.daemon.interface.is_empty() => {
                self.daemon.interface = DEFAULT_MCAST_INTERFACE.to_owned();
            }
            Cmd::AddDest | Cmd::EditDest => self.check_destination()?,
            Cmd::List => {
                let has = |opt| self.opts.has(opt);
                let counters = has(Opt::Stats) || has(Opt::Rate) || has(Opt::Thresholds);
                let settings = has(Opt::Timeout) || has(Opt::Daemon);
                if ((settings || has(Opt::Connection)) && counters)
                    || (settings && has(Opt::PersistentConn))
                {
                    return usage("options conflicts in the list command");
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The options that must, may and must not go with the command.
    fn check_options(&self) -> Result<(), Error> {
        let (required, optional, exclusive) = self.cmd.options();
        let mut first_exclusive = None;
        for opt in Opt::ALL {
            if !self.opts.has(opt) {
                if required.contains(&opt) {
                    return usage(format!(
                        "You need to supply the '{}' option for the '{}' command",
                        opt.name(),
                        self.cmd.name()
                    ));
                }
                continue;
            }
            if required.contains(&opt) || optional.contains(&opt) {
                continue;
            }
            if !exclusive.contains(&opt) {
                return usage(format!(
                    "Illegal '{}' option with the '{}' command",
                    opt.name(),
                    self.cmd.name()
                ));
            }
            if let Some(first) = first_exclusive {
                return usage(format!(
                    "The option '{}' conflicts with the '{}' option in the '{}' command",
                    opt.name(),
                    Opt::name(first),
                    self.cmd.name()
                ));
            }
            first_exclusive = Some(opt);
        }
        Ok(())
    }

    /// `-a` and `-e`: the real port, the families and the tunnel options.
    fn check_destination(&mut self) -> Result<(), Error> {
        let tunnel = matches!(self.forward, ForwardMethod::Tunnel(_));
        // Tunnelled and routed packets keep their destination port: the service's.
        if self.fwmark == 0 && (tunnel || self.forward == ForwardMethod::DirectRoute) {
            self.rport = self.vport;
        }
        let real_family = self.raddr.map(Family::of);
        if real_family != self.family && !tunnel {
            return usage("Different address family is allowed only for tunneling servers");
        }
        let tunnel_opts = [
            Opt::TunType,
            Opt::TunPort,
            Opt::TunNocsum,
            Opt::TunCsum,
            Opt::TunRemcsum,
        ];
        if !tunnel && tunnel_opts.iter().any(|o| self.opts.has(*o)) {
            return usage("Tunnel options conflict with forward method");
        }
        // Per tunnel type: the port is required (gue) or refused, and one checksum option
        // at most, remote checksum offload for gue only.
        let (kind, port, csums): (&str, Option<bool>, &[Opt]) = match self.tunnel.kind {
            TunnelType::Ipip => ("ipip", None, &[]),
            TunnelType::Gue => (
                "gue",
                Some(true),
                &[Opt::TunNocsum, Opt::TunCsum, Opt::TunRemcsum],
            ),
            TunnelType::Gre => ("gre", Some(false), &[Opt::TunNocsum, Opt::TunCsum]),
        };
        let illegal = |opt: Opt| {
            usage(format!(
                "Illegal '{}' option with the '{kind}' tunnel type",
                opt.name()
            ))
        };
        match (port, self.opts.has(Opt::TunPort)) {
            (Some(true), false) => {
                return usage(format!(
                    "You need to supply the 'tun-port' option for the '{kind}' tunnel type"
                ));
            }
            (None | Some(false), true) => return illegal(Opt::TunPort),
            _ => {}
        }
        let mut first = None;
        for opt in [Opt::TunNocsum, Opt::TunCsum, Opt::TunRemcsum] {
            if !self.opts.has(opt) {
                continue;
            }
            if !csums.contains(&opt) {
                return illegal(opt);
            }
            if let Some(first) = first {
                return usage(format!(
                    "The option '{}' conflicts with the '{}' option in the '{kind}' tunnel type",
                    opt.name(),
                    Opt::name(first)
                ));
            }
            first = Some(opt);
        }
        if let ForwardMethod::Tunnel(t) = &mut self.forward {
            *t = self.tunnel;
        }
        Ok(())
    }

    /// The service the options name, if any.
    fn key(&self) -> Option<ServiceKey> {
        if self.fwmark != 0 {
            let family = self.family.unwrap_or(Family::Inet);
            return Some(ServiceKey::fwmark(family, self.fwmark));
        }
        self.vaddr.map(|ip| ServiceKey::Inet {
            protocol: self.protocol,
            addr: SocketAddr::new(ip, self.vport),
        })
    }

    /// The key of a command that needs a service (the option checks made sure it has one).
    fn need_key(&self) -> Result<ServiceKey, Error> {
        self.key().ok_or_else(|| {
            Error::Usage(format!(
                "You need to supply the 'service-address' option for the '{}' command",
                self.cmd.name()
            ))
        })
    }

    fn real(&self) -> Result<SocketAddr, Error> {
        let ip = self.raddr.ok_or_else(|| {
            Error::Usage(format!(
                "You need to supply the 'real-server' option for the '{}' command",
                self.cmd.name()
            ))
        })?;
        Ok(SocketAddr::new(ip, self.rport))
    }

    fn service(&self) -> Result<Service, Error> {
        // Names the kernel does not know (or too long for it) fail as the kernel's refusal.
        let scheduler: Scheduler = self.scheduler.parse().map_err(Error::Kernel)?;
        let mut svc = Service::new(self.need_key()?, scheduler);
        svc.flags = self.flags;
        svc.timeout = self.timeout;
        svc.netmask = self.netmask;
        svc.pe_name = self.pe.clone();
        Ok(svc)
    }

    fn destination(&self) -> Result<Destination, Error> {
        let mut d = Destination::new(self.real()?).forward(self.forward);
        d.weight = self.weight;
        d.upper_threshold = self.upper;
        d.lower_threshold = self.lower;
        Ok(d)
    }

    /// The change the line asks for, `None` for `-L`, `-S` and `-R`.
    fn command(&self) -> Result<Option<Command>, Error> {
        let command = match self.cmd {
            Cmd::AddService => Command::AddService(self.service()?),
            Cmd::EditService => Command::UpdateService(self.service()?),
            Cmd::DeleteService => Command::DeleteService(self.need_key()?),
            Cmd::AddDest => Command::AddDestination(self.need_key()?, self.destination()?),
            Cmd::EditDest => Command::UpdateDestination(self.need_key()?, self.destination()?),
            Cmd::DeleteDest => Command::DeleteDestination(self.need_key()?, self.real()?),
            Cmd::Flush => Command::Flush,
            Cmd::Zero => Command::Zero(self.key()),
            Cmd::SetTimeouts => Command::SetTimeouts(self.timeouts),
            Cmd::StartDaemon(_) => Command::StartDaemon(self.daemon.clone()),
            Cmd::StopDaemon(state) => Command::StopDaemon(state),
            Cmd::List | Cmd::Save | Cmd::Restore => return Ok(None),
        };
        // What ipvs-sys refuses before sending, the kernel would refuse.
        command.validate().map_err(Error::Kernel)?;
        Ok(Some(command))
    }
}

/// Parses and checks one command line.
fn parse(argv: &[String]) -> Result<Parsed, Error> {
    let mut scan = Scanner::new(argv);
    let Some(Ok(first)) = scan.next_option() else {
        return Err(Error::NoCommand);
    };
    let daemon_state = |illegal: &str| match first.value {
        Some("master") => Ok(DaemonState::Master),
        Some("backup") => Ok(DaemonState::Backup),
        _ => usage(illegal),
    };
    let cmd = match first.key {
        Key::Help => return Ok(Parsed::Help),
        Key::Version => return Ok(Parsed::Version),
        Key::AddService => Cmd::AddService,
        Key::EditService => Cmd::EditService,
        Key::DeleteService => Cmd::DeleteService,
        Key::AddServer => Cmd::AddDest,
        Key::EditServer => Cmd::EditDest,
        Key::DeleteServer => Cmd::DeleteDest,
        Key::Clear => Cmd::Flush,
        Key::List => Cmd::List,
        Key::Zero => Cmd::Zero,
        Key::Set => Cmd::SetTimeouts,
        Key::Restore => Cmd::Restore,
        Key::Save => Cmd::Save,
        Key::StartDaemon => {
            Cmd::StartDaemon(daemon_state("illegal start-daemon parameter specified")?)
        }
        // sic: ipvsadm's message.
        Key::StopDaemon => Cmd::StopDaemon(daemon_state("illegal start_daemon specified")?),
        _ => return Err(Error::NoCommand),
    };
    let mut line = Line::new(cmd);
    while let Some(found) = scan.next_option() {
        line.apply(&found?)?;
    }
    line.check(&scan.args)?;
    Ok(Parsed::Line(Box::new(line)))
}

// ---------------------------------------------------------------------------------------------
// Values, as ipvsadm (and the C library under it) reads them
// ---------------------------------------------------------------------------------------------

fn is_c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

/// A whole-text decimal number, as `strtol` reads it (leading white space and a sign are
/// allowed), if it is within `range`.
fn number(text: &str, range: RangeInclusive<i64>) -> Option<i64> {
    let text = text.trim_start_matches(is_c_space);
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude: i64 = digits.parse().ok()?;
    let n = if negative { -magnitude } else { magnitude };
    range.contains(&n).then_some(n)
}

/// The number at the start of the text, as `atoi` reads it (0 without one).
fn leading_int(text: &str) -> i64 {
    let text = text.trim_start_matches(is_c_space);
    let (negative, rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let n = rest
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i64, |n, d| {
            n.saturating_mul(10).saturating_add(i64::from(d - b'0'))
        });
    if negative { -n } else { n }
}

/// A timeout of `min..=31 days` seconds.
fn timeout(text: &str, min: i64) -> Result<u32, Error> {
    number(text, min..=MAX_TIMEOUT)
        .map(|t| t as u32)
        .ok_or_else(|| Error::Usage(format!("invalid timeout value `{text}' specified")))
}

/// An IPv4 address as `inet_aton` reads it: one to four parts, each decimal, octal (`0...`)
/// or hexadecimal (`0x...`), the last filling the remaining bytes (`10.1` is `10.0.0.1`).
fn inet_aton(text: &str) -> Option<Ipv4Addr> {
    // Anything after white space is ignored.
    let text = text.split(is_c_space).next()?;
    let parts = text
        .split('.')
        .map(c_unsigned)
        .collect::<Option<Vec<u64>>>()?;
    let (last, head) = parts.split_last()?;
    if head.len() > 3 || head.iter().any(|p| *p > 0xff) {
        return None;
    }
    let room = 32 - 8 * head.len() as u32;
    if *last >= 1u64 << room {
        return None;
    }
    let value = head
        .iter()
        .enumerate()
        .fold(*last, |v, (i, p)| v | p << (24 - 8 * i as u32));
    Some(Ipv4Addr::from(u32::try_from(value).ok()?))
}

/// One part of an `inet_aton` address: starts with a digit; `0x` hex, `0` octal, decimal.
fn c_unsigned(part: &str) -> Option<u64> {
    if !part.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let (digits, radix) =
        if let Some(hex) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
            (hex, 16)
        } else if part.len() > 1 && part.starts_with('0') {
            (&part[1..], 8)
        } else {
            (part, 10)
        };
    if digits.is_empty() {
        // `0x` alone reads as 0.
        return Some(0);
    }
    u64::from_str_radix(digits, radix)
        .ok()
        .filter(|v| *v <= u64::from(u32::MAX))
}

/// `ADDR`, `ADDR:PORT` (IPv4 in `inet_aton`'s forms), `IPV6` or `[IPV6]:PORT`, as ipvsadm
/// reads a service or real server.
fn parse_service(text: &str) -> Option<(IpAddr, Option<u16>)> {
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (host, bracket_port) = match text.strip_prefix('[') {
        Some(inner) => {
            let (host, tail) = inner.split_once(']')?;
            (host, Some(tail.strip_prefix(':')?))
        }
        None => (text, None),
    };
    let (ip, port) = match host.parse::<Ipv6Addr>() {
        Ok(v6) => (IpAddr::V6(v6), bracket_port),
        // An IPv4 address in brackets loses the port after them, as with ipvsadm.
        Err(_) => match host.rsplit_once(':') {
            Some((v4, port)) => (IpAddr::V4(inet_aton(v4)?), Some(port)),
            None => (IpAddr::V4(inet_aton(host)?), None),
        },
    };
    let port = match port {
        Some(text) => Some(number(text, 0..=65_535)? as u16),
        None => None,
    };
    Some((ip, port))
}

/// `-b`: comma-separated scheduler flags, the named ones only with their scheduler.
fn sched_flags(scheduler: &str, text: &str) -> Result<ServiceFlags, Error> {
    let mut flags = ServiceFlags::NONE;
    for name in text.split(',').filter(|n| !n.is_empty()) {
        let (flag, only_for) = match name {
            "flag-1" => (ServiceFlags::SCHED1, None),
            "flag-2" => (ServiceFlags::SCHED2, None),
            "flag-3" => (ServiceFlags::SCHED3, None),
            "sh-fallback" => (ServiceFlags::SH_FALLBACK, Some("sh")),
            "sh-port" => (ServiceFlags::SH_PORT, Some("sh")),
            "mh-fallback" => (ServiceFlags::MH_FALLBACK, Some("mh")),
            "mh-port" => (ServiceFlags::MH_PORT, Some("mh")),
            _ => return usage(format!("invalid scheduler flag `{name}'")),
        };
        if only_for.is_some_and(|s| s != scheduler) {
            return usage(format!("incompatible scheduler flag `{name}'"));
        }
        flags = flags | flag;
    }
    Ok(flags)
}

// ---------------------------------------------------------------------------------------------
// Listing and saving
// ---------------------------------------------------------------------------------------------

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

/// The scheduler flags as ipvsadm names them: `sh` and `mh` name their two flags, other
/// schedulers show `flag-N`. `None` when no scheduler flag is set.
fn sched_flag_names(svc: &Service) -> Option<String> {
    let all = ServiceFlags::SCHED1.0 | ServiceFlags::SCHED2.0 | ServiceFlags::SCHED3.0;
    if svc.flags.0 & all == 0 {
        return None;
    }
    let named: &[(ServiceFlags, &str)] = match svc.scheduler.name() {
        "sh" => &[
            (ServiceFlags::SH_FALLBACK, "sh-fallback"),
            (ServiceFlags::SH_PORT, "sh-port"),
        ],
        "mh" => &[
            (ServiceFlags::MH_FALLBACK, "mh-fallback"),
            (ServiceFlags::MH_PORT, "mh-port"),
        ],
        _ => &[
            (ServiceFlags::SCHED1, "flag-1"),
            (ServiceFlags::SCHED2, "flag-2"),
            (ServiceFlags::SCHED3, "flag-3"),
        ],
    };
    let names: Vec<&str> = named
        .iter()
        .filter(|(f, _)| svc.flags.contains(*f))
        .map(|(_, n)| *n)
        .collect();
    Some(names.join(","))
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

/// `--tun-info`'s column: `ipip`, `gue:6080:+c`, `gre:-c`; `n/a` when not tunnelled.
fn tunnel_info(f: ForwardMethod) -> String {
    let ForwardMethod::Tunnel(t) = f else {
        return "n/a".into();
    };
    let csum = match t.csum {
        TunnelCsum::NoCsum => "-c",
        TunnelCsum::Csum => "+c",
        TunnelCsum::RemCsum => "r+c",
    };
    match t.kind {
        TunnelType::Ipip => "ipip".into(),
        TunnelType::Gue => format!("gue:{}:{csum}", t.port),
        TunnelType::Gre => format!("gre:{csum}"),
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

fn title(view: View) -> String {
    let columns = "Prot LocalAddress:Port";
    match view {
        View::Stats => format!(
            "{columns:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n  -> RemoteAddress:Port\n",
            "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"
        ),
        View::Rate => format!(
            "{columns:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n  -> RemoteAddress:Port\n",
            "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"
        ),
        View::Thresholds => format!(
            "{columns:<33} {:<10} {:<10} {:<10} {:<10}\n  -> RemoteAddress:Port\n",
            "Uthreshold", "Lthreshold", "ActiveConn", "InActConn"
        ),
        View::PersistentConn => format!(
            "{columns:<33} {:<9} {:<11} {:<10} {:<10}\n  -> RemoteAddress:Port\n",
            "Weight", "PersistConn", "ActiveConn", "InActConn"
        ),
        View::TunInfo => format!(
            "{columns} Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    \
             Weight ActiveConn InActConn\n"
        ),
        View::Plain => format!(
            "{columns} Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight \
             ActiveConn InActConn\n"
        ),
    }
}

fn list_service(out: &mut String, line: &Line, entry: &ServiceEntry, dests: &[DestinationEntry]) {
    let svc = &entry.service;
    let view = line.view.unwrap_or(View::Plain);
    let s = &entry.stats;
    match view {
        View::Stats | View::Rate => {
            let _ = write!(out, "{:<33}", service_name(&svc.key));
            let values = if view == View::Stats {
                [s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes]
            } else {
                [s.cps, s.inpps, s.outpps, s.inbps, s.outbps]
            };
            for v in values {
                large_number(out, v, line.exact);
            }
        }
        _ => {
            let _ = write!(out, "{} {}", service_name(&svc.key), svc.scheduler);
            if let Some(flags) = sched_flag_names(svc) {
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
        let s = &e.stats;
        let _ = match view {
            View::Stats => {
                let _ = write!(out, "  -> {name:<28}");
                for v in [s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes] {
                    large_number(out, v, line.exact);
                }
                writeln!(out)
            }
            View::Rate => {
                // The packet rates are printed whole, the byte rates abbreviated.
                let _ = write!(
                    out,
                    "  -> {name:<28} {:>8} {:>8} {:>8}",
                    s.cps, s.inpps, s.outpps
                );
                large_number(out, s.inbps, line.exact);
                large_number(out, s.outbps, line.exact);
                writeln!(out)
            }
            View::Thresholds => writeln!(
                out,
                "  -> {name:<28} {:<10} {:<10} {:<10} {:<10}",
                d.upper_threshold, d.lower_threshold, e.active_conns, e.inactive_conns
            ),
            View::PersistentConn => writeln!(
                out,
                "  -> {name:<28} {:<9} {:<11} {:<10} {:<10}",
                d.weight, e.persistent_conns, e.active_conns, e.inactive_conns
            ),
            View::TunInfo => writeln!(
                out,
                "  -> {name:<28} {:<7} {:<13} {:<6} {:<10} {:<10}",
                forward_name(d.forward),
                tunnel_info(d.forward),
                d.weight,
                e.active_conns,
                e.inactive_conns
            ),
            View::Plain => writeln!(
                out,
                "  -> {name:<28} {:<7} {:<6} {:<10} {:<10}",
                forward_name(d.forward),
                d.weight,
                e.active_conns,
                e.inactive_conns
            ),
        };
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
    }
    // Saved with or without persistence.
    if let Some(pe) = &svc.pe_name {
        let _ = write!(out, " --pe {pe}");
    }
    if svc.flags.contains(ServiceFlags::ONEPACKET) {
        out.push_str(" -o");
    }
    if let Some(flags) = sched_flag_names(svc) {
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

/// `-c`: the connections of the kernel's table (`/proc/net/ip_vs_conn`, its first line a
/// header), as ipvsadm prints them; `--persistent-conn` adds the persistence engine's data.
fn list_connections(table: &str, persistent: bool) -> Result<String, Error> {
    let mut rows = table.lines();
    if rows.next().is_none() {
        let empty = std::io::Error::new(std::io::ErrorKind::InvalidData, "no header line");
        return Err(Error::Connections(empty));
    }
    let mut out = String::from("IPVS connection entries\n");
    let _ = if persistent {
        writeln!(
            out,
            "pro expire {:<11} {:<18} {:<18} {:<18} {:<16} pe_data",
            "state", "source", "virtual", "destination", "pe name"
        )
    } else {
        writeln!(
            out,
            "pro expire {:<11} {:<18} {:<18} destination",
            "state", "source", "virtual"
        )
    };
    for row in rows {
        if let Some(text) = connection(row, persistent) {
            out.push_str(&text);
        }
    }
    Ok(out)
}

/// One connection: `TCP 00:59  ESTABLISHED 10.0.0.1:40000 192.0.2.1:80 198.51.100.1:80`.
/// The kernel writes IPv4 addresses and every port in hexadecimal, IPv6 addresses in full.
fn connection(row: &str, persistent: bool) -> Option<String> {
    let f: Vec<&str> = row.split_whitespace().collect();
    let [
        proto,
        caddr,
        cport,
        vaddr,
        vport,
        daddr,
        dport,
        state,
        expires,
        ..,
    ] = f[..]
    else {
        return None;
    };
    let endpoint = |addr: &str, port: &str| -> Option<String> {
        let ip = if addr.contains(':') {
            IpAddr::V6(addr.parse().ok()?)
        } else {
            IpAddr::V4(Ipv4Addr::from(u32::from_str_radix(addr, 16).ok()?))
        };
        Some(addr_port(SocketAddr::new(
            ip,
            u16::from_str_radix(port, 16).ok()?,
        )))
    };
    let (source, virt, dest) = (
        endpoint(caddr, cport)?,
        endpoint(vaddr, vport)?,
        endpoint(daddr, dport)?,
    );
    let expires: u64 = expires.parse().ok()?;
    let expire = format!("{:02}:{:02}", expires / 60, expires % 60);
    let mut text = format!("{proto:<3} {expire:<6} {state:<11} {source:<18} {virt:<18} ");
    match f.get(9..11) {
        Some([pe, data]) if persistent => {
            let _ = writeln!(text, "{dest:<18} {pe:<16} {data}");
        }
        _ => {
            let _ = writeln!(text, "{dest}");
        }
    }
    Some(text)
}

/// `-L` and `-S`: the text ipvsadm prints.
async fn list(ipvs: &IpvsHandle, line: &Line) -> Result<String, Error> {
    let mut out = String::new();
    if line.opts.has(Opt::Connection) {
        let table = std::fs::read_to_string(PROC_CONN).map_err(Error::Connections)?;
        return list_connections(&table, line.view == Some(View::PersistentConn));
    }
    if line.opts.has(Opt::Timeout) {
        let t = ipvs.timeouts().await.map_err(Error::List)?;
        let _ = writeln!(
            out,
            "Timeout (tcp tcpfin udp): {} {} {}",
            t.tcp, t.tcp_fin, t.udp
        );
        return Ok(out);
    }
    if line.opts.has(Opt::Daemon) {
        for d in ipvs.daemons().await.map_err(Error::List)? {
            let _ = write!(
                out,
                "{} sync daemon (mcast={}, syncid={}",
                d.state, d.interface, d.sync_id
            );
            if d.max_len != 0 {
                let _ = write!(out, ", maxlen={}", d.max_len);
            }
            if let Some(group) = d.group {
                let _ = write!(out, ", group={group}");
            }
            if d.port != 0 {
                let _ = write!(out, ", port={}", d.port);
            }
            if d.ttl != 0 {
                let _ = write!(out, ", ttl={}", d.ttl);
            }
            out.push_str(")\n");
        }
        return Ok(out);
    }
    let save = line.cmd == Cmd::Save;
    let key = if save { None } else { line.key() };
    let mut services = match key {
        Some(key) => vec![ipvs.service(&key).await.map_err(Error::List)?],
        None => {
            if !save {
                let info = ipvs.info().await.map_err(Error::List)?;
                let (major, minor, patch) = info.version_triple();
                let _ = writeln!(
                    out,
                    "IP Virtual Server version {major}.{minor}.{patch} (size={})",
                    info.conn_tab_size
                );
            }
            ipvs.services().await.map_err(Error::List)?
        }
    };
    if !save {
        out.push_str(&title(line.view.unwrap_or(View::Plain)));
    }
    if !line.nosort {
        services.sort_by(|x, y| cmp_services(&x.service, &y.service));
    }
    for entry in &services {
        let mut dests = ipvs
            .destinations(&entry.service.key)
            .await
            .map_err(Error::List)?;
        if !line.nosort {
            dests.sort_by(|x, y| cmp_dests(&x.destination, &y.destination));
        }
        if save {
            save_service(&mut out, entry, &dests);
        } else {
            list_service(&mut out, line, entry, &dests);
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------------------------

/// What one line does, once parsed.
enum Step {
    Change(Command),
    Read(Box<Line>),
    Restore,
}

fn step(line: Box<Line>) -> Result<Step, Error> {
    match line.command()? {
        Some(command) => Ok(Step::Change(command)),
        None if line.cmd == Cmd::Restore => Ok(Step::Restore),
        None => Ok(Step::Read(line)),
    }
}

/// `-R`'s lines waiting to be sent: each line's command, or why it has none.
type Pending = Vec<(usize, Result<Command, Error>)>;

/// Sends the pending commands in one pipelined batch and reports the failed lines in order,
/// but the last one's error, which it returns: it is the restore's status if no line follows.
async fn flush(ipvs: &IpvsHandle, pending: &mut Pending) -> Result<Option<Error>, Error> {
    let commands: Vec<Command> = pending
        .iter()
        .filter_map(|(_, c)| c.as_ref().ok().cloned())
        .collect();
    let mut results = if commands.is_empty() {
        Vec::new().into_iter()
    } else {
        ipvs.execute_batch(&commands)
            .await
            .map_err(Error::Kernel)?
            .into_iter()
    };
    let mut last = None;
    for (line, outcome) in pending.drain(..) {
        report(last.take());
        let failed = match outcome {
            Ok(_) => results.next().and_then(Result::err).map(Error::Kernel),
            Err(e) => Some(e),
        };
        last = failed.map(|e| Error::Line {
            line,
            source: Box::new(e),
        });
    }
    Ok(last)
}

fn report(error: Option<Error>) {
    if let Some(e) = error {
        eprintln!("{e}");
    }
}

/// `-R`: runs stdin's lines as ipvsadm does (see the module's doc), changes pipelined.
async fn restore(ipvs: &IpvsHandle) -> Result<(), Error> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(Error::Stdin)?;
    let mut pending = Pending::new();
    for (index, text) in input.lines().enumerate() {
        let line = index + 1;
        let words: Vec<String> = text
            .split_whitespace()
            .filter(|w| *w != "ipvsadm")
            .map(str::to_owned)
            .collect();
        if words.is_empty() {
            continue;
        }
        let at = |e: Error| Error::Line {
            line,
            source: Box::new(e),
        };
        let outcome = match parse(&words) {
            Ok(Parsed::Line(parsed)) => step(parsed),
            Ok(info) => {
                // ipvsadm prints its usage or version and exits 0.
                report(flush(ipvs, &mut pending).await?);
                print_info(&info);
                return Ok(());
            }
            Err(e) => Err(e),
        };
        match outcome {
            Ok(Step::Change(command)) => pending.push((line, Ok(command))),
            Err(e) if !e.ends_restore() => pending.push((line, Err(e))),
            Err(e) => {
                report(flush(ipvs, &mut pending).await?);
                return Err(at(e));
            }
            // ipvsadm refuses to restore from within a restore.
            Ok(Step::Restore) => {
                report(flush(ipvs, &mut pending).await?);
                return Err(at(Error::NoCommand));
            }
            Ok(Step::Read(parsed)) => {
                report(flush(ipvs, &mut pending).await?);
                print!("{}", list(ipvs, &parsed).await.map_err(at)?);
            }
        }
    }
    match flush(ipvs, &mut pending).await? {
        Some(last) => Err(last),
        None => Ok(()),
    }
}

/// `-h` and `-v`.
fn print_info(parsed: &Parsed) {
    match parsed {
        Parsed::Help => print!("{HELP}"),
        Parsed::Version => println!(
            "ipvsadm (ipvs-sys example) {}, after ipvsadm v1.31",
            env!("CARGO_PKG_VERSION")
        ),
        Parsed::Line(_) => {}
    }
}

async fn run(argv: &[String]) -> Result<(), Error> {
    // No arguments: ipvsadm lists the table.
    let parsed = if argv.is_empty() {
        Ok(Parsed::Line(Box::new(Line::new(Cmd::List))))
    } else {
        parse(argv)
    };
    if let Ok(info @ (Parsed::Help | Parsed::Version)) = &parsed {
        print_info(info);
        return Ok(());
    }
    // Like ipvsadm, IPVS first, then the command line.
    let ipvs = IpvsHandle::new().await.map_err(Error::Init)?;
    let Parsed::Line(line) = parsed? else {
        return Ok(());
    };
    match step(line)? {
        Step::Change(command) => ipvs.execute(&command).await.map_err(Error::Kernel),
        Step::Read(line) => {
            print!("{}", list(&ipvs, &line).await?);
            Ok(())
        }
        Step::Restore => restore(&ipvs).await,
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    examples::init_tracing();
    // Bytes that are not UTF-8 cannot make a valid option or value: they fail as such.
    let argv: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    match run(&argv).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(e.exit_status())
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn argv(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    fn line(text: &str) -> Line {
        match parse(&argv(text)) {
            Ok(Parsed::Line(line)) => *line,
            other => panic!("{text}: {other:?}"),
        }
    }

    /// The exit status ipvsadm gives a line that fails before reaching the kernel.
    fn status(text: &str) -> u8 {
        match parse(&argv(text)).and_then(|p| match p {
            Parsed::Line(line) => line.command().map(|_| ()),
            _ => Ok(()),
        }) {
            Ok(()) => 0,
            Err(e) => e.exit_status(),
        }
    }

    #[test]
    fn options_are_read_as_popt_reads_them() {
        let l = line("-Lnt 192.0.2.1:80 --stats");
        assert_eq!(l.cmd, Cmd::List);
        assert!(l.opts.has(Opt::Numeric));
        assert_eq!(l.key().unwrap().to_string(), "tcp 192.0.2.1:80");
        assert_eq!(l.view, Some(View::Stats));

        let l = line("--add-server --tcp-service=192.0.2.1:80 -r198.51.100.1 -mw7");
        assert_eq!(
            (l.cmd, l.weight, l.forward),
            (Cmd::AddDest, 7, ForwardMethod::Masquerade)
        );
        assert_eq!(l.real().unwrap(), "198.51.100.1:80".parse().unwrap());

        // -p's timeout is optional: an argument starting with '-' is the next option.
        assert_eq!(
            line("-A -t 192.0.2.1:80 -p -s rr").timeout,
            DEFAULT_PERSISTENCE
        );
        assert_eq!(line("-A -t 192.0.2.1:80 -p60").timeout, 60);
        assert_eq!(line("-A -t 192.0.2.1:80 -p 61").timeout, 61);
        // A required value is taken even when it starts with '-'.
        assert!(matches!(
            parse(&argv("-a -t 192.0.2.1:80 -r 198.51.100.1 -w -1")),
            Err(Error::Usage(m)) if m == "illegal weight specified"
        ));
        // --set's values may stand anywhere; after `--` everything is a value.
        assert_eq!(line("1 --set 2 3").timeouts.udp, 3);
        assert_eq!(line("--set -- 4 5 6").timeouts.tcp, 4);
    }

    #[test]
    fn failures_have_ipvsadm_statuses() {
        // The option parser, or no command first.
        for text in [
            "-A -t 192.0.2.1:80 -w",
            "-L --bogus",
            "-L --numeric=5",
            "-Lq",
        ] {
            assert_eq!(status(text), 255, "{text}");
        }
        for text in [
            "--bogus",
            "-t 192.0.2.1:80",
            "-n -L",
            "192.0.2.1",
            "--start-daemon",
        ] {
            assert!(
                matches!(parse(&argv(text)), Err(Error::NoCommand)),
                "{text}"
            );
        }
        // ipvsadm's own checks.
        for text in [
            "-A -s rr",
            "-A -t 999.0.2.1:80",
            "-A -t 192.0.2.1",
            "-A -A -t 192.0.2.1:80",
            "-A -t 192.0.2.1:80 -n",
            "-a -t 192.0.2.1:80",
            "-a -t 192.0.2.1:80 -r 2001:db8::1 -m",
            "-a -t 192.0.2.1:80 -r 198.51.100.1 -i --tun-type gue",
            "-a -t 192.0.2.1:80 -r 198.51.100.1 -i --tun-type gre --tun-remcsum",
            "-L -n --stats --timeout",
            "-L -c --daemon",
            "--set 1 2",
            "--start-daemon master --syncid 256",
            "--stop-daemon nosuch",
            "-A -6 -f 1",
        ] {
            assert_eq!(status(text), 2, "{text}");
        }
        // What the kernel would refuse is refused as the kernel's refusal.
        assert_eq!(status("-A -t 192.0.2.1:80 -s r-r"), 255);
        assert_eq!(status("-a -t 192.0.2.1:80 -r 198.51.100.1 -x 5 -y 10"), 255);
        // Accepted: ipvsadm 1.31 takes any int weight.
        assert_eq!(
            status("-a -t 192.0.2.1:80 -r 198.51.100.1 -w 2147483647"),
            0
        );
        assert_eq!(
            status("-a -t 192.0.2.1:80 -r 198.51.100.1 -w 2147483648"),
            2
        );
        assert_eq!(status("-A -t 192.0.2.1 -p"), 0);
    }

    #[test]
    fn numbers_and_addresses_are_read_as_the_c_library_reads_them() {
        assert_eq!(number(" +80", 0..=65_535), Some(80));
        assert_eq!(number("080", 0..=65_535), Some(80));
        assert_eq!(number("0x10", 0..=65_535), None);
        assert_eq!(number("65536", 0..=65_535), None);
        assert_eq!(leading_int("64abc"), 64);
        assert_eq!(leading_int("abc"), 0);
        assert_eq!(inet_aton("10.2"), Some(Ipv4Addr::new(10, 0, 0, 2)));
        assert_eq!(inet_aton("0xc0000201"), Some(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(inet_aton("255.255.0"), Some(Ipv4Addr::new(255, 255, 0, 0)));
        assert_eq!(inet_aton("010.0.0.1"), Some(Ipv4Addr::new(8, 0, 0, 1)));
        assert_eq!(inet_aton("24"), Some(Ipv4Addr::new(0, 0, 0, 24)));
        for bad in ["", "300.0.0.0", "1.2.3.4.5", "1..2", "08.0.0.1", "a.b.c.d"] {
            assert_eq!(inet_aton(bad), None, "{bad}");
        }
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(parse_service("[2001:db8::1]:443"), Some((v6, Some(443))));
        assert_eq!(parse_service("2001:db8::1"), Some((v6, None)));
        assert_eq!(parse_service("[2001:db8::1]"), None);
        assert_eq!(parse_service("1234"), None);
        assert_eq!(
            parse_service("192.0.2.1:80"),
            Some((IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), Some(80)))
        );
        assert_eq!(parse_service("192.0.2.1:"), None);
    }

    #[test]
    fn connections_are_listed_as_ipvsadm_lists_them() {
        let table = "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n\
            TCP C6336401 9C40 C0000201 0050 C6336402 1F90 ESTABLISHED     899\n\
            UDP 2001:0db8:0000:0000:0000:0000:0000:0001 0035 2001:0db8:0000:0000:0000:0000:0000:0010 \
            0035 C6336403 0035 UDP              61 sip 1234@x\n";
        let out = list_connections(table, false).unwrap();
        assert_eq!(
            out,
            "IPVS connection entries\n\
             pro expire state       source             virtual            destination\n\
             TCP 14:59  ESTABLISHED 198.51.100.1:40000 192.0.2.1:80       198.51.100.2:8080\n\
             UDP 01:01  UDP         [2001:db8::1]:53   [2001:db8::10]:53  198.51.100.3:53\n"
        );
        let out = list_connections(table, true).unwrap();
        assert!(
            out.ends_with("198.51.100.3:53    sip              1234@x\n"),
            "{out}"
        );
        assert!(matches!(
            list_connections("", false),
            Err(Error::Connections(_))
        ));
    }

    #[test]
    fn scheduler_flags_go_with_their_scheduler() {
        let sh = ServiceFlags::SH_FALLBACK | ServiceFlags::SH_PORT;
        assert_eq!(sched_flags("sh", "sh-fallback,sh-port").unwrap(), sh);
        assert!(sched_flags("rr", "sh-port").is_err());
        assert_eq!(sched_flags("rr", "flag-3,,").unwrap(), ServiceFlags::SCHED3);
        // Without -s the default scheduler, wlc, is the one checked.
        assert_eq!(status("-A -u 192.0.2.1:53 -b mh-port"), 2);
    }
}
