//! Running code inside a host namespace from the test process: a thread that calls
//! `setns(CLONE_NEWNET)` first and only then opens sockets or builds its tokio runtime, so
//! everything it creates lives in that namespace. Other threads are not affected.

use std::fs::File;
use std::thread::JoinHandle;

use nix::sched::{CloneFlags, setns};

/// Spawns `f` on a new thread inside network namespace `ns`.
pub fn in_netns<T: Send + 'static>(
    ns: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> JoinHandle<T> {
    let path = format!("/var/run/netns/{ns}");
    std::thread::spawn(move || {
        let fd = File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        setns(fd, CloneFlags::CLONE_NEWNET).unwrap_or_else(|e| panic!("setns {path}: {e}"));
        f()
    })
}
