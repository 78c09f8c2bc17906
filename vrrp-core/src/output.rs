//! What a virtual router asks its glue to do, in the order it happened.

use core::net::IpAddr;
use std::sync::Arc;

use crate::state::{Reason, State};
use crate::types::{Centisecs, Family, Priority, Version, VirtualAddress, Vrid};
use crate::wire::{AddressList, AdvertRepr, Auth, ChecksumContext, ChecksumMode};

/// An advertisement to send: an owned form of [`AdvertRepr`] plus what the checksum needs.
/// Cloning it does not allocate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advertisement {
    /// Protocol version.
    pub version: Version,
    /// Virtual Rtr ID.
    pub vrid: Vrid,
    /// Priority to advertise (0 when stopping).
    pub priority: Priority,
    /// Advertisement_Interval.
    pub max_adver_int: Centisecs,
    /// Address family.
    pub family: Family,
    /// The advertised virtual addresses.
    pub addresses: Arc<[IpAddr]>,
    /// v2 authentication.
    pub auth: Auth,
    /// Source address (the router's primary address).
    pub source: IpAddr,
    /// Checksum mode for the pseudo-header.
    pub checksum_mode: ChecksumMode,
}

impl Advertisement {
    /// The wire representation, borrowing the address list.
    pub fn repr(&self) -> AdvertRepr<'_> {
        AdvertRepr {
            version: self.version,
            vrid: self.vrid,
            priority: self.priority,
            max_adver_int: self.max_adver_int,
            family: self.family,
            addresses: AddressList::Slice(&self.addresses),
            auth: self.auth,
        }
    }

    /// The checksum context for sending to `dst`.
    pub fn checksum_context(&self, dst: IpAddr) -> ChecksumContext {
        ChecksumContext {
            src: self.source,
            dst,
            mode: self.checksum_mode,
        }
    }

    /// Emits the message for destination `dst` into `buf` and returns its length, or `None`
    /// when `buf` is too small.
    pub fn emit_into(&self, dst: IpAddr, buf: &mut [u8]) -> Option<usize> {
        let repr = self.repr();
        let len = repr.buffer_len();
        let mut packet = crate::wire::Packet::new_unchecked(buf.get_mut(..len)?);
        repr.emit(&mut packet, &self.checksum_context(dst));
        Some(len)
    }
}

/// One thing the glue must do (or may report), in order. New variants may be added, so
/// matches need a wildcard arm.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Output {
    /// Send an advertisement (multicast, or to each unicast peer).
    Transmit(Advertisement),
    /// Install the virtual (and excluded) addresses.
    InstallVips {
        /// The addresses.
        addresses: Arc<[VirtualAddress]>,
        /// Accept_Mode: whether packets to these addresses are accepted locally.
        accept_mode: bool,
    },
    /// Remove the virtual (and excluded) addresses.
    RemoveVips {
        /// The addresses.
        addresses: Arc<[VirtualAddress]>,
    },
    /// Send one gratuitous ARP (IPv4) or unsolicited neighbour advertisement (IPv6) per address.
    Announce {
        /// The addresses.
        addresses: Arc<[VirtualAddress]>,
    },
    /// The state changed.
    StateChanged {
        /// Previous state.
        from: State,
        /// New state.
        to: State,
        /// Why.
        reason: Reason,
    },
    /// The effective priority changed (tracking or [`crate::Input::SetPriority`]).
    PriorityChanged {
        /// Previous effective priority.
        from: Priority,
        /// New effective priority.
        to: Priority,
    },
    /// A sync-group member's own fault status (tracking, link, I/O; not the group's) changed;
    /// see [`crate::group::SyncGroup`].
    GroupFault {
        /// Whether the member has a fault of its own.
        active: bool,
    },
    /// A sync-group member would become master (`true`) or no longer would (`false`);
    /// see [`crate::group::SyncGroup`].
    GroupVote {
        /// Whether it wants to become master.
        want_master: bool,
    },
}
