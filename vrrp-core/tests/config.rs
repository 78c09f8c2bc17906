//! Configuration validation: every invalid value is refused with a message naming the field.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use vrrp_core::config::{Profile, StartupState};
use vrrp_core::wire::ChecksumMode;
use vrrp_core::{ConfigError, RouterConfig, Version, VirtualAddress};

fn err(b: vrrp_core::RouterConfigBuilder) -> String {
    b.build().unwrap_err().to_string()
}

#[test]
fn invalid_values_are_refused_with_the_field_named() {
    assert_eq!(
        err(v4(1, 100).priority(0)),
        "priority 0 is reserved; use 1..=255"
    );
    assert!(
        err(RouterConfig::builder("x", 0, "192.0.2.1".parse().unwrap()).virtual_address(vip4()))
            .contains("virtual_router_id 0")
    );
    assert!(err(v2(1, 100).advert_interval(centis(150))).contains("advert_int 150cs"));
    assert!(err(v4(1, 100).advert_interval(centis(0))).contains("0.01..=40.95"));
    assert!(err(v4(1, 100).advert_interval(centis(4096))).contains("advert_int 4096cs"));
    assert!(err(v4(1, 100).virtual_address(vip6())).contains("virtual_ipaddress 2001:db8::100"));
    assert!(err(v4(1, 255).preempt(false)).contains("nopreempt"));
    assert!(
        err(v4(1, 100).password("secret")).contains("authentication is not allowed with version 3")
    );
    assert!(err(v2(1, 100).password("123456789")).contains("auth_pass is 9 bytes"));
    assert!(err(v4(1, 100).down_timer_adverts(0)).contains("down_timer_adverts"));
    let ip = "2001:db8::1".parse().unwrap();
    assert!(
        err(RouterConfig::builder("x", 1, ip).virtual_address(vip6()))
            .contains("must be link-local")
    );
    assert!(
        err(v4(1, 100).track(vrrp_core::TrackedObject::new("s", 255)))
            .contains("weight 255 of tracked object \"s\"")
    );
    assert_eq!(
        RouterConfig::builder("x", 1, "192.0.2.1".parse().unwrap())
            .build()
            .unwrap_err(),
        ConfigError::NoVirtualAddress
    );
    let wide = VirtualAddress::with_prefix("192.0.2.5".parse().unwrap(), 33);
    assert!(err(v4(1, 100).virtual_address(wide)).contains("/33"));
}

#[test]
fn v2_over_ipv6_is_refused() {
    assert!(err(v6(1, 100).version(Version::V2)).contains("version 2"));
}

#[test]
fn strict_profile_refuses_non_rfc_features() {
    assert!(
        err(v4(1, 100).profile(Profile::Strict).unicast(true)).contains("vrrp_strict: unicast")
    );
    assert!(
        err(v4(1, 100)
            .profile(Profile::Strict)
            .checksum_mode(ChecksumMode::NoPseudoHeader))
        .contains("v3_checksum_as_v2")
    );
    assert!(
        err(v4(1, 100)
            .profile(Profile::Strict)
            .startup(StartupState::Master))
        .contains("address owner")
    );
    assert!(v4(1, 100).profile(Profile::Strict).build().is_ok());
}

#[test]
fn keepalived_profile_sets_its_deviations() {
    let c = v4(1, 100).profile(Profile::Keepalived).build().unwrap();
    assert!(c.lower_prio_advert);
    assert!(c.accept_mode);
    assert_eq!(c.announce.repeat, 5);
    let rfc = v4(1, 100).build().unwrap();
    assert!(!rfc.lower_prio_advert && !rfc.accept_mode && rfc.preempt);
}
