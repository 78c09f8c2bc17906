//! Property tests: any service or destination survives request emission, parsing, and both
//! decoders (attribute enums and `raw`) unchanged.

#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ipvs_sys::nla::CmdAttr;
use ipvs_sys::{
    Command, Destination, DestinationEntry, Family, ForwardMethod, IpvsMessage, Protocol,
    Scheduler, Service, ServiceEntry, ServiceFlags, ServiceKey, Tunnel, TunnelCsum, TunnelType,
};
use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_generic::GenlMessage;
use proptest::prelude::*;

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<u32>().prop_map(|v| IpAddr::V4(Ipv4Addr::from(v))),
        any::<u128>().prop_map(|v| IpAddr::V6(Ipv6Addr::from(v))),
    ]
}

fn key() -> impl Strategy<Value = ServiceKey> {
    let protocol = prop_oneof![
        Just(Protocol::Tcp),
        Just(Protocol::Udp),
        Just(Protocol::Sctp)
    ];
    prop_oneof![
        (protocol, ip(), any::<u16>()).prop_map(|(protocol, ip, port)| ServiceKey::Inet {
            protocol,
            addr: SocketAddr::new(ip, port)
        }),
        (any::<bool>(), 1..=u32::MAX).prop_map(|(v6, mark)| {
            ServiceKey::fwmark(if v6 { Family::Inet6 } else { Family::Inet }, mark)
        }),
    ]
}

fn service() -> impl Strategy<Value = Service> {
    (
        key(),
        prop::sample::select(Scheduler::KNOWN.to_vec()),
        0u32..0x40,
        any::<u32>(),
        any::<u32>(),
        prop::option::of("[a-z]{1,15}"),
    )
        .prop_map(|(key, scheduler, flags, timeout, mask, pe_name)| {
            let mut s = Service::new(key, scheduler);
            s.flags = ServiceFlags(flags).without(ServiceFlags::HASHED);
            s.timeout = timeout;
            s.netmask = match key.family() {
                Family::Inet => mask,
                Family::Inet6 => mask % 128 + 1,
            };
            s.pe_name = pe_name;
            s
        })
}

fn destination() -> impl Strategy<Value = Destination> {
    let tunnel = (0u8..3, any::<u16>(), 0u8..3).prop_map(|(k, port, c)| Tunnel {
        kind: [TunnelType::Ipip, TunnelType::Gue, TunnelType::Gre][k as usize],
        port,
        csum: [TunnelCsum::NoCsum, TunnelCsum::Csum, TunnelCsum::RemCsum][c as usize],
    });
    let forward = prop_oneof![
        Just(ForwardMethod::Masquerade),
        Just(ForwardMethod::Local),
        Just(ForwardMethod::DirectRoute),
        Just(ForwardMethod::Bypass),
        tunnel.prop_map(ForwardMethod::Tunnel),
    ];
    (
        ip(),
        any::<u16>(),
        forward,
        0..=i32::MAX as u32,
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(
            |(ip, port, forward, weight, upper_threshold, lower_threshold)| Destination {
                addr: SocketAddr::new(ip, port),
                forward,
                weight,
                upper_threshold,
                lower_threshold,
            },
        )
}

/// Emits `command` as the socket would and parses it back.
fn through_the_wire(command: &Command) -> (Vec<u8>, IpvsMessage) {
    let mut genl = GenlMessage::from_payload(command.to_message());
    genl.set_resolved_family_id(0x20);
    let mut msg = NetlinkMessage::from(genl);
    msg.finalize();
    let mut buf = vec![0; msg.buffer_len()];
    msg.serialize(&mut buf);
    let parsed = NetlinkMessage::<GenlMessage<IpvsMessage>>::deserialize(&buf).unwrap();
    let NetlinkPayload::InnerMessage(genl) = parsed.payload else {
        panic!("not IPVS")
    };
    (buf, genl.payload)
}

proptest! {
    #[test]
    fn services_round_trip(s in service()) {
        let (bytes, msg) = through_the_wire(&Command::AddService(s.clone()));
        let Some(CmdAttr::Service(attrs)) = msg.attrs.first() else { panic!("no service") };
        prop_assert_eq!(&ServiceEntry::from_attrs(attrs).unwrap().service, &s);
        prop_assert_eq!(ipvs_sys::raw::service_config(&bytes[20..]).unwrap(), Some(s));
    }

    #[test]
    fn destinations_round_trip(k in key(), d in destination()) {
        let (bytes, msg) = through_the_wire(&Command::AddDestination(k, d));
        let Some(CmdAttr::Dest(attrs)) = msg.attrs.get(1) else { panic!("no destination") };
        prop_assert_eq!(DestinationEntry::from_attrs(attrs, k.family()).unwrap().destination, d);
        prop_assert_eq!(ipvs_sys::raw::destination_config(&bytes[20..], k.family()).unwrap(), Some(d));
    }

    #[test]
    fn arbitrary_bytes_never_panic_either_decoder(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = NetlinkMessage::<GenlMessage<IpvsMessage>>::deserialize(&bytes);
        let _ = ipvs_sys::raw::service_config(&bytes);
        let _ = ipvs_sys::raw::destination_config(&bytes, Family::Inet);
    }
}
