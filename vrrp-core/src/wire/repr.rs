//! High-level representation of an advertisement: parse from and emit into a [`Packet`].

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::ParseError;
use crate::types::{Centisecs, Family, Priority, Version, Vrid};

use super::auth::Auth;
use super::checksum::ChecksumContext;
use super::packet::{Packet, TYPE_ADVERTISEMENT};

/// The address list of an advertisement: borrowed from received bytes, or from the sender's
/// configuration. Either way no allocation happens per packet.
#[derive(Debug, Clone, Copy)]
pub enum AddressList<'a> {
    /// Packed addresses as they are on the wire.
    Wire {
        /// Family of the packed addresses.
        family: Family,
        /// `count * family.addr_len()` bytes.
        bytes: &'a [u8],
    },
    /// Addresses to send.
    Slice(&'a [IpAddr]),
}

impl<'a> AddressList<'a> {
    /// Number of addresses.
    pub fn len(&self) -> usize {
        match self {
            AddressList::Wire { family, bytes } => bytes.len() / family.addr_len(),
            AddressList::Slice(s) => s.len(),
        }
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The addresses in order.
    pub fn iter(&self) -> AddressIter<'a> {
        AddressIter {
            list: *self,
            index: 0,
        }
    }
}

impl PartialEq for AddressList<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().zip(other.iter()).all(|(a, b)| a == b)
    }
}

impl Eq for AddressList<'_> {}

/// Iterator over an [`AddressList`].
#[derive(Debug, Clone)]
pub struct AddressIter<'a> {
    list: AddressList<'a>,
    index: usize,
}

impl Iterator for AddressIter<'_> {
    type Item = IpAddr;

    fn next(&mut self) -> Option<IpAddr> {
        let item = match self.list {
            AddressList::Slice(s) => *s.get(self.index)?,
            AddressList::Wire {
                family: Family::V4,
                bytes,
            } => {
                let chunk = bytes.get(self.index * 4..self.index * 4 + 4)?;
                IpAddr::V4(Ipv4Addr::new(chunk[0], chunk[1], chunk[2], chunk[3]))
            }
            AddressList::Wire {
                family: Family::V6,
                bytes,
            } => {
                let chunk = bytes.get(self.index * 16..self.index * 16 + 16)?;
                let mut octets = [0u8; 16];
                octets.copy_from_slice(chunk);
                IpAddr::V6(Ipv6Addr::from(octets))
            }
        };
        self.index += 1;
        Some(item)
    }
}

/// A VRRP advertisement (RFC 3768 §5.3, RFC 9568 §5.2), independent of its byte layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdvertRepr<'a> {
    /// Protocol version.
    pub version: Version,
    /// Virtual Rtr ID.
    pub vrid: Vrid,
    /// Sender's priority (0 = master stopping).
    pub priority: Priority,
    /// v3 Max Adver Int; for v2 the Adver Int seconds times 100.
    pub max_adver_int: Centisecs,
    /// Address family of the addresses (v2 is always IPv4).
    pub family: Family,
    /// The virtual addresses advertised.
    pub addresses: AddressList<'a>,
    /// v2 authentication; always [`Auth::None`] for v3.
    pub auth: Auth,
}

impl<'a> AdvertRepr<'a> {
    /// Parses a length-checked packet. With `checksum` given, the checksum is verified first.
    ///
    /// Never panics, whatever the bytes: the length is checked here before any field is read.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        packet: &Packet<&'a T>,
        family: Family,
        checksum: Option<&ChecksumContext>,
    ) -> Result<Self, ParseError> {
        packet.check_len(family)?;
        let version = packet.version()?;
        if packet.kind() != TYPE_ADVERTISEMENT {
            return Err(ParseError::Type(packet.kind()));
        }
        if version == Version::V2 && family == Family::V6 {
            return Err(ParseError::V2OverIpv6);
        }
        let vrid = Vrid::new(packet.vrid()).ok_or(ParseError::Vrid)?;
        if packet.count() == 0 {
            return Err(ParseError::NoAddress);
        }
        if let Some(ctx) = checksum
            && !packet.verify_checksum(version, ctx)
        {
            return Err(ParseError::Checksum {
                computed: ctx.compute(version, bytes_of(packet)),
            });
        }
        let (max_adver_int, auth) = match version {
            Version::V2 => (
                Centisecs::from_secs(packet.adver_int()),
                Auth::from_wire(packet.auth_type(), packet.auth_data()),
            ),
            Version::V3 => (Centisecs::new(packet.max_adver_int()), Auth::None),
        };
        let bytes: &'a [u8] = bytes_of(packet);
        let end = 8 + packet.count() as usize * family.addr_len();
        Ok(AdvertRepr {
            version,
            vrid,
            priority: Priority(packet.priority()),
            max_adver_int,
            family,
            addresses: AddressList::Wire {
                family,
                bytes: &bytes[8..end],
            },
            auth,
        })
    }

    /// Length of the emitted message.
    pub fn buffer_len(&self) -> usize {
        // The count is validated to fit a u8 by `emit`; saturate here to stay total.
        let count = u8::try_from(self.addresses.len()).unwrap_or(u8::MAX);
        Packet::<&[u8]>::needed(self.version, self.family, count)
    }

    /// Writes the message and its checksum into `packet`, whose buffer must be exactly
    /// [`AdvertRepr::buffer_len`] bytes long (panics otherwise, like any unchecked packet).
    ///
    /// The address count must fit the 8-bit field and the addresses must be of `self.family`;
    /// configuration validation guarantees both for adverts built by a router. Addresses of the
    /// wrong family are written as zeros.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Packet<T>,
        checksum: &ChecksumContext,
    ) {
        let count = u8::try_from(self.addresses.len()).unwrap_or(u8::MAX);
        packet.set_version_and_kind(self.version, TYPE_ADVERTISEMENT);
        packet.set_vrid(self.vrid.get());
        packet.set_priority(self.priority.get());
        packet.set_count(count);
        match self.version {
            Version::V2 => {
                let secs = u8::try_from(self.max_adver_int.get() / 100).unwrap_or(u8::MAX);
                packet.set_v2_auth_type_and_adver_int(self.auth.auth_type(), secs);
            }
            Version::V3 => packet.set_max_adver_int(self.max_adver_int.get()),
        }
        let family = self.family;
        let block = packet.addresses_mut(family);
        for (slot, addr) in block
            .chunks_exact_mut(family.addr_len())
            .zip(self.addresses.iter())
        {
            match (addr, family) {
                (IpAddr::V4(a), Family::V4) => slot.copy_from_slice(&a.octets()),
                (IpAddr::V6(a), Family::V6) => slot.copy_from_slice(&a.octets()),
                _ => slot.fill(0),
            }
        }
        if self.version == Version::V2 {
            packet.set_auth_data(&self.auth.data());
        }
        packet.fill_checksum(self.version, checksum);
    }
}

fn bytes_of<'a, T: AsRef<[u8]> + ?Sized>(packet: &Packet<&'a T>) -> &'a [u8] {
    let inner: &'a T = packet.into_inner();
    inner.as_ref()
}
