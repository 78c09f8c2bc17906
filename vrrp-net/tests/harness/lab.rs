//! Namespaces: one bridge (`mcast_snooping 0`, so VRRP multicast is flooded) and hosts whose
//! `eth0` is a veth port on it. 192.0.2.0/24 and 2001:db8::/64 only.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

static SEQUENCE: AtomicUsize = AtomicUsize::new(0);

/// Runs `program args`, panicking with its stderr when it fails.
pub fn run(program: &str, args: &[&str]) -> Output {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The bridge and its hosts; dropping it kills what runs inside and deletes everything.
pub struct Lab {
    /// Name prefix of every namespace.
    pub prefix: String,
    /// The namespace holding the bridge `br0`.
    pub switch: String,
    /// The hosts, `eth0` each.
    pub hosts: Vec<Host>,
    /// A scratch directory for configs, pid files and logs.
    pub dir: PathBuf,
}

/// One host namespace.
#[derive(Debug, Clone)]
pub struct Host {
    /// Namespace name.
    pub ns: String,
    /// Its IPv4 address on eth0 (192.0.2.11, .12, ...).
    pub v4: String,
    /// Its global IPv6 address (2001:db8::11, ...).
    pub v6: String,
}

impl Lab {
    /// Builds a bridge and `n` hosts.
    pub fn new(n: usize) -> Lab {
        let seq = SEQUENCE.fetch_add(1, Ordering::Relaxed);
        let prefix = format!("vn{}x{seq}", std::process::id() % 100_000);
        let switch = format!("{prefix}-sw");
        let dir = std::env::temp_dir().join(format!("vrrp-net-{prefix}"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut lab = Lab {
            prefix: prefix.clone(),
            switch: switch.clone(),
            hosts: Vec::new(),
            dir,
        };
        run("ip", &["netns", "add", &switch]);
        run(
            "ip",
            &[
                "-n",
                &switch,
                "link",
                "add",
                "br0",
                "type",
                "bridge",
                "mcast_snooping",
                "0",
            ],
        );
        run("ip", &["-n", &switch, "link", "set", "br0", "up"]);
        for i in 1..=n {
            let ns = format!("{prefix}-h{i}");
            run("ip", &["netns", "add", &ns]);
            lab.hosts.push(Host {
                ns: ns.clone(),
                v4: format!("192.0.2.{}", 10 + i),
                v6: format!("2001:db8::{}", 10 + i),
            });
            let port = format!("p{i}");
            run(
                "ip",
                &[
                    "-n", &ns, "link", "add", "eth0", "type", "veth", "peer", "name", &port,
                    "netns", &switch,
                ],
            );
            run(
                "ip",
                &["-n", &switch, "link", "set", &port, "master", "br0", "up"],
            );
            run("ip", &["-n", &ns, "link", "set", "lo", "up"]);
            run("ip", &["-n", &ns, "link", "set", "eth0", "up"]);
            run(
                "ip",
                &[
                    "-n",
                    &ns,
                    "addr",
                    "add",
                    &format!("192.0.2.{}/24", 10 + i),
                    "dev",
                    "eth0",
                ],
            );
            run(
                "ip",
                &[
                    "-n",
                    &ns,
                    "addr",
                    "add",
                    &format!("2001:db8::{}/64", 10 + i),
                    "dev",
                    "eth0",
                    "nodad",
                ],
            );
        }
        // IPv6 link-local addresses need their DAD to finish before VRRPv3 over IPv6 can use them.
        for h in &lab.hosts {
            let ready = super::wait_until(std::time::Duration::from_secs(5), || {
                h.link_local().is_some()
            });
            assert!(ready, "{}: no usable link-local address", h.ns);
        }
        lab
    }

    /// A path in the scratch directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Namespaces (of `hosts`) that hold `addr` on eth0.
    pub fn holders(&self, addr: &str) -> Vec<String> {
        self.hosts
            .iter()
            .filter(|h| h.has_addr(addr))
            .map(|h| h.ns.clone())
            .collect()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in self
            .hosts
            .iter()
            .map(|h| h.ns.clone())
            .chain([self.switch.clone()])
        {
            if let Ok(out) = Command::new("ip").args(["netns", "pids", &ns]).output() {
                for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                    let _ = Command::new("kill").args(["-9", pid]).status();
                }
            }
            let _ = Command::new("ip").args(["netns", "del", &ns]).status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Host {
    /// `ip -n NS args...`, stdout as text.
    pub fn ip(&self, args: &[&str]) -> String {
        let mut full = vec!["-n", self.ns.as_str()];
        full.extend_from_slice(args);
        String::from_utf8_lossy(&run("ip", &full).stdout).into_owned()
    }

    /// Whether eth0 holds `addr` (any prefix length).
    pub fn has_addr(&self, addr: &str) -> bool {
        self.has_addr_on("eth0", addr)
    }

    /// Whether `dev` exists and holds `addr` (any prefix length).
    pub fn has_addr_on(&self, dev: &str, addr: &str) -> bool {
        let out = Command::new("ip")
            .args(["-n", &self.ns, "addr", "show", "dev", dev])
            .output();
        out.is_ok_and(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .any(|w| w.split('/').next() == Some(addr))
        })
    }

    /// Deletes `addr/prefix` from eth0 if present (what a crashed host's reboot would do).
    pub fn del_addr(&self, cidr: &str) {
        let _ = Command::new("ip")
            .args(["-n", &self.ns, "addr", "del", cidr, "dev", "eth0"])
            .output();
    }

    /// The usable (non-tentative) link-local address of eth0.
    pub fn link_local(&self) -> Option<String> {
        let out = self.ip(&["-6", "addr", "show", "dev", "eth0", "scope", "link"]);
        if out.contains("tentative") {
            return None;
        }
        out.split_whitespace()
            .skip_while(|w| *w != "inet6")
            .nth(1)
            .and_then(|a| a.split('/').next())
            .map(str::to_owned)
    }
}
