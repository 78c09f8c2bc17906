//! Namespaces: one bridge (`mcast_snooping 0`, so VRRP multicast is flooded) and hosts
//! whose `eth0` is a veth port on it.

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
    /// The namespace holding the bridge `br0`.
    pub switch: String,
    /// The hosts by role.
    pub hosts: Vec<Host>,
    /// A scratch directory for logs.
    pub dir: PathBuf,
}

/// One host namespace.
#[derive(Debug, Clone)]
pub struct Host {
    /// Role in the bed (`p1`, `b2`, `c`...), also its bridge port name.
    pub role: String,
    /// Namespace name.
    pub ns: String,
    /// IPv4 address on eth0.
    pub v4: String,
}

impl Lab {
    /// Builds a bridge and one host per `(role, last octet)`.
    pub fn new(hosts: &[(&str, u8)]) -> Lab {
        let seq = SEQUENCE.fetch_add(1, Ordering::Relaxed);
        let prefix = format!("vp{}x{seq}", std::process::id() % 100_000);
        let switch = format!("{prefix}-sw");
        let dir = std::env::temp_dir().join(format!("vip-proxy-{prefix}"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut lab = Lab {
            switch: switch.clone(),
            hosts: Vec::new(),
            dir,
        };
        run("ip", &["netns", "add", &switch]);
        let sw = ["-n", switch.as_str()];
        run(
            "ip",
            &[&sw[..], &["link", "add", "br0", "type", "bridge"]].concat(),
        );
        run(
            "ip",
            &[
                &sw[..],
                &[
                    "link",
                    "set",
                    "br0",
                    "type",
                    "bridge",
                    "mcast_snooping",
                    "0",
                ],
            ]
            .concat(),
        );
        run("ip", &[&sw[..], &["link", "set", "br0", "up"]].concat());
        for (role, octet) in hosts {
            let ns = format!("{prefix}-{role}");
            run("ip", &["netns", "add", &ns]);
            let host = Host {
                role: (*role).to_owned(),
                ns: ns.clone(),
                v4: format!("192.0.2.{octet}"),
            };
            lab.hosts.push(host.clone());
            run(
                "ip",
                &[
                    "-n", &ns, "link", "add", "eth0", "type", "veth", "peer", "name", role,
                    "netns", &switch,
                ],
            );
            run(
                "ip",
                &[&sw[..], &["link", "set", role, "master", "br0", "up"]].concat(),
            );
            host.ip(&["link", "set", "lo", "up"]);
            host.ip(&["link", "set", "eth0", "up"]);
            host.ip(&["addr", "add", &format!("{}/24", host.v4), "dev", "eth0"]);
        }
        lab
    }

    /// The host playing `role`.
    pub fn host(&self, role: &str) -> &Host {
        self.hosts.iter().find(|h| h.role == role).unwrap()
    }

    /// A path in the scratch directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Roles of the hosts holding `addr` on eth0.
    pub fn holders(&self, addr: &str) -> Vec<String> {
        self.hosts
            .iter()
            .filter(|h| h.has_addr(addr))
            .map(|h| h.role.clone())
            .collect()
    }

    /// Takes a host off the bridge (`down`) or puts it back: no RST, no ICMP.
    pub fn set_port(&self, role: &str, up: bool) {
        let state = if up { "up" } else { "down" };
        run("ip", &["-n", &self.switch, "link", "set", role, state]);
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
            // Only the processes inside this test's own namespaces.
            if let Ok(out) = Command::new("ip").args(["netns", "pids", &ns]).output() {
                for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                    let _ = Command::new("kill").args(["-9", pid]).status();
                }
            }
            let _ = Command::new("ip").args(["netns", "del", &ns]).status();
        }
        if std::env::var_os("VIP_PROXY_KEEP_LOGS").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

impl Host {
    /// `ip -n NS args...`, stdout as text; panics when it fails.
    pub fn ip(&self, args: &[&str]) -> String {
        let full = [&["-n", self.ns.as_str()][..], args].concat();
        String::from_utf8_lossy(&run("ip", &full).stdout).into_owned()
    }

    /// Whether eth0 holds `addr` (any prefix length).
    pub fn has_addr(&self, addr: &str) -> bool {
        let out = Command::new("ip")
            .args(["-n", &self.ns, "addr", "show", "dev", "eth0"])
            .output();
        out.is_ok_and(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .any(|w| w.split('/').next() == Some(addr))
        })
    }

    /// Deletes `cidr` from eth0 if present (what a crashed host's reboot would do).
    pub fn del_addr(&self, cidr: &str) {
        let _ = Command::new("ip")
            .args(["-n", &self.ns, "addr", "del", cidr, "dev", "eth0"])
            .output();
    }
}
