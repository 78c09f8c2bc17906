//! The per-interface receive path: RFC 9568 §7.1 (RFC 3768 §7.1) validation of raw
//! advertisement bytes, statistics for every rejection, and dispatch by VRID.
//!
//! The glue hands every VRRP packet received on one interface and family to
//! [`Demux::receive`] with the TTL / hop limit and addresses from the IP header; on success it
//! feeds the returned advert to the router in the returned slot with [`crate::Input::Advert`].

use core::net::IpAddr;
use std::sync::Arc;

use crate::config::AddressCheck;
use crate::error::{ConfigError, ParseError, RxError};
use crate::stats::{InterfaceStats, RxStats};
use crate::types::{Centisecs, Family, Version};
use crate::unicast::{UnicastReceive, UnicastReject};
use crate::wire::{AdvertRepr, Auth, ChecksumContext, ChecksumMode, HEADER_LEN, Packet};

/// What the IP layer says about a received packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RxMeta {
    /// IP source address.
    pub src: IpAddr,
    /// IP destination address (multicast group or our unicast address).
    pub dst: IpAddr,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
}

/// What the receive path must know of a router to validate its adverts
/// (from [`crate::VirtualRouter::rx_policy`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RxPolicy {
    /// Configured version.
    pub version: Version,
    /// Configured family.
    pub family: Family,
    /// Checksum mode.
    pub checksum_mode: ChecksumMode,
    /// Configured v2 authentication.
    pub auth: Auth,
    /// Configured Advertisement_Interval (checked for v2).
    pub advert_interval: Centisecs,
    /// Configured virtual addresses.
    pub addresses: Arc<[IpAddr]>,
    /// Whether the router is the address owner.
    pub owner: bool,
    /// Address list verification policy.
    pub address_check: AddressCheck,
    /// The router's own primary address (its own looped-back adverts are ignored).
    pub primary_address: IpAddr,
    /// `Some` for a router that sends to unicast peers: its receive rules replace RFC 9568
    /// §7.1's TTL 255 (see [`crate::unicast`]). `None`: multicast, TTL / Hop Limit 255.
    pub unicast: Option<UnicastReceive>,
}

#[derive(Debug, Clone)]
struct Entry {
    slot: usize,
    policy: RxPolicy,
    stats: RxStats,
    last_master: Option<IpAddr>,
}

/// An advert that passed validation and the slot of the router it is for.
#[derive(Debug, Clone, Copy)]
pub struct Dispatch<'a> {
    /// Slot given at [`Demux::register`].
    pub slot: usize,
    /// Metadata to pass on.
    pub meta: RxMeta,
    /// The advertisement.
    pub advert: AdvertRepr<'a>,
}

/// Receive path of one interface and family.
#[derive(Debug, Clone)]
pub struct Demux {
    family: Family,
    entries: Vec<Option<Entry>>,
    stats: InterfaceStats,
}

impl Demux {
    /// An empty demux for `family`.
    pub fn new(family: Family) -> Self {
        Demux {
            family,
            entries: vec![None; 256],
            stats: InterfaceStats::default(),
        }
    }

    /// Registers the router with `policy` under `slot` (an index meaningful to the caller).
    pub fn register(&mut self, vrid: u8, slot: usize, policy: RxPolicy) -> Result<(), ConfigError> {
        if vrid == 0 {
            return Err(ConfigError::Vrid { value: vrid });
        }
        let entry = &mut self.entries[usize::from(vrid)];
        if entry.is_some() {
            return Err(ConfigError::DuplicateVrid {
                vrid,
                family: self.family,
            });
        }
        *entry = Some(Entry {
            slot,
            policy,
            stats: RxStats::default(),
            last_master: None,
        });
        Ok(())
    }

    /// Replaces the receive policy of the router registered under `vrid` (after
    /// [`crate::VirtualRouter::reconfigure`]), keeping its counters; `false` when none is.
    pub fn update(&mut self, vrid: u8, policy: RxPolicy) -> bool {
        match self.entries.get_mut(usize::from(vrid)) {
            Some(Some(entry)) => {
                entry.policy = policy;
                true
            }
            _ => false,
        }
    }

    /// Whether no router is registered.
    pub fn is_empty(&self) -> bool {
        self.entries.iter().all(Option::is_none)
    }

    /// The slot registered under `vrid`, if any.
    pub fn slot_of(&self, vrid: u8) -> Option<usize> {
        self.entries
            .get(usize::from(vrid))
            .and_then(Option::as_ref)
            .map(|e| e.slot)
    }

    /// Removes a router.
    pub fn unregister(&mut self, vrid: u8) {
        self.entries[usize::from(vrid)] = None;
    }

    /// Interface-level counters.
    pub fn stats(&self) -> &InterfaceStats {
        &self.stats
    }

    /// Receive counters of the router with `vrid`.
    pub fn router_stats(&self, vrid: u8) -> Option<&RxStats> {
        self.entries[usize::from(vrid)].as_ref().map(|e| &e.stats)
    }

    /// Validates one received VRRP message (the IP payload) per RFC 9568 §7.1 and returns the
    /// router it is for. Every rejection is counted before it is returned.
    pub fn receive<'a>(&mut self, meta: RxMeta, bytes: &'a [u8]) -> Result<Dispatch<'a>, RxError> {
        let family = self.family;
        if bytes.len() < HEADER_LEN {
            self.stats.malformed += 1;
            return Err(ParseError::Truncated {
                len: bytes.len(),
                needed: HEADER_LEN,
            }
            .into());
        }
        let packet = Packet::new_unchecked(bytes);
        let Some(entry) = self.entries[usize::from(packet.vrid())].as_mut() else {
            // RFC 9568 §7.1: "MUST verify that the VRID is configured on the receiving interface".
            self.stats.vrid_errors += 1;
            return Err(RxError::UnknownVrid(packet.vrid()));
        };
        if meta.src == entry.policy.primary_address {
            entry.stats.own_packets += 1;
            return Err(RxError::Own);
        }
        let version = match packet.version() {
            Ok(v) if v == entry.policy.version => v,
            Ok(received) => {
                // RFC 9568 §7.1: "MUST verify that the VRRP version is 3".
                self.stats.version_errors += 1;
                return Err(RxError::VersionMismatch {
                    received,
                    configured: entry.policy.version,
                });
            }
            Err(e) => {
                self.stats.version_errors += 1;
                return Err(e.into());
            }
        };
        if packet.kind() != crate::wire::TYPE_ADVERTISEMENT {
            entry.stats.rcvd_invalid_type_packets += 1;
            return Err(ParseError::Type(packet.kind()).into());
        }
        match &entry.policy.unicast {
            // RFC 9568 §7.1: "MUST verify that the IPv4 TTL / IPv6 Hop Limit is 255".
            None if meta.ttl != 255 => {
                entry.stats.ip_ttl_errors += 1;
                return Err(RxError::Ttl(meta.ttl));
            }
            None => {}
            // A unicast router applies its configured rules instead (keepalived's unicast
            // TTL and `check_unicast_src` semantics are data in `UnicastReceive`).
            Some(rules) => match rules.check(meta.src, meta.ttl) {
                Ok(()) => {}
                Err(UnicastReject::Ttl { received, .. }) => {
                    entry.stats.ip_ttl_errors += 1;
                    return Err(RxError::Ttl(received));
                }
                Err(UnicastReject::Source(src)) => {
                    entry.stats.unicast_source_errors += 1;
                    return Err(RxError::UnicastSource(src));
                }
            },
        }
        if Family::of(&meta.src) != entry.policy.family {
            entry.stats.packet_length_errors += 1;
            return Err(RxError::FamilyMismatch {
                received: Family::of(&meta.src),
                configured: entry.policy.family,
            });
        }
        if let Err(e) = packet.check_len(family) {
            // RFC 9568 §7.1: "MUST verify that the received packet length is greater than or
            // equal to the VRRP header".
            entry.stats.packet_length_errors += 1;
            return Err(e.into());
        }
        let ctx = ChecksumContext {
            src: meta.src,
            dst: meta.dst,
            mode: entry.policy.checksum_mode,
        };
        if !packet.verify_checksum(version, &ctx) {
            // RFC 9568 §7.1: "MUST verify the VRRP checksum".
            self.stats.checksum_errors += 1;
            return Err(ParseError::Checksum {
                computed: ctx.compute(version, bytes),
            }
            .into());
        }
        let advert = match AdvertRepr::parse(&packet, family, None) {
            Ok(a) => a,
            Err(e) => {
                entry.stats.packet_length_errors += 1;
                return Err(e.into());
            }
        };
        if entry.policy.owner {
            // RFC 9568 §7.1: the local router must not be the address owner.
            entry.stats.owner_discards += 1;
            return Err(RxError::Owner);
        }
        if version == Version::V2 {
            check_v2(entry, &advert)?;
        }
        let skip = match entry.policy.address_check {
            AddressCheck::Always => false,
            AddressCheck::SkipSameMaster => entry.last_master == Some(meta.src),
            AddressCheck::Never => true,
        };
        if !skip && !same_addresses(&entry.policy.addresses, &advert) {
            // RFC 9568 §7.1: "MAY verify that the IPvX Address(es) associated with the VRID
            // are valid"; a mismatch is counted and the packet dropped.
            entry.stats.address_list_errors += 1;
            return Err(RxError::AddressList { from: meta.src });
        }
        entry.last_master = Some(meta.src);
        entry.stats.accepted += 1;
        Ok(Dispatch {
            slot: entry.slot,
            meta,
            advert,
        })
    }
}

/// RFC 3768 §7.1 (with RFC 2338 authentication): auth type, password and Adver Int.
fn check_v2(entry: &mut Entry, advert: &AdvertRepr<'_>) -> Result<(), RxError> {
    let configured = entry.policy.auth;
    match (configured, advert.auth) {
        (_, Auth::Unknown { auth_type, .. }) => {
            entry.stats.invalid_auth_type += 1;
            return Err(RxError::InvalidAuthType(auth_type));
        }
        (Auth::SimpleText(ours), Auth::SimpleText(theirs)) => {
            if !ours.ct_eq(&theirs) {
                entry.stats.auth_failures += 1;
                return Err(RxError::AuthFailure);
            }
        }
        (Auth::None, Auth::None) => {}
        (ours, theirs) => {
            entry.stats.auth_type_mismatch += 1;
            return Err(RxError::AuthTypeMismatch {
                received: theirs.auth_type(),
                configured: ours.auth_type(),
            });
        }
    }
    if advert.max_adver_int != entry.policy.advert_interval {
        // RFC 3768 §7.1: "MUST verify that the Adver Interval in the packet is the same as
        // the locally configured".
        entry.stats.adv_interval_errors += 1;
        return Err(RxError::AdverInterval {
            received: advert.max_adver_int.get() / 100,
            configured: entry.policy.advert_interval.get() / 100,
        });
    }
    Ok(())
}

/// Same set of addresses, order ignored; no allocation.
fn same_addresses(configured: &[IpAddr], advert: &AdvertRepr<'_>) -> bool {
    advert.addresses.len() == configured.len()
        && advert.addresses.iter().all(|a| configured.contains(&a))
}
