//! The VRRP sink driving a real vrrp-core router's tracked object.
#![allow(clippy::unwrap_used)]

use async_trait::async_trait;
use healthcheck::sink::VrrpTrack;
use healthcheck::{Check, Health, Outcome, Reason, Schedule, Scheduler, Target};
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
    let schedule = Schedule {
        interval: Duration::from_secs(1),
        timeout: Duration::from_millis(100),
        retries: 0,
        delay_before_retry: Duration::ZERO,
        warmup: Duration::ZERO,
        rise: 2,
        fall: 3,
        initial: Health::Up,
    };
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
    let ev = healthcheck::Event {
        seq: 1,
        at: Instant::now(),
        target: healthcheck::TargetId(0),
        name: Arc::from("web"),
        addr: "127.0.0.1:80".parse().unwrap(),
        health: Health::Down,
        weight: 1,
        reason: Some(Reason::Refused),
    };
    let (name, state) = track.handle_event(&ev).unwrap();
    vr.handle(std::time::Instant::now(), Input::Startup);
    vr.handle(
        std::time::Instant::now(),
        Input::Track { name: &name, state },
    );
    assert_eq!(vr.state(), vrrp_core::State::Fault);
}
