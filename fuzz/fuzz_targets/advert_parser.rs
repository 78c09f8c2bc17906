//! Arbitrary bytes into the wire codec and the receive path: `Packet` accessors after a
//! successful length check, `AdvertRepr::parse` with and without checksum verification for
//! both families, and `Demux::receive` for routers of every version. Nothing may panic, and
//! whatever parses must re-emit to bytes that parse back to the same advert.
#![no_main]

use std::net::IpAddr;

use libfuzzer_sys::fuzz_target;
use vrrp_core::wire::{AdvertRepr, ChecksumContext, ChecksumMode, Packet};
use vrrp_core::{Demux, Family, RouterConfig, RxMeta, Version, VirtualAddress, VirtualRouter};

/// Source and multicast group of each family.
fn addresses(family: Family) -> (IpAddr, IpAddr) {
    match family {
        Family::V4 => ([192, 0, 2, 12].into(), [224, 0, 0, 18].into()),
        Family::V6 => (
            "fe80::12".parse().unwrap_or(IpAddr::from([0u8; 16])),
            "ff02::12".parse().unwrap_or(IpAddr::from([0u8; 16])),
        ),
    }
}

/// A demux with VRID 1 (v3), 2 (v2, password) and 3 (v2, no authentication); v2 ones for
/// IPv4 only.
fn demux(family: Family) -> Option<Demux> {
    let (primary, vip) = match family {
        Family::V4 => ("192.0.2.11", "192.0.2.100"),
        Family::V6 => ("fe80::11", "2001:db8::100"),
    };
    let mut demux = Demux::new(family);
    for (vrid, version, password) in [
        (1, Version::V3, None),
        (2, Version::V2, Some("fuzz")),
        (3, Version::V2, None),
    ] {
        if family == Family::V6 && version == Version::V2 {
            continue;
        }
        let mut builder = RouterConfig::builder("fuzz", vrid, primary.parse().ok()?)
            .version(version)
            .virtual_address(VirtualAddress::host(vip.parse().ok()?));
        if let Some(password) = password {
            builder = builder.password(password);
        }
        let router = VirtualRouter::new(builder.build().ok()?).ok()?;
        demux
            .register(vrid, usize::from(vrid), router.rx_policy())
            .ok()?;
    }
    Some(demux)
}

fn reemit(repr: &AdvertRepr<'_>, family: Family, ctx: &ChecksumContext) {
    let mut buffer = vec![0; repr.buffer_len()];
    repr.emit(&mut Packet::new_unchecked(&mut buffer[..]), ctx);
    let packet =
        Packet::new_checked(&buffer[..], family).expect("re-emitted advert has its length");
    let again = AdvertRepr::parse(&packet, family, Some(ctx)).expect("re-emitted advert parses");
    assert_eq!(&again, repr, "re-emitted advert parses to a different one");
}

fuzz_target!(|data: &[u8]| {
    for family in [Family::V4, Family::V6] {
        let (src, dst) = addresses(family);
        let packet = Packet::new_unchecked(data);
        for mode in [ChecksumMode::PseudoHeader, ChecksumMode::NoPseudoHeader] {
            let ctx = ChecksumContext { src, dst, mode };
            if let Ok(repr) = AdvertRepr::parse(&packet, family, Some(&ctx)) {
                assert_eq!(repr.addresses.iter().count(), usize::from(packet.count()));
                reemit(&repr, family, &ctx);
            }
        }
        if let Ok(repr) = AdvertRepr::parse(&packet, family, None) {
            reemit(
                &repr,
                family,
                &ChecksumContext {
                    src,
                    dst,
                    mode: ChecksumMode::PseudoHeader,
                },
            );
        }
        if let Ok(checked) = Packet::new_checked(data, family) {
            let _ = (
                checked.kind(),
                checked.vrid(),
                checked.priority(),
                checked.max_adver_int(),
            );
            let _ = (checked.auth_type(), checked.adver_int(), checked.checksum());
            assert_eq!(
                checked.addresses(family).len(),
                usize::from(checked.count()) * family.addr_len()
            );
            if checked.version() == Ok(Version::V2) {
                let _ = checked.auth_data();
            }
        }
        // The receive path, with the VRID byte steered to a registered router.
        if let Some(mut demux) = demux(family) {
            let mut bytes = data.to_vec();
            if let Some(vrid) = bytes.get_mut(1) {
                *vrid = 1 + *vrid % 3;
            }
            for ttl in [255, 1] {
                let _ = demux.receive(RxMeta { src, dst, ttl }, &bytes);
                let _ = demux.receive(RxMeta { src, dst, ttl }, data);
            }
        }
    }
});
