//! One route: destination, where it goes, and the kernel's attributes of it.

use std::fmt;
use std::net::IpAddr;

use crate::vip::VipScope;

use super::{PROTOCOL_KEEPALIVED, TABLE_MAIN};

/// What a route does with matching packets (`rtm_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum RouteKind {
    /// A gateway or direct route (RTN_UNICAST).
    #[default]
    Unicast,
    /// A local address (RTN_LOCAL).
    Local,
    /// A broadcast destination (RTN_BROADCAST).
    Broadcast,
    /// A local anycast address (RTN_ANYCAST).
    Anycast,
    /// A multicast route (RTN_MULTICAST).
    Multicast,
    /// Dropped silently (RTN_BLACKHOLE).
    Blackhole,
    /// Dropped with "host unreachable" (RTN_UNREACHABLE).
    Unreachable,
    /// Dropped with "administratively prohibited" (RTN_PROHIBIT).
    Prohibit,
    /// Lookup continues in the next rule's table (RTN_THROW).
    Throw,
}

impl RouteKind {
    /// `ip route`'s name of the type (`blackhole`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Unicast => "unicast",
            Self::Local => "local",
            Self::Broadcast => "broadcast",
            Self::Anycast => "anycast",
            Self::Multicast => "multicast",
            Self::Blackhole => "blackhole",
            Self::Unreachable => "unreachable",
            Self::Prohibit => "prohibit",
            Self::Throw => "throw",
        }
    }

    /// Parses `ip route`'s type names.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::Unicast,
            Self::Local,
            Self::Broadcast,
            Self::Anycast,
            Self::Multicast,
            Self::Blackhole,
            Self::Unreachable,
            Self::Prohibit,
            Self::Throw,
        ]
        .into_iter()
        .find(|k| k.name() == name)
    }
}

/// One route, as keepalived installs it: protocol `keepalived` (18) and scope global unless
/// told otherwise, in the main table by default.
///
/// Built with [`Route::new`] and the chainable setters; the fields stay readable.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Route {
    /// The destination (its family is the route's).
    pub destination: IpAddr,
    /// The destination's prefix length (0: default route).
    pub prefix_len: u8,
    /// IPv6 source prefix (`ip route ... from PREFIX`, RTA_SRC).
    pub source: Option<(IpAddr, u8)>,
    /// Preferred source address (`src`, RTA_PREFSRC).
    pub pref_src: Option<IpAddr>,
    /// Gateway (`via`, RTA_GATEWAY).
    pub gateway: Option<IpAddr>,
    /// Output interface index (`dev`, RTA_OIF).
    pub oif: Option<u32>,
    /// Routing table (default [`TABLE_MAIN`]).
    pub table: u32,
    /// Metric (`metric`, RTA_PRIORITY); `None`: the kernel's default.
    pub metric: Option<u32>,
    /// Scope (default global).
    pub scope: VipScope,
    /// `rtm_protocol` (default [`PROTOCOL_KEEPALIVED`]).
    pub protocol: u8,
    /// Type (default unicast).
    pub kind: RouteKind,
    /// TOS / DS field to match (IPv4).
    pub tos: u8,
}

impl Route {
    /// A unicast route to `destination`/`prefix_len` in the main table, protocol keepalived.
    pub fn new(destination: IpAddr, prefix_len: u8) -> Self {
        Self {
            destination,
            prefix_len,
            source: None,
            pref_src: None,
            gateway: None,
            oif: None,
            table: TABLE_MAIN,
            metric: None,
            scope: VipScope::Global,
            protocol: PROTOCOL_KEEPALIVED,
            kind: RouteKind::Unicast,
            tos: 0,
        }
    }

    /// With IPv6 source prefix `addr`/`prefix_len`.
    pub fn source(mut self, addr: IpAddr, prefix_len: u8) -> Self {
        self.source = Some((addr, prefix_len));
        self
    }

    /// With preferred source address `addr`.
    pub fn pref_src(mut self, addr: IpAddr) -> Self {
        self.pref_src = Some(addr);
        self
    }

    /// Through gateway `addr`.
    pub fn gateway(mut self, addr: IpAddr) -> Self {
        self.gateway = Some(addr);
        self
    }

    /// Out of interface index `ifindex`.
    pub fn oif(mut self, ifindex: u32) -> Self {
        self.oif = Some(ifindex);
        self
    }

    /// In table `table`.
    pub fn table(mut self, table: u32) -> Self {
        self.table = table;
        self
    }

    /// With metric `metric`.
    pub fn metric(mut self, metric: u32) -> Self {
        self.metric = Some(metric);
        self
    }

    /// With scope `scope`.
    pub fn scope(mut self, scope: VipScope) -> Self {
        self.scope = scope;
        self
    }

    /// With `rtm_protocol` `protocol`.
    pub fn protocol(mut self, protocol: u8) -> Self {
        self.protocol = protocol;
        self
    }

    /// Of type `kind`.
    pub fn kind(mut self, kind: RouteKind) -> Self {
        self.kind = kind;
        self
    }

    /// Matching TOS `tos`.
    pub fn tos(mut self, tos: u8) -> Self {
        self.tos = tos;
        self
    }
}

/// `ip route`'s form: `blackhole 192.0.2.0/24 via 192.0.2.1 dev #3 table 100 metric 5`.
impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kind != RouteKind::Unicast {
            write!(f, "{} ", self.kind.name())?;
        }
        write!(f, "{}/{}", self.destination, self.prefix_len)?;
        if let Some((addr, len)) = self.source {
            write!(f, " from {addr}/{len}")?;
        }
        if let Some(gw) = self.gateway {
            write!(f, " via {gw}")?;
        }
        if let Some(oif) = self.oif {
            write!(f, " dev #{oif}")?;
        }
        if let Some(src) = self.pref_src {
            write!(f, " src {src}")?;
        }
        if self.table != TABLE_MAIN {
            write!(f, " table {}", self.table)?;
        }
        if let Some(metric) = self.metric {
            write!(f, " metric {metric}")?;
        }
        Ok(())
    }
}
