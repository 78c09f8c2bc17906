//! What an address carries besides its identity: keepalived's per-address options
//! (`brd`, `peer`, `-nodad`, `noprefixroute`, `home`, `mngtmpaddr`, `autojoin`,
//! `preferred_lft`, `no_track`).

use std::net::{IpAddr, Ipv4Addr};

/// Per-address options, all off by default (what `ip addr add ADDR dev DEV` gives, except
/// that IPv6 addresses skip duplicate address detection unless [`VipOptions::dad`] asks for
/// it, and that no broadcast address is derived: keepalived sets one only when told).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct VipOptions {
    /// IPv4 broadcast address (IFA_BROADCAST); `None`: none.
    pub broadcast: Option<Ipv4Addr>,
    /// Point-to-point peer (IFA_ADDRESS, the address itself going in IFA_LOCAL); the
    /// address's prefix length is then the peer's.
    pub peer: Option<IpAddr>,
    /// IPv6 duplicate address detection (keepalived's `-nodad`); off (IFA_F_NODAD) by default.
    pub dad: bool,
    /// IFA_F_NOPREFIXROUTE: the kernel adds no prefix route for the address.
    pub noprefixroute: bool,
    /// IFA_F_HOMEADDRESS (mobile IPv6 home address).
    pub home: bool,
    /// IFA_F_MANAGETEMPADDR (IPv6 privacy addresses from this prefix).
    pub mngtmpaddr: bool,
    /// IFA_F_MCAUTOJOIN (join the multicast group of a multicast address).
    pub autojoin: bool,
    /// IPv6 preferred lifetime in seconds (IFA_CACHEINFO, valid lifetime forever); `Some(0)`
    /// installs the address deprecated, so it is not picked as a source address. `None`:
    /// forever (no IFA_CACHEINFO). Ignored for IPv4, as keepalived does.
    pub preferred_lft: Option<u32>,
    /// keepalived's `no_track`: the address being removed by someone else, or its interface
    /// going down, does not concern the owning instance (no fault, not put back).
    pub no_track: bool,
}

impl VipOptions {
    /// No options (see the type's description).
    pub fn new() -> Self {
        Self::default()
    }

    /// With IPv4 broadcast address `broadcast`.
    pub fn broadcast(mut self, broadcast: Ipv4Addr) -> Self {
        self.broadcast = Some(broadcast);
        self
    }

    /// With point-to-point peer `peer`.
    pub fn peer(mut self, peer: IpAddr) -> Self {
        self.peer = Some(peer);
        self
    }

    /// With (`true`) or without IPv6 duplicate address detection.
    pub fn dad(mut self, dad: bool) -> Self {
        self.dad = dad;
        self
    }

    /// With or without IFA_F_NOPREFIXROUTE.
    pub fn noprefixroute(mut self, on: bool) -> Self {
        self.noprefixroute = on;
        self
    }

    /// With or without IFA_F_HOMEADDRESS.
    pub fn home(mut self, on: bool) -> Self {
        self.home = on;
        self
    }

    /// With or without IFA_F_MANAGETEMPADDR.
    pub fn mngtmpaddr(mut self, on: bool) -> Self {
        self.mngtmpaddr = on;
        self
    }

    /// With or without IFA_F_MCAUTOJOIN.
    pub fn autojoin(mut self, on: bool) -> Self {
        self.autojoin = on;
        self
    }

    /// With IPv6 preferred lifetime `seconds` (`None`: forever).
    pub fn preferred_lft(mut self, seconds: Option<u32>) -> Self {
        self.preferred_lft = seconds;
        self
    }

    /// Not tracked (`true`): see [`VipOptions::no_track`].
    pub fn no_track(mut self, on: bool) -> Self {
        self.no_track = on;
        self
    }
}
