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
