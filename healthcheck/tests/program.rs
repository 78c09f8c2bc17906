//! External program checks: exit-code mapping, timeouts that kill the whole process
//! group, bounded output.
#![allow(clippy::unwrap_used)]

mod common;

use common::probe;
use healthcheck::checkers::ProgramCheck;
use healthcheck::{Check, Outcome, Reason, Weight};
use std::time::Duration;

const T: Duration = Duration::from_secs(2);

fn sh(script: &str) -> ProgramCheck {
    ProgramCheck::new("/bin/sh", ["-c", script])
}

/// Whether a pid is gone or a zombie waiting for init.
fn dead(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

#[tokio::test]
async fn exit_codes_map_to_keepalived_semantics() {
    assert_eq!(probe(&sh("exit 0"), T).await, Outcome::UP);
    assert_eq!(
        probe(&sh("exit 1"), T).await,
        Outcome::Down(Reason::Exit(1))
    );
    assert_eq!(
        probe(&sh("exit 7"), T).await,
        Outcome::Down(Reason::Exit(7))
    );
    assert_eq!(
        probe(&sh("exit 12").dynamic(), T).await,
        Outcome::Up(Weight::Set(10))
    );
    assert_eq!(
        probe(&sh("exit 2").dynamic(), T).await,
        Outcome::Up(Weight::Set(0))
    );
    assert_eq!(
        probe(&sh("exit 255").dynamic(), T).await,
        Outcome::Up(Weight::Set(253))
    );
    assert_eq!(
        probe(&sh("exit 1").dynamic(), T).await,
        Outcome::Down(Reason::Exit(1))
    );
    assert_eq!(
        probe(&sh("kill -9 $$"), T).await,
        Outcome::Down(Reason::Signal(9))
    );
}

#[tokio::test]
async fn no_shell_is_involved_and_missing_programs_are_reported() {
    // the argument reaches the program verbatim, metacharacters and all
    let c = ProgramCheck::new("/bin/test", ["$HOME", "=", "$HOME"]);
    assert_eq!(probe(&c, T).await, Outcome::UP);
    let c = ProgramCheck::new("/nonexistent/check", Vec::<String>::new());
    assert_eq!(
        probe(&c, T).await,
        Outcome::Down(Reason::Spawn(std::io::ErrorKind::NotFound))
    );
}

#[tokio::test]
async fn timeout_kills_children_of_children() {
    let dir = std::env::temp_dir().join(format!("hc-prog-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pids = dir.join("pids");
    let script = format!(
        "sh -c 'sleep 30 & echo $! >> {p}; sleep 30' & echo $! >> {p}; sleep 30",
        p = pids.display()
    );
    let started = std::time::Instant::now();
    assert_eq!(
        probe(&sh(&script), Duration::from_millis(500)).await,
        Outcome::Down(Reason::Timeout)
    );
    assert!(started.elapsed() < Duration::from_millis(900));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let pids: Vec<i32> = std::fs::read_to_string(&pids)
        .unwrap()
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 2);
    for pid in pids {
        assert!(dead(pid), "descendant {pid} survived the timeout");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn cancelled_probe_kills_its_process_group() {
    let dir = std::env::temp_dir().join(format!("hc-cancel-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pid_file = dir.join("pid");
    let c = sh(&format!(
        "sleep 30 & echo $! > {}; wait",
        pid_file.display()
    ));
    // the caller's timeout fires first (deadline far away): the future is dropped
    let far = tokio::time::Instant::now() + Duration::from_secs(60);
    let r = tokio::time::timeout(Duration::from_millis(300), c.check(far)).await;
    assert!(r.is_err());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(dead(pid), "grandchild {pid} survived cancellation");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn chatty_program_does_not_block_on_its_pipes() {
    // 8 MiB on stdout and stderr: more than any pipe buffer
    let c = sh("head -c 8388608 /dev/zero; head -c 8388608 /dev/zero >&2; exit 0");
    assert_eq!(probe(&c, T).await, Outcome::UP);
}

#[tokio::test]
async fn exit_does_not_wait_for_a_background_child_holding_the_pipe() {
    let c = sh("sleep 5 & exit 0");
    let started = std::time::Instant::now();
    assert_eq!(probe(&c, T).await, Outcome::UP);
    assert!(started.elapsed() < Duration::from_secs(1));
}
