//! The health-checking (LVS) part of a keepalived.conf, typed: `virtual_server`,
//! `virtual_server_group`, `real_server`, their checkers and `track_file`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use super::error::Location;
use super::model::ScriptCommand;

/// What a `virtual_server` line names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VsAddress {
    /// `virtual_server IP PORT`.
    Inet(SocketAddr),
    /// `virtual_server fwmark N`.
    Fwmark(u32),
    /// `virtual_server group NAME`.
    Group(String),
}

/// `lb_kind`: how IPVS forwards to the real servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LbKind {
    /// `NAT` (masquerading, keepalived's default).
    Nat,
    /// `DR` (direct routing).
    Dr,
    /// `TUN` (IP-in-IP tunnelling).
    Tun,
}

/// `type` of `lb_kind TUN` / `lvs_method TUN`: the encapsulation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TunnelType {
    /// `ipip` (the default).
    #[default]
    Ipip,
    /// `gue`: generic UDP encapsulation, to [`Tunnel::port`].
    Gue,
    /// `gre`.
    Gre,
}

/// `nocsum` (the default), `csum` or `remcsum` of `lb_kind TUN`: checksums of GUE and GRE
/// tunnels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TunnelCsum {
    /// `nocsum`.
    #[default]
    NoCsum,
    /// `csum`.
    Csum,
    /// `remcsum` (GUE only).
    RemCsum,
}

/// The options after `lb_kind TUN` / `lvs_method TUN`: `type ipip|gue|gre`, `port N` (GUE
/// only, and required there), `nocsum|csum|remcsum`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Tunnel {
    /// `type`.
    pub kind: TunnelType,
    /// `port` (0 unless GUE).
    pub port: u16,
    /// The checksum option.
    pub csum: TunnelCsum,
}

/// A forwarding method with its tunnel options (meaningful with [`LbKind::Tun`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct LvsMethod {
    /// NAT, DR or TUN.
    pub kind: LbKind,
    /// The tunnel options (defaults unless `kind` is TUN).
    pub tunnel: Tunnel,
}

/// `persistence_granularity`: which client addresses share a persistent connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    /// An IPv4 netmask (`255.255.255.0`).
    Netmask(Ipv4Addr),
    /// An IPv6 prefix length (1..=128).
    Prefix(u8),
}

/// `protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `TCP` (the default).
    Tcp,
    /// `UDP`.
    Udp,
    /// `SCTP`.
    Sctp,
}

impl Protocol {
    /// The lowercase name keepalived prints in notifications (`tcp`).
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        }
    }
}

/// Checker timing, given at the virtual server, real server or checker level; the most
/// specific level that sets a value wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckTiming {
    /// `delay_loop`: time between probes.
    pub delay_loop: Option<Duration>,
    /// `retry`: extra probes before declaring a failure.
    pub retry: Option<u32>,
    /// `delay_before_retry`.
    pub delay_before_retry: Option<Duration>,
    /// `warmup`: the first probe starts at a random time within it.
    pub warmup: Option<Duration>,
    /// `connect_timeout`.
    pub connect_timeout: Option<Duration>,
}

impl CheckTiming {
    /// Each value of `self`, else the one of `outer`.
    pub fn or(&self, outer: &CheckTiming) -> CheckTiming {
        CheckTiming {
            delay_loop: self.delay_loop.or(outer.delay_loop),
            retry: self.retry.or(outer.retry),
            delay_before_retry: self.delay_before_retry.or(outer.delay_before_retry),
            warmup: self.warmup.or(outer.warmup),
            connect_timeout: self.connect_timeout.or(outer.connect_timeout),
        }
    }
}

/// A `virtual_server` block.
#[derive(Debug, Clone, PartialEq)]
pub struct VirtualServer {
    /// Where the block starts.
    pub loc: Location,
    /// Its address, firewall mark or group.
    pub addr: VsAddress,
    /// `lb_algo` (default `wlc`; `lvs_sched` is the same).
    pub lb_algo: String,
    /// `lb_kind` (default NAT; `lvs_method` is the same).
    pub lb_kind: LbKind,
    /// The tunnel options given with `lb_kind TUN` (inherited by the real servers without
    /// their own `lvs_method`).
    pub tunnel: Tunnel,
    /// `protocol` (default TCP).
    pub protocol: Protocol,
    /// `persistence_timeout` in seconds (360 when only `persistence_granularity` is given).
    pub persistence_timeout: Option<u32>,
    /// `persistence_granularity`.
    pub persistence_granularity: Option<Granularity>,
    /// `ops`: one-packet scheduling (UDP services, or firewall marks).
    pub ops: bool,
    /// `ha_suspend`: keepalived suspends the checkers while the address is not local.
    pub ha_suspend: bool,
    /// `quorum` (default 1).
    pub quorum: u32,
    /// `hysteresis` (default 0).
    pub hysteresis: u32,
    /// `quorum_up CMD [USER [GROUP]]`.
    pub quorum_up: Option<ScriptCommand>,
    /// `quorum_down CMD [USER [GROUP]]`.
    pub quorum_down: Option<ScriptCommand>,
    /// `sorry_server IP PORT`.
    pub sorry_server: Option<SocketAddr>,
    /// `alpha`: real servers start down until their first successful check.
    pub alpha: bool,
    /// `omega`: run `quorum_down` when the virtual server is removed.
    pub omega: bool,
    /// `inhibit_on_failure`: failed real servers stay with weight 0.
    pub inhibit_on_failure: bool,
    /// Timing inherited by every checker.
    pub timing: CheckTiming,
    /// `real_server` blocks, in file order.
    pub real_servers: Vec<RealServer>,
}

impl VirtualServer {
    /// The virtual server's `lb_kind` with its tunnel options.
    pub fn lvs_method(&self) -> LvsMethod {
        LvsMethod {
            kind: self.lb_kind,
            tunnel: self.tunnel,
        }
    }

    /// How real server `rs` is forwarded to: its own `lvs_method`, else the virtual
    /// server's.
    pub fn method_of(&self, rs: &RealServer) -> LvsMethod {
        rs.lvs_method.unwrap_or_else(|| self.lvs_method())
    }
}

/// A `real_server` block.
#[derive(Debug, Clone, PartialEq)]
pub struct RealServer {
    /// Where the block starts.
    pub loc: Location,
    /// Address and port.
    pub addr: SocketAddr,
    /// `weight` (default 1).
    pub weight: u32,
    /// `lvs_method` given on the real server (else the virtual server's applies).
    pub lvs_method: Option<LvsMethod>,
    /// `uthreshold`: IPVS's upper connection threshold (0: none).
    pub uthreshold: u32,
    /// `lthreshold`: IPVS's lower connection threshold (0: none).
    pub lthreshold: u32,
    /// `inhibit_on_failure` given on the real server.
    pub inhibit_on_failure: Option<bool>,
    /// `notify_up CMD [USER [GROUP]]`.
    pub notify_up: Option<ScriptCommand>,
    /// `notify_down CMD [USER [GROUP]]`.
    pub notify_down: Option<ScriptCommand>,
    /// Timing inherited by its checkers.
    pub timing: CheckTiming,
    /// The checkers; all must pass for the server to be up (none: always up).
    pub checkers: Vec<Checker>,
}

/// One checker block of a real server.
#[derive(Debug, Clone, PartialEq)]
pub struct Checker {
    /// Where the block starts.
    pub loc: Location,
    /// `connect_ip` (default: the real server's address).
    pub connect_ip: Option<IpAddr>,
    /// `connect_port` (default: the real server's port).
    pub connect_port: Option<u16>,
    /// `bind_to` source address.
    pub bind_to: Option<IpAddr>,
    /// `bind_port` source port.
    pub bind_port: Option<u16>,
    /// Timing given in the checker block.
    pub timing: CheckTiming,
    /// The checker and its own options.
    pub kind: CheckerKind,
    /// `user USER [GROUP]` (`MISC_CHECK` only): who runs `misc_path`.
    pub user: Option<super::model::ScriptUser>,
}

/// `url { ... }` of `HTTP_GET` / `SSL_GET`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlSpec {
    /// Where the block starts.
    pub loc: Location,
    /// `path`.
    pub path: String,
    /// `digest`: MD5 of the body, 32 hex digits.
    pub digest: Option<String>,
    /// `status_code`: accepted codes and ranges (default 200-299).
    pub status: Vec<(u16, u16)>,
    /// `regex`.
    pub regex: Option<String>,
}

/// `http_protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpProtocol {
    /// `1.0`.
    Http10,
    /// `1.0C` (1.0 with `Connection: close`).
    Http10Close,
    /// `1.1` (the default).
    Http11,
}

/// The checker kinds keepalived has, with their options.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckerKind {
    /// `TCP_CHECK`.
    Tcp,
    /// `HTTP_GET` or, with `tls`, `SSL_GET`.
    Http {
        /// `SSL_GET`.
        tls: bool,
        /// `url` blocks.
        urls: Vec<UrlSpec>,
        /// `virtualhost`.
        virtualhost: Option<String>,
        /// `http_protocol`.
        protocol: HttpProtocol,
        /// `enable_sni`.
        enable_sni: bool,
    },
    /// `SMTP_CHECK`.
    Smtp {
        /// `helo_name` (default the local host name; here `localhost`).
        helo_name: String,
    },
    /// `DNS_CHECK`.
    Dns {
        /// `type` (default SOA).
        qtype: String,
        /// `name` (default `.`).
        name: String,
    },
    /// `UDP_CHECK`.
    Udp {
        /// `payload` bytes (default empty).
        payload: Vec<u8>,
        /// `require_reply [HEX]`: `Some(pattern)` requires a reply matching it.
        require_reply: Option<String>,
        /// `min_reply_length` (default 0).
        min_reply_length: usize,
        /// `max_reply_length` (default unbounded).
        max_reply_length: usize,
    },
    /// `PING_CHECK`.
    Ping,
    /// `MISC_CHECK`.
    Misc {
        /// `misc_path`: the command line.
        path: Vec<String>,
        /// `misc_timeout`.
        timeout: Option<Duration>,
        /// `misc_dynamic`: exit status 2..255 sets the weight to status - 2.
        dynamic: bool,
    },
    /// `FILE_CHECK`.
    File {
        /// `track_file NAME`, resolved to the tracked file's path.
        track_file: String,
        /// The file's path (from the top-level `track_file` block).
        path: PathBuf,
        /// The multiplier: `weight W [reverse]` here, else the `track_file` block's.
        weight: i64,
    },
}

/// A top-level `track_file NAME { file PATH; weight W [reverse] }` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackFile {
    /// The block's name.
    pub name: String,
    /// Where the block starts.
    pub loc: Location,
    /// `file`.
    pub path: PathBuf,
    /// `weight W [reverse]` (default 1).
    pub weight: i64,
    /// `weight W reverse` was written (`weight` is then `-W`): VRRP instances need it for
    /// a weight of 0 (reversed: a fault when the value is 0) and when they give their own
    /// weight.
    pub reverse: bool,
    /// `init_file [VALUE] [overwrite]`.
    pub init: Option<crate::tracking::TrackFileInit>,
}

/// A `virtual_server_group NAME { ... }` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VsGroup {
    /// The block's name.
    pub name: String,
    /// Where the block starts.
    pub loc: Location,
    /// `IP PORT` members (`IP-LASTOCTET PORT` ranges expanded).
    pub addrs: Vec<SocketAddr>,
    /// `fwmark N` members.
    pub fwmarks: Vec<u32>,
}
