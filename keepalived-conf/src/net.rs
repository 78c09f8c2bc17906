//! The routing part of a keepalived.conf: `virtual_routes` / `static_routes` lines and
//! `virtual_rules` / `static_rules` lines, typed. Kernel numbers are kept as keepalived
//! writes them to netlink (`rtm_type`, `rtm_scope`, `rtm_protocol`, table ids).

use std::net::IpAddr;

use super::error::Location;

/// RTN_UNICAST, the default route type.
pub const RTN_UNICAST: u8 = 1;
/// RTPROT_KEEPALIVED: the protocol of tracked routes and rules.
pub const RTPROT_KEEPALIVED: u8 = 18;
/// RT_TABLE_MAIN, the default table.
pub const RT_TABLE_MAIN: u32 = 254;

/// One route line, as keepalived 2.2.7 reads it (`alloc_route`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RouteSpec {
    /// The destination (`default`/`any`/`all`: the family's unspecified address, length 0).
    pub destination: IpAddr,
    /// The destination's prefix length.
    pub prefix_len: u8,
    /// `from PREFIX` (IPv6 source-specific routing).
    pub from: Option<(IpAddr, u8)>,
    /// `src ADDR` (preferred source).
    pub src: Option<IpAddr>,
    /// `via ADDR` / `gw ADDR`.
    pub via: Option<IpAddr>,
    /// `dev IFNAME` / `oif IFNAME`.
    pub dev: Option<String>,
    /// `table ID` (default main, 254).
    pub table: u32,
    /// `metric N` / `priority N` / `preference N`.
    pub metric: Option<u32>,
    /// `scope SCOPE` as `rtm_scope` (default 0, global).
    pub scope: u8,
    /// `protocol PROTO` as `rtm_protocol`; tracked routes are always 18 (keepalived).
    pub protocol: u8,
    /// The route type written before the destination (`blackhole 192.0.2.0/24`) as
    /// `rtm_type` (default 1, unicast).
    pub kind: u8,
    /// `tos TOS` / `dsfield TOS`.
    pub tos: u8,
    /// `no_track`, or a route without `dev` (keepalived cannot track those).
    pub no_track: bool,
    /// Where it is written.
    pub loc: Location,
}

/// What a rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuleActionSpec {
    /// `table ID` / `lookup ID`.
    Table(u32),
    /// `goto PREF`.
    Goto(u32),
    /// `nop`.
    Nop,
    /// `blackhole`.
    Blackhole,
    /// `unreachable`.
    Unreachable,
    /// `prohibit`.
    Prohibit,
}

/// One rule line, as keepalived 2.2.7 reads it (`alloc_rule`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuleSpec {
    /// IPv6 (`inet6`, or IPv6 addresses); IPv4 otherwise.
    pub ipv6: bool,
    /// `preference` / `priority` / `order`; without one, keepalived's own: 16384 for the
    /// first such rule of a family, then one less each time (with a warning).
    pub priority: u32,
    /// What the rule does.
    pub action: RuleActionSpec,
    /// `from PREFIX`.
    pub from: Option<(IpAddr, u8)>,
    /// `to PREFIX`.
    pub to: Option<(IpAddr, u8)>,
    /// `iif IFNAME` / `dev IFNAME`.
    pub iif: Option<String>,
    /// `oif IFNAME`.
    pub oif: Option<String>,
    /// `fwmark MARK[/MASK]`: the mark.
    pub fwmark: Option<u32>,
    /// `fwmark MARK/MASK`: the mask.
    pub fwmask: Option<u32>,
    /// `tos TOS` / `dsfield TOS`.
    pub tos: u8,
    /// `not`.
    pub invert: bool,
    /// `protocol N`; tracked rules are always 18 (keepalived).
    pub protocol: Option<u8>,
    /// `no_track`.
    pub no_track: bool,
    /// Where it is written.
    pub loc: Location,
}
