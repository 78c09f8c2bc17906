//! keepalived's deviations from RFC 9568, each an explicit option, against the RFC default.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::IpAddr;
use std::time::Instant;

use common::*;
use vrrp_core::config::AddressCheck;
use vrrp_core::wire::{AddressList, AdvertRepr, Auth};
use vrrp_core::{
    Centisecs, Demux, Family, Input, Output, Priority, RouterConfig, RxError, RxMeta, State,
    VirtualAddress, VirtualRouter, Vrid,
};

fn master(config: RouterConfig) -> (VirtualRouter, Instant) {
    let mut r = VirtualRouter::new(config).unwrap();
    let t0 = epoch();
    r.handle(t0, Input::Startup);
    let due = r.poll_timeout().unwrap();
    r.handle(due, Input::Timeout);
    while r.poll().is_some() {}
    assert_eq!(r.state(), State::Master);
    (r, due)
}

fn advert(priority: u8, addrs: &[IpAddr]) -> AdvertRepr<'_> {
    AdvertRepr {
        version: vrrp_core::Version::V3,
        vrid: Vrid::new(VRID).unwrap(),
        priority: Priority(priority),
        max_adver_int: Centisecs::new(100),
        family: Family::V4,
        addresses: AddressList::Slice(addrs),
        auth: Auth::None,
    }
}

fn meta(host: u8) -> RxMeta {
    RxMeta {
        src: format!("192.0.2.{host}").parse().unwrap(),
        dst: "224.0.0.18".parse().unwrap(),
        ttl: 255,
    }
}

fn transmits(r: &mut VirtualRouter) -> Vec<u8> {
    std::iter::from_fn(|| r.poll())
        .filter_map(|o| match o {
            Output::Transmit(a) => Some(a.priority.get()),
            _ => None,
        })
        .collect()
}

#[test]
fn rfc_master_discards_lower_priority_adverts_silently() {
    let (mut r, now) = master(v4(2, 200).build().unwrap());
    let vips = [vip4().address];
    r.handle(
        now,
        Input::Advert {
            meta: meta(1),
            advert: advert(100, &vips),
        },
    );
    assert!(transmits(&mut r).is_empty());
    assert_eq!(r.state(), State::Master);
}

#[test]
fn keepalived_master_answers_lower_priority_adverts() {
    let (mut r, now) = master(v4(2, 200).lower_prio_advert(true).build().unwrap());
    let vips = [vip4().address];
    r.handle(
        now,
        Input::Advert {
            meta: meta(1),
            advert: advert(100, &vips),
        },
    );
    assert_eq!(transmits(&mut r), vec![200]);
}

#[test]
fn higher_prio_send_advert_sends_one_advert_before_yielding() {
    let vips = [vip4().address];
    let (mut rfc, now) = master(v4(2, 100).build().unwrap());
    rfc.handle(
        now,
        Input::Advert {
            meta: meta(1),
            advert: advert(200, &vips),
        },
    );
    assert!(transmits(&mut rfc).is_empty());
    assert_eq!(rfc.state(), State::Backup);

    let (mut ka, now) = master(v4(2, 100).higher_prio_send_advert(true).build().unwrap());
    ka.handle(
        now,
        Input::Advert {
            meta: meta(1),
            advert: advert(200, &vips),
        },
    );
    assert_eq!(transmits(&mut ka), vec![100]);
    assert_eq!(ka.state(), State::Backup);
}

#[test]
fn master_answers_priority_zero_with_an_advert() {
    // RFC 9568 §6.4.3: a master receiving priority 0 sends an advert at once.
    let vips = [vip4().address];
    let (mut r, now) = master(v4(2, 100).build().unwrap());
    r.handle(
        now,
        Input::Advert {
            meta: meta(1),
            advert: advert(0, &vips),
        },
    );
    assert_eq!(transmits(&mut r), vec![100]);
}

#[test]
fn skip_check_adv_addr_checks_only_a_new_master() {
    let configured = v4(2, 100)
        .address_check(AddressCheck::SkipSameMaster)
        .build()
        .unwrap();
    let r = VirtualRouter::new(configured).unwrap();
    let mut demux = Demux::new(Family::V4);
    demux.register(VRID, 0, r.rx_policy()).unwrap();
    let good_sender = v4(1, 200).build().unwrap();
    let other_vips = v4(1, 200)
        .virtual_address(VirtualAddress::host("192.0.2.77".parse().unwrap()))
        .build()
        .unwrap();
    let bytes = emitted_advert;
    // A new master with a wrong list is refused...
    assert!(matches!(
        demux.receive(meta(1), &bytes(&other_vips)),
        Err(RxError::AddressList { .. })
    ));
    // ...once accepted with the right list, the same master is no longer checked.
    assert!(demux.receive(meta(1), &bytes(&good_sender)).is_ok());
    assert!(demux.receive(meta(1), &bytes(&other_vips)).is_ok());
    // A different sender is checked again.
    let third = v4(3, 200)
        .virtual_address(VirtualAddress::host("192.0.2.77".parse().unwrap()))
        .build()
        .unwrap();
    assert!(matches!(
        demux.receive(meta(3), &bytes(&third)),
        Err(RxError::AddressList { .. })
    ));
}

#[test]
fn set_priority_never_makes_or_unmakes_an_owner() {
    let (mut r, now) = master(v4(2, 100).build().unwrap());
    r.handle(now, Input::SetPriority(Priority(255)));
    assert_eq!(r.priority(), Priority(254));
    r.handle(now, Input::SetPriority(Priority(0)));
    assert_eq!(r.priority(), Priority(1));
    let (mut owner, now) = master(v4(3, 255).build().unwrap());
    owner.handle(now, Input::SetPriority(Priority(10)));
    assert_eq!(owner.priority(), Priority::OWNER);
}
