//! The receive path: bad input is dropped, counted once in the right counter, and never
//! changes a router's state (RFC 9568 §7.1).
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use vrrp_core::{Demux, Family, Input, RxError, RxMeta, State, VirtualRouter};

const MCAST: &str = "224.0.0.18";

/// A backup router for VRID 51 and a master's advert bytes for it.
fn setup() -> (VirtualRouter, Demux, Vec<u8>, RxMeta) {
    let mut backup = VirtualRouter::new(v4(2, 100).build().unwrap()).unwrap();
    let mut demux = Demux::new(Family::V4);
    demux.register(VRID, 0, backup.rx_policy()).unwrap();
    backup.handle(epoch(), Input::Startup);
    while backup.poll().is_some() {}
    let bytes = emitted_advert(&v4(1, 200).build().unwrap());
    let meta = RxMeta {
        src: "192.0.2.1".parse().unwrap(),
        dst: MCAST.parse().unwrap(),
        ttl: 255,
    };
    (backup, demux, bytes, meta)
}

#[test]
fn valid_advert_is_dispatched_and_accepted() {
    let (mut backup, mut demux, bytes, meta) = setup();
    let d = demux.receive(meta, &bytes).unwrap();
    assert_eq!(d.slot, 0);
    assert_eq!(d.advert.priority.get(), 200);
    backup.handle(
        epoch(),
        Input::Advert {
            meta: d.meta,
            advert: d.advert,
        },
    );
    assert_eq!(backup.stats().rcvd_advertisements, 1);
    assert_eq!(demux.router_stats(VRID).unwrap().accepted, 1);
}

fn assert_rejected(
    bytes: &[u8],
    meta: RxMeta,
    check: impl Fn(&RxError) -> bool,
    counter: impl Fn(&Demux) -> u64,
) {
    let (backup, mut demux, _, _) = setup();
    let before = backup.state();
    let err = demux.receive(meta, bytes).unwrap_err();
    assert!(check(&err), "unexpected error {err:?}");
    assert_eq!(counter(&demux), 1, "counted once for {err}");
    assert_eq!(demux.router_stats(VRID).map_or(0, |s| s.accepted), 0);
    assert_eq!(backup.state(), before);
    assert_eq!(backup.state(), State::Backup);
}

#[test]
fn ttl_other_than_255_is_dropped_and_counted() {
    let (_, _, bytes, meta) = setup();
    let meta = RxMeta { ttl: 64, ..meta };
    assert_rejected(
        &bytes,
        meta,
        |e| *e == RxError::Ttl(64),
        |d| d.router_stats(VRID).unwrap().ip_ttl_errors,
    );
}

#[test]
fn wrong_checksum_is_dropped_and_counted() {
    let (_, _, mut bytes, meta) = setup();
    bytes[6] ^= 0x55;
    assert_rejected(
        &bytes,
        meta,
        |e| matches!(e, RxError::Parse(_)),
        |d| d.stats().checksum_errors,
    );
}

#[test]
fn unknown_vrid_is_dropped_and_counted() {
    let (_, _, mut bytes, meta) = setup();
    bytes[1] = 52;
    assert_rejected(
        &bytes,
        meta,
        |e| *e == RxError::UnknownVrid(52),
        |d| d.stats().vrid_errors,
    );
}

#[test]
fn truncated_packets_are_dropped_and_counted() {
    let (_, _, bytes, meta) = setup();
    assert_rejected(
        &bytes[..4],
        meta,
        |e| matches!(e, RxError::Parse(_)),
        |d| d.stats().malformed,
    );
    assert_rejected(
        &bytes[..bytes.len() - 1],
        meta,
        |e| matches!(e, RxError::Parse(_)),
        |d| d.router_stats(VRID).unwrap().packet_length_errors,
    );
}

#[test]
fn wrong_address_list_is_dropped_and_counted() {
    let other = v4(1, 200)
        .virtual_address(vrrp_core::VirtualAddress::host(
            "192.0.2.200".parse().unwrap(),
        ))
        .build()
        .unwrap();
    let (_, _, _, meta) = setup();
    let bytes = emitted_advert(&other);
    assert_rejected(
        &bytes,
        meta,
        |e| matches!(e, RxError::AddressList { .. }),
        |d| d.router_stats(VRID).unwrap().address_list_errors,
    );
}

#[test]
fn wrong_or_missing_password_is_dropped_and_counted() {
    let mut backup = VirtualRouter::new(v2(2, 100).password("secret").build().unwrap()).unwrap();
    backup.handle(epoch(), Input::Startup);
    let meta = RxMeta {
        src: "192.0.2.1".parse().unwrap(),
        dst: MCAST.parse().unwrap(),
        ttl: 255,
    };
    for (sender, expect_mismatch) in [
        (v2(1, 200).password("wrong").build().unwrap(), false),
        (v2(1, 200).build().unwrap(), true),
    ] {
        let mut demux = Demux::new(Family::V4);
        demux.register(VRID, 0, backup.rx_policy()).unwrap();
        let err = demux.receive(meta, &emitted_advert(&sender)).unwrap_err();
        let stats = demux.router_stats(VRID).unwrap();
        if expect_mismatch {
            assert!(matches!(
                err,
                RxError::AuthTypeMismatch {
                    received: 0,
                    configured: 1
                }
            ));
            assert_eq!(stats.auth_type_mismatch, 1);
        } else {
            assert_eq!(err, RxError::AuthFailure);
            assert_eq!(stats.auth_failures, 1);
        }
    }
    assert_eq!(backup.state(), State::Backup);
}

#[test]
fn own_adverts_looped_back_are_ignored() {
    let (_, mut demux, bytes, _) = setup();
    let meta = RxMeta {
        src: "192.0.2.2".parse().unwrap(),
        dst: MCAST.parse().unwrap(),
        ttl: 255,
    };
    assert_eq!(demux.receive(meta, &bytes).unwrap_err(), RxError::Own);
    assert_eq!(demux.router_stats(VRID).unwrap().own_packets, 1);
}

#[test]
fn version_mismatch_is_dropped_and_counted() {
    let (_, _, _, meta) = setup();
    let bytes = emitted_advert(&v2(1, 200).build().unwrap());
    assert_rejected(
        &bytes,
        meta,
        |e| matches!(e, RxError::VersionMismatch { .. }),
        |d| d.stats().version_errors,
    );
}

#[test]
fn owner_discards_adverts() {
    let owner = VirtualRouter::new(v4(2, 255).build().unwrap()).unwrap();
    let mut demux = Demux::new(Family::V4);
    demux.register(VRID, 0, owner.rx_policy()).unwrap();
    let (_, _, bytes, meta) = setup();
    assert_eq!(demux.receive(meta, &bytes).unwrap_err(), RxError::Owner);
}

#[test]
fn duplicate_vrid_registration_is_refused() {
    let (backup, mut demux, _, _) = setup();
    let err = demux.register(VRID, 1, backup.rx_policy()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "vrid 51 (IPv4) is configured twice on this interface"
    );
}

/// A unicast backup (192.0.2.2) built by `tune` from VRID 51's configuration, and what its
/// demux says of an advert from 192.0.2.`host` arriving with `ttl`.
fn unicast_receive(
    tune: impl Fn(vrrp_core::RouterConfigBuilder) -> vrrp_core::RouterConfigBuilder,
    host: u8,
    ttl: u8,
) -> (Result<(), RxError>, vrrp_core::stats::RxStats) {
    let backup = VirtualRouter::new(tune(v4(2, 100).unicast(true)).build().unwrap()).unwrap();
    let mut demux = Demux::new(Family::V4);
    demux.register(VRID, 0, backup.rx_policy()).unwrap();
    let bytes = emitted_advert(&v4(host, 200).build().unwrap());
    let meta = RxMeta {
        src: format!("192.0.2.{host}").parse().unwrap(),
        dst: MCAST.parse().unwrap(),
        ttl,
    };
    let result = demux.receive(meta, &bytes).map(|_| ());
    (result, *demux.router_stats(VRID).unwrap())
}

#[test]
fn unicast_ttl_follows_the_profile() {
    use vrrp_core::config::Profile;
    // keepalived 2.2.7 sends IPv6 unicast adverts with hop limit 64 and checks none itself.
    let (ok, stats) = unicast_receive(|b| b.profile(Profile::Keepalived), 1, 64);
    assert_eq!(ok, Ok(()));
    assert_eq!(stats.accepted, 1);
    // RFC 9568 §7.1 applies to unicast too in the RFC profile (strict refuses unicast).
    let (err, stats) = unicast_receive(|b| b.profile(Profile::Rfc), 1, 64);
    assert_eq!(err, Err(RxError::Ttl(64)));
    assert_eq!((stats.ip_ttl_errors, stats.accepted), (1, 0));
    let (ok, _) = unicast_receive(|b| b.profile(Profile::Rfc), 1, 255);
    assert_eq!(ok, Ok(()));
}

#[test]
fn check_unicast_source_drops_and_counts_strangers_and_out_of_range_ttls() {
    use vrrp_core::config::Profile;
    use vrrp_core::unicast::{TtlRange, UnicastPeer};
    let tune = |b: vrrp_core::RouterConfigBuilder| {
        b.profile(Profile::Keepalived).check_unicast_source([
            UnicastPeer {
                address: "192.0.2.1".parse().unwrap(),
                ttl: TtlRange::new(250, 255),
            },
            UnicastPeer::new("192.0.2.3".parse().unwrap()),
        ])
    };
    let (ok, _) = unicast_receive(tune, 1, 251);
    assert_eq!(ok, Ok(()));
    let (err, stats) = unicast_receive(tune, 1, 64);
    assert_eq!(err, Err(RxError::Ttl(64)));
    assert_eq!((stats.ip_ttl_errors, stats.accepted), (1, 0));
    // A peer without its own range gets the profile's (keepalived: any).
    let (ok, _) = unicast_receive(tune, 3, 64);
    assert_eq!(ok, Ok(()));
    let (err, stats) = unicast_receive(tune, 9, 255);
    assert_eq!(
        err,
        Err(RxError::UnicastSource("192.0.2.9".parse().unwrap()))
    );
    assert_eq!((stats.unicast_source_errors, stats.accepted), (1, 0));
}

#[test]
fn a_multicast_router_keeps_ttl_255_in_every_profile() {
    use vrrp_core::config::Profile;
    let backup =
        VirtualRouter::new(v4(2, 100).profile(Profile::Keepalived).build().unwrap()).unwrap();
    let mut demux = Demux::new(Family::V4);
    demux.register(VRID, 0, backup.rx_policy()).unwrap();
    let (_, _, bytes, meta) = setup();
    let err = demux
        .receive(RxMeta { ttl: 64, ..meta }, &bytes)
        .unwrap_err();
    assert_eq!(err, RxError::Ttl(64));
}
