//! The last will: what the supervisor sends and removes if the protected process dies
//! without a graceful stop, in the byte layout the supervisor reads without allocating.
//!
//! A will is a sequence of records, each a fixed 40-byte header and its payload:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 1 | kind: 1 advert over IPv4, 2 advert over IPv6, 3 rtnetlink request |
//! | 1 | 1 | TTL / hop limit (adverts) |
//! | 2 | 2 | payload length (native endian) |
//! | 4 | 4 | interface index (adverts; native endian) |
//! | 8 | 16 | source address (IPv4 in the first 4 bytes) |
//! | 24 | 16 | destination address |
//! | 40 | n | payload: the VRRP message, or the netlink message |
//!
//! Records are carried out in order, so a will written from a router's own shutdown outputs
//! keeps the core's order (RFC 9568 §6.4.3: the priority-0 advert, then the addresses go).

use std::net::IpAddr;

use netlink_packet_core::{NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload};
use netlink_packet_route::RouteNetlinkMessage;

use crate::vip::{Vip, netlink_address_message};

/// Size of a record header.
pub(super) const HEADER: usize = 40;
/// Record kind: a VRRP advert sent over IPv4.
pub(super) const KIND_ADVERT_V4: u8 = 1;
/// Record kind: a VRRP advert sent over IPv6.
pub(super) const KIND_ADVERT_V6: u8 = 2;
/// Record kind: a request written to a NETLINK_ROUTE socket.
pub(super) const KIND_NETLINK: u8 = 3;

/// What to send and remove if the protected process dies (see the module docs for the layout).
///
/// Built anew on every change (state, priority, addresses, configuration) and handed to
/// [`super::Supervisor::publish`]. Empty when no router is master: a backup's death sends
/// nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Will {
    bytes: Vec<u8>,
    adverts: usize,
    removals: usize,
}

impl Will {
    /// An empty will: nothing happens on death.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a VRRP message (`payload`, checksummed for `src` and `dst`) to send from `src` to
    /// `dst` through interface `ifindex` with TTL / hop limit `ttl`. A payload longer than
    /// 65535 bytes, or `src` and `dst` of different families, are refused (`false`).
    pub fn advert(
        &mut self,
        ifindex: u32,
        src: IpAddr,
        dst: IpAddr,
        ttl: u8,
        payload: &[u8],
    ) -> bool {
        let kind = match (src, dst) {
            (IpAddr::V4(_), IpAddr::V4(_)) => KIND_ADVERT_V4,
            (IpAddr::V6(_), IpAddr::V6(_)) => KIND_ADVERT_V6,
            _ => return false,
        };
        if !self.record(kind, ttl, ifindex, Some((src, dst)), payload) {
            return false;
        }
        self.adverts += 1;
        true
    }

    /// Adds the removal of `vip` (an rtnetlink RTM_DELADDR request, sent without waiting for
    /// an answer; removing an absent address is harmless).
    pub fn remove_address(&mut self, vip: &Vip) -> bool {
        let Ok(address) = netlink_address_message(vip) else {
            return false;
        };
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST;
        let mut message = NetlinkMessage::new(
            header,
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelAddress(address)),
        );
        message.finalize();
        let mut buffer = vec![0; message.buffer_len()];
        message.serialize(&mut buffer);
        if !self.record(KIND_NETLINK, 0, 0, None, &buffer) {
            return false;
        }
        self.removals += 1;
        true
    }

    fn record(
        &mut self,
        kind: u8,
        ttl: u8,
        ifindex: u32,
        addresses: Option<(IpAddr, IpAddr)>,
        payload: &[u8],
    ) -> bool {
        let Ok(len) = u16::try_from(payload.len()) else {
            return false;
        };
        let mut header = [0u8; HEADER];
        header[0] = kind;
        header[1] = ttl;
        header[2..4].copy_from_slice(&len.to_ne_bytes());
        header[4..8].copy_from_slice(&ifindex.to_ne_bytes());
        if let Some((src, dst)) = addresses {
            put_address(&mut header[8..24], src);
            put_address(&mut header[24..40], dst);
        }
        self.bytes.extend_from_slice(&header);
        self.bytes.extend_from_slice(payload);
        true
    }

    /// The adverts it sends.
    pub fn adverts(&self) -> usize {
        self.adverts
    }

    /// The addresses it removes.
    pub fn removals(&self) -> usize {
        self.removals
    }

    /// Whether death would do nothing.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The encoded records.
    pub(super) fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

fn put_address(out: &mut [u8], address: IpAddr) {
    match address {
        IpAddr::V4(a) => out[..4].copy_from_slice(&a.octets()),
        IpAddr::V6(a) => out.copy_from_slice(&a.octets()),
    }
}

/// One record as the supervisor reads it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Record<'a> {
    pub(super) kind: u8,
    pub(super) ttl: u8,
    pub(super) ifindex: u32,
    pub(super) src: [u8; 16],
    pub(super) dst: [u8; 16],
    pub(super) payload: &'a [u8],
}

/// Walks encoded records without allocating; stops at the first truncated one.
pub(super) struct Records<'a> {
    rest: &'a [u8],
}

impl<'a> Records<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Record<'a>;

    fn next(&mut self) -> Option<Record<'a>> {
        let header = self.rest.get(..HEADER)?;
        let len = usize::from(u16::from_ne_bytes([*header.get(2)?, *header.get(3)?]));
        let payload = self.rest.get(HEADER..HEADER.checked_add(len)?)?;
        let mut ifindex = [0u8; 4];
        ifindex.copy_from_slice(header.get(4..8)?);
        let mut src = [0u8; 16];
        src.copy_from_slice(header.get(8..24)?);
        let mut dst = [0u8; 16];
        dst.copy_from_slice(header.get(24..40)?);
        let record = Record {
            kind: *header.first()?,
            ttl: *header.get(1)?,
            ifindex: u32::from_ne_bytes(ifindex),
            src,
            dst,
            payload,
        };
        self.rest = self.rest.get(HEADER + len..)?;
        Some(record)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn records_read_back_in_order() {
        let mut will = Will::new();
        assert!(will.is_empty());
        assert!(will.advert(
            3,
            "192.0.2.11".parse().unwrap(),
            "224.0.0.18".parse().unwrap(),
            255,
            &[0x31, 51, 0, 1]
        ));
        assert!(will.remove_address(&Vip::new(3, "192.0.2.100".parse().unwrap(), 24)));
        assert!(will.advert(
            4,
            "fe80::11".parse().unwrap(),
            "ff02::12".parse().unwrap(),
            64,
            &[0x31; 40]
        ));
        assert_eq!((will.adverts(), will.removals()), (2, 1));
        let records: Vec<Record<'_>> = Records::new(will.bytes()).collect();
        assert_eq!(records.len(), 3);
        assert_eq!(records[0].kind, KIND_ADVERT_V4);
        assert_eq!((records[0].ttl, records[0].ifindex), (255, 3));
        assert_eq!(&records[0].src[..4], &[192, 0, 2, 11]);
        assert_eq!(&records[0].dst[..4], &[224, 0, 0, 18]);
        assert_eq!(records[0].payload, &[0x31, 51, 0, 1]);
        assert_eq!(records[1].kind, KIND_NETLINK);
        // An RTM_DELADDR (21) request for the address.
        let nl = records[1].payload;
        assert_eq!(
            u32::from_ne_bytes(nl[..4].try_into().unwrap()) as usize,
            nl.len()
        );
        assert_eq!(u16::from_ne_bytes([nl[4], nl[5]]), 21);
        assert!(nl.windows(4).any(|w| w == [192, 0, 2, 100]));
        assert_eq!(records[2].kind, KIND_ADVERT_V6);
        assert_eq!((records[2].ttl, records[2].ifindex), (64, 4));
        assert_eq!(records[2].payload.len(), 40);
    }

    #[test]
    fn mixed_families_and_oversized_payloads_are_refused() {
        let mut will = Will::new();
        assert!(!will.advert(
            1,
            "192.0.2.11".parse().unwrap(),
            "ff02::12".parse().unwrap(),
            255,
            &[0]
        ));
        let huge = vec![0; 70_000];
        assert!(!will.advert(
            1,
            "192.0.2.11".parse().unwrap(),
            "224.0.0.18".parse().unwrap(),
            255,
            &huge
        ));
        assert!(will.is_empty());
    }

    #[test]
    fn a_truncated_record_ends_the_walk() {
        let mut will = Will::new();
        will.advert(
            1,
            "192.0.2.11".parse().unwrap(),
            "224.0.0.18".parse().unwrap(),
            255,
            &[1, 2, 3, 4],
        );
        let bytes = will.bytes();
        assert_eq!(Records::new(&bytes[..bytes.len() - 1]).count(), 0);
        assert_eq!(Records::new(&bytes[..10]).count(), 0);
        assert_eq!(Records::new(bytes).count(), 1);
    }
}
