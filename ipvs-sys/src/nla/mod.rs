//! IPVS generic netlink attributes, one enum per attribute space of `<linux/ip_vs.h>`.
//!
//! Every enum implements the rust-netlink [`Nla`] trait for emission and [`Parseable`] for
//! parsing. Attribute kinds this crate does not know (a newer kernel) are kept as
//! `Other(DefaultNla)`: they never fail a parse and are emitted back unchanged.

mod cmd;
mod daemon;
mod dest;
mod service;
mod stats;

pub use cmd::CmdAttr;
pub use daemon::DaemonAttr;
pub use dest::DestAttr;
pub use service::{ServiceAttr, ServiceFlagsAttr};
pub use stats::StatsAttr;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_core::{
    DecodeError, Emitable, Nla, NlaBuffer, NlasIterator, Parseable, parse_string,
};

/// An address as the kernel carries it: `union nf_inet_addr`, 16 bytes, IPv4 in the first 4.
///
/// Which family it holds is said by a separate attribute (`IPVS_SVC_ATTR_AF`,
/// `IPVS_DEST_ATTR_ADDR_FAMILY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct InetAddr(pub [u8; 16]);

impl InetAddr {
    /// The address read as IPv4 (first four bytes).
    pub fn to_ipv4(self) -> Ipv4Addr {
        Ipv4Addr::new(self.0[0], self.0[1], self.0[2], self.0[3])
    }

    /// The address read as IPv6.
    pub fn to_ipv6(self) -> Ipv6Addr {
        Ipv6Addr::from(self.0)
    }

    pub(crate) fn parse(value: &[u8]) -> Result<Self, DecodeError> {
        let mut raw = [0u8; 16];
        match value.len() {
            4 | 16 => raw[..value.len()].copy_from_slice(value),
            n => return Err(DecodeError::invalid_ip_address(n)),
        }
        Ok(Self(raw))
    }
}

impl From<IpAddr> for InetAddr {
    fn from(ip: IpAddr) -> Self {
        let mut raw = [0u8; 16];
        match ip {
            IpAddr::V4(v4) => raw[..4].copy_from_slice(&v4.octets()),
            IpAddr::V6(v6) => raw = v6.octets(),
        }
        Self(raw)
    }
}

/// Parses a nested attribute's value as a list of `N`.
pub(crate) fn parse_nested<N>(value: &[u8]) -> Result<Vec<N>, DecodeError>
where
    N: for<'a> Parseable<NlaBuffer<&'a [u8]>>,
{
    NlasIterator::new(value)
        .map(|nla| nla.and_then(|nla| N::parse(&nla)))
        .collect()
}

/// Emits a list of attributes as the value of a nested attribute.
pub(crate) fn emit_nested<N: Nla>(attrs: &[N], buffer: &mut [u8]) {
    attrs.emit(buffer);
}

/// Length of a nested attribute's value.
pub(crate) fn nested_len<N: Nla>(attrs: &[N]) -> usize {
    attrs.buffer_len()
}

/// A NUL-terminated string value (as `nla_put_string` writes it).
pub(crate) fn emit_cstr(s: &str, buffer: &mut [u8]) {
    buffer[..s.len()].copy_from_slice(s.as_bytes());
    buffer[s.len()] = 0;
}

pub(crate) fn parse_cstr(value: &[u8]) -> Result<String, DecodeError> {
    let end = value.iter().position(|&b| b == 0).unwrap_or(value.len());
    parse_string(&value[..end])
}
