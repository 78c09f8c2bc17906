//! Announcing a new master: gratuitous ARP (RFC 5227 §3 / RFC 9568 §6.4.1) for IPv4 VIPs and
//! unsolicited neighbour advertisements with the Override flag (RFC 4861 §7.2.6) for IPv6 VIPs,
//! sent as whole Ethernet frames over AF_PACKET.

mod frame;
mod socket;

pub use frame::{MacAddress, gratuitous_arp, unsolicited_na};
pub use socket::PacketSocket;
