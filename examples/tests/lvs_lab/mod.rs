//! The LVS-DR lab of the classic keepalived tutorials, inside the IPVS test VM: network
//! namespaces on one bridge, real servers and a client run by the test process itself, and
//! `lvs-director` processes whose stdout reports their view.
#![allow(dead_code, clippy::unwrap_used)]

pub(crate) mod anycast;
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
/// The anycast scenario's VIP: off the LAN, on the directors' `lo`, reached through a route.
pub(crate) const ANYCAST_VIP: &str = "203.0.113.10";

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
        self.make_real_server_for(name, VIP);
    }

    /// Makes host `name` a direct-routing real server of `vip`.
    pub(crate) fn make_real_server_for(&self, name: &str, vip: &str) {
        self.ip(&[
            "-n",
            &Lab::ns(name),
            "addr",
            "add",
            &format!("{vip}/32"),
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

    /// Routes `vip` from host `name` through the LAN address `via` (what an ECMP router's
    /// next hop change does to one flow).
    pub(crate) fn route_via(&self, name: &str, vip: &str, via: &str) {
        let dest = format!("{vip}/32");
        self.ip(&[
            "-n",
            &Lab::ns(name),
            "route",
            "replace",
            &dest,
            "via",
            via,
            "dev",
            "eth0",
        ]);
    }

    /// `ipvsadm -L --daemon` in host `name`'s namespace, one line per sync daemon.
    pub(crate) fn sync_daemons(&self, name: &str) -> String {
        let out = self
            .command_in(name, "ipvsadm")
            .args(["-L", "--daemon"])
            .output()
            .unwrap();
        assert!(out.status.success(), "ipvsadm -L --daemon in {name} failed");
        String::from_utf8_lossy(&out.stdout).into_owned()
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
            ["TCP", addr, sched, rest @ ..] => {
                // scheduler flags: `mh (mh-fallback,mh-port)`
                let flags = rest.first().filter(|w| w.starts_with('('));
                service = Some(match flags {
                    Some(flags) => format!("table tcp {addr} {sched} {flags}"),
                    None => format!("table tcp {addr} {sched}"),
                });
            }
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

/// Runs `f` on a thread inside host `name`'s namespace (sockets it opens stay there).
pub(crate) fn in_namespace<T: Send>(name: &str, f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                enter(name);
                f()
            })
            .join()
            .unwrap()
    })
}

/// One IPVS connection as `/proc/net/ip_vs_conn_sync` lists it (IPv4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Conn {
    /// The client's address and port.
    pub(crate) client: std::net::SocketAddrV4,
    /// The real server's address.
    pub(crate) real: std::net::Ipv4Addr,
    /// The TCP state (`ESTABLISHED`...).
    pub(crate) state: String,
    /// Learnt from another director's sync daemon (`Origin` is `SYNC`, not `LOCAL`).
    pub(crate) synced: bool,
}

/// The IPVS connections of host `name`'s namespace.
pub(crate) fn connections(name: &str) -> Vec<Conn> {
    let text = in_namespace(name, || {
        std::fs::read_to_string("/proc/thread-self/net/ip_vs_conn_sync").unwrap()
    });
    text.lines().skip(1).filter_map(parse_conn).collect()
}

/// `TCP C0000232 9C41 CB00710A 0050 C0000215 0050 ESTABLISHED SYNC 899`.
fn parse_conn(line: &str) -> Option<Conn> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let [_, caddr, cport, _, _, daddr, _, state, origin, ..] = words.as_slice() else {
        return None;
    };
    let ip = |hex: &str| {
        u32::from_str_radix(hex, 16)
            .ok()
            .map(std::net::Ipv4Addr::from)
    };
    Some(Conn {
        client: std::net::SocketAddrV4::new(ip(caddr)?, u16::from_str_radix(cport, 16).ok()?),
        real: ip(daddr)?,
        state: (*state).to_owned(),
        synced: origin.eq_ignore_ascii_case("sync"),
    })
}
