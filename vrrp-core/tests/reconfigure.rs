//! `VirtualRouter::reconfigure`: a running router changed in place keeps its state, timers
//! and counters, and a master touches only the address difference.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use common::epoch;
use vrrp_core::{
    Centisecs, ConfigError, Input, Output, Priority, Reason, Reconfigured, RouterConfig, State,
    TrackState, TrackedObject, Version, VirtualAddress, VirtualRouter, Vrid,
};
fn addr(s: &str) -> VirtualAddress {
    VirtualAddress::with_prefix(s.parse().unwrap(), 24)
}

fn config(priority: u8, vips: &[&str]) -> RouterConfig {
    let mut b = RouterConfig::builder("vi", 51, "192.0.2.2".parse().unwrap()).priority(priority);
    for v in vips {
        b = b.virtual_address(addr(v));
    }
    b.build().unwrap()
}

/// A router that became master at the returned instant, outputs drained.
fn master(config: RouterConfig) -> (VirtualRouter, Instant) {
    let mut r = VirtualRouter::new(config).unwrap();
    r.handle(epoch(), Input::Startup);
    let due = r.poll_timeout().unwrap();
    r.handle(due, Input::Timeout);
    while r.poll().is_some() {}
    assert_eq!(r.state(), State::Master);
    (r, due)
}

fn outputs(r: &mut VirtualRouter) -> Vec<Output> {
    std::iter::from_fn(|| r.poll()).collect()
}

fn ips(list: &[VirtualAddress]) -> Vec<IpAddr> {
    list.iter().map(|a| a.address).collect()
}

#[test]
fn master_installs_and_removes_only_the_difference() {
    let (mut r, now) = master(config(100, &["192.0.2.100", "192.0.2.101"]));
    let stats = *r.stats();
    let done = r
        .reconfigure(now, config(100, &["192.0.2.100", "192.0.2.102"]))
        .unwrap();
    assert_eq!(done.added, vec![addr("192.0.2.102")]);
    assert_eq!(done.removed, vec![addr("192.0.2.101")]);
    let out = outputs(&mut r);
    let removed: Vec<IpAddr> = out
        .iter()
        .filter_map(|o| match o {
            Output::RemoveVips { addresses } => Some(ips(addresses)),
            _ => None,
        })
        .flatten()
        .collect();
    let installed: Vec<IpAddr> = out
        .iter()
        .filter_map(|o| match o {
            Output::InstallVips { addresses, .. } => Some(ips(addresses)),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(removed, vec!["192.0.2.101".parse::<IpAddr>().unwrap()]);
    assert_eq!(installed, vec!["192.0.2.102".parse::<IpAddr>().unwrap()]);
    assert!(
        !out.iter().any(|o| matches!(o, Output::StateChanged { .. })),
        "no transition: {out:?}"
    );
    // The new address list goes out at once.
    let advert = out.iter().find_map(|o| match o {
        Output::Transmit(a) => Some(a),
        _ => None,
    });
    assert_eq!(
        advert.map(|a| a.addresses.to_vec()),
        Some(vec![
            "192.0.2.100".parse::<IpAddr>().unwrap(),
            "192.0.2.102".parse().unwrap()
        ])
    );
    assert_eq!(r.state(), State::Master);
    assert_eq!(r.stats().master_transitions, stats.master_transitions);
}

#[test]
fn unchanged_configuration_changes_nothing() {
    let (mut r, now) = master(config(100, &["192.0.2.100"]));
    let timeout = r.poll_timeout();
    let done = r.reconfigure(now, config(100, &["192.0.2.100"])).unwrap();
    assert_eq!(done, Reconfigured::default());
    assert!(outputs(&mut r).is_empty());
    assert_eq!(r.poll_timeout(), timeout);
}

#[test]
fn identity_changes_are_refused_and_change_nothing() {
    let (mut r, now) = master(config(100, &["192.0.2.100"]));
    let mut other = config(100, &["192.0.2.100"]);
    other.vrid = Vrid::new(52).unwrap();
    assert_eq!(
        r.reconfigure(now, other),
        Err(ConfigError::NotInPlace {
            field: "virtual_router_id"
        })
    );
    let mut v2 = config(100, &["192.0.2.100"]);
    v2.version = Version::V2;
    v2.advert_interval = Centisecs::new(100);
    assert!(matches!(
        r.reconfigure(now, v2),
        Err(ConfigError::NotInPlace { field: "version" })
    ));
    let mut invalid = config(100, &["192.0.2.100"]);
    invalid.priority = Priority(0);
    assert_eq!(r.reconfigure(now, invalid), Err(ConfigError::Priority));
    assert!(outputs(&mut r).is_empty());
    assert_eq!(r.config().priority, Priority(100));
}

#[test]
fn backup_priority_change_does_not_preempt_by_itself() {
    let mut r = VirtualRouter::new(config(100, &["192.0.2.100"])).unwrap();
    let t0 = epoch();
    r.handle(t0, Input::Startup);
    while r.poll().is_some() {}
    let down_at = r.poll_timeout();
    r.reconfigure(
        t0 + Duration::from_millis(10),
        config(200, &["192.0.2.100"]),
    )
    .unwrap();
    let out = outputs(&mut r);
    assert!(
        out.iter()
            .all(|o| matches!(o, Output::PriorityChanged { .. })),
        "{out:?}"
    );
    assert_eq!(r.priority(), Priority(200));
    assert_eq!(r.state(), State::Backup);
    assert_eq!(r.poll_timeout(), down_at, "Master_Down_Timer untouched");
}

#[test]
fn tracked_objects_keep_their_state_and_new_faults_apply() {
    let mut c = config(100, &["192.0.2.100"]);
    c.track = vec![TrackedObject::new("chk", -30)];
    let (mut r, now) = master(c.clone());
    r.handle(
        now,
        Input::Track {
            name: "chk",
            state: TrackState::Down,
        },
    );
    while r.poll().is_some() {}
    assert_eq!(r.priority(), Priority(70));
    // Same object kept down; a new weight-0 object starting down faults the router.
    c.track.push(TrackedObject::new("link", 0).starting_down());
    r.reconfigure(now, c).unwrap();
    assert_eq!(r.track_state("chk"), Some(TrackState::Down));
    let out = outputs(&mut r);
    assert!(out.iter().any(|o| matches!(
        o,
        Output::StateChanged {
            to: State::Fault,
            reason: Reason::TrackFault,
            ..
        }
    )));
}

#[test]
fn runtime_priority_survives_unless_the_configured_one_changes() {
    let (mut r, now) = master(config(100, &["192.0.2.100"]));
    r.handle(now, Input::SetPriority(Priority(50)));
    while r.poll().is_some() {}
    let mut same = config(100, &["192.0.2.100"]);
    same.preempt = false;
    r.reconfigure(now, same).unwrap();
    assert_eq!(r.priority(), Priority(50));
    r.reconfigure(now, config(120, &["192.0.2.100"])).unwrap();
    assert_eq!(r.priority(), Priority(120));
}
