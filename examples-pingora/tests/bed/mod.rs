//! A minimal copy of the vip-proxy test bed (examples/tests/vip_proxy_bed): network
//! namespaces on one bridge (two proxy nodes, three backends, one client), backends and a
//! load client as tokio tasks on threads that entered a namespace, and the proxies as real
//! processes. Copied rather than shared so that this crate stays outside the workspace.
//!
//! Every namespace name starts with a prefix unique to the test process (`pp<pid>x<n>`);
//! everything is removed on drop, also when the test panics. Addresses: 192.0.2.0/24 only.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

pub mod backend;
pub mod lab;
pub mod load;
pub mod proxy;

pub use backend::Backend;
pub use lab::{Host, Lab};
pub use load::{Load, Report};
pub use proxy::Proxy;

use std::time::{Duration, Instant};

pub use testbed::privileged::require;

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
