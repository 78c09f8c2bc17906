//! The netns test bed: a bridge namespace and N host namespaces joined by veth pairs, our
//! daemon and keepalived running inside them, packet captures on the bridge.
//!
//! Every name starts with a prefix unique to the test (and process), so tests run in
//! parallel; everything is removed on drop, also when the test panics.
#![allow(dead_code, unused_imports, unreachable_pub, clippy::unwrap_used)]

pub mod capture;
pub mod daemon;
pub mod inproc;
pub mod lab;
pub mod privileges;

pub use capture::Capture;
pub use daemon::{Daemon, Keepalived, RouterConf, ours_binary};
pub use lab::{Host, Lab};
pub use privileges::require;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Creates the FIFO at `path` and collects what is written to it, line by line.
pub fn fifo_reader(path: &Path) -> Arc<Mutex<Vec<String>>> {
    assert!(Command::new("mkfifo").arg(path).status().unwrap().success());
    let lines = Arc::new(Mutex::new(Vec::new()));
    let (sink, path) = (Arc::clone(&lines), path.to_owned());
    std::thread::spawn(move || {
        // Opening read-write keeps the FIFO open across writers; reads block until data.
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        for line in BufReader::new(file).lines() {
            let Ok(line) = line else { return };
            sink.lock().unwrap().push(line);
        }
    });
    lines
}

/// Polls `check` every 10 ms until it is true or `limit` passes; returns whether it held.
pub fn wait_until(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    loop {
        if check() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
