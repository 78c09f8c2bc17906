//! Malformed and hostile adverts from a neighbouring namespace reach a driver running
//! in-process (a thread inside the router's namespace): each is dropped, counted under its
//! RFC 6527 / RFC 8347 counter, and changes no state. A final valid advert proves the path.
//! Privileged: see `harness::require`.
#![allow(clippy::unwrap_used)]

mod harness;

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use harness::inproc::in_netns;
use harness::{Lab, require, wait_until};
use socket2::{Domain, Protocol, Socket, Type};
use vrrp_core::config::StartupState;
use vrrp_core::{Centisecs, RouterConfig, State, Version, VirtualAddress};
use vrrp_net::driver::{Driver, Handle, Instance, InstanceStatus};

const VRID: u8 = 51;

/// RFC 1071 over `bytes`.
fn checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// A VRRPv2 advert (RFC 3768 §5.3) with simple-text authentication.
fn v2_advert(vrid: u8, priority: u8, password: &[u8]) -> Vec<u8> {
    let mut p = vec![0x21, vrid, priority, 1, 1, 1, 0, 0, 192, 0, 2, 100];
    let mut auth = [0u8; 8];
    auth[..password.len()].copy_from_slice(password);
    p.extend_from_slice(&auth);
    let sum = checksum(&p);
    p[6..8].copy_from_slice(&sum.to_be_bytes());
    p
}

fn status(handle: &Handle) -> InstanceStatus {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(handle.status("VI_1")).unwrap()
}

#[test]
fn bad_adverts_are_dropped_counted_and_change_nothing() {
    if !require(
        "bad_adverts_are_dropped_counted_and_change_nothing",
        &["ip"],
    ) {
        return;
    }
    let lab = Lab::new(2);
    let (h1, h2) = (lab.hosts[0].clone(), lab.hosts[1].clone());

    // The router: VRRPv2, PASS "s3cret", starts as master with priority 100.
    let (tx, rx) = std::sync::mpsc::channel();
    let router = in_netns(&h1.ns, move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let config = RouterConfig::builder("VI_1", VRID, "192.0.2.11".parse().unwrap())
                .version(Version::V2)
                .priority(100)
                .advert_interval(Centisecs::new(100))
                .password("s3cret")
                .startup(StartupState::Master)
                .virtual_address(VirtualAddress::with_prefix(
                    "192.0.2.100".parse().unwrap(),
                    24,
                ))
                .build()
                .unwrap();
            let (driver, handle, _events) = Driver::builder()
                .instance(Instance::new(config, "eth0"))
                .build()
                .await
                .unwrap();
            tx.send(handle.clone()).unwrap();
            driver.run().await.unwrap();
        });
    });
    let handle = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(wait_until(Duration::from_secs(5), || status(&handle).state
        == State::Master));

    // The attacker next door: a raw socket sending to 224.0.0.18 with a chosen TTL.
    let send = move |payload: Vec<u8>, ttl: u32| {
        in_netns(&h2.ns, move || {
            let s = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(112))).unwrap();
            s.bind_device(Some(b"eth0")).unwrap();
            s.set_multicast_ttl_v4(ttl).unwrap();
            let to = SocketAddrV4::new(Ipv4Addr::new(224, 0, 0, 18), 0);
            s.send_to(&payload, &to.into()).unwrap();
        })
        .join()
        .unwrap();
        std::thread::sleep(Duration::from_millis(100));
    };

    let before = status(&handle);
    let good = v2_advert(VRID, 254, b"s3cret");
    send(good.clone(), 64); // TTL != 255 (RFC 3768 §7.1)
    let mut bad_sum = good.clone();
    bad_sum[7] ^= 0xff;
    send(bad_sum, 255); // wrong checksum
    send(v2_advert(VRID + 1, 254, b"s3cret"), 255); // VRID not configured
    send(v2_advert(VRID, 254, b"wrong"), 255); // wrong password
    send(good[..6].to_vec(), 255); // truncated

    let after = status(&handle);
    assert_eq!(after.state, State::Master, "a bad advert changed the state");
    assert_eq!(after.rx.ip_ttl_errors - before.rx.ip_ttl_errors, 1);
    assert_eq!(
        after.interface.checksum_errors - before.interface.checksum_errors,
        1
    );
    assert_eq!(
        after.interface.vrid_errors - before.interface.vrid_errors,
        1
    );
    assert_eq!(after.rx.auth_failures - before.rx.auth_failures, 1);
    assert_eq!(after.interface.malformed - before.interface.malformed, 1);
    assert_eq!(after.rx.accepted, before.rx.accepted);
    assert!(lab.hosts[0].has_addr("192.0.2.100"));

    // The same path with a valid higher-priority advert does move the router.
    send(good, 255);
    assert!(
        wait_until(Duration::from_secs(2), || status(&handle).state
            == State::Backup),
        "valid advert not accepted"
    );
    assert_eq!(status(&handle).rx.accepted, before.rx.accepted + 1);

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(handle.shutdown()).unwrap();
    router.join().unwrap();
}
