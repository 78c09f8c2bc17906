//! The modelled LAN: advertisements on the wire (emitted to bytes, as a glue would send them,
//! and validated by the receiver's [`crate::Demux`]), in any order, and partitions.

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::Instant;

use crate::output::Advertisement;
use crate::types::{Family, Priority, Vrid};

use super::spec::NodeId;

/// IPv4 VRRP multicast group (RFC 9568 §5.1.1.2).
const MCAST_V4: IpAddr = IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18));
/// IPv6 VRRP multicast group (RFC 9568 §5.1.2.2).
const MCAST_V6: IpAddr = IpAddr::V6(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12));

/// One advertisement on its way from one node to another: the bytes a glue would send, with
/// what the IP header says. Receivers validate it with their [`crate::Demux`] (RFC 9568 §7.1)
/// like any received packet.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Envelope {
    pub(crate) to: NodeId,
    pub(crate) from: NodeId,
    pub(crate) vrid: Vrid,
    pub(crate) priority: Priority,
    pub(crate) src: IpAddr,
    pub(crate) dst: IpAddr,
    pub(crate) bytes: Arc<[u8]>,
    pub(crate) sent_at: Instant,
}

impl Envelope {
    /// Emits `advert` for `to`: multicast to the family's VRRP group, or to `unicast_dst` (the
    /// receiver's primary address) for a router with unicast peers. `None` if it cannot be
    /// emitted (never for an advert of a valid configuration).
    pub(crate) fn emit(
        advert: &Advertisement,
        from: NodeId,
        to: NodeId,
        unicast_dst: Option<IpAddr>,
        now: Instant,
    ) -> Option<Envelope> {
        let dst = unicast_dst.unwrap_or(match advert.family {
            Family::V4 => MCAST_V4,
            Family::V6 => MCAST_V6,
        });
        let mut bytes = vec![0u8; advert.repr().buffer_len()];
        let len = advert.emit_into(dst, &mut bytes)?;
        bytes.truncate(len);
        Some(Envelope {
            to,
            from,
            vrid: advert.vrid,
            priority: advert.priority,
            src: advert.source,
            dst,
            bytes: bytes.into(),
            sent_at: now,
        })
    }

    /// The sending node.
    pub fn sender(&self) -> NodeId {
        self.from
    }

    /// The receiving node.
    pub fn receiver(&self) -> NodeId {
        self.to
    }

    /// The VRID it was sent for.
    pub fn vrid(&self) -> Vrid {
        self.vrid
    }

    /// The priority it advertises (0: the sender stops).
    pub fn priority(&self) -> Priority {
        self.priority
    }

    /// The VRRP message as sent (the IP payload).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl fmt::Debug for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "advert vrid {} priority {} from node {} ({}) to node {}",
            self.vrid, self.priority, self.from, self.src, self.to
        )
    }
}

/// A partition of the LAN in two sides: bit `i` set means node `i` is on node 0's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Partition(pub(crate) u8);

impl Partition {
    /// Whether packets flow between `a` and `b`.
    pub(crate) fn connects(self, a: NodeId, b: NodeId) -> bool {
        self.side(a) == self.side(b)
    }

    fn side(self, node: NodeId) -> bool {
        node < 8 && self.0 & (1 << node) != 0
    }

    /// Every way to cut `nodes` nodes in two, node 0's side named by its members.
    pub(crate) fn all(nodes: usize) -> impl Iterator<Item = Partition> {
        let full: u16 = (1u16 << nodes) - 1;
        (1..=full)
            .filter(move |mask| mask & 1 == 1 && *mask != full)
            .filter_map(|mask| u8::try_from(mask).ok().map(Partition))
    }

    /// The nodes on node 0's side.
    pub(crate) fn members(self, nodes: usize) -> Vec<NodeId> {
        (0..nodes).filter(|n| self.side(*n)).collect()
    }
}

/// The advertisements on the wire, in sending order. Each (sender, receiver) pair is a FIFO
/// channel, as on one LAN segment: the head of every channel is deliverable, in any order
/// across channels; a later advert overtakes an earlier one of its channel only as a
/// budgeted choice ([`super::Choices::reorders`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct Wire {
    pub(crate) in_flight: Vec<Envelope>,
}

impl Wire {
    pub(crate) fn push(&mut self, envelope: Envelope) {
        self.in_flight.push(envelope);
    }

    /// Adds a copy of `envelope` right behind it; `false` if it is not on the wire.
    pub(crate) fn duplicate(&mut self, envelope: &Envelope) -> bool {
        match self.in_flight.iter().position(|e| e == envelope) {
            Some(at) => {
                self.in_flight.insert(at + 1, envelope.clone());
                true
            }
            None => false,
        }
    }

    /// Removes the first copy of `envelope`; `false` if none is on the wire.
    pub(crate) fn take(&mut self, envelope: &Envelope) -> bool {
        match self.in_flight.iter().position(|e| e == envelope) {
            Some(at) => {
                self.in_flight.remove(at);
                true
            }
            None => false,
        }
    }

    /// The first advert of each channel.
    pub(crate) fn heads(&self) -> impl Iterator<Item = &Envelope> {
        self.in_flight.iter().enumerate().filter_map(|(i, e)| {
            let first = !self.in_flight[..i]
                .iter()
                .any(|x| x.from == e.from && x.to == e.to);
            first.then_some(e)
        })
    }

    /// Distinct adverts queued behind an earlier one of their channel.
    pub(crate) fn behind(&self) -> Vec<&Envelope> {
        let mut out: Vec<&Envelope> = Vec::new();
        for (i, e) in self.in_flight.iter().enumerate() {
            let queued = self.in_flight[..i]
                .iter()
                .any(|x| x.from == e.from && x.to == e.to);
            if queued && !out.contains(&e) {
                out.push(e);
            }
        }
        out
    }

    /// Distinct adverts on the wire, in order.
    pub(crate) fn distinct(&self) -> Vec<&Envelope> {
        let mut out: Vec<&Envelope> = Vec::new();
        for e in &self.in_flight {
            if !out.contains(&e) {
                out.push(e);
            }
        }
        out
    }

    /// The wire in a canonical order: by channel, each channel in sending order.
    pub(crate) fn canonical(&self) -> Vec<&Envelope> {
        let mut out: Vec<&Envelope> = self.in_flight.iter().collect();
        out.sort_by_key(|e| (e.to, e.from));
        out
    }

    /// Removes everything addressed to `node`; returns the senders.
    pub(crate) fn discard_to(&mut self, node: NodeId) -> Vec<NodeId> {
        let mut senders = Vec::new();
        self.in_flight.retain(|e| {
            let keep = e.to != node;
            if !keep {
                senders.push(e.from);
            }
            keep
        });
        senders
    }

    /// The earliest send time on the wire.
    pub(crate) fn oldest(&self) -> Option<Instant> {
        self.in_flight.iter().map(|e| e.sent_at).min()
    }
}
