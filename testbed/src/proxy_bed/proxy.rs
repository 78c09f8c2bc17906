//! A proxy program (vip-proxy, pingora-vip-proxy) as a process in a host namespace.

use super::{Host, Lab, lab::run};
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
    ADVERT * 3 + skew_time(priority)
}

/// Skew_Time of a backup with `priority` (RFC 9568 §6.1): how long it waits after a
/// priority-0 advert.
pub fn skew_time(priority: u8) -> Duration {
    ADVERT * (256 - u32::from(priority)) / 256
}

/// The program under test: both proxies take vip-proxy's command line.
#[derive(Debug, Clone)]
pub struct Program {
    /// The executable.
    pub binary: PathBuf,
    /// Extra environment (`RUST_LOG`...).
    pub env: Vec<(String, String)>,
    /// Set `net.ipv4.ip_nonlocal_bind=1` in the namespace first, for a program that binds
    /// its own listener without `IP_FREEBIND` (as a production host would).
    pub nonlocal_bind: bool,
    /// Extra command-line arguments after the bed's own.
    pub args: Vec<String>,
}

impl Program {
    /// `binary`, no extra environment, binding with `IP_FREEBIND` itself.
    pub fn new(binary: impl Into<PathBuf>) -> Self {
        Self {
            binary: binary.into(),
            env: Vec::new(),
            nonlocal_bind: false,
            args: Vec::new(),
        }
    }

    /// The same program with one more command-line argument.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }
}

/// A running proxy; SIGKILLed on drop.
pub struct Proxy {
    /// Where it runs.
    pub host: Host,
    /// Its priority.
    pub priority: u8,
    /// Its stderr.
    pub log: PathBuf,
    program: Program,
    child: Option<Child>,
}

impl Proxy {
    /// Starts `program` on `host` with `priority`, in front of `backends` (`IP:PORT`).
    pub fn start(
        lab: &Lab,
        program: &Program,
        host: &Host,
        priority: u8,
        backends: &[String],
    ) -> Proxy {
        if program.nonlocal_bind {
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
        }
        let mut proxy = Proxy {
            host: host.clone(),
            priority,
            log: lab.path(&format!("{}.log", host.role)),
            program: program.clone(),
            child: None,
        };
        proxy.spawn(backends);
        proxy
    }

    fn spawn(&mut self, backends: &[String]) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.host.ns])
            .arg(&self.program.binary)
            .args(["--vip", &format!("{VIP}/24"), "--interface", "eth0"])
            .args(["--vrid", "51", "--priority", &self.priority.to_string()])
            .args(["--listen-port", "80", "--advert-interval", "100ms"])
            .args(["--check-path", "/health", "--check-interval", "100ms"])
            .args(["--check-timeout", "100ms", "--rise", "2", "--fall", "2"])
            .args(["--connect-timeout", "300ms", "--drain-timeout", "5s"])
            .args(&self.program.args)
            .envs(self.program.env.iter().map(|(k, v)| (k, v)));
        for b in backends {
            cmd.args(["--backend", &format!("http://{b}")]);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
    }

    /// Starts the same proxy again after it stopped.
    pub fn restart(&mut self, backends: &[String]) {
        assert!(self.child.is_none(), "{} is still running", self.host.role);
        self.spawn(backends);
    }

    /// The process id (`ip netns exec` execs the proxy itself).
    pub fn pid(&self) -> Pid {
        pid_of(self.child.as_ref().unwrap())
    }

    /// A crashed host's share: SIGKILL of the proxy's children (vip-proxy's crash supervisor)
    /// and then of the proxy, so nothing of it speaks any more. The VIP stays (delete it).
    pub fn kill_host(&mut self) {
        if let Some(child) = &self.child {
            let pid = child.id();
            let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
                .unwrap_or_default();
            for c in children.split_whitespace().filter_map(|c| c.parse().ok()) {
                let _ = kill(Pid::from_raw(c), Signal::SIGKILL);
            }
        }
        self.kill();
    }

    /// SIGKILL: the process and its VRRP die at once; the VIP stays on the interface unless
    /// the program's crash supervisor removes it.
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
        kill(pid_of(&child), Signal::SIGTERM).unwrap();
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

fn pid_of(child: &Child) -> Pid {
    Pid::from_raw(i32::try_from(child.id()).unwrap())
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.kill();
    }
}
