#![allow(clippy::unwrap_used)]

use std::net::IpAddr;

use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressHeaderFlags};

use super::{netlink_add_message, netlink_address_message};
use crate::error::VipError;
use crate::vip::{Vip, VipOptions};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn flags(attributes: &[AddressAttribute]) -> Option<AddressFlags> {
    attributes.iter().find_map(|a| match a {
        AddressAttribute::Flags(f) => Some(*f),
        _ => None,
    })
}

#[test]
fn a_plain_ipv4_address_has_no_broadcast_and_no_flags() {
    let msg = netlink_add_message(&Vip::new(3, ip("192.0.2.100"), 24)).unwrap();
    assert_eq!(
        msg.attributes,
        [
            AddressAttribute::Local(ip("192.0.2.100")),
            AddressAttribute::Address(ip("192.0.2.100")),
        ]
    );
    assert_eq!((msg.header.index, msg.header.prefix_len), (3, 24));
}

#[test]
fn broadcast_and_label_are_sent_for_ipv4() {
    let vip = Vip::new(3, ip("192.0.2.100"), 24)
        .label("eth0:v")
        .options(VipOptions::new().broadcast("192.0.2.255".parse().unwrap()));
    let msg = netlink_add_message(&vip).unwrap();
    assert!(
        msg.attributes
            .contains(&AddressAttribute::Label("eth0:v".into()))
    );
    assert!(
        msg.attributes
            .contains(&AddressAttribute::Broadcast("192.0.2.255".parse().unwrap()))
    );
    // The delete names the address only.
    let del = netlink_address_message(&vip).unwrap();
    assert!(
        !del.attributes
            .iter()
            .any(|a| matches!(a, AddressAttribute::Broadcast(_)))
    );
}

#[test]
fn a_peer_goes_in_ifa_address() {
    let vip = Vip::new(3, ip("192.0.2.100"), 32).options(VipOptions::new().peer(ip("192.0.2.1")));
    for msg in [
        netlink_add_message(&vip).unwrap(),
        netlink_address_message(&vip).unwrap(),
    ] {
        assert_eq!(
            msg.attributes[..2],
            [
                AddressAttribute::Local(ip("192.0.2.100")),
                AddressAttribute::Address(ip("192.0.2.1")),
            ]
        );
    }
    let bad = Vip::new(3, ip("192.0.2.100"), 32).options(VipOptions::new().peer(ip("2001:db8::1")));
    assert!(matches!(
        netlink_add_message(&bad),
        Err(VipError::BadPeer { .. })
    ));
}

#[test]
fn ipv6_skips_dad_unless_asked_and_carries_flags() {
    let plain = netlink_add_message(&Vip::new(3, ip("2001:db8::100"), 64)).unwrap();
    assert_eq!(flags(&plain.attributes), Some(AddressFlags::Nodad));
    assert_eq!(plain.header.flags, AddressHeaderFlags::Nodad);
    let dad = Vip::new(3, ip("2001:db8::100"), 64)
        .options(VipOptions::new().dad(true).noprefixroute(true).home(true));
    let msg = netlink_add_message(&dad).unwrap();
    assert_eq!(
        flags(&msg.attributes),
        Some(AddressFlags::Noprefixroute | AddressFlags::Homeaddress)
    );
    // IFA_F_NOPREFIXROUTE does not fit the header's 8 bits; HOMEADDRESS does.
    assert_eq!(msg.header.flags, AddressHeaderFlags::Homeaddress);
    // Nothing for IPv4 unless asked.
    let v4 = netlink_add_message(&Vip::new(3, ip("192.0.2.1"), 32)).unwrap();
    assert_eq!(flags(&v4.attributes), None);
}

#[test]
fn preferred_lifetime_is_ipv6_cacheinfo_with_valid_forever() {
    let vip =
        Vip::new(3, ip("2001:db8::100"), 128).options(VipOptions::new().preferred_lft(Some(0)));
    let msg = netlink_add_message(&vip).unwrap();
    let info = msg
        .attributes
        .iter()
        .find_map(|a| match a {
            AddressAttribute::CacheInfo(c) => Some(*c),
            _ => None,
        })
        .unwrap();
    assert_eq!((info.ifa_preferred, info.ifa_valid), (0, u32::MAX));
    let forever = netlink_add_message(&Vip::new(3, ip("2001:db8::100"), 128)).unwrap();
    assert!(
        !forever
            .attributes
            .iter()
            .any(|a| matches!(a, AddressAttribute::CacheInfo(_)))
    );
    let v4 = Vip::new(3, ip("192.0.2.1"), 32).options(VipOptions::new().preferred_lft(Some(0)));
    assert!(
        !netlink_add_message(&v4)
            .unwrap()
            .attributes
            .iter()
            .any(|a| matches!(a, AddressAttribute::CacheInfo(_)))
    );
}
