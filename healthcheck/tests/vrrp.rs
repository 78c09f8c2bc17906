//! The VRRP sink driving a real vrrp-core router's tracked object.
#![allow(clippy::unwrap_used)]

use async_trait::async_trait;
use healthcheck::sink::{Dest, Pool, PoolConfig, QuorumTrack, VrrpTrack};
use healthcheck::{Check, Health, Outcome, Reason, Schedule, Scheduler, Target, test_util};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::time::Instant;
use vrrp_core::{
    Input, Priority, RouterConfig, TrackState, TrackedObject, VirtualAddress, VirtualRouter,
};

#[derive(Debug)]
struct Switch(Arc<AtomicBool>);

#[async_trait]
impl Check for Switch {
    async fn check(&self, _deadline: Instant) -> Outcome {
        if self.0.load(Ordering::SeqCst) {
            Outcome::UP
        } else {
            Outcome::Down(Reason::Refused)
        }
    }
}

fn router(weight: i32) -> VirtualRouter {
    let config = RouterConfig::builder("vi_1", 51, "192.0.2.1".parse().unwrap())
        .priority(100)
        .virtual_address(VirtualAddress::host("192.0.2.100".parse().unwrap()))
        .track(TrackedObject::new("chk_web", weight))
        .build()
        .unwrap();
    VirtualRouter::new(config).unwrap()
}

/// Scheduler (rise 2, fall 3) -> VrrpTrack -> router: the priority follows the service.
#[tokio::test(start_paused = true)]
async fn router_priority_follows_the_checked_service() {
    let healthy = Arc::new(AtomicBool::new(true));
    let schedule = Schedule::builder()
        .interval(Duration::from_secs(1))
        .timeout(Duration::from_millis(100))
        .retries(0)
        .delay_before_retry(Duration::ZERO)
        .warmup(Duration::ZERO)
        .rise(2)
        .fall(3)
        .initial(Health::Up)
        .build()
        .unwrap();
    let mut sched = Scheduler::new().seed(5);
    sched
        .add(
            Target::new("web", "127.0.0.1:80".parse().unwrap())
                .schedule(schedule)
                .check(Switch(healthy.clone())),
        )
        .unwrap();
    let mut run = sched.start().unwrap();
    let mut track = VrrpTrack::new().track("web", "chk_web");
    let mut vr = router(-20);
    let t0 = Instant::now();
    let mut feed = |ev: &healthcheck::Event, vr: &mut VirtualRouter| {
        if let Some((name, state)) = track.handle_event(ev) {
            vr.handle(
                std::time::Instant::now(),
                Input::Track { name: &name, state },
            );
        }
    };
    let ev = run.next_event().await;
    feed(&ev, &mut vr);
    assert_eq!(vr.priority(), Priority(100));
    tokio::time::sleep(Duration::from_millis(500)).await; // the round at 0 s passes
    healthy.store(false, Ordering::SeqCst);
    let ev = run.next_event().await;
    // failures at 1, 2, 3 s: down after the third (fall = 3)
    assert_eq!(
        (ev.health, ev.at - t0),
        (Health::Down, Duration::from_secs(3))
    );
    feed(&ev, &mut vr);
    assert_eq!(vr.priority(), Priority(80));
    assert_eq!(vr.track_state("chk_web"), Some(TrackState::Down));
    healthy.store(true, Ordering::SeqCst);
    // passes at 4 and 5 s: up after the second (rise = 2)
    let ev = run.next_event().await;
    assert_eq!(
        (ev.health, ev.at - t0),
        (Health::Up, Duration::from_secs(5))
    );
    feed(&ev, &mut vr);
    assert_eq!(vr.priority(), Priority(100));
}

#[test]
fn weight_zero_object_puts_the_router_in_fault_while_down() {
    let mut vr = router(0);
    let mut track = VrrpTrack::new().track("web", "chk_web");
    let mut ev = test_util::event(
        healthcheck::TargetId(0),
        "web",
        "127.0.0.1:80".parse().unwrap(),
        Health::Down,
        1,
    );
    ev.seq = 1;
    ev.reason = Some(Reason::Refused);
    let (name, state) = track.handle_event(&ev).unwrap();
    vr.handle(std::time::Instant::now(), Input::Startup);
    vr.handle(
        std::time::Instant::now(),
        Input::Track { name: &name, state },
    );
    assert_eq!(vr.state(), vrrp_core::State::Fault);
}

/// Scheduler (fall 2) -> Pool (quorum 2 of three weight-1 servers) -> QuorumTrack ->
/// router: the priority drops by the object's weight while quorum is lost, and comes back
/// with it; the pool-state path agrees with the operation path at every step.
#[tokio::test(start_paused = true)]
async fn router_priority_drops_while_the_pool_has_no_quorum() {
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
    let healthy: Vec<_> = (0..3).map(|_| Arc::new(AtomicBool::new(true))).collect();
    let addr = |n: usize| std::net::SocketAddr::from(([127, 0, 0, n as u8 + 1], 80));
    let mut sched = Scheduler::new().seed(6);
    for (n, flag) in healthy.iter().enumerate() {
        sched
            .add(
                Target::new(format!("rs{n}"), addr(n))
                    .schedule(schedule.clone())
                    .check(Switch(flag.clone())),
            )
            .unwrap();
    }
    let config = PoolConfig::default().quorum(2);
    let reals = (0..3).map(|n| {
        (
            Dest {
                addr: addr(n),
                weight: 1,
            },
            Health::Up,
        )
    });
    let mut pool = Pool::new(config, reals).unwrap();
    let config = RouterConfig::builder("vi_1", 51, "192.0.2.1".parse().unwrap())
        .priority(150)
        .virtual_address(VirtualAddress::host("192.0.2.100".parse().unwrap()))
        .track(TrackedObject::new("quorum", -60))
        .build()
        .unwrap();
    let mut vr = VirtualRouter::new(config).unwrap();
    let (mut by_op, mut by_pool) = (QuorumTrack::new("quorum"), QuorumTrack::new("quorum"));
    let mut updates = Vec::new();
    let mut feed = |ops: Vec<healthcheck::sink::PoolOp>, pool: &Pool, vr: &mut VirtualRouter| {
        let from_ops: Vec<_> = ops.iter().filter_map(|op| by_op.handle_op(op)).collect();
        let from_pool: Vec<_> = by_pool.handle_pool(pool).into_iter().collect();
        assert_eq!(from_ops, from_pool);
        for (name, state) in from_ops {
            vr.handle(
                std::time::Instant::now(),
                Input::Track { name: &name, state },
            );
            updates.push(state);
        }
    };
    let ops = pool.startup();
    feed(ops, &pool, &mut vr);
    let mut run = sched.start().unwrap();
    for _ in 0..3 {
        let ev = run.next_event().await;
        let ops = pool.handle_event(&ev);
        feed(ops, &pool, &mut vr);
    }
    assert_eq!(vr.priority(), Priority(150));
    tokio::time::sleep(Duration::from_millis(500)).await;

    // One server down: live weight 2, still quorum.
    healthy[0].store(false, Ordering::SeqCst);
    let ev = run.next_event().await;
    let ops = pool.handle_event(&ev);
    feed(ops, &pool, &mut vr);
    assert_eq!(vr.priority(), Priority(150));
    // A second one: quorum lost, priority 150 - 60.
    healthy[1].store(false, Ordering::SeqCst);
    let ev = run.next_event().await;
    let ops = pool.handle_event(&ev);
    feed(ops, &pool, &mut vr);
    assert_eq!(vr.priority(), Priority(90));
    assert_eq!(vr.track_state("quorum"), Some(TrackState::Down));
    // Back: quorum regained at live weight 2.
    healthy[1].store(true, Ordering::SeqCst);
    let ev = run.next_event().await;
    let ops = pool.handle_event(&ev);
    feed(ops, &pool, &mut vr);
    assert_eq!(vr.priority(), Priority(150));
    assert_eq!(updates, [TrackState::Down, TrackState::Up]);
}
