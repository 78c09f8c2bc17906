//! FRR configuration files for the anycast bed.
//!
//! Node: redistribute the connected routes inside the anycast range (the VIPs on `lo`),
//! nothing else; router: accept host routes of that range from every node, install up to
//! 16 equal paths, BFD on every session. FRR 8 enforces RFC 8212 on eBGP (no policy, no
//! routes), hence the explicit `in` and `out` route maps on both sides.

use std::fmt::Write as _;

/// zebra.conf.
pub fn zebra(hostname: &str) -> String {
    format!("hostname {hostname}\n")
}

/// bfdd.conf: profile `fast`, `interval_ms` both ways, `multiplier` missed packets.
pub fn bfdd(hostname: &str, interval_ms: u32, multiplier: u8) -> String {
    format!(
        "hostname {hostname}
log timestamp precision 3
bfd
 profile fast
  detect-multiplier {multiplier}
  receive-interval {interval_ms}
  transmit-interval {interval_ms}
 exit
exit
"
    )
}

/// bgpd.conf of the upstream router: AS `asn`, one eBGP session with BFD per node address,
/// ECMP across nodes of different ASes (`multipath-relax`), only host routes of `range`
/// accepted, nothing sent.
pub fn router_bgpd(
    hostname: &str,
    asn: u32,
    router_id: &str,
    nodes: &[String],
    range: &str,
) -> String {
    let mut c = format!(
        "frr defaults traditional
hostname {hostname}
log timestamp precision 3
ip prefix-list ANYCAST seq 10 permit {range} le 32
route-map FROM-NODES permit 10
 match ip address prefix-list ANYCAST
exit
route-map NOTHING deny 10
exit
router bgp {asn}
 bgp router-id {router_id}
 bgp log-neighbor-changes
 bgp bestpath as-path multipath-relax
 timers bgp 3 9
 neighbor NODES peer-group
 neighbor NODES remote-as external
 neighbor NODES bfd
 neighbor NODES bfd profile fast
 neighbor NODES timers connect 1
"
    );
    for n in nodes {
        let _ = writeln!(c, " neighbor {n} peer-group NODES");
    }
    c.push_str(
        " address-family ipv4 unicast
  maximum-paths 16
  neighbor NODES route-map FROM-NODES in
  neighbor NODES route-map NOTHING out
 exit-address-family
exit
",
    );
    c
}

/// bgpd.conf of an anycast node: AS `asn`, one session with BFD to the router, announcing
/// the connected routes inside `range` (its VIPs on `lo`) and accepting nothing.
pub fn node_bgpd(
    hostname: &str,
    asn: u32,
    router_id: &str,
    router: &str,
    router_asn: u32,
    range: &str,
) -> String {
    node(hostname, asn, router_id, router, router_asn, range, true)
}

/// bgpd.conf of an anycast node whose program tells bgpd what to announce (`network`
/// statements through vtysh, `vrrp_net::anycast::FrrVtysh`): as [`node_bgpd`] without
/// `redistribute connected`, so only those statements reach the router (still only inside
/// `range`).
pub fn node_bgpd_networks(
    hostname: &str,
    asn: u32,
    router_id: &str,
    router: &str,
    router_asn: u32,
    range: &str,
) -> String {
    node(hostname, asn, router_id, router, router_asn, range, false)
}

fn node(
    hostname: &str,
    asn: u32,
    router_id: &str,
    router: &str,
    router_asn: u32,
    range: &str,
    redistribute: bool,
) -> String {
    let redistribute = if redistribute {
        "  redistribute connected route-map VIPS\n"
    } else {
        ""
    };
    format!(
        "frr defaults traditional
hostname {hostname}
log timestamp precision 3
ip prefix-list VIPS seq 10 permit {range} le 32
route-map VIPS permit 10
 match ip address prefix-list VIPS
exit
route-map NOTHING deny 10
exit
router bgp {asn}
 bgp router-id {router_id}
 bgp log-neighbor-changes
 timers bgp 3 9
 neighbor {router} remote-as {router_asn}
 neighbor {router} bfd
 neighbor {router} bfd profile fast
 neighbor {router} timers connect 1
 address-family ipv4 unicast
{redistribute}  neighbor {router} route-map VIPS out
  neighbor {router} route-map NOTHING in
 exit-address-family
exit
"
    )
}
