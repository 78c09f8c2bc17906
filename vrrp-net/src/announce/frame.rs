//! Building the announcement frames.

use std::net::{Ipv4Addr, Ipv6Addr};

use pnet_base::MacAddr;
use pnet_packet::MutablePacket;
use pnet_packet::arp::{ArpHardwareTypes, ArpOperations, MutableArpPacket};
use pnet_packet::ethernet::{EtherTypes, MutableEthernetPacket};
use pnet_packet::icmpv6::ndp::{MutableNeighborAdvertPacket, NdpOption, NdpOptionTypes};
use pnet_packet::icmpv6::{Icmpv6Code, Icmpv6Packet, Icmpv6Types, checksum};
use pnet_packet::ip::IpNextHeaderProtocols;
use pnet_packet::ipv6::MutableIpv6Packet;

/// A 48-bit Ethernet address.
pub type MacAddress = [u8; 6];

const ETHERNET_HEADER: usize = 14;
const ARP_LEN: usize = 28;
const IPV6_HEADER: usize = 40;
/// Neighbour advertisement (24 bytes) plus one target link-layer address option (8 bytes).
const NA_LEN: usize = 32;
/// RFC 4861 §4.4 flags.
const NA_FLAG_ROUTER: u8 = 0x80;
const NA_FLAG_OVERRIDE: u8 = 0x20;
/// All-nodes multicast (RFC 4291 §2.7.1) and its Ethernet mapping (RFC 2464 §7).
const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
const ALL_NODES_MAC: MacAddress = [0x33, 0x33, 0, 0, 0, 1];

fn mac(m: MacAddress) -> MacAddr {
    MacAddr(m[0], m[1], m[2], m[3], m[4], m[5])
}

/// A gratuitous ARP request from `sender` announcing that `ip` is at `sender`: broadcast,
/// sender and target protocol address both `ip` (RFC 5227 §3, RFC 9568 §6.4.1).
pub fn gratuitous_arp(sender: MacAddress, ip: Ipv4Addr) -> Vec<u8> {
    let mut buf = vec![0u8; ETHERNET_HEADER + ARP_LEN];
    let mut eth =
        MutableEthernetPacket::new(&mut buf).unwrap_or_else(|| unreachable!("buffer sized above"));
    eth.set_destination(MacAddr::broadcast());
    eth.set_source(mac(sender));
    eth.set_ethertype(EtherTypes::Arp);
    let mut arp = MutableArpPacket::new(eth.payload_mut())
        .unwrap_or_else(|| unreachable!("buffer sized above"));
    arp.set_hardware_type(ArpHardwareTypes::Ethernet);
    arp.set_protocol_type(EtherTypes::Ipv4);
    arp.set_hw_addr_len(6);
    arp.set_proto_addr_len(4);
    arp.set_operation(ArpOperations::Request);
    arp.set_sender_hw_addr(mac(sender));
    arp.set_sender_proto_addr(ip);
    arp.set_target_hw_addr(MacAddr::broadcast());
    arp.set_target_proto_addr(ip);
    buf
}

/// An unsolicited neighbour advertisement for `target` from `src` (normally the interface's
/// link-local address) to all nodes, hop limit 255, Override set, Solicited clear, Router as
/// given, with a target link-layer address option carrying `sender` (RFC 4861 §7.2.6).
pub fn unsolicited_na(
    sender: MacAddress,
    src: Ipv6Addr,
    target: Ipv6Addr,
    router: bool,
) -> Vec<u8> {
    let mut buf = vec![0u8; ETHERNET_HEADER + IPV6_HEADER + NA_LEN];
    {
        let mut eth = MutableEthernetPacket::new(&mut buf)
            .unwrap_or_else(|| unreachable!("buffer sized above"));
        eth.set_destination(mac(ALL_NODES_MAC));
        eth.set_source(mac(sender));
        eth.set_ethertype(EtherTypes::Ipv6);
        let mut ip = MutableIpv6Packet::new(eth.payload_mut())
            .unwrap_or_else(|| unreachable!("buffer sized above"));
        ip.set_version(6);
        ip.set_payload_length(NA_LEN as u16);
        ip.set_next_header(IpNextHeaderProtocols::Icmpv6);
        ip.set_hop_limit(255);
        ip.set_source(src);
        ip.set_destination(ALL_NODES);
        let mut na = MutableNeighborAdvertPacket::new(ip.payload_mut())
            .unwrap_or_else(|| unreachable!("buffer sized above"));
        na.set_icmpv6_type(Icmpv6Types::NeighborAdvert);
        na.set_icmpv6_code(Icmpv6Code(0));
        na.set_flags(NA_FLAG_OVERRIDE | if router { NA_FLAG_ROUTER } else { 0 });
        na.set_target_addr(target);
        na.set_options(&[NdpOption {
            option_type: NdpOptionTypes::TargetLLAddr,
            length: 1,
            data: sender.to_vec(),
        }]);
    }
    let icmp_start = ETHERNET_HEADER + IPV6_HEADER;
    let sum = Icmpv6Packet::new(&buf[icmp_start..]).map(|p| checksum(&p, &src, &ALL_NODES));
    if let Some(sum) = sum {
        buf[icmp_start + 2..icmp_start + 4].copy_from_slice(&sum.to_be_bytes());
    }
    buf
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const MAC: MacAddress = [0x00, 0x00, 0x5e, 0x00, 0x01, 0x33];

    #[test]
    fn gratuitous_arp_has_the_wire_layout() {
        let f = gratuitous_arp(MAC, Ipv4Addr::new(192, 0, 2, 100));
        let expected: Vec<u8> = [
            &[0xff; 6][..],
            &MAC,
            &[0x08, 0x06],                         // ARP
            &[0x00, 0x01, 0x08, 0x00, 6, 4, 0, 1], // Ethernet, IPv4, request
            &MAC,
            &[192, 0, 2, 100],
            &[0xff; 6],
            &[192, 0, 2, 100],
        ]
        .concat();
        assert_eq!(f, expected);
    }

    #[test]
    fn unsolicited_na_has_override_and_a_valid_checksum() {
        let src: Ipv6Addr = "fe80::1".parse().unwrap();
        let target: Ipv6Addr = "2001:db8::100".parse().unwrap();
        let f = unsolicited_na(MAC, src, target, false);
        assert_eq!(&f[0..6], &ALL_NODES_MAC);
        assert_eq!(&f[12..14], &[0x86, 0xdd]);
        let ip = &f[14..54];
        assert_eq!((ip[6], ip[7]), (58, 255)); // ICMPv6, hop limit 255
        let icmp = &f[54..];
        assert_eq!((icmp[0], icmp[1], icmp[4]), (136, 0, NA_FLAG_OVERRIDE));
        assert_eq!(&icmp[8..24], &target.octets());
        assert_eq!(&icmp[24..32], &[2, 1, 0x00, 0x00, 0x5e, 0x00, 0x01, 0x33]);
        // RFC 1071: summing the pseudo-header and the message, checksum included, gives 0xffff.
        let mut sum: u32 = 0;
        let mut add = |b: &[u8]| {
            for c in b.chunks(2) {
                sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
            }
        };
        add(&src.octets());
        add(&ALL_NODES.octets());
        add(&(NA_LEN as u32).to_be_bytes());
        add(&[0, 0, 0, 58]);
        add(icmp);
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        assert_eq!(sum, 0xffff);
    }

    #[test]
    fn router_flag_is_set_on_request() {
        let f = unsolicited_na(MAC, Ipv6Addr::LOCALHOST, Ipv6Addr::LOCALHOST, true);
        assert_eq!(f[54 + 4], NA_FLAG_OVERRIDE | NA_FLAG_ROUTER);
    }
}
