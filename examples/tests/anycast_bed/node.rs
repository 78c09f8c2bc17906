//! One vip-proxy process in anycast mode, and waiting for processes.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use testbed::frr::{AnycastLab, VIP};
use testbed::proxy_bed::{Host, ms};

use super::WITHDRAW_DRAIN;

/// The vip-proxy example; `VIP_PROXY` overrides it with a prebuilt one.
pub(crate) fn program() -> PathBuf {
    std::env::var_os("VIP_PROXY")
        .map(PathBuf::from)
        .unwrap_or_else(|| testbed::example::build("vip-proxy", "vrrp,health"))
}

/// One vip-proxy in anycast mode, in front of its node's backend; SIGKILLed on drop.
pub(crate) struct Node {
    pub(crate) host: Host,
    backend: String,
    binary: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

impl Node {
    pub(crate) fn start(lab: &AnycastLab, binary: &Path, host: &Host, backend: &Host) -> Node {
        let mut node = Node {
            host: host.clone(),
            backend: format!("{}:{}", backend.v4, testbed::proxy_bed::backend::PORT),
            binary: binary.to_owned(),
            log: lab.path(&format!("{}-proxy.log", host.role)),
            child: None,
        };
        node.spawn();
        node
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.host.ns])
            .arg(&self.binary)
            .args(["--mode", "anycast", "--vip", &format!("{VIP}/32")])
            .args(["--listen-port", "80", "--withdraw-drain", WITHDRAW_DRAIN])
            .args(["--check-path", "/health", "--check-interval", "100ms"])
            .args(["--check-timeout", "100ms", "--rise", "2", "--fall", "2"])
            .args(["--connect-timeout", "300ms", "--drain-timeout", "5s"])
            .args(["--backend", &format!("http://{}", self.backend)]);
        cmd
    }

    pub(crate) fn spawn(&mut self) {
        assert!(self.child.is_none(), "{} is running", self.host.role);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = self
            .command()
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
    }

    /// SIGKILL: the VIP stays on lo.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// What a supervisor does for a dead proxy: `vip-proxy ... --withdraw-stale`.
    pub(crate) fn withdraw_stale(&self) {
        let out = self.command().arg("--withdraw-stale").output().unwrap();
        assert!(
            out.status.success(),
            "--withdraw-stale: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Sends SIGTERM; returns the child to wait for.
    pub(crate) fn terminate(&mut self) -> Child {
        let child = self.child.take().unwrap();
        let pid = Pid::from_raw(i32::try_from(child.id()).unwrap());
        kill(pid, Signal::SIGTERM).unwrap();
        child
    }

    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `t - at` in milliseconds, negative before `at`.
pub(crate) fn offset_ms(t: Instant, at: Instant) -> f64 {
    if t >= at { ms(t - at) } else { -ms(at - t) }
}

/// Waits for `child` (at most `limit`); its status and when it exited.
pub(crate) fn wait_exit(mut child: Child, limit: Duration) -> (ExitStatus, Instant) {
    let end = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status, Instant::now());
        }
        if Instant::now() > end {
            let _ = child.kill();
            panic!("no exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}
