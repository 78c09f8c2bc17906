//! The anycast bed: an ECMP router, N nodes with their own bgpd, a backend per node, a
//! client.
//!
//! ```text
//! client 192.0.2.100 --- 192.0.2.1 router 198.51.100.1 --- switch (bridge br0) --+-- 198.51.100.1I node I (AS 6500I)
//!                            AS 65000, ECMP, L4 hash                             +-- 198.51.100.2I backend I
//! ```
//!
//! The nodes hang off a bridge: when a node dies (its switch port goes down) the router's
//! own port stays up, so BFD, not carrier loss, tells the router. The router hashes flows on
//! their ports (`fib_multipath_hash_policy=1`); the nodes do not forward (a packet for a VIP
//! that has just left `lo` is dropped, not sent back). Nothing announces the VIP until a
//! program on a node puts it on `lo`.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::config;
use super::daemons::Frr;
use crate::proxy_bed::lab::run;
use crate::proxy_bed::{Host, wait_until};

/// The anycast VIP.
pub const VIP: &str = "203.0.113.10";
/// The range the route maps let through.
const RANGE: &str = "203.0.113.0/24";
/// The router's AS; node I has 65000 + I.
const ROUTER_AS: u32 = 65000;
/// The router's address on the node segment.
const ROUTER_IP: &str = "198.51.100.1";

static SEQUENCE: AtomicUsize = AtomicUsize::new(0);

/// BFD timing of every session.
#[derive(Debug, Clone, Copy)]
pub struct Bfd {
    /// Transmit and receive interval.
    pub interval: Duration,
    /// Packets missed before the session goes down.
    pub multiplier: u8,
}

impl Bfd {
    /// How long a silent peer takes to be declared down.
    pub fn detection(&self) -> Duration {
        self.interval * u32::from(self.multiplier)
    }
}

impl Default for Bfd {
    /// 100 ms x 3.
    fn default() -> Self {
        Self {
            interval: Duration::from_millis(100),
            multiplier: 3,
        }
    }
}

/// The namespaces and FRR instances; dropping it kills what runs inside and deletes
/// everything.
pub struct AnycastLab {
    /// The namespace holding the bridge.
    pub switch: String,
    /// The router (its address on the node segment).
    pub router: Host,
    /// The client.
    pub client: Host,
    /// The nodes, `n1`...
    pub nodes: Vec<Host>,
    /// One backend host per node, `b1`...
    pub backends: Vec<Host>,
    /// The router's FRR.
    pub router_frr: Frr,
    /// Each node's FRR.
    pub node_frr: Vec<Frr>,
    /// The BFD timing.
    pub bfd: Bfd,
    /// Scratch directory (FRR files, logs).
    pub dir: PathBuf,
}

impl AnycastLab {
    /// Builds the bed with `nodes` nodes and waits until every BGP session is established.
    pub fn new(nodes: usize, bfd: Bfd) -> AnycastLab {
        let seq = SEQUENCE.fetch_add(1, Ordering::Relaxed);
        let prefix = format!("ac{}x{seq}", std::process::id() % 100_000);
        let dir = std::env::temp_dir().join(format!("anycast-{prefix}"));
        std::fs::create_dir_all(&dir).unwrap();
        // The daemons run as user frr and must reach their directories.
        run("chmod", &["755", &dir.display().to_string()]);
        let host = |role: &str, v4: String| Host {
            role: role.to_owned(),
            ns: format!("{prefix}-{role}"),
            v4,
        };
        let switch = format!("{prefix}-sw");
        let router = host("rtr", ROUTER_IP.to_owned());
        let client = host("cli", "192.0.2.100".to_owned());
        let node_hosts: Vec<Host> = (1..=nodes)
            .map(|i| host(&format!("n{i}"), format!("198.51.100.{}", 10 + i)))
            .collect();
        let backends: Vec<Host> = (1..=nodes)
            .map(|i| host(&format!("b{i}"), format!("198.51.100.{}", 20 + i)))
            .collect();
        let created: Vec<String> = [switch.clone(), router.ns.clone(), client.ns.clone()]
            .into_iter()
            .chain(node_hosts.iter().chain(&backends).map(|h| h.ns.clone()))
            .collect();
        // Namespaces first, so that a failure below still deletes them (`Cleanup`).
        let cleanup = Cleanup(created.clone());
        for ns in &created {
            run("ip", &["netns", "add", ns]);
            run("ip", &["-n", ns, "link", "set", "lo", "up"]);
        }
        topology(&switch, &router, &client, &node_hosts, &backends);
        let router_frr = Frr::start(
            &router.ns,
            &dir.join("rtr"),
            &config::zebra("rtr"),
            &config::bfdd("rtr", millis(bfd.interval), bfd.multiplier),
            &config::router_bgpd(
                "rtr",
                ROUTER_AS,
                ROUTER_IP,
                &node_hosts.iter().map(|h| h.v4.clone()).collect::<Vec<_>>(),
                RANGE,
            ),
        );
        let node_frr: Vec<Frr> = node_hosts
            .iter()
            .enumerate()
            .map(|(i, h)| {
                Frr::start(
                    &h.ns,
                    &dir.join(&h.role),
                    &config::zebra(&h.role),
                    &config::bfdd(&h.role, millis(bfd.interval), bfd.multiplier),
                    &config::node_bgpd(
                        &h.role,
                        ROUTER_AS + 1 + i as u32,
                        &h.v4,
                        ROUTER_IP,
                        ROUTER_AS,
                        RANGE,
                    ),
                )
            })
            .collect();
        std::mem::forget(cleanup); // the lab's own Drop takes over
        let lab = AnycastLab {
            switch,
            router,
            client,
            nodes: node_hosts,
            backends,
            router_frr,
            node_frr,
            bfd,
            dir,
        };
        let up = wait_until(Duration::from_secs(20), || {
            lab.router_frr.bgp_established() == nodes
        });
        assert!(
            up,
            "BGP sessions did not come up\n{}",
            lab.router_frr.log("bgpd")
        );
        lab
    }

    /// The router's next hops for the VIP (node addresses), in the kernel's order.
    pub fn next_hops(&self) -> Vec<String> {
        route_next_hops(&self.router.ns, VIP)
    }

    /// Waits until the router's route for the VIP has `paths` next hops; when it had them.
    pub fn wait_paths(&self, paths: usize, limit: Duration) -> Option<Instant> {
        wait_until(limit, || self.next_hops().len() == paths).then(Instant::now)
    }

    /// Waits until the router has `sessions` BFD sessions up (BGP comes up first: a node
    /// lost before its BFD session is up is caught only by the BGP hold timer).
    pub fn wait_bfd(&self, sessions: usize, limit: Duration) -> bool {
        wait_until(limit, || self.router_frr.bfd_up() == sessions)
    }

    /// The node named `role` (`n1`...).
    pub fn node(&self, role: &str) -> &Host {
        self.nodes.iter().find(|h| h.role == role).unwrap()
    }

    /// Whether `role` has the VIP on `lo`.
    pub fn has_vip(&self, role: &str) -> bool {
        let out = Command::new("ip")
            .args(["-n", &self.node(role).ns, "-o", "addr", "show", "dev", "lo"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).contains(&format!("{VIP}/32"))
    }

    /// Takes a node off the switch (its port down: no carrier loss seen by the router, no
    /// RST, no ICMP) or puts it back.
    pub fn set_port(&self, role: &str, up: bool) {
        let state = if up { "up" } else { "down" };
        run("ip", &["-n", &self.switch, "link", "set", role, state]);
    }

    /// A path in the scratch directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Every namespace of the bed.
    fn namespaces(&self) -> Vec<String> {
        [
            self.switch.clone(),
            self.router.ns.clone(),
            self.client.ns.clone(),
        ]
        .into_iter()
        .chain(
            self.nodes
                .iter()
                .chain(&self.backends)
                .map(|h| h.ns.clone()),
        )
        .collect()
    }
}

fn millis(d: Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap()
}

/// Links, addresses, routes and forwarding settings.
fn topology(switch: &str, router: &Host, client: &Host, nodes: &[Host], backends: &[Host]) {
    let sw = |args: &[&str]| run("ip", &[&["-n", switch][..], args].concat());
    sw(&["link", "add", "br0", "type", "bridge"]);
    sw(&["link", "set", "br0", "up"]);
    // router <-> client: a point-to-point veth on 192.0.2.0/24.
    router.ip(&[
        "link", "add", "cli", "type", "veth", "peer", "name", "eth0", "netns", &client.ns,
    ]);
    router.ip(&["addr", "add", "192.0.2.1/24", "dev", "cli"]);
    router.ip(&["link", "set", "cli", "up"]);
    client.ip(&["addr", "add", &format!("{}/24", client.v4), "dev", "eth0"]);
    client.ip(&["link", "set", "eth0", "up"]);
    client.ip(&["route", "add", "default", "via", "192.0.2.1"]);
    // router <-> switch: the node segment.
    router.ip(&[
        "link", "add", "nodes", "type", "veth", "peer", "name", "rtr", "netns", switch,
    ]);
    sw(&["link", "set", "rtr", "master", "br0", "up"]);
    router.ip(&["addr", "add", &format!("{ROUTER_IP}/24"), "dev", "nodes"]);
    router.ip(&["link", "set", "nodes", "up"]);
    for h in nodes.iter().chain(backends) {
        h.ip(&[
            "link", "add", "eth0", "type", "veth", "peer", "name", &h.role, "netns", switch,
        ]);
        sw(&["link", "set", &h.role, "master", "br0", "up"]);
        h.ip(&["addr", "add", &format!("{}/24", h.v4), "dev", "eth0"]);
        h.ip(&["link", "set", "eth0", "up"]);
        h.ip(&["route", "add", "default", "via", ROUTER_IP]);
    }
    // Per namespace, like every net.ipv4 setting: the router forwards and hashes on L4
    // ports (policy 0 would send all of one client's connections to one node).
    sysctl(
        &router.ns,
        &[
            "net.ipv4.ip_forward=1",
            "net.ipv4.fib_multipath_hash_policy=1",
        ],
    );
    for h in nodes {
        // A new namespace inherits init_net's IPv4 settings: say it.
        sysctl(&h.ns, &["net.ipv4.ip_forward=0"]);
    }
}

fn sysctl(ns: &str, settings: &[&str]) {
    run(
        "ip",
        &[&["netns", "exec", ns, "sysctl", "-qw"][..], settings].concat(),
    );
}

/// The next hops (`via` addresses) of namespace `ns`'s kernel route to `address`
/// (`ip route show ADDRESS`), in the kernel's order.
pub(super) fn route_next_hops(ns: &str, address: &str) -> Vec<String> {
    let out = Command::new("ip")
        .args(["-n", ns, "route", "show", address])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let words: Vec<&str> = text.split_whitespace().collect();
    words
        .windows(2)
        .filter(|w| w[0] == "via")
        .map(|w| w[1].to_owned())
        .collect()
}

/// Deletes namespaces, killing what runs inside (only the bed's own: the caller names them).
pub(super) fn delete_namespaces(namespaces: &[String]) {
    for ns in namespaces {
        if let Ok(out) = Command::new("ip").args(["netns", "pids", ns]).output() {
            for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let _ = Command::new("kill").args(["-9", pid]).status();
            }
        }
        let _ = Command::new("ip").args(["netns", "del", ns]).status();
    }
}

/// Deletes the namespaces if building a bed fails half-way.
pub(super) struct Cleanup(pub(super) Vec<String>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        delete_namespaces(&self.0);
    }
}

impl Drop for AnycastLab {
    fn drop(&mut self) {
        self.router_frr.kill();
        for frr in &mut self.node_frr {
            frr.kill();
        }
        delete_namespaces(&self.namespaces());
        if std::env::var_os("ANYCAST_KEEP_LOGS").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
