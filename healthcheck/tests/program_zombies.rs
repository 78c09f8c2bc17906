//! 1,000 program runs (some timing out) leave no zombie children behind.
//! Its own test binary, so no other test's children are counted.
#![allow(clippy::unwrap_used)]

use healthcheck::checkers::ProgramCheck;
use healthcheck::{Check, Outcome, Reason};
use std::time::Duration;
use tokio::time::{Instant, timeout_at};

/// Children of this process in state Z.
fn zombie_children() -> Vec<i32> {
    let me = std::process::id().to_string();
    let mut zombies = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // fields after the command name: state ppid ...
        let rest: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        if rest.first() == Some(&"Z") && rest.get(1) == Some(&me.as_str()) {
            zombies.push(pid);
        }
    }
    zombies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_runs_leave_no_zombies() {
    let ok = ProgramCheck::new("/bin/true", Vec::<String>::new());
    let slow = ProgramCheck::new("/bin/sh", ["-c", "sleep 10 & sleep 10"]);
    let mut tasks = tokio::task::JoinSet::new();
    let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(32));
    for i in 0..1000 {
        let check = if i % 20 == 0 {
            slow.clone()
        } else {
            ok.clone()
        };
        let sem = sem.clone();
        tasks.spawn(async move {
            let _p = sem.acquire().await.unwrap();
            let deadline = Instant::now() + Duration::from_millis(200);
            let outcome = timeout_at(deadline, check.check(deadline))
                .await
                .unwrap_or(Outcome::Down(Reason::Timeout));
            (i % 20 == 0, outcome)
        });
    }
    while let Some(r) = tasks.join_next().await {
        let (slow, outcome) = r.unwrap();
        let want = if slow {
            Outcome::Down(Reason::Timeout)
        } else {
            Outcome::UP
        };
        assert_eq!(outcome, want);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(zombie_children(), Vec::<i32>::new());
}
