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

use std::time::{Duration, Instant};

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
