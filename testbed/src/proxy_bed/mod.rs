//! The HTTP proxy test bed shared by the vip-proxy example and the pingora example: network
//! namespaces on one bridge (two proxy nodes, three backends, one client), backends and a
//! load client as tokio tasks on threads that entered a namespace, and the proxies as real
//! processes ([`Program`] says which).
//!
//! Every namespace name starts with a prefix unique to the test process (`vp<pid>x<n>`);
//! everything is removed on drop, also when the test panics (`VIP_PROXY_KEEP_LOGS` keeps the
//! logs). Addresses: 192.0.2.0/24 only. Failures panic: that is how a test bed reports.
#![allow(clippy::unwrap_used)]

pub mod backend;
pub mod bed;
pub mod lab;
pub mod load;
pub mod proxy;

pub use backend::Backend;
pub use bed::{Bed, ms, vip};
pub use lab::{Host, Lab};
pub use load::{Load, Outcome, Report};
pub use proxy::{ADVERT, Program, Proxy, VIP, master_down_interval, skew_time};

use std::time::{Duration, Instant};

/// Polls `check` every 5 ms until it is true or `limit` passes; returns whether it held.
pub fn wait_until(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    loop {
        if check() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs `f` on a new thread inside network namespace `ns`, with a current-thread tokio
/// runtime: every socket it opens lives in that namespace.
pub fn spawn_in_netns<T, F, Fut>(ns: &str, f: F) -> std::thread::JoinHandle<T>
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = T>,
{
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        let file = std::fs::File::open(&path).unwrap();
        nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(f())
    })
}
