//! Sending and receiving VRRP advertisements (IP protocol 112).
//!
//! One [`Transport`] serves one interface and one address family, shared by every virtual
//! router on it. It hands the demux what it needs to validate a packet: the TTL / hop limit
//! the packet arrived with, its source and destination, and the interface it came in on.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use async_trait::async_trait;

use crate::error::TransportError;

mod memory;
mod raw;

pub use memory::{Announcement, MemoryLan, MemoryTransport};
pub use raw::RawTransport;

/// IP protocol number of VRRP (RFC 9568 §5.1.1.4).
pub const IPPROTO_VRRP: u8 = 112;
/// The IPv4 multicast group of VRRP (RFC 9568 §5.1.1.2).
pub const VRRP_GROUP_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
/// The IPv6 multicast group of VRRP (RFC 9568 §5.1.2.2).
pub const VRRP_GROUP_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
/// TTL / hop limit of every advertisement, required on receipt too (RFC 9568 §5.1.1.3).
pub const VRRP_TTL: u8 = 255;

/// The address family a transport carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressFamily {
    /// IPv4.
    Inet,
    /// IPv6.
    Inet6,
}

impl AddressFamily {
    /// The family of an address.
    pub fn of(addr: IpAddr) -> Self {
        match addr {
            IpAddr::V4(_) => Self::Inet,
            IpAddr::V6(_) => Self::Inet6,
        }
    }

    /// The VRRP multicast group of this family.
    pub fn vrrp_group(self) -> IpAddr {
        match self {
            Self::Inet => IpAddr::V4(VRRP_GROUP_V4),
            Self::Inet6 => IpAddr::V6(VRRP_GROUP_V6),
        }
    }
}

/// One received VRRP packet with the metadata the receive path validates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// Index of the interface the packet arrived on.
    pub ifindex: u32,
    /// The sender's address.
    pub src: IpAddr,
    /// The packet's destination address (the multicast group or our unicast address).
    pub dst: IpAddr,
    /// The TTL (IPv4) or hop limit (IPv6) the packet arrived with.
    pub ttl: u8,
    /// The VRRP message, without the IP header.
    pub payload: Vec<u8>,
}

/// A raw VRRP endpoint on one interface and family.
#[async_trait]
pub trait Transport: Send + Sync {
    /// Index of the interface this transport is bound to.
    fn ifindex(&self) -> u32;

    /// The address family this transport carries.
    fn family(&self) -> AddressFamily;

    /// Sends one VRRP message from `src` to `dst` (the group or a unicast peer) with TTL /
    /// hop limit 255.
    async fn send(&self, src: IpAddr, dst: IpAddr, payload: &[u8]) -> Result<(), TransportError>;

    /// Sends like [`Transport::send`] with TTL / hop limit `ttl` (keepalived's `unicast_ttl`,
    /// for unicast peers only). A transport that cannot set it per packet sends 255.
    async fn send_with_ttl(
        &self,
        src: IpAddr,
        dst: IpAddr,
        payload: &[u8],
        ttl: u8,
    ) -> Result<(), TransportError> {
        let _ = ttl;
        self.send(src, dst, payload).await
    }

    /// Waits for the next VRRP message.
    async fn recv(&self) -> Result<Received, TransportError>;

    /// Told of each gratuitous ARP / unsolicited NA the driver sends for `address` on this
    /// transport's interface when that interface is not a kernel one (kernel interfaces
    /// announce over AF_PACKET instead). The default does nothing; [`MemoryTransport`] records
    /// it in its LAN ([`MemoryLan::announcements`]).
    fn announce(&self, address: IpAddr) {
        let _ = address;
    }
}

fn check_family(src: IpAddr, dst: IpAddr) -> Result<(), TransportError> {
    if AddressFamily::of(src) == AddressFamily::of(dst) {
        Ok(())
    } else {
        Err(TransportError::FamilyMismatch { src, dst })
    }
}
