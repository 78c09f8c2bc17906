//! The Internet checksum (RFC 1071) and the pseudo-header variants VRRP uses.
//!
//! - VRRPv2 (RFC 3768 §5.3.8): over the VRRP message only.
//! - VRRPv3 (RFC 9568 §5.2.8): over the message plus the IPv4 (RFC 791) or IPv6
//!   (RFC 8200 §8.1) pseudo-header with protocol 112.
//! - keepalived's `v3_checksum_as_v2` sends VRRPv3 over IPv4 without the pseudo-header;
//!   [`ChecksumMode::NoPseudoHeader`] is that deviation, chosen explicitly.

use core::net::IpAddr;

use crate::types::Version;

/// IP protocol number of VRRP (RFC 9568 §5.1.1.4).
pub const IPPROTO_VRRP: u8 = 112;

/// Which bytes the VRRPv3 checksum covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ChecksumMode {
    /// RFC 9568 §5.2.8: include the IP pseudo-header (always used for VRRPv2's own rule:
    /// v2 never has a pseudo-header whatever this says).
    #[default]
    PseudoHeader,
    /// keepalived's `v3_checksum_as_v2`: VRRPv3 over IPv4 checksummed like VRRPv2.
    /// Ignored for IPv6, where the pseudo-header is mandatory.
    NoPseudoHeader,
    /// keepalived's `old_unicast_checksum`: the pseudo-header names this address (the
    /// multicast group) as destination, whatever the packet's real destination, both when
    /// sending and when verifying.
    PseudoHeaderTo(IpAddr),
}

/// The addresses a checksum is computed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChecksumContext {
    /// IP source address of the packet.
    pub src: IpAddr,
    /// IP destination address of the packet.
    pub dst: IpAddr,
    /// Pseudo-header handling for VRRPv3.
    pub mode: ChecksumMode,
}

impl ChecksumContext {
    /// Whether this context puts a pseudo-header in front of a message of `version`.
    pub fn uses_pseudo_header(&self, version: Version) -> bool {
        match (version, self.src) {
            (Version::V2, _) => false,
            (Version::V3, IpAddr::V6(_)) => true,
            (Version::V3, IpAddr::V4(_)) => self.mode != ChecksumMode::NoPseudoHeader,
        }
    }

    /// The checksum of `message` (its checksum field included as it is). When the field holds
    /// the right value, the result is 0; when the field is 0, the result is the value to store.
    pub fn compute(&self, version: Version, message: &[u8]) -> u16 {
        let mut sum = Sum::default();
        if self.uses_pseudo_header(version) {
            // Both lengths fit: a VRRP message is bounded by the IP payload length.
            let len = message.len() as u32;
            let dst = match self.mode {
                ChecksumMode::PseudoHeaderTo(fixed) => fixed,
                ChecksumMode::PseudoHeader | ChecksumMode::NoPseudoHeader => self.dst,
            };
            match (self.src, dst) {
                (IpAddr::V4(s), IpAddr::V4(d)) => {
                    sum.add_bytes(&s.octets());
                    sum.add_bytes(&d.octets());
                    sum.add_u16(u16::from(IPPROTO_VRRP));
                    sum.add_u16(len as u16);
                }
                (s, d) => {
                    sum.add_bytes(&ipv6_octets(s));
                    sum.add_bytes(&ipv6_octets(d));
                    sum.add_u16((len >> 16) as u16);
                    sum.add_u16(len as u16);
                    sum.add_u16(u16::from(IPPROTO_VRRP));
                }
            }
        }
        sum.add_bytes(message);
        sum.finish()
    }
}

fn ipv6_octets(addr: IpAddr) -> [u8; 16] {
    match addr {
        IpAddr::V6(a) => a.octets(),
        IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
    }
}

/// One's-complement accumulator (RFC 1071 §4.1).
#[derive(Debug, Default)]
struct Sum(u64);

impl Sum {
    fn add_u16(&mut self, word: u16) {
        self.0 += u64::from(word);
    }

    fn add_bytes(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(2);
        for pair in &mut chunks {
            self.0 += u64::from(u16::from_be_bytes([pair[0], pair[1]]));
        }
        if let [last] = chunks.remainder() {
            self.0 += u64::from(*last) << 8;
        }
    }

    fn finish(mut self) -> u16 {
        while self.0 >> 16 != 0 {
            self.0 = (self.0 & 0xffff) + (self.0 >> 16);
        }
        !(self.0 as u16)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example_sums_to_known_value() {
        // RFC 1071 §3 example bytes: 00 01 f2 03 f4 f5 f6 f7 sum to 0xddf2 before complement.
        let ctx = ChecksumContext {
            src: IpAddr::from([0, 0, 0, 0]),
            dst: IpAddr::from([0, 0, 0, 0]),
            mode: ChecksumMode::PseudoHeader,
        };
        assert_eq!(
            ctx.compute(
                Version::V2,
                &[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]
            ),
            !0xddf2
        );
    }

    #[test]
    fn odd_length_pads_with_zero() {
        let ctx = ChecksumContext {
            src: IpAddr::from([0, 0, 0, 0]),
            dst: IpAddr::from([0, 0, 0, 0]),
            mode: ChecksumMode::PseudoHeader,
        };
        assert_eq!(ctx.compute(Version::V2, &[0x12]), !0x1200);
    }

    #[test]
    fn pseudo_header_to_ignores_the_real_destination() {
        let group = IpAddr::from([224, 0, 0, 18]);
        let fixed = |dst| ChecksumContext {
            src: IpAddr::from([192, 0, 2, 1]),
            dst,
            mode: ChecksumMode::PseudoHeaderTo(group),
        };
        let rfc = ChecksumContext {
            mode: ChecksumMode::PseudoHeader,
            ..fixed(group)
        };
        let msg = [0x31, 1, 100, 1, 0, 100, 0, 0, 192, 0, 2, 100];
        let peer = IpAddr::from([192, 0, 2, 2]);
        assert_eq!(
            fixed(peer).compute(Version::V3, &msg),
            rfc.compute(Version::V3, &msg)
        );
        assert_ne!(
            fixed(peer).compute(Version::V3, &msg),
            ChecksumContext { dst: peer, ..rfc }.compute(Version::V3, &msg)
        );
    }
}
