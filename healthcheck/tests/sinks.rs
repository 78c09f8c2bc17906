//! Sinks: IPVS pool rules (recording backend), backend set, VRRP tracking.
#![allow(clippy::unwrap_used)]

use async_trait::async_trait;
use healthcheck::sink::{Dest, Pool, PoolBackend, PoolConfig, PoolOp, PoolSink, backend_set};
use healthcheck::{
    Change, Check, Event, Health, Outcome, Reason, Schedule, Scheduler, Target, TargetId, test_util,
};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::time::Instant;

fn addr(n: u8) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, n], 80))
}

fn dest(n: u8, weight: u32) -> Dest {
    Dest {
        addr: addr(n),
        weight,
    }
}

fn event(n: u8, health: Health, weight: u32) -> Event {
    let mut event = test_util::event(
        TargetId(usize::from(n)),
        &format!("rs{n}"),
        addr(n),
        health,
        weight,
    );
    event.reason = (health == Health::Down).then_some(Reason::Refused);
    event
}

/// Records every call as text and keeps the table the calls leave; `fail_next` makes the
/// next call fail without changing anything.
#[derive(Debug, Default)]
struct Recording {
    log: Vec<String>,
    table: BTreeMap<SocketAddr, u32>,
    fail_next: Arc<AtomicBool>,
}

impl Recording {
    fn call(&mut self, entry: String) -> Result<(), std::io::Error> {
        if self.fail_next.swap(false, Ordering::SeqCst) {
            self.log.push(format!("FAILED {entry}"));
            return Err(std::io::Error::other("injected failure"));
        }
        self.log.push(entry);
        Ok(())
    }

    /// The table as `Dest`s in address order, like `Pool::desired` without a sorry server.
    fn dests(&self) -> Vec<Dest> {
        self.table
            .iter()
            .map(|(&addr, &weight)| Dest { addr, weight })
            .collect()
    }
}

#[async_trait]
impl PoolBackend for Recording {
    type Error = std::io::Error;
    async fn add_dest(&mut self, d: Dest) -> Result<(), Self::Error> {
        self.call(format!("add {} w{}", d.addr, d.weight))?;
        self.table.insert(d.addr, d.weight);
        Ok(())
    }
    async fn set_weight(&mut self, d: Dest) -> Result<(), Self::Error> {
        self.call(format!("weight {} w{}", d.addr, d.weight))?;
        self.table.insert(d.addr, d.weight);
        Ok(())
    }
    async fn remove_dest(&mut self, a: SocketAddr) -> Result<(), Self::Error> {
        self.call(format!("remove {a}"))?;
        self.table.remove(&a);
        Ok(())
    }
    async fn sync(&mut self, dests: &[Dest]) -> Result<(), Self::Error> {
        let listed: Vec<String> = dests
            .iter()
            .map(|d| format!("{}={}", d.addr, d.weight))
            .collect();
        self.call(format!("sync {}", listed.join(" ")))?;
        self.table = dests.iter().map(|d| (d.addr, d.weight)).collect();
        Ok(())
    }
}

fn pool(config: PoolConfig, reals: &[(u8, u32)]) -> Pool {
    Pool::new(config, reals.iter().map(|&(n, w)| (dest(n, w), Health::Up))).unwrap()
}

#[test]
fn down_removes_and_up_restores_the_destination() {
    let mut p = pool(PoolConfig::default(), &[(1, 3), (2, 1)]);
    assert_eq!(
        p.startup(),
        vec![PoolOp::Add(dest(1, 3)), PoolOp::Add(dest(2, 1))]
    );
    assert_eq!(
        p.handle_event(&event(1, Health::Down, 3)),
        vec![PoolOp::Remove(addr(1))]
    );
    assert_eq!(
        p.handle_event(&event(1, Health::Up, 3)),
        vec![PoolOp::Add(dest(1, 3))]
    );
    // a dynamic weight change is a weight update, not a re-add
    assert_eq!(
        p.handle_event(&event(1, Health::Up, 7)),
        vec![PoolOp::SetWeight(dest(1, 7))]
    );
    // events for addresses outside the pool change nothing
    assert_eq!(p.handle_event(&event(9, Health::Down, 1)), vec![]);
}

#[test]
fn inhibit_on_failure_sets_weight_zero_instead_of_removing() {
    let config = PoolConfig::default().inhibit_on_failure(true);
    let mut p = pool(config, &[(1, 3), (2, 1)]);
    p.startup();
    assert_eq!(
        p.handle_event(&event(1, Health::Down, 3)),
        vec![PoolOp::SetWeight(dest(1, 0))]
    );
    assert_eq!(
        p.handle_event(&event(1, Health::Up, 3)),
        vec![PoolOp::SetWeight(dest(1, 3))]
    );
}

#[test]
fn quorum_hysteresis_loses_below_q_minus_h_and_gains_at_q_plus_h() {
    let config = PoolConfig::default().quorum(2).hysteresis(1);
    let mut p = pool(config, &[(1, 1), (2, 1), (3, 1)]);
    p.startup();
    assert!(p.has_quorum());
    p.handle_event(&event(1, Health::Down, 1));
    p.handle_event(&event(2, Health::Down, 1));
    assert!(
        p.has_quorum(),
        "live weight 1 is not below quorum - hysteresis = 1"
    );
    let ops = p.handle_event(&event(3, Health::Down, 1));
    assert_eq!(ops[0], PoolOp::QuorumDown { live_weight: 0 });
    p.handle_event(&event(1, Health::Up, 1));
    let ops = p.handle_event(&event(2, Health::Up, 1));
    assert!(
        !ops.iter().any(|o| matches!(o, PoolOp::QuorumUp { .. })),
        "2 < q + h = 3"
    );
    let ops = p.handle_event(&event(3, Health::Up, 1));
    assert_eq!(ops[0], PoolOp::QuorumUp { live_weight: 3 });
}

#[test]
fn sorry_server_replaces_live_servers_while_quorum_is_lost() {
    let config = PoolConfig::default().quorum(2).sorry_server(dest(100, 1));
    let mut p = pool(config, &[(1, 1), (2, 1)]);
    p.startup();
    // sorry in first, then the real servers out: the service never empties
    assert_eq!(
        p.handle_event(&event(1, Health::Down, 1)),
        vec![
            PoolOp::QuorumDown { live_weight: 1 },
            PoolOp::Add(dest(100, 1)),
            PoolOp::Remove(addr(1)),
            PoolOp::Remove(addr(2)),
        ]
    );
    assert_eq!(
        p.handle_event(&event(1, Health::Up, 1)),
        vec![
            PoolOp::QuorumUp { live_weight: 2 },
            PoolOp::Add(dest(1, 1)),
            PoolOp::Add(dest(2, 1)),
            PoolOp::Remove(addr(100)),
        ]
    );
}

#[test]
fn alpha_start_without_live_servers_starts_on_the_sorry_server() {
    let config = PoolConfig::default().sorry_server(dest(100, 1));
    let mut p = Pool::new(config, [(dest(1, 1), Health::Down)]).unwrap();
    assert_eq!(
        p.startup(),
        vec![
            PoolOp::QuorumDown { live_weight: 0 },
            PoolOp::Add(dest(100, 1))
        ]
    );
}

#[test]
fn invalid_pools_are_rejected() {
    let config = PoolConfig::default().sorry_server(dest(1, 1));
    let err = Pool::new(config, [(dest(1, 1), Health::Up)]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "sorry server 127.0.0.1:80 is also a real server"
    );
    let err = Pool::new(
        PoolConfig::default(),
        [(dest(1, 1), Health::Up), (dest(1, 2), Health::Up)],
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "real server 127.0.0.1:80 is listed twice");
}

/// A check whose verdict is switched from the test.
#[derive(Debug)]
struct Switch(Arc<AtomicBool>);

#[async_trait]
impl Check for Switch {
    async fn check(&self, _deadline: Instant) -> Outcome {
        if self.0.load(Ordering::SeqCst) {
            Outcome::UP
        } else {
            Outcome::Down(Reason::Status(503))
        }
    }
}

/// End to end under the paused clock: scheduler -> events -> pool -> backend, with
/// fall = 2 and a sorry server.
#[tokio::test(start_paused = true)]
async fn scheduler_drives_the_pool_through_quorum_loss_and_recovery() {
    let t0 = Instant::now();
    let schedule = Schedule::builder()
        .interval(Duration::from_secs(1))
        .timeout(Duration::from_millis(100))
        .retries(0)
        .delay_before_retry(Duration::ZERO)
        .warmup(Duration::ZERO)
        .rise(1)
        .fall(2)
        .initial(Health::Up)
        .build()
        .unwrap();
    let healthy = [
        Arc::new(AtomicBool::new(true)),
        Arc::new(AtomicBool::new(true)),
    ];
    let mut sched = Scheduler::new().seed(3);
    for (i, flag) in healthy.iter().enumerate() {
        let n = i as u8 + 1;
        sched
            .add(
                Target::new(format!("rs{n}"), addr(n))
                    .schedule(schedule.clone())
                    .check(Switch(flag.clone())),
            )
            .unwrap();
    }
    let config = PoolConfig::default().quorum(2).sorry_server(dest(100, 1));
    let pool = Pool::new(config, [(dest(1, 1), Health::Up), (dest(2, 1), Health::Up)]).unwrap();
    let mut sink = PoolSink::new(pool, Recording::default());
    sink.startup().await.unwrap();
    let mut run = sched.start().unwrap();
    for _ in 0..2 {
        let ev = run.next_event().await;
        assert!(sink.handle_event(&ev).await.unwrap().is_empty());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    healthy[0].store(false, Ordering::SeqCst);
    // rounds at 1 s and 2 s fail: down at 2 s (fall = 2)
    let ev = run.next_event().await;
    assert_eq!(
        (ev.health, ev.at - t0),
        (Health::Down, Duration::from_secs(2))
    );
    let ops = sink.handle_event(&ev).await.unwrap();
    assert_eq!(ops[0], PoolOp::QuorumDown { live_weight: 1 });
    healthy[0].store(true, Ordering::SeqCst);
    let ev = run.next_event().await;
    assert_eq!(
        (ev.health, ev.at - t0),
        (Health::Up, Duration::from_secs(3))
    );
    let ops = sink.handle_event(&ev).await.unwrap();
    assert_eq!(ops[0], PoolOp::QuorumUp { live_weight: 2 });
    assert_eq!(
        sink.backend().log,
        [
            "sync 127.0.0.1:80=1 127.0.0.2:80=1",
            "add 127.0.0.100:80 w1",
            "remove 127.0.0.1:80",
            "remove 127.0.0.2:80",
            "add 127.0.0.1:80 w1",
            "add 127.0.0.2:80 w1",
            "remove 127.0.0.100:80",
        ]
    );
}

/// A table left by an earlier run (a stray destination, a wrong weight) is replaced by
/// the pool's in one sync at startup.
#[tokio::test]
async fn startup_replaces_a_leftover_table_with_the_pool() {
    let pool = pool(PoolConfig::default(), &[(1, 3), (2, 1)]);
    let backend = Recording {
        table: [(addr(1), 9), (addr(7), 1)].into(),
        ..Recording::default()
    };
    let mut sink = PoolSink::new(pool, backend);
    assert!(!sink.in_sync());
    let ops = sink.startup().await.unwrap();
    assert_eq!(ops, [PoolOp::Add(dest(1, 3)), PoolOp::Add(dest(2, 1))]);
    assert!(sink.in_sync());
    assert_eq!(sink.backend().log, ["sync 127.0.0.1:80=3 127.0.0.2:80=1"]);
    assert_eq!(sink.backend().dests(), sink.pool().desired());
}

/// Under the paused clock: a backend error leaves the sink out of sync; the next event
/// reconciles the whole table, and so does an explicit resync after another error.
#[tokio::test(start_paused = true)]
async fn backend_errors_are_repaired_by_the_next_event_or_a_resync() {
    let schedule = Schedule::builder()
        .interval(Duration::from_secs(1))
        .timeout(Duration::from_millis(100))
        .retries(0)
        .delay_before_retry(Duration::ZERO)
        .warmup(Duration::ZERO)
        .rise(1)
        .fall(1)
        .initial(Health::Up)
        .build()
        .unwrap();
    let healthy: Vec<_> = (0..3).map(|_| Arc::new(AtomicBool::new(true))).collect();
    let mut sched = Scheduler::new().seed(4);
    for (i, flag) in healthy.iter().enumerate() {
        let n = i as u8 + 1;
        sched
            .add(
                Target::new(format!("rs{n}"), addr(n))
                    .schedule(schedule.clone())
                    .check(Switch(flag.clone())),
            )
            .unwrap();
    }
    let config = PoolConfig::default().inhibit_on_failure(true);
    let backend = Recording::default();
    let fail_next = backend.fail_next.clone();
    let mut sink = PoolSink::new(pool(config, &[(1, 1), (2, 1), (3, 1)]), backend);
    sink.startup().await.unwrap();
    let mut run = sched.start().unwrap();
    for _ in 0..3 {
        let ev = run.next_event().await; // the initial events change nothing
        assert!(sink.handle_event(&ev).await.unwrap().is_empty());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    // rs1 fails; the kernel refuses the weight change.
    healthy[0].store(false, Ordering::SeqCst);
    let ev = run.next_event().await;
    assert_eq!((ev.addr, ev.health), (addr(1), Health::Down));
    fail_next.store(true, Ordering::SeqCst);
    assert!(sink.handle_event(&ev).await.is_err());
    assert!(!sink.in_sync());
    assert_eq!(
        sink.backend().table[&addr(1)],
        1,
        "the failed call changed nothing"
    );

    // rs2 fails a second later: the whole table is reconciled, rs1's change included.
    healthy[1].store(false, Ordering::SeqCst);
    let ev = run.next_event().await;
    assert_eq!((ev.addr, ev.health), (addr(2), Health::Down));
    let ops = sink.handle_event(&ev).await.unwrap();
    assert_eq!(ops, [PoolOp::SetWeight(dest(2, 0))]);
    assert!(sink.in_sync());
    assert_eq!(sink.backend().dests(), [dest(1, 0), dest(2, 0), dest(3, 1)]);

    // rs3 fails too; the error is repaired at once by an explicit resync.
    healthy[2].store(false, Ordering::SeqCst);
    let ev = run.next_event().await;
    fail_next.store(true, Ordering::SeqCst);
    assert!(sink.handle_event(&ev).await.is_err());
    sink.resync().await.unwrap();
    assert!(sink.in_sync());
    assert_eq!(sink.backend().dests(), sink.pool().desired());
    assert_eq!(
        sink.backend().log,
        [
            "sync 127.0.0.1:80=1 127.0.0.2:80=1 127.0.0.3:80=1",
            "FAILED weight 127.0.0.1:80 w0",
            "sync 127.0.0.1:80=0 127.0.0.2:80=0 127.0.0.3:80=1",
            "FAILED weight 127.0.0.3:80 w0",
            "sync 127.0.0.1:80=0 127.0.0.2:80=0 127.0.0.3:80=0",
        ]
    );
}

#[tokio::test]
async fn backend_set_tracks_healthy_members_and_notifies_changes() {
    let (mut writer, set) = backend_set();
    let mut watcher = set.clone();
    assert!(writer.handle_event(&event(1, Health::Up, 1)));
    assert!(writer.handle_event(&event(2, Health::Up, 3)));
    assert!(
        !writer.handle_event(&event(2, Health::Up, 3)),
        "no change, no notification"
    );
    let now = watcher.changed().await.unwrap();
    assert_eq!(
        now.iter().map(|b| (b.addr, b.weight)).collect::<Vec<_>>(),
        [(addr(1), 1), (addr(2), 3)]
    );
    // weighted pick: keys 0 -> rs1, 1..=3 -> rs2
    let picks: Vec<_> = (0..4).map(|k| set.pick(k).unwrap().addr).collect();
    assert_eq!(picks, [addr(1), addr(2), addr(2), addr(2)]);
    assert!(writer.handle_event(&event(2, Health::Down, 3)));
    assert_eq!(set.current().len(), 1);
    assert!(writer.handle_event(&event(1, Health::Down, 1)));
    assert_eq!(set.pick(5), None);
    drop(writer);
    assert!(watcher.changed().await.is_some()); // the last change is still delivered
    assert!(watcher.changed().await.is_none());
}

fn changed(n: u8, change: Change, health: Health, weight: u32) -> Event {
    let mut event = event(n, health, weight);
    event.change = change;
    event.reason = None;
    event
}

/// keepalived on reload: a real server gone from the configuration leaves IPVS even with
/// `inhibit_on_failure` (which only keeps *failed* servers at weight 0); quorum follows.
#[test]
fn a_removed_target_leaves_the_pool_even_when_inhibited() {
    let config = PoolConfig::default().inhibit_on_failure(true).quorum(2);
    let mut p = pool(config, &[(1, 1), (2, 1)]);
    p.startup();
    assert_eq!(
        p.handle_event(&event(1, Health::Down, 1)),
        [
            PoolOp::QuorumDown { live_weight: 1 },
            PoolOp::SetWeight(dest(1, 0))
        ]
    );
    // Its last health was down: still a removal, not another "down".
    assert_eq!(
        p.handle_event(&changed(1, Change::Removed, Health::Down, 1)),
        [PoolOp::Remove(addr(1))]
    );
    assert_eq!(p.real(addr(1)), None);
    assert_eq!(
        p.handle_event(&changed(2, Change::Removed, Health::Up, 1)),
        [PoolOp::Remove(addr(2))]
    );
    assert_eq!(p.reals().count(), 0);
    // Removing what is not there changes nothing.
    assert_eq!(
        p.handle_event(&changed(2, Change::Removed, Health::Up, 1)),
        []
    );
}

/// An added target joins in its initial health; quorum is re-evaluated; a replaced one
/// updates in place; new settings apply at once.
#[test]
fn added_targets_join_in_their_initial_health() {
    let config = PoolConfig::default().quorum(2).sorry_server(dest(100, 1));
    let mut p = pool(config.clone(), &[(1, 1)]);
    assert_eq!(
        p.startup(),
        [
            PoolOp::QuorumDown { live_weight: 1 },
            PoolOp::Add(dest(100, 1))
        ]
    );
    // alpha: joins down, nothing changes
    assert_eq!(
        p.handle_event(&changed(2, Change::Added, Health::Down, 1)),
        []
    );
    assert_eq!(p.real(addr(2)), Some((Health::Down, 1)));
    assert_eq!(
        p.handle_event(&changed(3, Change::Added, Health::Up, 4)),
        [
            PoolOp::QuorumUp { live_weight: 5 },
            PoolOp::Add(dest(1, 1)),
            PoolOp::Add(dest(3, 4)),
            PoolOp::Remove(addr(100)),
        ]
    );
    assert_eq!(
        p.handle_event(&changed(3, Change::Replaced, Health::Up, 2)),
        [PoolOp::SetWeight(dest(3, 2))]
    );
    // The sorry server's address cannot join.
    assert_eq!(
        p.handle_event(&changed(100, Change::Added, Health::Up, 1)),
        []
    );
    assert_eq!(
        p.set_real(dest(100, 1), Health::Up)
            .unwrap_err()
            .to_string(),
        "sorry server 127.0.0.100:80 is also a real server"
    );
    // A higher quorum loses it again; a sorry server that is a real server is refused.
    assert_eq!(
        p.reconfigure(config.clone().quorum(4)).unwrap(),
        [
            PoolOp::QuorumDown { live_weight: 3 },
            PoolOp::Add(dest(100, 1)),
            PoolOp::Remove(addr(1)),
            PoolOp::Remove(addr(3)),
        ]
    );
    assert!(p.reconfigure(config.sorry_server(dest(1, 1))).is_err());
    assert_eq!(p.config().quorum, 4, "a refused change changes nothing");
}

/// End to end under the paused clock: the control handle adds and removes targets while
/// another task feeds the events to a backend set and a pool (quorum 2, sorry server).
#[tokio::test(start_paused = true)]
async fn backend_set_and_pool_follow_targets_added_and_removed_while_running() {
    let schedule = Schedule::builder()
        .interval(Duration::from_secs(1))
        .timeout(Duration::from_millis(100))
        .warmup(Duration::ZERO)
        .rise(1)
        .fall(1)
        .initial(Health::Up)
        .build()
        .unwrap();
    let up = Arc::new(AtomicBool::new(true));
    let real = |n: u8| {
        Target::new(format!("rs{n}"), addr(n))
            .schedule(schedule.clone())
            .check(Switch(up.clone()))
    };
    let mut sched = Scheduler::new().seed(5);
    sched.add(real(1)).unwrap();
    let rs2 = sched.add(real(2)).unwrap();
    let (control, mut events) = sched.start().unwrap().into_parts();
    let config = PoolConfig::default().quorum(2).sorry_server(dest(100, 1));
    let pool = Pool::new(config, [(dest(1, 1), Health::Up), (dest(2, 1), Health::Up)]).unwrap();
    let mut sink = PoolSink::new(pool, Recording::default());
    sink.startup().await.unwrap();
    let (mut writer, backends) = backend_set();
    let (ops_tx, mut ops_rx) = tokio::sync::mpsc::unbounded_channel();
    let feeder = tokio::spawn(async move {
        // the two initial events, the removal and the addition
        for _ in 0..4 {
            let event = events.next_event().await;
            writer.handle_event(&event);
            let ops = sink.handle_event(&event).await.unwrap();
            ops_tx.send((event.change, ops)).unwrap();
        }
        sink
    });
    for _ in 0..2 {
        let (change, ops) = ops_rx.recv().await.unwrap();
        assert_eq!((change, ops), (Change::Added, vec![]));
    }
    let mut watch = backends.clone();
    control.remove(rs2).unwrap();
    assert_eq!(
        ops_rx.recv().await.unwrap(),
        (
            Change::Removed,
            vec![
                PoolOp::QuorumDown { live_weight: 1 },
                PoolOp::Add(dest(100, 1)),
                PoolOp::Remove(addr(1)),
                PoolOp::Remove(addr(2)),
            ]
        )
    );
    let now = watch.changed().await.unwrap();
    assert_eq!(now.iter().map(|b| b.addr).collect::<Vec<_>>(), [addr(1)]);
    control.add(real(3).weight(2)).unwrap();
    assert_eq!(
        ops_rx.recv().await.unwrap(),
        (
            Change::Added,
            vec![
                PoolOp::QuorumUp { live_weight: 3 },
                PoolOp::Add(dest(1, 1)),
                PoolOp::Add(dest(3, 2)),
                PoolOp::Remove(addr(100)),
            ]
        )
    );
    let now = watch.changed().await.unwrap();
    assert_eq!(
        now.iter().map(|b| (b.addr, b.weight)).collect::<Vec<_>>(),
        [(addr(1), 1), (addr(3), 2)]
    );
    let sink = feeder.await.unwrap();
    assert_eq!(sink.backend().dests(), [dest(1, 1), dest(3, 2)]);
}

/// A reload through `pool_mut`: the pool changes at once, the backend at the resync, in
/// one sync to the new table.
#[tokio::test]
async fn pool_changes_through_the_sink_reach_the_backend_at_the_resync() {
    let mut sink = PoolSink::new(
        pool(PoolConfig::default(), &[(1, 1), (2, 1)]),
        Recording::default(),
    );
    sink.startup().await.unwrap();
    assert!(sink.pool_mut().remove_real(addr(1)) == [PoolOp::Remove(addr(1))]);
    let ops = sink.pool_mut().set_real(dest(2, 5), Health::Up).unwrap();
    assert_eq!(ops, [PoolOp::SetWeight(dest(2, 5))]);
    assert!(!sink.in_sync());
    sink.resync().await.unwrap();
    assert!(sink.in_sync());
    assert_eq!(
        sink.backend().log,
        ["sync 127.0.0.1:80=1 127.0.0.2:80=1", "sync 127.0.0.2:80=5"]
    );
}

#[tokio::test]
async fn backend_set_drops_removed_targets_whatever_their_health() {
    let (mut writer, set) = backend_set();
    assert!(writer.handle_event(&changed(1, Change::Added, Health::Up, 1)));
    assert!(!writer.handle_event(&changed(2, Change::Added, Health::Down, 1)));
    assert!(writer.handle_event(&changed(1, Change::Removed, Health::Up, 1)));
    assert!(set.current().is_empty());
    assert!(!writer.handle_event(&changed(2, Change::Removed, Health::Down, 1)));
}

/// The VRRP trackers (feature `vrrp`).
#[cfg(feature = "vrrp")]
mod vrrp_tracking {
    use super::*;
    use healthcheck::sink::{QuorumTrack, TrackState, VrrpTrack};

    #[test]
    fn vrrp_track_reports_state_changes_of_tracked_targets_only() {
        let mut track = VrrpTrack::new().track("rs1", "chk_web");
        assert_eq!(
            track.handle_event(&event(1, Health::Up, 1)),
            Some(("chk_web".into(), TrackState::Up))
        );
        assert_eq!(
            track.handle_event(&event(1, Health::Up, 5)),
            None,
            "weight-only change"
        );
        assert_eq!(
            track.handle_event(&event(2, Health::Down, 1)),
            None,
            "untracked target"
        );
        assert_eq!(
            track.handle_event(&event(1, Health::Down, 1)),
            Some(("chk_web".into(), TrackState::Down))
        );
        assert_eq!(
            track.handle_event(&changed(1, Change::Removed, Health::Up, 1)),
            None,
            "a removal is not a verdict"
        );
    }

    #[test]
    fn quorum_track_reports_quorum_changes_once() {
        let mut track = QuorumTrack::new("quorum_web");
        assert_eq!(track.object(), "quorum_web");
        assert_eq!(track.handle_op(&PoolOp::Add(dest(1, 1))), None);
        assert_eq!(
            track.handle_op(&PoolOp::QuorumUp { live_weight: 2 }),
            None,
            "starts up"
        );
        assert_eq!(
            track.handle_op(&PoolOp::QuorumDown { live_weight: 0 }),
            Some(("quorum_web".into(), TrackState::Down))
        );
        assert_eq!(
            track.handle_op(&PoolOp::QuorumDown { live_weight: 0 }),
            None
        );
        assert_eq!(
            track.handle_op(&PoolOp::QuorumUp { live_weight: 1 }),
            Some(("quorum_web".into(), TrackState::Up))
        );
    }

    /// A backend error swallows the operations of the call, not the quorum change: the
    /// pool-state path still reports it.
    #[tokio::test]
    async fn quorum_loss_is_reported_even_when_the_backend_fails() {
        let config = PoolConfig::default().quorum(2);
        let backend = Recording::default();
        let fail_next = backend.fail_next.clone();
        let mut sink = PoolSink::new(pool(config, &[(1, 1), (2, 1)]), backend);
        let mut track = QuorumTrack::new("quorum_web");
        sink.startup().await.unwrap();
        assert_eq!(track.handle_pool(sink.pool()), None);
        fail_next.store(true, Ordering::SeqCst);
        assert!(sink.handle_event(&event(1, Health::Down, 1)).await.is_err());
        assert_eq!(
            track.handle_pool(sink.pool()),
            Some(("quorum_web".into(), TrackState::Down))
        );
        assert_eq!(track.handle_pool(sink.pool()), None);
        let ops = sink.handle_event(&event(1, Health::Up, 1)).await.unwrap();
        assert_eq!(ops[0], PoolOp::QuorumUp { live_weight: 2 });
        assert_eq!(
            track.handle_pool(sink.pool()),
            Some(("quorum_web".into(), TrackState::Up))
        );
    }
}
