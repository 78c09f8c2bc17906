//! The LVS-DR lab of the classic keepalived tutorials, inside the IPVS test VM: network
//! namespaces on one bridge, real servers and a client run by the test process itself, and
//! `lvs-director` processes whose stdout reports their view.
#![allow(dead_code, clippy::unwrap_used)]

pub(crate) mod director;
pub(crate) mod servers;

use std::fs::File;
use std::path::PathBuf;
use std::process::Command;

/// The lvs-director binary (same path inside the VM).
pub(crate) const DIRECTOR_ENV: &str = "IPVS_LVS_DIRECTOR";
/// iproute2's `ip` inside the VM (busybox's cannot do namespaces or veth).
pub(crate) const IP_ENV: &str = "IPVS_LVS_IP";

/// The virtual address and the LAN's prefix.
pub(crate) const VIP: &str = "192.0.2.100";
/// Prefix length of the lab LAN.
pub(crate) const PREFIX: u8 = 24;

pub(crate) use testbed::ipvs_vm::in_vm;
pub(crate) use testbed::privileged::skip as skip_privileged;

/// Namespaces `lvs-<name>` joined by bridge `lvs-br0` in the VM's initial namespace; each
/// has `eth0` with 192.0.2.`<host>`/24. Deleted on drop.
#[derive(Debug)]
pub(crate) struct Lab {
    ip: PathBuf,
    hosts: Vec<(String, u8)>,
}

impl Lab {
    /// Builds the LAN for `hosts` (name, last address byte).
    pub(crate) fn create(hosts: &[(&str, u8)]) -> Lab {
        assert!(
            in_vm(),
            "changes namespaces and IPVS: runs only inside the test VM"
        );
        let ip = PathBuf::from(std::env::var(IP_ENV).unwrap());
        std::fs::create_dir_all("/run/netns").unwrap();
        let lab = Lab {
            ip,
            hosts: hosts.iter().map(|&(n, a)| (n.to_owned(), a)).collect(),
        };
        lab.ip(&["link", "add", "lvs-br0", "type", "bridge"]);
        lab.ip(&["link", "set", "lvs-br0", "up"]);
        for (name, host) in &lab.hosts {
            let ns = Lab::ns(name);
            let port = Lab::port(name);
            lab.ip(&["netns", "add", &ns]);
            lab.ip(&[
                "link", "add", &port, "type", "veth", "peer", "name", "eth0", "netns", &ns,
            ]);
            lab.ip(&["link", "set", &port, "master", "lvs-br0", "up"]);
            let addr = format!("192.0.2.{host}/{PREFIX}");
            lab.ip(&["-n", &ns, "addr", "add", &addr, "dev", "eth0"]);
            lab.ip(&["-n", &ns, "link", "set", "eth0", "up"]);
            lab.ip(&["-n", &ns, "link", "set", "lo", "up"]);
        }
        lab
    }

    /// The namespace of host `name`.
    pub(crate) fn ns(name: &str) -> String {
        format!("lvs-{name}")
    }

    /// The bridge port (init namespace side of the veth) of host `name`.
    pub(crate) fn port(name: &str) -> String {
        format!("lvs-p-{name}")
    }

    /// `/run/netns/lvs-<name>`.
    pub(crate) fn ns_path(name: &str) -> PathBuf {
        PathBuf::from("/run/netns").join(Lab::ns(name))
    }

    /// Runs `ip ARGS` and returns stdout; panics on failure.
    pub(crate) fn ip(&self, args: &[&str]) -> String {
        let out = Command::new(&self.ip).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A command that runs `program` inside host `name`'s namespace.
    pub(crate) fn command_in(&self, name: &str, program: &str) -> Command {
        let mut c = Command::new(&self.ip);
        c.args(["netns", "exec", &Lab::ns(name), program]);
        c
    }

    /// Runs a shell command inside host `name`'s namespace; panics on failure.
    pub(crate) fn sh_in(&self, name: &str, script: &str) -> String {
        let out = self
            .command_in(name, "/bin/sh")
            .args(["-c", script])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{script} in {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Makes host `name` a direct-routing real server: VIP on `lo`, `arp_ignore=1`,
    /// `arp_announce=2`.
    pub(crate) fn make_real_server(&self, name: &str) {
        self.ip(&[
            "-n",
            &Lab::ns(name),
            "addr",
            "add",
            &format!("{VIP}/32"),
            "dev",
            "lo",
        ]);
        self.sh_in(
            name,
            "for i in all eth0; do echo 1 >/proc/sys/net/ipv4/conf/$i/arp_ignore; \
             echo 2 >/proc/sys/net/ipv4/conf/$i/arp_announce; done",
        );
    }

    /// Takes host `name` off the LAN (its bridge port down), as if it lost power.
    pub(crate) fn unplug(&self, name: &str) {
        self.ip(&["link", "set", &Lab::port(name), "down"]);
    }

    /// Puts host `name` back on the LAN.
    pub(crate) fn plug(&self, name: &str) {
        self.ip(&["link", "set", &Lab::port(name), "up"]);
    }

    /// The IPVS table of host `name` as `ipvsadm -L -n` shows it, in the director's
    /// `table` line format (`table tcp VIP:PORT SCHED ADDR=WEIGHT...`); empty when
    /// there is no service.
    pub(crate) fn ipvsadm_table(&self, name: &str) -> String {
        let out = self
            .command_in(name, "ipvsadm")
            .args(["-L", "-n"])
            .output()
            .unwrap();
        assert!(out.status.success(), "ipvsadm -L -n in {name} failed");
        parse_ipvsadm(&String::from_utf8_lossy(&out.stdout))
    }

    /// Whether host `name` holds address `addr` on any interface.
    pub(crate) fn has_address(&self, name: &str, addr: &str) -> bool {
        let out = self.ip(&["-n", &Lab::ns(name), "-o", "addr", "show"]);
        out.split_whitespace()
            .any(|w| w.split('/').next() == Some(addr))
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for (name, _) in &self.hosts {
            // Deleting one end of a veth deletes the pair at once; a namespace's own
            // teardown (and its end) happens later, asynchronously.
            let _ = Command::new(&self.ip)
                .args(["link", "del", &Lab::port(name)])
                .status();
            let _ = Command::new(&self.ip)
                .args(["netns", "del", &Lab::ns(name)])
                .status();
        }
        let _ = Command::new(&self.ip)
            .args(["link", "del", "lvs-br0"])
            .status();
    }
}

/// `ipvsadm -L -n` output (one TCP service at most) in the director's line format.
pub(crate) fn parse_ipvsadm(text: &str) -> String {
    let mut service = None;
    let mut dests: Vec<(std::net::SocketAddr, String)> = Vec::new();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["TCP", addr, sched, ..] => service = Some(format!("table tcp {addr} {sched}")),
            ["->", addr, _forward, weight, ..] if *addr != "RemoteAddress:Port" => {
                dests.push((addr.parse().unwrap(), format!("{addr}={weight}")));
            }
            _ => {}
        }
    }
    let Some(mut line) = service else {
        return String::new();
    };
    dests.sort();
    for (_, d) in dests {
        line.push(' ');
        line.push_str(&d);
    }
    line
}

/// Enters host `name`'s network namespace on the calling thread.
pub(crate) fn enter(name: &str) {
    let ns = File::open(Lab::ns_path(name)).unwrap();
    nix::sched::setns(ns, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
}
