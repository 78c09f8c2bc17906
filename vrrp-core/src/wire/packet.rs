//! Zero-copy view of a VRRP advertisement (RFC 3768 §5.1, RFC 9568 §5.1).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |Version| Type  | Virtual Rtr ID|   Priority    | Count IP Addrs|
//! v2: | Auth Type     |   Adver Int   |          Checksum             |
//! v3: |(rsvd) |     Max Adver Int     |          Checksum             |
//! |                     IPv4 / IPv6 address(es)                   |
//! v2: |                  Authentication Data (8 octets)               |
//! ```
//!
//! # Panic contract
//! [`Packet::new_unchecked`] performs no checks; its accessors panic when the buffer is shorter
//! than the field they read. [`Packet::new_checked`] (or a successful [`Packet::check_len`])
//! guarantees that every accessor on that packet is in bounds for the family it was checked
//! with, so code that only handles checked packets never panics. Setters have the same contract.

use crate::error::ParseError;
use crate::types::{Family, Version};

use super::checksum::ChecksumContext;

/// Byte offsets of the header fields.
mod field {
    pub(super) const VER_TYPE: usize = 0;
    pub(super) const VRID: usize = 1;
    pub(super) const PRIORITY: usize = 2;
    pub(super) const COUNT: usize = 3;
    /// v2: Auth Type; v3: reserved nibble + high 4 bits of Max Adver Int.
    pub(super) const WORD1: usize = 4;
    /// v2: Adver Int; v3: low 8 bits of Max Adver Int.
    pub(super) const WORD1_LO: usize = 5;
    pub(super) const CHECKSUM: core::ops::Range<usize> = 6..8;
    pub(super) const ADDRESSES: usize = 8;
}

/// Length of the fixed header.
pub const HEADER_LEN: usize = 8;
/// Length of VRRPv2's Authentication Data (RFC 3768 §5.3.10).
pub const AUTH_DATA_LEN: usize = 8;
/// The only packet type, ADVERTISEMENT (RFC 9568 §5.2.2).
pub const TYPE_ADVERTISEMENT: u8 = 1;

/// A read (and, with a mutable buffer, write) view over VRRP advertisement bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without any check. See the panic contract in the module docs.
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Wraps a buffer after [`Packet::check_len`] for `family`.
    pub fn new_checked(buffer: T, family: Family) -> Result<Self, ParseError> {
        let packet = Packet::new_unchecked(buffer);
        packet.check_len(family)?;
        Ok(packet)
    }

    /// Checks that the buffer holds the fixed header, a known version, and as many addresses
    /// (and, for v2, authentication data) as the header announces.
    pub fn check_len(&self, family: Family) -> Result<(), ParseError> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(ParseError::Truncated {
                len,
                needed: HEADER_LEN,
            });
        }
        let version = self.version_field();
        let needed = match version {
            2 => Self::needed(Version::V2, family, self.count()),
            3 => Self::needed(Version::V3, family, self.count()),
            other => return Err(ParseError::Version(other)),
        };
        if len < needed {
            return Err(ParseError::Truncated { len, needed });
        }
        Ok(())
    }

    /// Bytes a message of `version` and `family` with `count` addresses occupies.
    pub const fn needed(version: Version, family: Family, count: u8) -> usize {
        let addrs = HEADER_LEN + count as usize * family.addr_len();
        match version {
            Version::V2 => addrs + AUTH_DATA_LEN,
            Version::V3 => addrs,
        }
    }

    /// Consumes the view and returns the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The raw Version nibble (RFC 9568 §5.2.1).
    pub fn version_field(&self) -> u8 {
        self.buffer.as_ref()[field::VER_TYPE] >> 4
    }

    /// The version, when it is one this crate speaks.
    pub fn version(&self) -> Result<Version, ParseError> {
        match self.version_field() {
            2 => Ok(Version::V2),
            3 => Ok(Version::V3),
            other => Err(ParseError::Version(other)),
        }
    }

    /// The Type nibble (RFC 9568 §5.2.2).
    pub fn kind(&self) -> u8 {
        self.buffer.as_ref()[field::VER_TYPE] & 0x0f
    }

    /// Virtual Rtr ID (RFC 9568 §5.2.3), raw.
    pub fn vrid(&self) -> u8 {
        self.buffer.as_ref()[field::VRID]
    }

    /// Priority (RFC 9568 §5.2.4).
    pub fn priority(&self) -> u8 {
        self.buffer.as_ref()[field::PRIORITY]
    }

    /// Count IPvX Addr (RFC 9568 §5.2.5).
    pub fn count(&self) -> u8 {
        self.buffer.as_ref()[field::COUNT]
    }

    /// v2 Auth Type (RFC 3768 §5.3.6). Meaningless for v3.
    pub fn auth_type(&self) -> u8 {
        self.buffer.as_ref()[field::WORD1]
    }

    /// v2 Adver Int in seconds (RFC 3768 §5.3.7). Meaningless for v3.
    pub fn adver_int(&self) -> u8 {
        self.buffer.as_ref()[field::WORD1_LO]
    }

    /// v3 Max Adver Int in centiseconds, 12 bits (RFC 9568 §5.2.7). Meaningless for v2.
    pub fn max_adver_int(&self) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[field::WORD1], b[field::WORD1_LO]]) & 0x0fff
    }

    /// Checksum field (RFC 9568 §5.2.8).
    pub fn checksum(&self) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[field::CHECKSUM.start], b[field::CHECKSUM.start + 1]])
    }

    /// The address block: `count * family.addr_len()` bytes.
    pub fn addresses(&self, family: Family) -> &[u8] {
        let end = field::ADDRESSES + self.count() as usize * family.addr_len();
        &self.buffer.as_ref()[field::ADDRESSES..end]
    }

    /// v2 Authentication Data (RFC 3768 §5.3.10), after the addresses.
    pub fn auth_data(&self) -> [u8; AUTH_DATA_LEN] {
        let start = field::ADDRESSES + self.count() as usize * Family::V4.addr_len();
        let mut data = [0; AUTH_DATA_LEN];
        data.copy_from_slice(&self.buffer.as_ref()[start..start + AUTH_DATA_LEN]);
        data
    }

    /// Whether the checksum verifies over the whole buffer (RFC 9568 §7.1).
    pub fn verify_checksum(&self, version: Version, ctx: &ChecksumContext) -> bool {
        ctx.compute(version, self.buffer.as_ref()) == 0
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets Version and Type.
    pub fn set_version_and_kind(&mut self, version: Version, kind: u8) {
        self.buffer.as_mut()[field::VER_TYPE] = (version.number() << 4) | (kind & 0x0f);
    }

    /// Sets Virtual Rtr ID.
    pub fn set_vrid(&mut self, vrid: u8) {
        self.buffer.as_mut()[field::VRID] = vrid;
    }

    /// Sets Priority.
    pub fn set_priority(&mut self, priority: u8) {
        self.buffer.as_mut()[field::PRIORITY] = priority;
    }

    /// Sets Count IPvX Addr.
    pub fn set_count(&mut self, count: u8) {
        self.buffer.as_mut()[field::COUNT] = count;
    }

    /// Sets v2 Auth Type and Adver Int.
    pub fn set_v2_auth_type_and_adver_int(&mut self, auth_type: u8, adver_int: u8) {
        let b = self.buffer.as_mut();
        b[field::WORD1] = auth_type;
        b[field::WORD1_LO] = adver_int;
    }

    /// Sets v3 Max Adver Int (12 bits; the reserved nibble is written as zero).
    pub fn set_max_adver_int(&mut self, centis: u16) {
        let bytes = (centis & 0x0fff).to_be_bytes();
        let b = self.buffer.as_mut();
        b[field::WORD1] = bytes[0];
        b[field::WORD1_LO] = bytes[1];
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, value: u16) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&value.to_be_bytes());
    }

    /// The address block, writable; the count must be set first.
    pub fn addresses_mut(&mut self, family: Family) -> &mut [u8] {
        let end = field::ADDRESSES + self.count() as usize * family.addr_len();
        &mut self.buffer.as_mut()[field::ADDRESSES..end]
    }

    /// Writes v2 Authentication Data; the count must be set first.
    pub fn set_auth_data(&mut self, data: &[u8; AUTH_DATA_LEN]) {
        let start = field::ADDRESSES + self.count() as usize * Family::V4.addr_len();
        self.buffer.as_mut()[start..start + AUTH_DATA_LEN].copy_from_slice(data);
    }

    /// Computes and stores the checksum over the whole buffer.
    pub fn fill_checksum(&mut self, version: Version, ctx: &ChecksumContext) {
        self.set_checksum(0);
        let value = ctx.compute(version, self.buffer.as_ref());
        self.set_checksum(value);
    }
}
