//! What a unicast router accepts on receipt: the TTL / Hop Limit rule and the source check.
//!
//! RFC 9568 §7.1 requires TTL / Hop Limit 255 on every advert, so a router never hears one
//! from beyond its link. keepalived relaxes this for unicast instances: it checks nothing
//! unless `check_unicast_src` is set, and then only that the source is a configured
//! `unicast_peer` and that the TTL lies in that peer's `min_ttl`..`max_ttl` (0..255 by
//! default). keepalived 2.2.7 itself sends IPv6 unicast adverts with the kernel's default hop
//! limit (64), so a router that insists on 255 never hears a keepalived master over IPv6
//! unicast. [`UnicastReceive`] states each of these rules as data; the profiles of
//! [`crate::config::Profile`] pick the RFC rule or keepalived's.

use core::net::IpAddr;
use core::ops::RangeInclusive;

/// An inclusive range of accepted TTL / Hop Limit values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TtlRange {
    /// Lowest accepted value.
    pub min: u8,
    /// Highest accepted value.
    pub max: u8,
}

impl TtlRange {
    /// RFC 9568 §7.1: exactly 255.
    pub const RFC: TtlRange = TtlRange { min: 255, max: 255 };
    /// Any value (keepalived's unicast default, and its per-peer default `0`..`255`).
    pub const ANY: TtlRange = TtlRange { min: 0, max: 255 };

    /// The range `min..=max`; `None` when `min > max`.
    pub fn new(min: u8, max: u8) -> Option<Self> {
        (min <= max).then_some(TtlRange { min, max })
    }

    /// Whether `ttl` lies in the range.
    pub fn contains(&self, ttl: u8) -> bool {
        RangeInclusive::new(self.min, self.max).contains(&ttl)
    }
}

/// A configured unicast peer and, optionally, the TTL range accepted from it (keepalived's
/// `unicast_peer { ADDR min_ttl N max_ttl M }`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UnicastPeer {
    /// The peer's address (the IP source of its adverts).
    pub address: IpAddr,
    /// TTL / Hop Limit accepted from this peer; `None`: the policy's [`UnicastReceive::ttl`].
    pub ttl: Option<TtlRange>,
}

impl UnicastPeer {
    /// A peer checked with the policy's TTL rule.
    pub fn new(address: IpAddr) -> Self {
        UnicastPeer { address, ttl: None }
    }
}

/// Why [`UnicastReceive::check`] refused an advert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnicastReject {
    /// The TTL / Hop Limit is outside the accepted range.
    Ttl {
        /// What the packet carried.
        received: u8,
        /// What was accepted.
        accepted: TtlRange,
    },
    /// The source is not a configured peer (source checking on).
    Source(IpAddr),
}

/// The receive rules of a router that sends to unicast peers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct UnicastReceive {
    /// The TTL / Hop Limit accepted from any source (and from peers without their own range).
    pub ttl: TtlRange,
    /// keepalived's `check_unicast_src` / `vrrp_check_unicast_src`: only adverts whose source
    /// is one of `peers` are accepted.
    pub check_source: bool,
    /// The configured peers (used when `check_source` is on).
    pub peers: Vec<UnicastPeer>,
}

impl UnicastReceive {
    /// RFC 9568 §7.1: TTL / Hop Limit 255 from any source.
    pub fn rfc() -> Self {
        UnicastReceive {
            ttl: TtlRange::RFC,
            check_source: false,
            peers: Vec::new(),
        }
    }

    /// keepalived 2.x without `check_unicast_src`: any TTL from any source.
    pub fn keepalived() -> Self {
        UnicastReceive {
            ttl: TtlRange::ANY,
            ..UnicastReceive::rfc()
        }
    }

    /// Checks the source and TTL / Hop Limit of an advert received by a unicast router.
    pub fn check(&self, src: IpAddr, ttl: u8) -> Result<(), UnicastReject> {
        let accepted = if self.check_source {
            let peer = self
                .peers
                .iter()
                .find(|p| p.address == src)
                .ok_or(UnicastReject::Source(src))?;
            peer.ttl.unwrap_or(self.ttl)
        } else {
            self.ttl
        };
        if accepted.contains(ttl) {
            Ok(())
        } else {
            Err(UnicastReject::Ttl {
                received: ttl,
                accepted,
            })
        }
    }
}

impl Default for UnicastReceive {
    fn default() -> Self {
        UnicastReceive::rfc()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    #[test]
    fn rfc_rule_accepts_only_255() {
        let rx = UnicastReceive::rfc();
        assert_eq!(rx.check(addr("2001:db8::11"), 255), Ok(()));
        assert_eq!(
            rx.check(addr("2001:db8::11"), 64),
            Err(UnicastReject::Ttl {
                received: 64,
                accepted: TtlRange::RFC
            })
        );
    }

    #[test]
    fn keepalived_rule_accepts_the_kernel_default_hop_limit() {
        let rx = UnicastReceive::keepalived();
        assert_eq!(rx.check(addr("2001:db8::11"), 64), Ok(()));
        assert_eq!(rx.check(addr("192.0.2.11"), 1), Ok(()));
    }

    #[test]
    fn source_check_uses_the_peer_range_then_the_default() {
        let rx = UnicastReceive {
            check_source: true,
            peers: vec![
                UnicastPeer {
                    address: addr("192.0.2.12"),
                    ttl: TtlRange::new(250, 255),
                },
                UnicastPeer::new(addr("192.0.2.13")),
            ],
            ..UnicastReceive::keepalived()
        };
        assert_eq!(rx.check(addr("192.0.2.12"), 252), Ok(()));
        assert!(matches!(
            rx.check(addr("192.0.2.12"), 64),
            Err(UnicastReject::Ttl { received: 64, .. })
        ));
        assert_eq!(rx.check(addr("192.0.2.13"), 64), Ok(()));
        assert_eq!(
            rx.check(addr("192.0.2.99"), 255),
            Err(UnicastReject::Source(addr("192.0.2.99")))
        );
    }

    #[test]
    fn an_inverted_range_is_refused() {
        assert_eq!(TtlRange::new(10, 9), None);
        assert_eq!(TtlRange::new(9, 9), Some(TtlRange { min: 9, max: 9 }));
    }
}
