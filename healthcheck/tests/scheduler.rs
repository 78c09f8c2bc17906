//! Timing logic of the scheduler under tokio's paused clock.
#![allow(clippy::unwrap_used)]

use async_trait::async_trait;
use healthcheck::{
    Change, Check, ControlError, Event, Health, Outcome, Reason, Replaced, Running, Schedule,
    Scheduler, Target, TargetId,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// Replays a script of verdicts (the last one repeats), each after `delay`,
/// recording when every attempt started.
#[derive(Debug)]
struct Scripted {
    script: Vec<Outcome>,
    delay: Duration,
    calls: Arc<Mutex<Vec<Instant>>>,
    in_flight: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

impl Scripted {
    fn new(script: Vec<Outcome>) -> Self {
        Scripted {
            script,
            delay: Duration::ZERO,
            calls: Arc::default(),
            in_flight: Arc::default(),
            peak: Arc::default(),
        }
    }
}

#[async_trait]
impl Check for Scripted {
    async fn check(&self, _deadline: Instant) -> Outcome {
        let n = {
            let mut calls = self.calls.lock().unwrap();
            calls.push(Instant::now());
            calls.len() - 1
        };
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.script[n.min(self.script.len() - 1)].clone()
    }
}

fn down(reason: Reason) -> Outcome {
    Outcome::Down(reason)
}

fn schedule(rise: u32, fall: u32, initial: Health) -> Schedule {
    Schedule::builder()
        .interval(Duration::from_secs(1))
        .timeout(Duration::from_millis(500))
        .retries(0)
        .delay_before_retry(Duration::from_millis(100))
        .warmup(Duration::ZERO)
        .rise(rise)
        .fall(fall)
        .initial(initial)
        .build()
        .unwrap()
}

fn start(targets: Vec<Target>) -> Running {
    let mut s = Scheduler::new().seed(7);
    for t in targets {
        s.add(t).unwrap();
    }
    s.start().unwrap()
}

fn target(name: &str, schedule: Schedule, check: Scripted) -> Target {
    Target::new(name, "127.0.0.1:80".parse().unwrap())
        .schedule(schedule)
        .check(check)
}

#[tokio::test(start_paused = true)]
async fn rise_and_fall_need_consecutive_rounds() {
    let t0 = Instant::now();
    let up = Outcome::UP;
    let script = vec![
        up.clone(),
        down(Reason::Refused),
        up.clone(),
        down(Reason::Refused),
        down(Reason::Status(503)),
        up.clone(),
        up.clone(),
    ];
    let mut run = start(vec![target(
        "a",
        schedule(2, 2, Health::Up),
        Scripted::new(script),
    )]);
    let first = run.next_event().await;
    assert_eq!(
        (first.health, first.reason),
        (Health::Up, Some(Reason::Initial))
    );
    // rounds at 0,1,2,3,4,5,6 s: the second consecutive failure (round 4) goes down
    let ev = run.next_event().await;
    assert_eq!(
        (ev.health, ev.reason.clone()),
        (Health::Down, Some(Reason::Status(503)))
    );
    assert_eq!(ev.at - t0, Duration::from_secs(4));
    let ev = run.next_event().await;
    assert_eq!((ev.health, ev.reason.clone()), (Health::Up, None));
    assert_eq!(ev.at - t0, Duration::from_secs(6));
    assert_eq!(ev.seq, 2);
}

#[tokio::test(start_paused = true)]
async fn alpha_starts_down_and_rises_after_rise_passes() {
    let t0 = Instant::now();
    let mut run = start(vec![target(
        "a",
        schedule(3, 1, Health::Down),
        Scripted::new(vec![Outcome::UP]),
    )]);
    assert_eq!(run.next_event().await.health, Health::Down);
    let ev = run.next_event().await;
    assert_eq!(ev.health, Health::Up);
    assert_eq!(ev.at - t0, Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn retries_hide_transient_failures_and_are_spaced_by_delay() {
    let t0 = Instant::now();
    let check = Scripted::new(vec![
        down(Reason::Refused),
        down(Reason::Refused),
        Outcome::UP,
        down(Reason::Timeout),
        down(Reason::Timeout),
        down(Reason::Closed),
    ]);
    let calls = check.calls.clone();
    let s = schedule(1, 1, Health::Up)
        .into_builder()
        .retries(2)
        .build()
        .unwrap();
    let mut run = start(vec![target("a", s, check)]);
    run.next_event().await;
    let ev = run.next_event().await;
    // round 1 (t=0) passes on its third attempt; round 2 (t=1 s) fails all three
    assert_eq!(
        (ev.health, ev.reason.clone()),
        (Health::Down, Some(Reason::Closed))
    );
    assert_eq!(ev.at - t0, Duration::from_millis(1200));
    let starts: Vec<_> = calls.lock().unwrap()[..6]
        .iter()
        .map(|t| (*t - t0).as_millis())
        .collect();
    assert_eq!(starts, vec![0, 100, 200, 1000, 1100, 1200]);
}

#[tokio::test(start_paused = true)]
async fn a_probe_past_its_timeout_is_cancelled_as_timeout() {
    let t0 = Instant::now();
    let mut check = Scripted::new(vec![Outcome::UP]);
    check.delay = Duration::from_secs(30);
    let mut run = start(vec![target("a", schedule(1, 1, Health::Up), check)]);
    run.next_event().await;
    let ev = run.next_event().await;
    assert_eq!(
        (ev.health, ev.reason.clone()),
        (Health::Down, Some(Reason::Timeout))
    );
    assert_eq!(ev.at - t0, Duration::from_millis(500));
}

#[tokio::test(start_paused = true)]
async fn warmup_spreads_first_probes_within_bounds() {
    let t0 = Instant::now();
    let warmup = Duration::from_secs(1);
    let mut targets = Vec::new();
    let mut logs = Vec::new();
    for i in 0..200 {
        let check = Scripted::new(vec![Outcome::UP]);
        logs.push(check.calls.clone());
        let s = schedule(1, 1, Health::Up)
            .into_builder()
            .warmup(warmup)
            .build()
            .unwrap();
        targets.push(target(&format!("t{i}"), s, check));
    }
    let _run = start(targets);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mut buckets = [0usize; 10];
    for log in &logs {
        let calls = log.lock().unwrap();
        let first = calls[0] - t0;
        assert!(first < warmup, "first probe at {first:?}");
        // the phase is kept: later probes are exactly one interval apart
        assert_eq!(calls[1] - calls[0], Duration::from_secs(1));
        buckets[(first.as_millis() / 100) as usize] += 1;
    }
    // 200 phases over 10 buckets of 100 ms: no bucket empty, none holding a burst
    assert!(
        buckets.iter().all(|&n| (5..=45).contains(&n)),
        "{buckets:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn concurrency_is_bounded_by_max_in_flight() {
    let mut sched = Scheduler::new().seed(1).max_in_flight(3);
    let mut check = Scripted::new(vec![Outcome::UP]);
    check.delay = Duration::from_millis(100);
    let peak = check.peak.clone();
    let in_flight = check.in_flight.clone();
    let calls = check.calls.clone();
    let check = Arc::new(check);
    for i in 0..20 {
        let mut t = Target::new(format!("t{i}"), "127.0.0.1:80".parse().unwrap())
            .schedule(schedule(1, 1, Health::Up));
        t.checks.push(check.clone());
        sched.add(t).unwrap();
    }
    let _run = sched.start().unwrap();
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(peak.load(Ordering::SeqCst), 3);
    assert_eq!(calls.lock().unwrap().len(), 20);
    assert_eq!(in_flight.load(Ordering::SeqCst), 0);
}

#[tokio::test(start_paused = true)]
async fn an_overrun_skips_missed_slots_instead_of_bursting() {
    let t0 = Instant::now();
    let mut check = Scripted::new(vec![Outcome::UP]);
    check.delay = Duration::from_millis(2500);
    let calls = check.calls.clone();
    let s = schedule(1, 1, Health::Up)
        .into_builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let _run = start(vec![target("a", s, check)]);
    tokio::time::sleep(Duration::from_millis(6100)).await;
    let starts: Vec<_> = calls
        .lock()
        .unwrap()
        .iter()
        .map(|t| (*t - t0).as_millis())
        .collect();
    assert_eq!(starts, vec![0, 3000, 6000]);
}

#[test]
fn invalid_targets_are_rejected_with_the_field_named() {
    let mut s = Scheduler::new();
    let t = Target::new("empty", "127.0.0.1:80".parse().unwrap());
    assert_eq!(
        s.add(t).unwrap_err().to_string(),
        "target \"empty\" has no checks"
    );
    // The builder refuses this schedule; the scheduler checks again, since the fields are
    // public.
    let mut zero_interval = Schedule::default();
    zero_interval.interval = Duration::ZERO;
    let bad = Target::new("x", "127.0.0.1:80".parse().unwrap())
        .schedule(zero_interval)
        .check(Scripted::new(vec![Outcome::UP]));
    assert_eq!(
        s.add(bad).unwrap_err().to_string(),
        "interval 0ns must be longer than zero"
    );
    let ok = || target("dup", Schedule::default(), Scripted::new(vec![Outcome::UP]));
    s.add(ok()).unwrap();
    assert_eq!(
        s.add(ok()).unwrap_err().to_string(),
        "target name \"dup\" is used twice"
    );
}

#[tokio::test(start_paused = true)]
async fn targets_can_be_added_and_removed_while_running() {
    let mut run = start(vec![target(
        "a",
        schedule(1, 1, Health::Up),
        Scripted::new(vec![Outcome::UP]),
    )]);
    assert_eq!(run.next_event().await.reason, Some(Reason::Initial));
    let b = Scripted::new(vec![down(Reason::Refused)]);
    let b_calls = b.calls.clone();
    let id = run.add(target("b", schedule(1, 1, Health::Up), b)).unwrap();
    assert_eq!(run.id("b"), Some(id));
    let ev = run.next_event().await;
    assert_eq!(
        (ev.target, ev.change, ev.reason),
        (id, Change::Added, Some(Reason::Initial))
    );
    let ev = run.next_event().await;
    assert_eq!((ev.target, ev.health), (id, Health::Down));
    assert!(run.remove(id));
    let ev = run.next_event().await;
    assert_eq!(
        (ev.target, ev.change, ev.reason),
        (id, Change::Removed, Some(Reason::Removed))
    );
    assert!(!run.remove(id), "already removed");
    assert_eq!(run.id("b"), None);
    assert_eq!(run.state(id), None);
    let calls_at_removal = b_calls.lock().unwrap().len();
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        b_calls.lock().unwrap().len(),
        calls_at_removal,
        "probes stopped"
    );
    // the name is free again, with a new id
    let again = run
        .add(target(
            "b",
            schedule(1, 1, Health::Up),
            Scripted::new(vec![Outcome::UP]),
        ))
        .unwrap();
    assert!(again > id);
    assert_eq!(
        run.add(target(
            "a",
            Schedule::default(),
            Scripted::new(vec![Outcome::UP])
        ))
        .unwrap_err()
        .to_string(),
        "target name \"a\" is used twice"
    );
}

#[tokio::test(start_paused = true)]
async fn recheck_probes_at_once_and_keeps_the_phase() {
    let t0 = Instant::now();
    let check = Scripted::new(vec![Outcome::UP]);
    let calls = check.calls.clone();
    let mut run = start(vec![target("a", schedule(1, 1, Health::Up), check)]);
    run.next_event().await;
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert!(run.recheck(TargetId(0)));
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let starts: Vec<_> = calls
        .lock()
        .unwrap()
        .iter()
        .map(|t| (*t - t0).as_millis())
        .collect();
    assert_eq!(starts, vec![0, 1000, 1300, 2000]);
}

/// `(change, name, health, weight)` of an event, for comparing sequences.
fn summary(e: &Event) -> (Change, String, Health, u32) {
    (e.change, e.name.to_string(), e.health, e.weight)
}

/// Another task reads the events into a channel while the test changes the targets through
/// the control handle: adds and replaces are answered at once, removal is its own event
/// (an up target is not reported down), and the sequence numbers stay in order.
#[tokio::test(start_paused = true)]
async fn control_changes_targets_while_events_are_read_elsewhere() {
    let run = start(vec![target(
        "a",
        schedule(1, 1, Health::Up),
        Scripted::new(vec![Outcome::UP]),
    )]);
    let (control, mut events) = run.into_parts();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let reader = tokio::spawn(async move {
        loop {
            let event = events.next_event().await;
            if tx.send(event).is_err() {
                return;
            }
        }
    });
    let first = rx.recv().await.unwrap();
    assert_eq!(summary(&first), (Change::Added, "a".into(), Health::Up, 1));

    let a = control.id("a").unwrap();
    control.remove(a).unwrap();
    assert_eq!(control.id("a"), None);
    let other = control.clone();
    let b = tokio::spawn(async move {
        let b = target(
            "b",
            schedule(1, 1, Health::Down),
            Scripted::new(vec![Outcome::UP]),
        );
        other.add(b.weight(3))
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(control.id("b"), Some(b));

    let mut seen = Vec::new();
    let mut last_seq = first.seq;
    while seen.len() < 3 {
        let e = rx.recv().await.unwrap();
        assert!(e.seq > last_seq, "events in order");
        last_seq = e.seq;
        seen.push(summary(&e));
    }
    assert_eq!(
        seen,
        [
            (Change::Removed, "a".into(), Health::Up, 1),
            (Change::Added, "b".into(), Health::Down, 3),
            (Change::Health, "b".into(), Health::Up, 3),
        ]
    );
    assert_eq!(control.state(a), None);
    assert_eq!(control.state(b), Some((Health::Up, 3)));

    // Errors name what is wrong and change nothing.
    assert!(matches!(control.remove(a), Err(ControlError::UnknownTarget(id)) if id == a));
    let dup = target("b", Schedule::default(), Scripted::new(vec![Outcome::UP]));
    assert_eq!(
        control.add(dup).unwrap_err().to_string(),
        "target name \"b\" is used twice"
    );
    let ghost = target(
        "ghost",
        Schedule::default(),
        Scripted::new(vec![Outcome::UP]),
    );
    assert_eq!(
        control.replace(ghost).unwrap_err().to_string(),
        "no live target named \"ghost\""
    );
    let empty = Target::new("c", "127.0.0.1:80".parse().unwrap());
    assert_eq!(
        control.add(empty).unwrap_err().to_string(),
        "target \"c\": target \"c\" has no checks"
    );

    // Dropping the event stream stops everything; the handle says so.
    reader.abort();
    let _ = reader.await;
    assert!(matches!(control.recheck(b), Err(ControlError::Stopped)));
}

/// A target failing every probe, with fall = 3.
fn failing(name: &str, interval_secs: u64, weight: u32) -> Target {
    let s = schedule(1, 3, Health::Up)
        .into_builder()
        .interval(Duration::from_secs(interval_secs))
        .build()
        .unwrap();
    target(name, s, Scripted::new(vec![down(Reason::Refused)])).weight(weight)
}

/// A replace with the same checks keeps the health and the fall streak: two failures
/// before it and one after make three. Only the timing (and the weight) changed.
#[tokio::test(start_paused = true)]
async fn an_unchanged_replace_keeps_health_and_counters() {
    let t0 = Instant::now();
    let old = failing("a", 1, 1);
    let run = start(vec![old.clone()]);
    let (control, mut events) = run.into_parts();
    assert_eq!(events.next_event().await.change, Change::Added);
    // failures at 0 s and 1 s: two of three
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut new = failing("a", 10, 5);
    new.checks = old.checks.clone();
    let (id, how) = control.replace(new.clone()).unwrap();
    assert_eq!((id, how), (TargetId(0), Replaced::Kept));
    let ev = events.next_event().await;
    assert_eq!(summary(&ev), (Change::Replaced, "a".into(), Health::Up, 5));
    assert_eq!(ev.reason, None);
    // The new schedule probes at once (warmup 0): the third failure in a row.
    let ev = events.next_event().await;
    assert_eq!(
        (ev.change, ev.health, ev.at - t0),
        (Change::Health, Health::Down, Duration::from_millis(1500))
    );
    assert_eq!(control.replace(new).unwrap().1, Replaced::Unchanged);
}

/// New checks start over at the new schedule's initial health: three more failures are
/// needed, at the new interval.
#[tokio::test(start_paused = true)]
async fn a_replace_with_new_checks_starts_over() {
    let t0 = Instant::now();
    let run = start(vec![failing("a", 1, 1)]);
    let (control, mut events) = run.into_parts();
    events.next_event().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, how) = control.replace(failing("a", 2, 1)).unwrap();
    assert_eq!(how, Replaced::Restarted);
    let ev = events.next_event().await;
    assert_eq!(
        (ev.change, ev.health, ev.reason),
        (Change::Replaced, Health::Up, Some(Reason::Initial))
    );
    // failures at 1.5, 3.5 and 5.5 s
    let ev = events.next_event().await;
    assert_eq!(
        (ev.change, ev.health, ev.at - t0),
        (Change::Health, Health::Down, Duration::from_millis(5500))
    );
}

/// A new address is a removal at the old one and an addition at the new one, under the
/// same name and id.
#[tokio::test(start_paused = true)]
async fn a_replace_with_a_new_address_moves_the_target() {
    let a = target(
        "a",
        schedule(1, 1, Health::Up),
        Scripted::new(vec![Outcome::UP]),
    );
    let mut run = start(vec![a.clone()]);
    run.next_event().await;
    let mut moved = a.clone();
    moved.addr = "127.0.0.2:80".parse().unwrap();
    let (id, how) = run.control().replace(moved).unwrap();
    assert_eq!(how, Replaced::Restarted);
    let gone = run.next_event().await;
    let back = run.next_event().await;
    assert_eq!(
        (gone.change, gone.target, gone.addr),
        (Change::Removed, id, a.addr)
    );
    assert_eq!(
        (back.change, back.target, back.addr),
        (Change::Added, id, "127.0.0.2:80".parse().unwrap())
    );
}

/// The start times of a check's attempts, in milliseconds since `t0`.
fn starts(calls: &Mutex<Vec<Instant>>, t0: Instant) -> Vec<u128> {
    calls
        .lock()
        .unwrap()
        .iter()
        .map(|t| (*t - t0).as_millis())
        .collect()
}

/// A suspended target is not probed (not by a recheck, not after a replace) and keeps its
/// health and fall streak: two failures before the suspension and one after the resume
/// make three. The resumed probes run the schedule given while suspended.
#[tokio::test(start_paused = true)]
async fn a_suspended_target_keeps_its_streak_and_is_not_probed() {
    let t0 = Instant::now();
    let check = Scripted::new(vec![down(Reason::Refused)]);
    let calls = check.calls.clone();
    let a_target = target("a", schedule(1, 3, Health::Up), check);
    let run = start(vec![a_target.clone()]);
    let (control, mut events) = run.into_parts();
    assert_eq!(events.next_event().await.change, Change::Added);
    // failures at 0 s and 1 s, read by the stream: two of three
    let no_event = tokio::time::timeout(Duration::from_millis(1500), events.next_event()).await;
    assert!(no_event.is_err(), "{no_event:?}");
    let a = TargetId(0);
    assert_eq!(control.is_suspended(a), Some(false));
    assert!(control.suspend(a).unwrap());
    assert!(!control.suspend(a).unwrap(), "already suspended");
    assert_eq!(control.is_suspended(a), Some(true));
    control.recheck(a).unwrap();
    let mut retimed = a_target.clone();
    retimed.schedule = retimed
        .schedule
        .into_builder()
        .interval(Duration::from_secs(2))
        .build()
        .unwrap();
    assert_eq!(control.replace(retimed).unwrap().1, Replaced::Kept);
    assert_eq!(events.next_event().await.change, Change::Replaced);
    assert_eq!(control.is_suspended(a), Some(true));
    let no_event = tokio::time::timeout(Duration::from_secs(5), events.next_event()).await;
    assert!(no_event.is_err(), "no event while suspended: {no_event:?}");
    assert_eq!(starts(&calls, t0), vec![0, 1000]);
    assert_eq!(control.state(a), Some((Health::Up, 1)));
    // resumed at 6.5 s: warmup 0 probes at once, the third failure in a row
    assert!(control.resume(a).unwrap());
    assert!(!control.resume(a).unwrap(), "already probing");
    let ev = events.next_event().await;
    assert_eq!(
        (ev.change, ev.health, ev.at - t0),
        (Change::Health, Health::Down, Duration::from_millis(6500))
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(starts(&calls, t0), vec![0, 1000, 6500, 8500]);
    assert!(matches!(
        control.suspend(TargetId(9)),
        Err(ControlError::UnknownTarget(_))
    ));
    assert_eq!(control.is_suspended(TargetId(9)), None);
}

/// A verdict already sent when its target is suspended is dropped: the event stream had
/// not read it yet, and it never becomes an event.
#[tokio::test(start_paused = true)]
async fn a_verdict_sent_before_the_suspension_is_dropped() {
    let t0 = Instant::now();
    let run = start(vec![target(
        "a",
        schedule(1, 1, Health::Up),
        Scripted::new(vec![down(Reason::Refused)]),
    )]);
    let (control, mut events) = run.into_parts();
    assert_eq!(events.next_event().await.change, Change::Added);
    // The probe at 0 s has sent its verdict; nobody read it.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(control.suspend(TargetId(0)).unwrap());
    let no_event = tokio::time::timeout(Duration::from_secs(3), events.next_event()).await;
    assert!(
        no_event.is_err(),
        "the old verdict was dropped: {no_event:?}"
    );
    assert_eq!(control.state(TargetId(0)), Some((Health::Up, 1)));
    control.resume(TargetId(0)).unwrap();
    let ev = events.next_event().await;
    assert_eq!(
        (ev.health, ev.at - t0),
        (Health::Down, Duration::from_millis(3100))
    );
}

/// A target added suspended (by the control handle or before the start) announces itself
/// and is probed only once resumed.
#[tokio::test(start_paused = true)]
async fn targets_can_start_suspended() {
    let t0 = Instant::now();
    let first = Scripted::new(vec![down(Reason::Refused)]);
    let first_calls = first.calls.clone();
    let mut scheduler = Scheduler::new().seed(7);
    let id = scheduler
        .add(target("a", schedule(1, 1, Health::Up), first))
        .unwrap();
    assert!(scheduler.suspend(id));
    assert!(!scheduler.suspend(TargetId(5)));
    let (control, mut events) = scheduler.start().unwrap().into_parts();
    assert_eq!(events.next_event().await.change, Change::Added);
    let second = Scripted::new(vec![down(Reason::Refused)]);
    let second_calls = second.calls.clone();
    let b = control
        .add_suspended(target("b", schedule(1, 1, Health::Up), second))
        .unwrap();
    let added = events.next_event().await;
    assert_eq!((added.change, added.target), (Change::Added, b));
    assert_eq!(control.is_suspended(b), Some(true));
    let no_event = tokio::time::timeout(Duration::from_secs(2), events.next_event()).await;
    assert!(no_event.is_err(), "nothing probes: {no_event:?}");
    assert!(first_calls.lock().unwrap().is_empty());
    assert!(second_calls.lock().unwrap().is_empty());
    control.resume(b).unwrap();
    let ev = events.next_event().await;
    assert_eq!((ev.target, ev.health), (b, Health::Down));
    assert_eq!(starts(&second_calls, t0), vec![2000]);
    assert!(first_calls.lock().unwrap().is_empty());
}
