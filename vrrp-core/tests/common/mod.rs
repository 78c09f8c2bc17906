//! Helpers shared by the simulation tests.
#![allow(dead_code, clippy::unwrap_used, clippy::disallowed_methods)]

use std::net::IpAddr;
use std::time::{Duration, Instant};

use vrrp_core::config::RouterConfigBuilder;
use vrrp_core::sim::Lan;
use vrrp_core::{
    Centisecs, Input, Output, RouterConfig, Version, VirtualAddress, VirtualRouter, Vrid,
};

pub(crate) const VRID: u8 = 51;

pub(crate) fn vrid() -> Vrid {
    Vrid::new(VRID).unwrap()
}

/// Any instant serves as the epoch: the simulation only uses differences.
pub(crate) fn lan(seed: u64) -> Lan {
    Lan::new(seed, Instant::now())
}

pub(crate) fn vip4() -> VirtualAddress {
    VirtualAddress::with_prefix("192.0.2.100".parse().unwrap(), 24)
}

pub(crate) fn vip6() -> VirtualAddress {
    VirtualAddress::with_prefix("2001:db8::100".parse().unwrap(), 64)
}

/// A v3 IPv4 router at 192.0.2.`host`.
pub(crate) fn v4(host: u8, priority: u8) -> RouterConfigBuilder {
    let ip: IpAddr = format!("192.0.2.{host}").parse().unwrap();
    RouterConfig::builder(format!("r{host}"), VRID, ip)
        .priority(priority)
        .virtual_address(vip4())
}

/// A v3 IPv6 router at fe80::`host`.
pub(crate) fn v6(host: u8, priority: u8) -> RouterConfigBuilder {
    let ip: IpAddr = format!("fe80::{host}").parse().unwrap();
    RouterConfig::builder(format!("r{host}"), VRID, ip)
        .priority(priority)
        .virtual_address(vip6())
}

/// A v2 IPv4 router at 192.0.2.`host`.
pub(crate) fn v2(host: u8, priority: u8) -> RouterConfigBuilder {
    v4(host, priority).version(Version::V2)
}

pub(crate) fn centis(c: u16) -> Centisecs {
    Centisecs::new(c)
}

pub(crate) fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub(crate) fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

/// Master_Down_Interval for an interval and priority (RFC 9568 §6.1).
pub(crate) fn mdi(interval: Duration, priority: u8) -> Duration {
    interval * 3 + skew(interval, priority)
}

/// Skew_Time for an interval and priority (RFC 9568 §6.1).
pub(crate) fn skew(interval: Duration, priority: u8) -> Duration {
    interval * (256 - u32::from(priority)) / 256
}

/// An arbitrary starting instant for tests driving a router by hand.
pub(crate) fn epoch() -> Instant {
    Instant::now()
}

/// The bytes of the first advert a router with `config` sends as master, addressed to the
/// IPv4 VRRP group.
pub(crate) fn emitted_advert(config: &RouterConfig) -> Vec<u8> {
    let mut master = VirtualRouter::new(config.clone()).unwrap();
    let t0 = epoch();
    master.handle(t0, Input::Startup);
    let due = master.poll_timeout().unwrap();
    master.handle(due, Input::Timeout);
    let advert = std::iter::from_fn(|| master.poll())
        .find_map(|o| match o {
            Output::Transmit(a) => Some(a),
            _ => None,
        })
        .unwrap();
    let mut buf = vec![0; 1500];
    let len = advert
        .emit_into("224.0.0.18".parse().unwrap(), &mut buf)
        .unwrap();
    buf.truncate(len);
    buf
}
