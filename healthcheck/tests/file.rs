//! Tracked-file checks.
#![allow(clippy::unwrap_used)]

mod common;

use common::probe;
use healthcheck::checkers::FileCheck;
use healthcheck::{Outcome, Reason, Weight};
use std::path::PathBuf;
use std::time::Duration;

const T: Duration = Duration::from_secs(1);

fn file(name: &str, content: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hc-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

#[tokio::test]
async fn value_times_weight_decides_and_adjusts() {
    let p = file("five", "5\n");
    assert_eq!(probe(&FileCheck::new(&p), T).await, Outcome::UP);
    let c = FileCheck::new(&p).weight(2).dynamic();
    assert_eq!(probe(&c, T).await, Outcome::Up(Weight::Offset(10)));
    let c = FileCheck::new(&p).weight(-60);
    assert_eq!(probe(&c, T).await, Outcome::Down(Reason::FileValue(-300)));
    let p = file("low", "-254");
    assert_eq!(
        probe(&FileCheck::new(&p), T).await,
        Outcome::Down(Reason::FileValue(-254))
    );
}

#[tokio::test]
async fn the_file_is_reread_on_every_probe() {
    let p = file("changing", "0");
    let c = FileCheck::new(&p).weight(100);
    assert_eq!(probe(&c, T).await, Outcome::UP);
    std::fs::write(&p, "-3").unwrap();
    assert_eq!(probe(&c, T).await, Outcome::Down(Reason::FileValue(-300)));
}

#[tokio::test]
async fn unreadable_or_garbage_files_are_down_with_the_path_named() {
    let p = file("garbage", "twelve");
    match probe(&FileCheck::new(&p), T).await {
        Outcome::Down(Reason::File(msg)) => {
            assert!(
                msg.contains("garbage") && msg.contains("\"twelve\" is not an integer"),
                "{msg}"
            )
        }
        other => panic!("{other:?}"),
    }
    let missing = std::env::temp_dir().join("hc-file-missing-x");
    assert!(matches!(
        probe(&FileCheck::new(&missing), T).await,
        Outcome::Down(Reason::File(_))
    ));
}

/// A write to the tracked file is noticed by inotify and re-probed at once, long
/// before the next 60 s slot.
#[tokio::test]
async fn a_watched_file_is_reprobed_as_soon_as_it_changes() {
    use healthcheck::{FileWatch, Health, Schedule, Scheduler, Target};
    let p = file("watched", "1");
    let schedule = Schedule::builder()
        .interval(Duration::from_secs(60))
        .warmup(Duration::ZERO)
        .rise(1)
        .fall(1)
        .initial(Health::Up)
        .build()
        .unwrap();
    let mut sched = Scheduler::new();
    let id = sched
        .add(
            Target::new("f", "127.0.0.1:1".parse().unwrap())
                .schedule(schedule)
                .check(FileCheck::new(&p).weight(-300)),
        )
        .unwrap();
    let mut run = sched.start().unwrap();
    let mut watch = FileWatch::new(&p).unwrap();
    assert_eq!(run.next_event().await.reason, Some(Reason::Initial));
    // the first probe (t = 0) reads 1 x -300: down
    assert_eq!(run.next_event().await.health, Health::Down);
    let started = std::time::Instant::now();
    // replace the file the way tools do: write a temporary file, rename it over
    let tmp = p.with_extension("tmp");
    std::fs::write(&tmp, "0").unwrap();
    std::fs::rename(&tmp, &p).unwrap();
    let event = loop {
        tokio::select! {
            changed = watch.changed() => { changed.unwrap(); run.recheck(id); }
            event = run.next_event() => break event,
        }
    };
    assert_eq!(event.health, Health::Up);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(!run.recheck(healthcheck::TargetId(99)));
}
