//! One anycast node and its router, for a program that tells its own bgpd what to announce.
//!
//! ```text
//! router 198.51.100.1 (AS 65000) --- veth --- 198.51.100.11 node n1 (AS 65001)
//! ```
//!
//! Both run zebra, bfdd and bgpd ([`Frr`]) with the configuration of the anycast bed, except
//! that the node's bgpd redistributes nothing ([`config::node_bgpd_networks`]): a prefix
//! reaches the router only through a `network` statement given over vtysh (the node's
//! [`Frr::dir`] is its `--vty_socket` directory), and only while the prefix is in the node's
//! RIB (bgpd's `network import-check`). No addresses are on `lo` until the test puts them
//! there.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::bed::{Cleanup, delete_namespaces, route_next_hops};
use super::config;
use super::daemons::Frr;
use crate::proxy_bed::lab::run;
use crate::proxy_bed::{Host, wait_until};

/// The router's AS.
pub const ROUTER_AS: u32 = 65000;
/// The node's AS.
pub const NODE_AS: u32 = 65001;
/// The router's address.
pub const ROUTER_IP: &str = "198.51.100.1";
/// The node's address (the next hop the router learns).
pub const NODE_IP: &str = "198.51.100.11";
/// The range the route maps let through.
const RANGE: &str = "203.0.113.0/24";

static SEQUENCE: AtomicUsize = AtomicUsize::new(0);

/// The two namespaces and their FRR; dropping it kills the daemons and deletes both.
pub struct BgpPair {
    /// The router.
    pub router: Host,
    /// The node.
    pub node: Host,
    /// The router's FRR.
    pub router_frr: Frr,
    /// The node's FRR; `node_frr.dir` is the vty directory to give vtysh.
    pub node_frr: Frr,
    dir: PathBuf,
    namespaces: Vec<String>,
}

impl BgpPair {
    /// Builds the pair and waits until the BGP session is established.
    pub fn new() -> BgpPair {
        let seq = SEQUENCE.fetch_add(1, Ordering::Relaxed);
        let prefix = format!("bp{}x{seq}", std::process::id() % 100_000);
        let dir = std::env::temp_dir().join(format!("bgp-pair-{prefix}"));
        std::fs::create_dir_all(&dir).unwrap();
        // The daemons run as user frr and must reach their directories.
        run("chmod", &["755", &dir.display().to_string()]);
        let router = Host {
            role: "rtr".to_owned(),
            ns: format!("{prefix}-rtr"),
            v4: ROUTER_IP.to_owned(),
        };
        let node = Host {
            role: "n1".to_owned(),
            ns: format!("{prefix}-n1"),
            v4: NODE_IP.to_owned(),
        };
        let namespaces = vec![router.ns.clone(), node.ns.clone()];
        // Namespaces first, so that a failure below still deletes them.
        let cleanup = Cleanup(namespaces.clone());
        for ns in &namespaces {
            run("ip", &["netns", "add", ns]);
            run("ip", &["-n", ns, "link", "set", "lo", "up"]);
        }
        router.ip(&[
            "link", "add", "nodes", "type", "veth", "peer", "name", "eth0", "netns", &node.ns,
        ]);
        router.ip(&["addr", "add", &format!("{ROUTER_IP}/24"), "dev", "nodes"]);
        router.ip(&["link", "set", "nodes", "up"]);
        node.ip(&["addr", "add", &format!("{NODE_IP}/24"), "dev", "eth0"]);
        node.ip(&["link", "set", "eth0", "up"]);
        let bfd = |host: &str| config::bfdd(host, 100, 3);
        let router_frr = Frr::start(
            &router.ns,
            &dir.join("rtr"),
            &config::zebra("rtr"),
            &bfd("rtr"),
            &config::router_bgpd("rtr", ROUTER_AS, ROUTER_IP, &[NODE_IP.to_owned()], RANGE),
        );
        let node_frr = Frr::start(
            &node.ns,
            &dir.join("n1"),
            &config::zebra("n1"),
            &bfd("n1"),
            &config::node_bgpd_networks("n1", NODE_AS, NODE_IP, ROUTER_IP, ROUTER_AS, RANGE),
        );
        std::mem::forget(cleanup); // the pair's own Drop takes over
        let pair = BgpPair {
            router,
            node,
            router_frr,
            node_frr,
            dir,
            namespaces,
        };
        let up = wait_until(Duration::from_secs(20), || {
            pair.router_frr.bgp_established() == 1
        });
        assert!(
            up,
            "the BGP session did not come up\n{}\n{}",
            pair.router_frr.log("bgpd"),
            pair.node_frr.log("bgpd")
        );
        pair
    }

    /// The next hops of `prefix` (`203.0.113.10/32`) in the router's BGP table (`show bgp
    /// ipv4 unicast json`), one per path; empty when the router has no such route.
    pub fn bgp_next_hops(&self, prefix: &str) -> Vec<String> {
        let json = self.router_frr.vtysh(&["show bgp ipv4 unicast json"]);
        let compact: String = json.split_whitespace().collect();
        assert!(compact.contains("\"routes\":{"), "not a BGP table: {json}");
        let Some(start) = compact.find(&format!("\"{prefix}\":[")) else {
            return Vec::new();
        };
        // The prefix's array of paths, up to its closing bracket.
        let paths = &compact[start + prefix.len() + 3..];
        let mut depth = 1usize;
        let end = paths
            .char_indices()
            .find(|&(_, c)| {
                match c {
                    '[' => depth += 1,
                    ']' => depth -= 1,
                    _ => {}
                }
                depth == 0
            })
            .map_or(paths.len(), |(i, _)| i);
        paths[..end]
            .split("\"ip\":\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .map(str::to_owned)
            .collect()
    }

    /// The next hops of the router's kernel route to `address` (`ip route show ADDRESS`).
    pub fn kernel_next_hops(&self, address: &str) -> Vec<String> {
        route_next_hops(&self.router.ns, address)
    }

    /// The `network` statements in the node's bgpd configuration (`show running-config`).
    pub fn node_networks(&self) -> Vec<String> {
        self.node_frr
            .vtysh(&["show running-config bgpd"])
            .lines()
            .filter_map(|l| l.trim().strip_prefix("network "))
            .map(str::to_owned)
            .collect()
    }
}

impl Default for BgpPair {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for BgpPair {
    fn drop(&mut self) {
        self.router_frr.kill();
        self.node_frr.kill();
        delete_namespaces(&self.namespaces);
        if std::env::var_os("ANYCAST_KEEP_LOGS").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
