//! Property tests of the wire codec: every representable advert survives emit -> parse -> emit
//! unchanged, and no byte sequence makes the parser or the receive path panic.
#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use vrrp_core::wire::{
    AUTH_DATA_LEN, AddressList, AdvertRepr, Auth, ChecksumContext, ChecksumMode, Packet, Password,
};
use vrrp_core::{
    Centisecs, Demux, Family, ParseError, Priority, RouterConfig, RxMeta, Version, VirtualAddress,
    VirtualRouter, Vrid,
};

/// An advert in owned form, so strategies can produce it.
#[derive(Debug, Clone)]
struct Owned {
    version: Version,
    vrid: Vrid,
    priority: Priority,
    max_adver_int: Centisecs,
    family: Family,
    addresses: Vec<IpAddr>,
    auth: Auth,
    ctx: ChecksumContext,
}

impl Owned {
    fn repr(&self) -> AdvertRepr<'_> {
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

    fn emit(&self) -> Vec<u8> {
        let repr = self.repr();
        let mut buffer = vec![0; repr.buffer_len()];
        repr.emit(&mut Packet::new_unchecked(&mut buffer[..]), &self.ctx);
        buffer
    }
}

fn address(family: Family) -> BoxedStrategy<IpAddr> {
    match family {
        Family::V4 => any::<u32>()
            .prop_map(|a| IpAddr::V4(Ipv4Addr::from(a)))
            .boxed(),
        Family::V6 => any::<u128>()
            .prop_map(|a| IpAddr::V6(Ipv6Addr::from(a)))
            .boxed(),
    }
}

fn auth() -> impl Strategy<Value = Auth> {
    prop_oneof![
        Just(Auth::None),
        any::<[u8; AUTH_DATA_LEN]>().prop_map(|d| Auth::SimpleText(Password::from_data(d))),
        (2u8.., any::<[u8; AUTH_DATA_LEN]>())
            .prop_map(|(auth_type, data)| Auth::Unknown { auth_type, data }),
    ]
}

fn mode() -> impl Strategy<Value = ChecksumMode> {
    prop_oneof![
        Just(ChecksumMode::PseudoHeader),
        Just(ChecksumMode::NoPseudoHeader)
    ]
}

/// Any advert the wire format can carry, with the context it is checksummed for.
fn advert() -> impl Strategy<Value = Owned> {
    prop_oneof![
        (Just(Version::V2), Just(Family::V4)),
        (Just(Version::V3), Just(Family::V4)),
        (Just(Version::V3), Just(Family::V6)),
    ]
    .prop_flat_map(|(version, family)| {
        let interval = match version {
            // VRRPv2 carries whole seconds.
            Version::V2 => (0u16..=255).prop_map(|s| Centisecs::new(s * 100)).boxed(),
            Version::V3 => (0u16..=0x0fff).prop_map(Centisecs::new).boxed(),
        };
        let auth = match version {
            Version::V2 => auth().boxed(),
            Version::V3 => Just(Auth::None).boxed(),
        };
        (
            1u8..=255,
            any::<u8>(),
            interval,
            prop::collection::vec(address(family), 1..=32),
            auth,
            address(family),
            address(family),
            mode(),
        )
            .prop_map(
                move |(vrid, priority, max_adver_int, addresses, auth, src, dst, mode)| Owned {
                    version,
                    vrid: Vrid::new(vrid).unwrap(),
                    priority: Priority(priority),
                    max_adver_int,
                    family,
                    addresses,
                    auth,
                    ctx: ChecksumContext { src, dst, mode },
                },
            )
    })
}

/// A receive path with one router per family and version, so arbitrary bytes reach every
/// validation step for some VRID.
fn demuxes() -> Vec<Demux> {
    let mut out = Vec::new();
    for (family, primary, vip) in [
        (Family::V4, "192.0.2.1", "192.0.2.100"),
        (Family::V6, "fe80::1", "2001:db8::100"),
    ] {
        let mut demux = Demux::new(family);
        for (vrid, version) in [(1u8, Version::V3), (2, Version::V2)] {
            if family == Family::V6 && version == Version::V2 {
                continue;
            }
            let mut builder = RouterConfig::builder("rx", vrid, primary.parse().unwrap())
                .version(version)
                .virtual_address(VirtualAddress::host(vip.parse().unwrap()));
            if version == Version::V2 {
                builder = builder.password("pw");
            }
            let router = VirtualRouter::new(builder.build().unwrap()).unwrap();
            demux
                .register(vrid, usize::from(vrid), router.rx_policy())
                .unwrap();
        }
        out.push(demux);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn emitted_adverts_parse_back_to_the_same_fields(a in advert()) {
        let bytes = a.emit();
        prop_assert_eq!(bytes.len(), a.repr().buffer_len());
        let packet = Packet::new_checked(&bytes[..], a.family).unwrap();
        prop_assert!(packet.verify_checksum(a.version, &a.ctx));
        let parsed = AdvertRepr::parse(&packet, a.family, Some(&a.ctx)).unwrap();
        prop_assert_eq!(parsed, a.repr());
        prop_assert_eq!(parsed.addresses.iter().collect::<Vec<_>>(), a.addresses.clone());
        // And the parsed form emits the same bytes again.
        let mut again = vec![0; parsed.buffer_len()];
        parsed.emit(&mut Packet::new_unchecked(&mut again[..]), &a.ctx);
        prop_assert_eq!(again, bytes);
    }

    #[test]
    fn every_truncation_is_a_length_error(a in advert(), cut in any::<prop::sample::Index>()) {
        let bytes = a.emit();
        let len = cut.index(bytes.len());
        let short = &bytes[..len];
        match AdvertRepr::parse(&Packet::new_unchecked(short), a.family, Some(&a.ctx)) {
            Err(ParseError::Truncated { len: got, needed }) => {
                prop_assert_eq!(got, len);
                prop_assert!(needed > len);
            }
            other => prop_assert!(false, "{len} of {} bytes gave {other:?}", bytes.len()),
        }
    }

    #[test]
    fn any_single_bit_flip_fails_the_checksum_or_the_parse(a in advert(), bit in any::<prop::sample::Index>()) {
        let mut bytes = a.emit();
        let bit = bit.index(bytes.len() * 8);
        bytes[bit / 8] ^= 1 << (bit % 8);
        let parsed = AdvertRepr::parse(&Packet::new_unchecked(&bytes[..]), a.family, Some(&a.ctx));
        prop_assert!(parsed.is_err(), "bit {bit} flipped still parsed: {parsed:?}");
    }

    #[test]
    fn parsing_arbitrary_bytes_never_panics(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
        src in address(Family::V4),
        dst in address(Family::V6),
        mode in mode(),
    ) {
        for family in [Family::V4, Family::V6] {
            let packet = Packet::new_unchecked(&bytes[..]);
            for ctx in [ChecksumContext { src, dst: src, mode }, ChecksumContext { src: dst, dst, mode }] {
                if let Ok(repr) = AdvertRepr::parse(&packet, family, Some(&ctx)) {
                    prop_assert!(packet.verify_checksum(repr.version, &ctx));
                    prop_assert_eq!(repr.addresses.iter().count(), usize::from(packet.count()));
                }
            }
            if let Ok(checked) = Packet::new_checked(&bytes[..], family) {
                // Every accessor is in bounds on a checked packet.
                let _ = (checked.vrid(), checked.priority(), checked.max_adver_int(), checked.checksum());
                prop_assert_eq!(checked.addresses(family).len(), usize::from(checked.count()) * family.addr_len());
                if checked.version() == Ok(Version::V2) {
                    let _ = checked.auth_data();
                }
            }
        }
    }

    #[test]
    fn the_receive_path_never_panics_on_arbitrary_bytes(
        mut bytes in prop::collection::vec(any::<u8>(), 0..400),
        vrid in prop_oneof![Just(1u8), Just(2u8), any::<u8>()],
        ttl in prop_oneof![Just(255u8), any::<u8>()],
        src4 in address(Family::V4),
        src6 in address(Family::V6),
    ) {
        if bytes.len() > 1 {
            // Aim most packets at a registered VRID so they get past the first check.
            bytes[1] = vrid;
        }
        for (mut demux, src, dst) in demuxes().into_iter().zip([
            (src4, IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18))),
            (src6, "ff02::12".parse().unwrap()),
        ]).map(|(d, (s, t))| (d, s, t)) {
            let meta = RxMeta { src, dst, ttl };
            if let Ok(dispatch) = demux.receive(meta, &bytes) {
                prop_assert!(dispatch.slot == 1 || dispatch.slot == 2);
                prop_assert_eq!(ttl, 255);
            }
        }
    }

    #[test]
    fn the_receive_path_accepts_exactly_valid_adverts_for_its_router(
        priority in 1u8..=254,
        src_host in 2u8..=254,
        corrupt in any::<bool>(),
    ) {
        // A v3 advert for VRID 1 from 192.0.2.`src_host`, with the right address list.
        let owned = Owned {
            version: Version::V3,
            vrid: Vrid::new(1).unwrap(),
            priority: Priority(priority),
            max_adver_int: Centisecs::new(100),
            family: Family::V4,
            addresses: vec!["192.0.2.100".parse().unwrap()],
            auth: Auth::None,
            ctx: ChecksumContext {
                src: IpAddr::V4(Ipv4Addr::new(192, 0, 2, src_host)),
                dst: IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18)),
                mode: ChecksumMode::PseudoHeader,
            },
        };
        let mut bytes = owned.emit();
        if corrupt {
            bytes[2] ^= 0x80;
        }
        let mut demux = demuxes().remove(0);
        let meta = RxMeta { src: owned.ctx.src, dst: owned.ctx.dst, ttl: 255 };
        let result = demux.receive(meta, &bytes);
        prop_assert_eq!(result.is_ok(), !corrupt, "{:?}", result);
        prop_assert_eq!(demux.stats().checksum_errors, u64::from(corrupt));
    }
}
