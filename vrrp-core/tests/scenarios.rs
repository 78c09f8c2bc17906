//! Failover scenarios on the simulated LAN, each asserting an RFC 9568 / RFC 3768 behaviour.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::*;
use vrrp_core::config::{AnnounceConfig, StartupState};
use vrrp_core::sim::{Action, EventKind, LinkConfig};
use vrrp_core::{Family, Priority, Reason, State, TrackState, TrackedObject, Version};

const LATENCY: Duration = Duration::from_micros(100);

#[test]
fn highest_priority_wins_the_election_at_startup() {
    let mut lan = lan(1);
    let a = lan.add_router(v4(1, 100).build().unwrap()).unwrap();
    let b = lan.add_router(v4(2, 200).build().unwrap()).unwrap();
    let c = lan.add_router(v4(3, 150).build().unwrap()).unwrap();
    lan.run_for(secs(10));
    let t = lan.timeline();
    assert_eq!(t.masters_at(vrid(), secs(10)), vec![b]);
    assert_eq!(t.vip_owners_at(vrid(), secs(10)), vec![b]);
    // Every router starts in Backup (RFC 9568 §6.4.1); the highest priority's
    // Master_Down_Timer fires first, the others hear it and stay Backup.
    assert_eq!(t.master_transitions(vrid(), Duration::ZERO, secs(10)), 1);
    let _ = (a, c);
    assert_eq!(lan.router(a, vrid()).unwrap().state(), State::Backup);
    assert_eq!(lan.router(c, vrid()).unwrap().state(), State::Backup);
}

#[test]
fn backup_takes_over_after_master_down_interval() {
    for interval in [centis(1), centis(100), centis(25)] {
        let mut lan = lan(2);
        let a = lan
            .add_router(v4(1, 200).advert_interval(interval).build().unwrap())
            .unwrap();
        let b = lan
            .add_router(v4(2, 100).advert_interval(interval).build().unwrap())
            .unwrap();
        let crash = secs(20) + ms(3);
        lan.schedule(crash, Action::Crash(a));
        lan.run_for(secs(40));
        let t = lan.timeline();
        let delay = t.failover_delay(vrid(), a, crash).unwrap();
        let bound = mdi(interval.as_duration(), 100);
        // The crash falls somewhere in the advert period: the backup fires between
        // MDI - Advertisement_Interval and MDI after it (plus the link latency).
        assert!(
            delay <= bound + LATENCY,
            "{interval}: {delay:?} > {bound:?}"
        );
        assert!(
            delay + interval.as_duration() >= bound,
            "{interval}: {delay:?} too early"
        );
        assert_eq!(t.master_at(vrid(), secs(40)), Some(b));
        assert_eq!(t.vip_owners_at(vrid(), secs(40)), vec![b]);
        let reason = t
            .state_changes()
            .find(|e| {
                e.node == b
                    && matches!(
                        e.kind,
                        EventKind::State {
                            to: State::Master,
                            ..
                        }
                    )
            })
            .map(|e| e.kind.clone());
        assert_eq!(
            reason,
            Some(EventKind::State {
                from: State::Backup,
                to: State::Master,
                reason: Reason::MasterDown
            })
        );
    }
}

#[test]
fn priority_zero_hands_over_after_skew_time() {
    let mut lan = lan(3);
    let a = lan.add_router(v4(1, 200).build().unwrap()).unwrap();
    let b = lan.add_router(v4(2, 100).build().unwrap()).unwrap();
    lan.schedule(secs(20), Action::Shutdown(a));
    lan.run_for(secs(30));
    let t = lan.timeline();
    let delay = t.failover_delay(vrid(), a, secs(20)).unwrap();
    // RFC 9568 §6.4.2: on a priority-0 advert Master_Down_Timer = Skew_Time.
    let expected = skew(secs(1), 100) + LATENCY;
    assert!(
        delay.abs_diff(expected) < ms(1),
        "{delay:?} vs {expected:?}"
    );
    assert_eq!(
        t.vip_owners_at(vrid(), secs(20)),
        Vec::<usize>::new(),
        "shutdown removes the VIPs at once"
    );
    assert_eq!(t.master_at(vrid(), secs(30)), Some(b));
    assert_eq!(lan.router(a, vrid()).unwrap().state(), State::Initialize);
    assert_eq!(
        lan.router(a, vrid()).unwrap().stats().sent_pri_zero_packets,
        1
    );
    assert_eq!(
        lan.router(b, vrid()).unwrap().stats().rcvd_pri_zero_packets,
        1
    );
}

#[test]
fn restored_higher_priority_router_preempts() {
    let mut lan = lan(4);
    let a = lan.add_router(v4(1, 200).build().unwrap()).unwrap();
    let b = lan.add_router(v4(2, 100).build().unwrap()).unwrap();
    lan.schedule(secs(10), Action::Crash(a));
    lan.schedule(secs(20), Action::Restart(a));
    lan.run_for(secs(40));
    let t = lan.timeline();
    assert_eq!(t.master_at(vrid(), secs(19)), Some(b));
    assert_eq!(t.master_at(vrid(), secs(40)), Some(a));
    // a restarts in Backup, discards b's lower adverts (RFC 9568 §6.4.2) and takes over
    // after its own Master_Down_Interval; b steps down on a's higher advert (§6.4.3).
    let back = t.failover_delay(vrid(), b, secs(20)).unwrap();
    assert!(back.abs_diff(mdi(secs(1), 200)) < ms(1), "{back:?}");
    assert!(t.longest_dual_master(vrid(), secs(20), secs(40)) <= LATENCY);
}

#[test]
fn nopreempt_keeps_the_current_master() {
    let mut lan = lan(5);
    let a = lan
        .add_router(v4(1, 200).preempt(false).build().unwrap())
        .unwrap();
    let b = lan.add_router(v4(2, 100).build().unwrap()).unwrap();
    lan.schedule(secs(10), Action::Crash(a));
    lan.schedule(secs(20), Action::Restart(a));
    lan.run_for(secs(60));
    let t = lan.timeline();
    assert_eq!(t.master_at(vrid(), secs(60)), Some(b));
    assert_eq!(lan.router(a, vrid()).unwrap().state(), State::Backup);
}

#[test]
fn preempt_delay_postpones_preemption() {
    let mut lan = lan(6);
    let a = lan
        .add_router(v4(1, 200).preempt_delay(secs(15)).build().unwrap())
        .unwrap();
    let b = lan.add_router(v4(2, 100).build().unwrap()).unwrap();
    lan.schedule(secs(10), Action::Crash(a));
    lan.schedule(secs(20), Action::Restart(a));
    lan.run_for(secs(60));
    let t = lan.timeline();
    assert_eq!(
        t.master_at(vrid(), secs(34)),
        Some(b),
        "still within preempt_delay"
    );
    assert_eq!(t.master_at(vrid(), secs(60)), Some(a));
    let taken = t.failover_delay(vrid(), b, secs(20)).unwrap();
    // The first lower-priority advert arrives within a second of the restart, the hold
    // lasts 15 s, then Master_Down_Interval passes.
    assert!(
        taken >= secs(15) && taken <= secs(15) + secs(1) + mdi(secs(1), 200),
        "{taken:?}"
    );
}

#[test]
fn equal_priority_goes_to_the_higher_primary_address() {
    let mut lan = lan(7);
    // Both start with keepalived's `state MASTER` (one interval in Backup, then Master), at
    // the same instant, so the tie-break of RFC 9568 §6.4.3 decides: the sender with the
    // greater primary address wins.
    let low = lan
        .add_router(v4(1, 100).startup(StartupState::Master).build().unwrap())
        .unwrap();
    let high = lan
        .add_router(v4(2, 100).startup(StartupState::Master).build().unwrap())
        .unwrap();
    lan.run_for(secs(5));
    let t = lan.timeline();
    assert_eq!(t.master_at(vrid(), secs(5)), Some(high));
    // If the lower address ever was master, it yielded to the higher one's advert.
    for e in t.state_changes().filter(|e| e.node == low) {
        if let EventKind::State {
            from: State::Master,
            to,
            reason,
        } = &e.kind
        {
            assert_eq!(*to, State::Backup);
            assert!(
                matches!(reason, Reason::HigherPriority { .. }),
                "{reason:?}"
            );
        }
    }
}

#[test]
fn state_master_waits_one_interval_in_backup_as_keepalived_does() {
    // keepalived 2.2.7: a non-owner with `state MASTER` hears an existing master first.
    let mut lan = lan(9);
    let master = lan.add_router(v4(2, 200).build().unwrap()).unwrap();
    let rejoining = lan
        .add_router(v4(1, 100).startup(StartupState::Master).build().unwrap())
        .unwrap();
    // Down from the start, back once the other is master.
    lan.schedule(Duration::from_millis(1), Action::Crash(rejoining));
    lan.schedule(secs(5), Action::Restart(rejoining));
    lan.run_for(secs(10));
    let t = lan.timeline();
    assert_eq!(t.master_at(vrid(), secs(10)), Some(master));
    assert!(
        !t.state_changes().any(|e| e.node == rejoining
            && matches!(
                e.kind,
                EventKind::State {
                    to: State::Master,
                    ..
                }
            )),
        "the rejoining router took over: {:?}",
        t.state_changes().collect::<Vec<_>>()
    );
    // Alone, it becomes master after one interval plus the smallest skew, not Master_Down.
    let mut alone = common::lan(10);
    let r = alone
        .add_router(v4(1, 100).startup(StartupState::Master).build().unwrap())
        .unwrap();
    alone.run_for(secs(3));
    let became = alone
        .timeline()
        .state_changes()
        .find(|e| {
            e.node == r
                && matches!(
                    e.kind,
                    EventKind::State {
                        to: State::Master,
                        ..
                    }
                )
        })
        .map(|e| (e.at, e.kind.clone()));
    let (at, kind) = became.expect("became master");
    assert!(matches!(
        kind,
        EventKind::State {
            reason: Reason::StartupAsMaster,
            ..
        }
    ));
    assert!(
        at <= secs(1) + Duration::from_millis(4) + Duration::from_millis(1),
        "{at:?}"
    );
}

#[test]
fn owner_becomes_master_at_once_and_preempts() {
    let mut lan = lan(8);
    let b = lan.add_router(v4(2, 100).build().unwrap()).unwrap();
    let owner = lan.add_node("owner");
    lan.add_router_to(owner, v4(1, 255).build().unwrap())
        .unwrap();
    let t0 = secs(1);
    // The owner was started at time 0 too; crash and restart it once b is master.
    lan.schedule(secs(5), Action::Crash(owner));
    lan.schedule(secs(15), Action::Restart(owner));
    lan.run_for(secs(20));
    let t = lan.timeline();
    assert_eq!(
        t.master_at(vrid(), t0),
        Some(owner),
        "owner is master immediately (RFC 9568 §6.4.1)"
    );
    assert_eq!(t.master_at(vrid(), secs(14)), Some(b));
    assert_eq!(
        t.master_at(vrid(), secs(15) + ms(1)),
        Some(owner),
        "owner takes over at restart, no waiting"
    );
    assert!(t.longest_dual_master(vrid(), secs(15), secs(20)) <= LATENCY);
}

#[test]
fn backup_learns_master_adver_interval_from_adverts() {
    let mut lan = lan(9);
    let a = lan
        .add_router(v4(1, 200).advert_interval(centis(50)).build().unwrap())
        .unwrap();
    let b = lan
        .add_router(v4(2, 100).advert_interval(centis(200)).build().unwrap())
        .unwrap();
    lan.schedule(secs(10), Action::Crash(a));
    lan.run_for(secs(20));
    // RFC 9568 §6.4.2: Master_Adver_Interval comes from the master's adverts, so the backup
    // detects the failure with the master's 0.5 s, not its own 2 s.
    let delay = lan.timeline().failover_delay(vrid(), a, secs(10)).unwrap();
    assert!(delay <= mdi(ms(500), 100) + LATENCY, "{delay:?}");
    assert_eq!(lan.router(b, vrid()).unwrap().state(), State::Master);
}

#[test]
fn v2_interval_mismatch_is_dropped_and_counted() {
    let mut lan = lan(10);
    let a = lan
        .add_router(v2(1, 200).advert_interval(centis(100)).build().unwrap())
        .unwrap();
    let b = lan
        .add_router(v2(2, 100).advert_interval(centis(200)).build().unwrap())
        .unwrap();
    lan.run_for(secs(20));
    // RFC 3768 §7.1: adverts with a different interval are discarded, so both end master.
    assert_eq!(lan.timeline().masters_at(vrid(), secs(20)), vec![a, b]);
    let stats = lan
        .demux(b, Family::V4)
        .unwrap()
        .router_stats(VRID)
        .unwrap();
    assert!(stats.adv_interval_errors > 0);
}

#[test]
fn v2_and_ipv6_lans_elect_and_fail_over() {
    for (a_cfg, b_cfg) in [
        (
            v2(1, 200).password("secret").build().unwrap(),
            v2(2, 100).password("secret").build().unwrap(),
        ),
        (v6(1, 200).build().unwrap(), v6(2, 100).build().unwrap()),
    ] {
        let mut lan = lan(11);
        let a = lan.add_router(a_cfg).unwrap();
        let b = lan.add_router(b_cfg).unwrap();
        lan.schedule(secs(10), Action::Crash(a));
        lan.run_for(secs(20));
        let t = lan.timeline();
        assert_eq!(t.master_at(vrid(), secs(9)), Some(a));
        assert_eq!(t.master_at(vrid(), secs(20)), Some(b));
        assert!(t.failover_delay(vrid(), a, secs(10)).unwrap() <= mdi(secs(1), 100) + LATENCY);
    }
}

#[test]
fn wrong_password_is_rejected_and_both_become_master() {
    let mut lan = lan(12);
    let a = lan
        .add_router(v2(1, 200).password("secret").build().unwrap())
        .unwrap();
    let b = lan
        .add_router(v2(2, 100).password("other").build().unwrap())
        .unwrap();
    lan.run_for(secs(10));
    assert_eq!(lan.timeline().masters_at(vrid(), secs(10)), vec![a, b]);
    let stats = lan
        .demux(b, Family::V4)
        .unwrap()
        .router_stats(VRID)
        .unwrap();
    assert!(stats.auth_failures > 0);
}

#[test]
fn partition_makes_split_brain_and_healing_converges() {
    let mut lan = lan(13);
    let a = lan.add_router(v4(1, 200).build().unwrap()).unwrap();
    let b = lan.add_router(v4(2, 150).build().unwrap()).unwrap();
    let c = lan.add_router(v4(3, 100).build().unwrap()).unwrap();
    lan.schedule(secs(10), Action::Partition(vec![vec![a], vec![b, c]]));
    lan.schedule(secs(30), Action::Heal);
    lan.run_for(secs(40));
    let t = lan.timeline();
    // Each side elects its own master: a on its own, b (higher than c) on the other.
    assert_eq!(t.masters_at(vrid(), secs(29)), vec![a, b]);
    // After healing b hears a's higher priority and steps down within one advert interval.
    assert_eq!(t.masters_at(vrid(), secs(32)), vec![a]);
    assert!(t.longest_dual_master(vrid(), secs(30), secs(40)) <= secs(1) + LATENCY);
    assert_eq!(t.vip_owners_at(vrid(), secs(40)), vec![a]);
}

#[test]
fn tracking_lowers_priority_below_backup_and_back() {
    let mut lan = lan(14);
    let a = lan
        .add_router(
            v4(1, 150)
                .track(TrackedObject::new("nginx", -60))
                .build()
                .unwrap(),
        )
        .unwrap();
    let b = lan.add_router(v4(2, 100).build().unwrap()).unwrap();
    lan.schedule(secs(10), Action::Track(a, "nginx".into(), TrackState::Down));
    lan.schedule(secs(30), Action::Track(a, "nginx".into(), TrackState::Up));
    lan.run_for(secs(45));
    let t = lan.timeline();
    assert!(t.events().iter().any(|e| e.node == a
        && e.kind
            == EventKind::Priority {
                from: Priority(150),
                to: Priority(90)
            }));
    // With priority 90 a's adverts are lower than b's 100: b discards them and takes over
    // after its Master_Down_Interval (RFC 9568 §6.4.2), then a yields to b's advert.
    let took = t.failover_delay(vrid(), a, secs(10)).unwrap();
    assert!(took <= mdi(secs(1), 100) + LATENCY, "{took:?}");
    assert_eq!(t.master_at(vrid(), secs(29)), Some(b));
    assert_eq!(
        t.master_at(vrid(), secs(45)),
        Some(a),
        "a preempts back once restored"
    );
}

#[test]
fn weight_zero_track_puts_router_in_fault_and_recovery_rejoins() {
    let mut lan = lan(15);
    let a = lan
        .add_router(
            v4(1, 200)
                .track(TrackedObject::new("eth1", 0))
                .build()
                .unwrap(),
        )
        .unwrap();
    let b = lan.add_router(v4(2, 100).build().unwrap()).unwrap();
    lan.schedule(secs(10), Action::Track(a, "eth1".into(), TrackState::Down));
    lan.schedule(secs(20), Action::Track(a, "eth1".into(), TrackState::Up));
    lan.run_for(secs(30));
    let t = lan.timeline();
    assert_eq!(lan.router(a, vrid()).unwrap().state(), State::Master);
    // Leaving master for Fault sends priority 0, so the backup waits only Skew_Time.
    let delay = t.failover_delay(vrid(), a, secs(10)).unwrap();
    assert!(delay <= skew(secs(1), 100) + LATENCY, "{delay:?}");
    assert!(t.events().iter().any(|e| e.node == a
        && e.kind
            == EventKind::State {
                from: State::Master,
                to: State::Fault,
                reason: Reason::TrackFault
            }));
    assert!(t.events().iter().any(|e| e.node == a
        && e.kind
            == EventKind::State {
                from: State::Fault,
                to: State::Backup,
                reason: Reason::FaultCleared
            }));
    assert_eq!(t.master_at(vrid(), secs(19)), Some(b));
}

#[test]
fn link_down_is_fault_and_link_up_recovers() {
    let mut lan = lan(16);
    let a = lan.add_router(v4(1, 200).build().unwrap()).unwrap();
    let _b = lan.add_router(v4(2, 100).build().unwrap()).unwrap();
    lan.schedule(secs(5), Action::Link(a, false));
    lan.schedule(secs(8), Action::Link(a, true));
    lan.run_for(secs(20));
    let t = lan.timeline();
    assert!(t.events().iter().any(|e| e.node == a
        && e.kind
            == EventKind::State {
                from: State::Master,
                to: State::Fault,
                reason: Reason::LinkDown
            }));
    assert_eq!(t.master_at(vrid(), secs(20)), Some(a));
}

#[test]
fn thirty_percent_loss_does_not_flap_more_than_expected() {
    let mut lan = lan(17);
    lan.set_link(LinkConfig::ideal(LATENCY).with_loss(0.3));
    let a = lan.add_router(v4(1, 200).build().unwrap()).unwrap();
    let _b = lan.add_router(v4(2, 100).build().unwrap()).unwrap();
    let hours = 2;
    lan.run_for(secs(3600 * hours));
    let t = lan.timeline();
    // A takeover needs 3 consecutive lost adverts plus the skew: p = 0.3^3 per advert,
    // minus the fourth... roughly 0.027 * 0.3 (the advert inside the skew window) per second.
    // The bound below is generous (x3) over 0.3^4 per advert interval.
    let flaps = t.master_transitions(vrid(), secs(10), secs(3600 * hours));
    let expected = 0.3f64.powi(4) * (3600 * hours) as f64;
    assert!(
        (flaps as f64) < expected * 3.0,
        "{flaps} takeovers, expected about {expected:.0}"
    );
    assert_eq!(t.master_at(vrid(), secs(3600 * hours)), Some(a));
}

#[test]
fn sync_group_members_move_together() {
    use vrrp_core::{RouterConfig, VirtualAddress, Vrid};
    let member = |host: u8, vrid: u8, prio: u8| {
        let ip = format!("192.0.2.{host}").parse().unwrap();
        RouterConfig::builder(format!("VI_{vrid}"), vrid, ip)
            .priority(prio)
            .virtual_address(VirtualAddress::host(
                format!("198.51.100.{vrid}").parse().unwrap(),
            ))
            .sync_group(true)
            .build()
            .unwrap()
    };
    let (v1, v2) = (Vrid::new(1).unwrap(), Vrid::new(2).unwrap());
    let mut lan = lan(18);
    let a = lan.add_node("a");
    lan.add_router_to(a, member(1, 1, 200)).unwrap();
    lan.add_router_to(a, member(1, 2, 200)).unwrap();
    lan.add_sync_group(a, "G", &[v1, v2]);
    let b = lan.add_node("b");
    lan.add_router_to(b, member(2, 1, 100)).unwrap();
    lan.add_router_to(b, member(2, 2, 100)).unwrap();
    lan.add_sync_group(b, "G", &[v1, v2]);
    // A tracked failure of one member on a puts the whole group of a in fault.
    lan.run_for(secs(10));
    let t = lan.timeline();
    assert_eq!(t.master_at(v1, secs(10)), Some(a));
    assert_eq!(t.master_at(v2, secs(10)), Some(a));
    lan.schedule(secs(12), Action::Link(a, false));
    lan.schedule(secs(20), Action::Link(a, true));
    lan.run_for(secs(20));
    let t = lan.timeline();
    assert_eq!(t.master_at(v1, secs(19)), Some(b));
    assert_eq!(t.master_at(v2, secs(19)), Some(b));
    assert_eq!(t.master_at(v1, secs(30)), Some(a));
    assert_eq!(t.master_at(v2, secs(30)), Some(a));
}

#[test]
fn sync_group_goes_master_only_when_every_member_would() {
    use vrrp_core::{RouterConfig, VirtualAddress, Vrid};
    let cfg = |host: u8, vrid: u8, prio: u8, group: bool| {
        let ip = format!("192.0.2.{host}").parse().unwrap();
        RouterConfig::builder(format!("VI_{vrid}"), vrid, ip)
            .priority(prio)
            .virtual_address(VirtualAddress::host(
                format!("198.51.100.{vrid}").parse().unwrap(),
            ))
            .sync_group(group)
            .build()
            .unwrap()
    };
    let (v1, v2) = (Vrid::new(1).unwrap(), Vrid::new(2).unwrap());
    let mut lan = lan(19);
    // b runs VRID 1 and 2 in a group; a is master of VRID 1 only, c of VRID 2 only.
    let a = lan.add_node("a");
    lan.add_router_to(a, cfg(1, 1, 200, false)).unwrap();
    let c = lan.add_node("c");
    lan.add_router_to(c, cfg(3, 2, 200, false)).unwrap();
    let b = lan.add_node("b");
    lan.add_router_to(b, cfg(2, 1, 100, true)).unwrap();
    lan.add_router_to(b, cfg(2, 2, 100, true)).unwrap();
    lan.add_sync_group(b, "G", &[v1, v2]);
    lan.schedule(secs(10), Action::Crash(a));
    lan.schedule(secs(30), Action::Crash(c));
    lan.run_for(secs(40));
    let t = lan.timeline();
    // With only a gone, b's VRID 1 wants master but VRID 2 still hears c: b waits.
    assert_eq!(t.masters_at(v1, secs(29)), Vec::<usize>::new());
    // Once c is gone too, both members go master together.
    assert_eq!(t.master_at(v1, secs(40)), Some(b));
    assert_eq!(t.master_at(v2, secs(40)), Some(b));
}

#[test]
fn keepalived_profile_repeats_gratuitous_arps() {
    use vrrp_core::config::Profile;
    use vrrp_core::{Input, Output, VirtualRouter};
    let cfg = v4(1, 100).profile(Profile::Keepalived).build().unwrap();
    assert_eq!(cfg.announce, AnnounceConfig::KEEPALIVED);
    let mut r = VirtualRouter::new(cfg).unwrap();
    let t0 = epoch();
    r.handle(t0, Input::Startup);
    let down = r.poll_timeout().unwrap();
    r.handle(down, Input::Timeout);
    let first: usize = std::iter::from_fn(|| r.poll())
        .filter(|o| matches!(o, Output::Announce { .. }))
        .count();
    assert_eq!(first, 5, "garp_master_repeat 5 at once");
    let mut now = down;
    let mut later = 0;
    while now < down + secs(6) {
        now = r.poll_timeout().unwrap();
        r.handle(now, Input::Timeout);
        later += std::iter::from_fn(|| r.poll())
            .filter(|o| matches!(o, Output::Announce { .. }))
            .count();
    }
    assert_eq!(later, 5, "garp_master_delay 5 s later, another 5");
}

#[test]
fn version_mismatch_on_the_lan_is_counted() {
    let mut lan = lan(20);
    let a = lan
        .add_router(v4(1, 200).version(Version::V3).build().unwrap())
        .unwrap();
    let b = lan.add_router(v2(2, 100).build().unwrap()).unwrap();
    lan.run_for(secs(10));
    assert_eq!(lan.timeline().masters_at(vrid(), secs(10)), vec![a, b]);
    assert!(lan.demux(b, Family::V4).unwrap().stats().version_errors > 0);
}

#[test]
fn duplicated_and_reordered_adverts_do_not_disturb_the_election() {
    let mut lan = lan(21);
    // Jitter larger than the advert interval reorders adverts; a quarter are duplicated.
    lan.set_link(
        LinkConfig::ideal(LATENCY)
            .with_jitter(ms(150))
            .with_duplicate(0.25),
    );
    let a = lan
        .add_router(v4(1, 200).advert_interval(centis(10)).build().unwrap())
        .unwrap();
    let _b = lan
        .add_router(v4(2, 100).advert_interval(centis(10)).build().unwrap())
        .unwrap();
    lan.run_for(secs(600));
    let t = lan.timeline();
    assert_eq!(t.master_transitions(vrid(), secs(1), secs(600)), 0);
    assert_eq!(t.master_at(vrid(), secs(600)), Some(a));
    let (delivered, _) = lan.packet_counts();
    assert!(
        delivered > 6000 * 5 / 4 - 500,
        "duplicates were delivered: {delivered}"
    );
}
