//! Exhaustive checks of small VRRP models (feature `model`): every interleaving of the
//! checker's choices, over the real `VirtualRouter`, against the built-in properties (RFC 9568
//! §6.4.2 / §6.4.3, keepalived sync groups); and, for each property, a deliberately broken
//! node (`Mutant`) for which the checker must find a counterexample, so none holds vacuously.
//!
//! Each test prints one `model:` line (states, depth, time) with `--nocapture`.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::net::IpAddr;
use std::time::{Duration, Instant};

use vrrp_core::config::RouterConfigBuilder;
use vrrp_core::model::{Builtin, Choices, ModelBuilder, Mutant, Node, Report};
use vrrp_core::{RouterConfig, State, VirtualAddress, Vrid};

/// Any instant serves as the epoch: the model only uses differences.
fn epoch() -> Instant {
    Instant::now()
}

fn vrid(v: u8) -> Vrid {
    Vrid::new(v).unwrap()
}

/// A v3 IPv4 router of VRID 51 at 192.0.2.`host`.
fn v4(host: u8, priority: u8) -> RouterConfigBuilder {
    instance("VI_1", 51, host, priority)
}

fn instance(name: &str, vrid: u8, host: u8, priority: u8) -> RouterConfigBuilder {
    let ip: IpAddr = format!("192.0.2.{host}").parse().unwrap();
    let vip: IpAddr = format!("198.51.100.{vrid}").parse().unwrap();
    RouterConfig::builder(name, vrid, ip)
        .priority(priority)
        .virtual_address(VirtualAddress::host(vip))
}

/// Checks `model` and prints its figures.
fn run(name: &str, model: ModelBuilder) -> Report {
    let start = Instant::now();
    let report = model.check().unwrap();
    eprintln!(
        "model: {name}: {} unique states, max depth {}, {:.2?}, {}",
        report.unique_states,
        report.max_depth,
        start.elapsed(),
        if report.violations.is_empty() {
            "held".to_string()
        } else {
            let names: Vec<_> = report.violations.iter().map(|v| v.property).collect();
            format!("violated: {names:?}")
        }
    );
    report
}

/// The model holds, completely, with quiescent states reached.
fn assert_holds(report: &Report) {
    assert!(report.holds(), "{report}");
    assert!(report.quiescence_reached, "{report}");
}

/// The checker finds a counterexample of `property`.
fn assert_violates(report: &Report, property: Builtin) {
    let v = report
        .violation(property.name())
        .unwrap_or_else(|| panic!("no counterexample of {:?}: {report}", property));
    assert!(!v.trace.is_empty());
}

/// The model of a mutant: only `property` is checked, and the check stops at its first
/// counterexample.
fn mutant_model(model: ModelBuilder, property: Builtin) -> ModelBuilder {
    model.builtins([property]).stop_at_first_violation()
}

fn quiescent_master(s: &vrrp_core::model::ModelState, v: u8) -> Option<Vec<usize>> {
    s.is_quiescent().then(|| s.masters(vrid(v)))
}

// --- Different priorities -------------------------------------------------------------

fn two_routers() -> ModelBuilder {
    ModelBuilder::new(epoch())
        .router(v4(1, 200).build().unwrap())
        .router(v4(2, 100).build().unwrap())
}

#[test]
fn two_priorities_with_every_fault() {
    let report = run(
        "two priorities, loss+dup+reorder+crash/restart+partition",
        two_routers().choices(
            Choices::none()
                .losses(1)
                .duplicates(1)
                .reorders(1)
                .crashes(1)
                .restarts(1)
                .partitions(1),
        ),
    );
    assert_holds(&report);
}

fn three_routers() -> ModelBuilder {
    ModelBuilder::new(epoch())
        .router(v4(1, 200).build().unwrap())
        .router(v4(2, 150).build().unwrap())
        .router(v4(3, 100).build().unwrap())
}

#[test]
fn three_priorities_with_crash_loss_and_duplicate() {
    let report = run(
        "three priorities, loss+dup+crash/restart",
        three_routers()
            .choices(
                Choices::none()
                    .losses(1)
                    .duplicates(1)
                    .crashes(1)
                    .restarts(1),
            )
            .reachable("the middle router takes over", |s| {
                quiescent_master(s, 51) == Some(vec![1])
            }),
    );
    assert_holds(&report);
}

#[test]
fn three_priorities_with_crash_and_partition() {
    let report = run(
        "three priorities, crash/restart+partition",
        three_routers().choices(Choices::none().crashes(1).restarts(1).partitions(1)),
    );
    assert_holds(&report);
}

#[test]
fn three_priorities_with_two_crashes() {
    let report = run(
        "three priorities, 2 crashes/restarts",
        three_routers()
            .choices(Choices::none().crashes(2).restarts(2))
            .reachable("the lowest router alone is master", |s| {
                quiescent_master(s, 51) == Some(vec![2]) && !s.is_up(0) && !s.is_up(1)
            }),
    );
    assert_holds(&report);
}

// --- Equal priorities: the address tie-break ------------------------------------------

#[test]
fn equal_priorities_tie_break() {
    let report = run(
        "equal priorities, loss+partition, 10 ms delay",
        ModelBuilder::new(epoch())
            .router(v4(1, 100).build().unwrap())
            .router(v4(2, 100).build().unwrap())
            .choices(
                Choices::none()
                    .losses(1)
                    .partitions(1)
                    .max_delay(Duration::from_millis(10)),
            )
            .reachable("both master at once", |s| s.masters(vrid(51)).len() == 2)
            // RFC 9568 §6.4.2 accepts an advert of equal priority: whoever expires first stays.
            .reachable("the lower address ends master", |s| {
                quiescent_master(s, 51) == Some(vec![0])
            })
            .reachable("the higher address ends master", |s| {
                quiescent_master(s, 51) == Some(vec![1])
            }),
    );
    assert_holds(&report);
}

// --- Preemption -----------------------------------------------------------------------

#[test]
fn preempt_off_keeps_the_lower_master() {
    let report = run(
        "nopreempt, crash/restart+loss",
        ModelBuilder::new(epoch())
            .router(v4(1, 200).preempt(false).build().unwrap())
            .router(v4(2, 100).build().unwrap())
            .choices(Choices::none().losses(1).crashes(1).restarts(1))
            .reachable("the lower priority stays master", |s| {
                quiescent_master(s, 51) == Some(vec![1])
                    && s.router(0, vrid(51))
                        .is_some_and(|r| r.state() == State::Backup)
            }),
    );
    assert_holds(&report);
}

#[test]
fn preempt_delay_holds_back_then_preempts() {
    let report = run(
        "preempt_delay 2 s, crash/restart+loss",
        ModelBuilder::new(epoch())
            .router(
                v4(1, 200)
                    .preempt_delay(Duration::from_secs(2))
                    .build()
                    .unwrap(),
            )
            .router(v4(2, 100).build().unwrap())
            .choices(Choices::none().losses(1).crashes(1).restarts(1))
            .property("projection shadows match the routers", |s| {
                s.projection_error().is_none()
            })
            .reachable("the higher priority holds back behind a master", |s| {
                s.masters(vrid(51)) == vec![1]
                    && s.router(0, vrid(51))
                        .is_some_and(|r| r.state() == State::Backup)
                    && s.elapsed() > Duration::from_secs(10)
            }),
    );
    assert_holds(&report);
}

// --- The address owner ----------------------------------------------------------------

#[test]
fn address_owner_takes_over_at_once() {
    let report = run(
        "owner 255, loss+crash/restart",
        ModelBuilder::new(epoch())
            .router(v4(1, 255).build().unwrap())
            .router(v4(2, 100).build().unwrap())
            .choices(Choices::none().losses(1).crashes(1).restarts(1))
            // RFC 9568 §6.4.1: the owner is Master at once after Startup.
            .property("a running owner is master", |s| {
                s.router(0, vrid(51))
                    .is_none_or(|r| r.state() != State::Backup)
            }),
    );
    assert_holds(&report);
}

// --- Sync groups ----------------------------------------------------------------------

/// A node with a sync group of VRIDs 51 and 52 at `priority`.
fn group_node(name: &str, host: u8, priority: u8) -> Node {
    let member = |name, vrid| {
        instance(name, vrid, host, priority)
            .sync_group(true)
            .build()
            .unwrap()
    };
    Node::new(name)
        .router(member("VI_1", 51))
        .router(member("VI_2", 52))
        .sync_group("VG", ["VI_1", "VI_2"])
}

/// Two nodes with a sync group each; x is preferred for both VRIDs until the checker drops
/// x's VI_1 below y's (a tracked object's weight, say).
fn sync_group_model(mutant: Option<Mutant>) -> ModelBuilder {
    let (mut x, mut y) = (group_node("x", 1, 200), group_node("y", 2, 100));
    if let Some(m) = mutant {
        x = x.mutant(m);
        y = y.mutant(m);
    }
    ModelBuilder::new(epoch())
        .node(x)
        .node(y)
        .priority_change(0, 51, 50)
}

#[test]
fn sync_group_moves_together() {
    let report = run(
        "sync group of two, priority drop+loss",
        sync_group_model(None)
            .choices(Choices::none().losses(1))
            .property("projection shadows match the routers", |s| {
                s.projection_error().is_none()
            })
            .reachable("y master of both", |s| {
                quiescent_master(s, 51) == Some(vec![1]) && s.masters(vrid(52)) == vec![1]
            }),
    );
    assert_holds(&report);
}

#[test]
fn sync_group_planned_shutdown() {
    let report = run(
        "sync group of two, shutdown+dup",
        sync_group_model(None).choices(Choices::none().shutdowns(1).duplicates(1)),
    );
    assert_holds(&report);
    assert_eq!(report.handover_completed, Some(true), "{report}");
}

// --- Planned hand-overs ---------------------------------------------------------------

#[test]
fn shutdown_hands_over_within_skew_time() {
    let report = run(
        "three, shutdown+dup, 50 ms delay",
        three_routers().choices(
            Choices::none()
                .shutdowns(1)
                .duplicates(1)
                .max_delay(Duration::from_millis(50)),
        ),
    );
    assert_holds(&report);
    assert_eq!(report.handover_completed, Some(true), "{report}");
}

#[test]
fn shutdown_with_crash_restart_and_delay() {
    let report = run(
        "three, shutdown+crash/restart, 30 ms delay",
        three_routers()
            .choices(
                Choices::none()
                    .shutdowns(1)
                    .crashes(1)
                    .restarts(1)
                    .max_delay(Duration::from_millis(30)),
            )
            .property("projection shadows match the routers", |s| {
                s.projection_error().is_none()
            }),
    );
    assert_holds(&report);
    assert_eq!(report.handover_completed, Some(true), "{report}");
}

/// Not a mutant: RFC 9568 itself. A master shuts down right after it became master, so its
/// first advert (priority 200) and its priority-0 advert are on the wire together; if the
/// stale one overtakes, the backup re-arms Master_Down_Timer to Master_Down_Interval (§6.4.2)
/// and nobody holds the addresses for that long instead of Skew_Time.
#[test]
fn reordered_stale_advert_delays_the_shutdown_handover() {
    let report = run(
        "two, shutdown+reorder (RFC finding)",
        mutant_model(
            two_routers().choices(Choices::none().shutdowns(1).reorders(1)),
            Builtin::HandoverKeepsAddresses,
        ),
    );
    let v = report
        .violation(Builtin::HandoverKeepsAddresses.name())
        .unwrap_or_else(|| panic!("{report}"));
    assert!(
        v.trace
            .iter()
            .any(|t| t.contains("ahead of an earlier one")),
        "{v}"
    );
}

#[test]
fn priority_hand_over_never_leaves_the_addresses() {
    let report = run(
        "three, hand-over to priority 1+dup, 20 ms delay",
        three_routers().choices(
            Choices::none()
                .hand_overs(1)
                .duplicates(1)
                .max_delay(Duration::from_millis(20)),
        ),
    );
    assert_holds(&report);
    assert_eq!(report.handover_completed, Some(true), "{report}");
}

// --- Mutants: each property has a counterexample on a broken node ---------------------

#[test]
fn mutant_never_stepping_down_breaks_single_master() {
    let report = run(
        "mutant NeverStepDown (property 1)",
        mutant_model(
            ModelBuilder::new(epoch())
                .router(v4(1, 200).build().unwrap())
                .node(
                    Node::new("192.0.2.2")
                        .router(v4(2, 100).build().unwrap())
                        .mutant(Mutant::NeverStepDown),
                )
                .choices(Choices::none().partitions(1)),
            Builtin::SingleMaster,
        ),
    );
    assert_violates(&report, Builtin::SingleMaster);
}

#[test]
fn mutant_silent_shutdown_breaks_the_handover() {
    let report = run(
        "mutant SilentShutdown (property 2)",
        mutant_model(
            ModelBuilder::new(epoch())
                .node(
                    Node::new("192.0.2.1")
                        .router(v4(1, 200).build().unwrap())
                        .mutant(Mutant::SilentShutdown),
                )
                .router(v4(2, 150).build().unwrap())
                .choices(Choices::none().shutdowns(1)),
            Builtin::HandoverKeepsAddresses,
        ),
    );
    assert_violates(&report, Builtin::HandoverKeepsAddresses);
}

#[test]
fn mutant_advert_before_install_breaks_the_priority_hand_over() {
    let report = run(
        "mutant AdvertBeforeInstall (property 2)",
        mutant_model(
            ModelBuilder::new(epoch())
                .router(v4(1, 200).build().unwrap())
                .node(
                    Node::new("192.0.2.2")
                        .router(v4(2, 150).build().unwrap())
                        .mutant(Mutant::AdvertBeforeInstall),
                )
                .choices(Choices::none().hand_overs(1)),
            Builtin::HandoverKeepsAddresses,
        ),
    );
    assert_violates(&report, Builtin::HandoverKeepsAddresses);
}

#[test]
fn mutant_ignoring_adverts_breaks_backup_stays() {
    let report = run(
        "mutant IgnoreAdverts (property 3)",
        mutant_model(
            ModelBuilder::new(epoch())
                .router(v4(1, 200).build().unwrap())
                .node(
                    Node::new("192.0.2.2")
                        .router(v4(2, 100).build().unwrap())
                        .mutant(Mutant::IgnoreAdverts),
                )
                .choices(Choices::none().crashes(1).restarts(1)),
            Builtin::BackupHearingStays,
        ),
    );
    assert_violates(&report, Builtin::BackupHearingStays);
}

#[test]
fn mutant_ignoring_the_sync_group_breaks_group_together() {
    let report = run(
        "mutant IgnoreSyncGroup (property 4)",
        mutant_model(
            sync_group_model(Some(Mutant::IgnoreSyncGroup)),
            Builtin::GroupTogether,
        ),
    );
    assert_violates(&report, Builtin::GroupTogether);
}

// --- User properties and validation ---------------------------------------------------

#[test]
fn a_user_property_gets_a_counterexample() {
    let vrid51 = vrid(51);
    let report = run(
        "user property: never two holders, partition",
        two_routers()
            .choices(Choices::none().partitions(1))
            .builtins([])
            .property("never two holders", move |s| s.holders(vrid51).len() < 2)
            .stop_at_first_violation(),
    );
    let v = report.violation("never two holders").unwrap();
    assert!(v.trace.iter().any(|t| t.contains("partition")), "{v}");
}

#[test]
fn inconsistent_models_are_refused() {
    use vrrp_core::model::ModelError;
    let err = |m: ModelBuilder| m.build().unwrap_err();
    assert_eq!(err(ModelBuilder::new(epoch())), ModelError::Empty);
    assert!(matches!(
        err(ModelBuilder::new(epoch()).node(
            Node::new("n")
                .router(v4(1, 100).build().unwrap())
                .router(v4(1, 100).build().unwrap())
        )),
        ModelError::DuplicateVrid { .. }
    ));
    assert!(matches!(
        err(ModelBuilder::new(epoch())
            .node(Node::new("n").router(v4(1, 100).sync_group(true).build().unwrap()))),
        ModelError::GroupFlag { flag: true, .. }
    ));
    assert!(matches!(
        err(ModelBuilder::new(epoch()).node(
            Node::new("n")
                .router(v4(1, 100).build().unwrap())
                .sync_group("VG", ["VI_9"])
        )),
        ModelError::UnknownMember { .. }
    ));
    let v6 = RouterConfig::builder("VI_1", 51, "fe80::1".parse().unwrap())
        .virtual_address(VirtualAddress::host("2001:db8::1".parse().unwrap()))
        .build()
        .unwrap();
    assert_eq!(
        err(ModelBuilder::new(epoch())
            .router(v4(1, 100).build().unwrap())
            .router(v6)),
        ModelError::FamilyMismatch { vrid: vrid(51) }
    );
    assert!(matches!(
        err(two_routers().priority_change(5, 51, 10)),
        ModelError::UnknownRouter { node: 5, vrid: 51 }
    ));
    assert!(matches!(
        err(two_routers().property(Builtin::SingleMaster.name(), |_| true)),
        ModelError::DuplicateProperty(_)
    ));
}

/// The README's example (the README's own doctest runs in the `examples` crate).
#[test]
fn readme_example() {
    let vrid51 = vrid(51);
    let report = run(
        "README example",
        ModelBuilder::new(epoch())
            .router(
                v4(1, 200)
                    .preempt_delay(Duration::from_secs(2))
                    .build()
                    .unwrap(),
            )
            .router(v4(2, 100).build().unwrap())
            .choices(
                Choices::none()
                    .losses(1)
                    .crashes(1)
                    .restarts(1)
                    .partitions(1),
            )
            .property("one holder when quiescent", move |s| {
                !s.is_quiescent() || s.holders(vrid51).len() == 1
            }),
    );
    assert_holds(&report);
}
