//! keepalived.conf generation and the two daemons that read it: ours (the keepalived-compat
//! binary) and keepalived itself.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use super::{Host, Lab, wait_until};

/// One router's keepalived.conf, in the syntax both daemons read.
#[derive(Debug, Clone)]
pub struct RouterConf {
    pub version: u8,
    pub vrid: u8,
    pub priority: u8,
    pub advert_int: &'static str,
    /// `ADDR/PREFIX` lines of virtual_ipaddress.
    pub vips: Vec<String>,
    pub auth_pass: Option<&'static str>,
    pub unicast_src: Option<String>,
    pub unicast_peers: Vec<String>,
    pub old_unicast_checksum: bool,
    pub nopreempt: bool,
    pub notify_fifo: Option<PathBuf>,
    /// Extra lines inside vrrp_instance.
    pub extra: Vec<String>,
    /// Extra lines inside global_defs.
    pub global_extra: Vec<String>,
    /// Top-level text after global_defs (vrrp_script blocks).
    pub prelude: String,
    /// A second instance VI_2: (vrid, VIP/prefix, extra lines).
    pub second_instance: Option<(u8, String, Vec<String>)>,
    /// VI_2's interface (and its VIP's), if not eth0.
    pub second_interface: Option<String>,
    /// Put VI_1 and VI_2 in `vrrp_sync_group G1`.
    pub sync_group: bool,
}

impl RouterConf {
    /// VRRPv3, vrid 51, advert_int 0.1, VIP 192.0.2.100/24.
    pub fn v3(priority: u8) -> Self {
        RouterConf {
            version: 3,
            vrid: 51,
            priority,
            advert_int: "0.1",
            vips: vec!["192.0.2.100/24".into()],
            auth_pass: None,
            unicast_src: None,
            unicast_peers: Vec::new(),
            old_unicast_checksum: false,
            nopreempt: false,
            notify_fifo: None,
            extra: Vec::new(),
            global_extra: Vec::new(),
            prelude: String::new(),
            second_instance: None,
            second_interface: None,
            sync_group: false,
        }
    }

    /// The configuration text.
    pub fn text(&self, router_id: &str) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "global_defs {{\n    router_id {router_id}\n    vrrp_version {}",
            self.version
        );
        if let Some(fifo) = &self.notify_fifo {
            let _ = writeln!(s, "    notify_fifo {}", fifo.display());
        }
        for line in &self.global_extra {
            let _ = writeln!(s, "    {line}");
        }
        let _ = writeln!(s, "}}\n{}", self.prelude);
        let _ = writeln!(
            s,
            "vrrp_instance VI_1 {{\n    state BACKUP\n    interface eth0"
        );
        let _ = writeln!(
            s,
            "    virtual_router_id {}\n    priority {}\n    advert_int {}",
            self.vrid, self.priority, self.advert_int
        );
        if self.nopreempt {
            let _ = writeln!(s, "    nopreempt");
        }
        if let Some(pass) = self.auth_pass {
            let _ = writeln!(
                s,
                "    authentication {{\n        auth_type PASS\n        auth_pass {pass}\n    }}"
            );
        }
        if let Some(src) = &self.unicast_src {
            let _ = writeln!(s, "    unicast_src_ip {src}");
        }
        if !self.unicast_peers.is_empty() {
            let _ = writeln!(
                s,
                "    unicast_peer {{\n        {}\n    }}",
                self.unicast_peers.join("\n        ")
            );
        }
        if self.old_unicast_checksum {
            let _ = writeln!(s, "    old_unicast_checksum");
        }
        for line in &self.extra {
            let _ = writeln!(s, "    {line}");
        }
        let _ = writeln!(s, "    virtual_ipaddress {{");
        for vip in &self.vips {
            let _ = writeln!(s, "        {vip} dev eth0");
        }
        let _ = writeln!(s, "    }}\n}}");
        if let Some((vrid, vip, extra)) = &self.second_instance {
            let dev = self.second_interface.as_deref().unwrap_or("eth0");
            let _ = writeln!(
                s,
                "vrrp_instance VI_2 {{\n    state BACKUP\n    interface {dev}"
            );
            let _ = writeln!(
                s,
                "    virtual_router_id {vrid}\n    priority {}\n    advert_int {}",
                self.priority, self.advert_int
            );
            for line in extra {
                let _ = writeln!(s, "    {line}");
            }
            let _ = writeln!(
                s,
                "    virtual_ipaddress {{\n        {vip} dev {dev}\n    }}\n}}"
            );
        }
        if self.sync_group {
            let _ = writeln!(
                s,
                "vrrp_sync_group G1 {{\n    group {{\n        VI_1\n        VI_2\n    }}\n}}"
            );
        }
        s
    }
}

/// Builds (once per test process) and returns the keepalived-compat daemon (the
/// `keepalived-compat` package's binary, VRRP part only). `KEEPALIVED_COMPAT` overrides it
/// with a prebuilt one.
pub fn ours_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Ok(bin) = std::env::var("KEEPALIVED_COMPAT") {
            return PathBuf::from(bin);
        }
        testbed::example::build_binary("keepalived-compat", "keepalived-compat", Some("vrrp"))
    })
}

/// Our daemon running in a host namespace; killed on drop.
pub struct Daemon {
    pub host: Host,
    child: Option<Child>,
    pub log: PathBuf,
    pub conf: PathBuf,
}

impl Daemon {
    /// Writes `conf` and starts `keepalived-compat -f CONF -n -l` in `host`.
    pub fn start(lab: &Lab, host: &Host, conf: &RouterConf) -> Daemon {
        Self::start_with(lab, host, conf, &[])
    }

    /// Like [`Daemon::start`], with extra command-line arguments.
    pub fn start_with(lab: &Lab, host: &Host, conf: &RouterConf, args: &[&str]) -> Daemon {
        let name = format!("ours-{}", host.ns);
        let conf_path = lab.path(&format!("{name}.conf"));
        std::fs::write(&conf_path, conf.text(&name)).unwrap();
        let log = lab.path(&format!("{name}.log"));
        let child = Command::new("ip")
            .args(["netns", "exec", &host.ns])
            .arg(ours_binary())
            .args(["-n", "-l"])
            .arg("-p")
            .arg(lab.path(&format!("{name}.pid")))
            .args(args)
            .arg("-f")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::options().append(true).open(&log).unwrap())
            .spawn()
            .unwrap();
        let d = Daemon {
            host: host.clone(),
            child: Some(child),
            log,
            conf: conf_path,
        };
        assert!(
            wait_until(Duration::from_secs(10), || d
                .log_text()
                .contains("Entering")),
            "ours did not start:\n{}",
            d.log_text()
        );
        d
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Rewrites the configuration file with `conf` and sends SIGHUP (keepalived.service's
    /// `ExecReload`).
    pub fn reload(&self, conf: &RouterConf) {
        let name = format!("ours-{}", self.host.ns);
        std::fs::write(&self.conf, conf.text(&name)).unwrap();
        if let Some(c) = &self.child {
            hup(&c.id().to_string());
        }
    }

    /// The daemon's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The pid of its crash supervisor, from the log line the driver's event gives.
    pub fn supervisor_pid(&self) -> Option<u32> {
        let log = self.log_text();
        let line = log
            .lines()
            .find(|l| l.contains("crash supervisor started (pid "))?;
        let tail = line.split("(pid ").nth(1)?;
        tail.trim_end_matches(')').parse().ok()
    }

    /// `signal` (`KILL`, `ABRT`) to the daemon alone, as a crash of the process on a host
    /// that stays up: what happens next is up to its crash supervisor. Returns the
    /// wall-clock time of the kill.
    pub fn kill(&mut self, signal: &str) -> std::time::SystemTime {
        let c = self.child.take().expect("the daemon is running");
        let signal: nix::sys::signal::Signal = format!("SIG{signal}").parse().unwrap();
        let pid = nix::unistd::Pid::from_raw(c.id() as i32);
        let at = std::time::SystemTime::now();
        nix::sys::signal::kill(pid, signal).unwrap();
        let mut c = c;
        let _ = c.wait();
        at
    }

    /// SIGKILL: no priority 0, no cleanup; the VIP goes with the "crashed host" too.
    pub fn crash(&mut self, vips: &[&str]) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        for v in vips {
            self.host.del_addr(v);
        }
    }

    /// SIGTERM and wait for the exit (graceful: priority 0, VIPs removed).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let exited = wait_until(Duration::from_secs(5), || {
                c.try_wait().is_ok_and(|s| s.is_some())
            });
            assert!(exited, "ours did not stop on SIGTERM");
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// keepalived 2.x (VRRP process only) in a host namespace with its own pid files.
pub struct Keepalived {
    pub host: Host,
    parent: Option<Child>,
    dir: PathBuf,
    pub log: PathBuf,
}

impl Keepalived {
    pub fn start(lab: &Lab, host: &Host, conf: &RouterConf) -> Keepalived {
        Self::try_start(lab, host, conf)
            .unwrap_or_else(|log| panic!("keepalived did not start:\n{log}"))
    }

    /// Starts keepalived; `Err` carries its log when it did not reach a state within 10 s.
    pub fn try_start(lab: &Lab, host: &Host, conf: &RouterConf) -> Result<Keepalived, String> {
        let name = format!("ka-{}", host.ns);
        let dir = lab.path(&name);
        std::fs::create_dir_all(&dir).unwrap();
        let conf_path = dir.join("keepalived.conf");
        std::fs::write(&conf_path, conf.text(&name)).unwrap();
        let log = dir.join("log");
        let p = |f: &str| dir.join(f).display().to_string();
        let parent = Command::new("ip")
            .args([
                "netns",
                "exec",
                &host.ns,
                "keepalived",
                "-n",
                "-l",
                "-P",
                "-f",
            ])
            .arg(&conf_path)
            .args(["-p", &p("k.pid"), "-r", &p("v.pid"), "-c", &p("c.pid")])
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::options().append(true).open(&log).unwrap())
            .spawn()
            .unwrap();
        let k = Keepalived {
            host: host.clone(),
            parent: Some(parent),
            dir,
            log,
        };
        if wait_until(Duration::from_secs(10), || {
            k.vrrp_pid().is_some() && k.log_text().contains("Entering")
        }) {
            Ok(k)
        } else {
            Err(k.log_text())
        }
    }

    /// Rewrites the configuration file with `conf` and sends SIGHUP to the parent, as
    /// keepalived.service's `ExecReload` does.
    pub fn reload(&self, conf: &RouterConf) {
        let name = format!("ka-{}", self.host.ns);
        std::fs::write(self.dir.join("keepalived.conf"), conf.text(&name)).unwrap();
        if let Some(p) = &self.parent {
            hup(&p.id().to_string());
        }
    }

    fn vrrp_pid(&self) -> Option<String> {
        std::fs::read_to_string(self.dir.join("v.pid"))
            .ok()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `kill -9 VRRP_CHILD PARENT` in one command, then the VIPs go with the host.
    pub fn crash(&mut self, vips: &[&str]) {
        if let (Some(mut parent), Some(child)) = (self.parent.take(), self.vrrp_pid()) {
            let _ = Command::new("kill")
                .args(["-9", &child, &parent.id().to_string()])
                .status();
            let _ = parent.wait();
        }
        for v in vips {
            self.host.del_addr(v);
        }
    }

    /// SIGTERM to the parent: keepalived sends priority 0 and removes its VIPs.
    pub fn stop(&mut self) {
        if let Some(mut parent) = self.parent.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &parent.id().to_string()])
                .status();
            let exited = wait_until(Duration::from_secs(10), || {
                parent.try_wait().is_ok_and(|s| s.is_some())
            });
            assert!(exited, "keepalived did not stop on SIGTERM");
        }
    }
}

impl Drop for Keepalived {
    fn drop(&mut self) {
        if self.parent.is_some() {
            self.crash(&[]);
        }
    }
}

/// `kill -HUP PID`.
fn hup(pid: &str) {
    let sent = Command::new("kill").args(["-HUP", pid]).status().unwrap();
    assert!(sent.success(), "kill -HUP {pid} failed");
}
