//! The pingora-vip-proxy binary as a process in a host namespace.

use super::lab::run;
use super::{Host, Lab};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The VIP every proxy of the bed serves.
pub const VIP: &str = "192.0.2.100";
/// Its advertisement interval.
pub const ADVERT: Duration = Duration::from_millis(100);

/// Master_Down_Interval of a backup with `priority` (RFC 9568 §6.1).
pub fn master_down_interval(priority: u8) -> Duration {
    ADVERT * 3 + ADVERT * (256 - u32::from(priority)) / 256
}

/// The binary under test (cargo builds it for the integration tests).
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_pingora-vip-proxy")
}

/// A running proxy; SIGKILLed on drop.
pub struct Proxy {
    /// Where it runs.
    pub host: Host,
    /// Its priority.
    pub priority: u8,
    /// Its stderr.
    pub log: PathBuf,
    child: Option<Child>,
}

impl Proxy {
    /// Starts a proxy on `host` with `priority`, in front of `backends` (`IP:PORT`).
    ///
    /// Pingora binds its own listener and has no `IP_FREEBIND`: the namespace gets
    /// `net.ipv4.ip_nonlocal_bind=1` first, as a production host would.
    pub fn start(lab: &Lab, host: &Host, priority: u8, backends: &[String]) -> Proxy {
        run(
            "ip",
            &[
                "netns",
                "exec",
                &host.ns,
                "sh",
                "-c",
                "echo 1 > /proc/sys/net/ipv4/ip_nonlocal_bind",
            ],
        );
        let log_path = lab.path(&format!("{}.log", host.role));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .unwrap();
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &host.ns])
            .arg(binary())
            .args(["--vip", &format!("{VIP}/24"), "--interface", "eth0"])
            .args(["--vrid", "51", "--priority", &priority.to_string()])
            .args(["--listen-port", "80", "--advert-interval", "100ms"])
            .args(["--check-path", "/health", "--check-interval", "100ms"])
            .args(["--check-timeout", "100ms", "--rise", "2", "--fall", "2"])
            .args(["--connect-timeout", "300ms", "--drain-timeout", "5s"])
            .env("RUST_LOG", "info,pingora_core=warn,pingora_proxy=warn");
        for b in backends {
            cmd.args(["--backend", &format!("http://{b}")]);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        Proxy {
            host: host.clone(),
            priority,
            log: log_path,
            child: Some(child),
        }
    }

    /// SIGKILL: the process and its VRRP die at once; the VIP stays on the interface.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then waits (at most `limit`) for the exit; returns how long it took.
    pub fn terminate(&mut self, limit: Duration) -> (ExitStatus, Duration) {
        let mut child = self.child.take().unwrap();
        let sent = Instant::now();
        let pid = Pid::from_raw(i32::try_from(child.id()).unwrap());
        kill(pid, Signal::SIGTERM).unwrap();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return (status, sent.elapsed());
            }
            if sent.elapsed() > limit {
                let _ = child.kill();
                panic!(
                    "{} did not exit within {limit:?} of SIGTERM",
                    self.host.role
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The log so far, for failure messages.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.kill();
    }
}
