//! FRR in network namespaces, and the anycast test bed built on it.
//!
//! - [`config`]: the FRR configuration files (bgpd of an ECMP router and of an anycast node,
//!   bfdd's profile), also the working example the README's "Scaling out" section points to.
//! - [`daemons`]: zebra, bfdd and bgpd of one namespace, each with its own pid file, vty
//!   directory and zebra API socket, so several FRR instances run on one host without
//!   touching /etc/frr or /var/run/frr (nor the system's FRR service).
//! - [`bed`]: one upstream router (bgpd with ECMP and BFD), N anycast nodes each with its own
//!   bgpd peering with it, a backend per node, and a client behind the router.
//! - [`pair`]: one node and its router, the node's bgpd announcing only what a program tells
//!   it over vtysh (for `vrrp_net::anycast::FrrVtysh`).
//! - [`flows`]: long-lived keep-alive connections through the VIP, probed before and after an
//!   event to count the flows it moved; [`ecmp`]: which flows Linux's hash-threshold ECMP can
//!   move when the next hops change.
//!
//! Debian's FRR 8.4 (`apt-get install frr`: /usr/lib/frr/{zebra,bfdd,bgpd} and vtysh) is what
//! this was written against. Addresses: 192.0.2.0/24 (client side), 198.51.100.0/24 (node
//! segment), 203.0.113.0/24 (anycast VIPs). Failures panic: that is how a test bed reports.

#![allow(clippy::unwrap_used)]

pub mod bed;
pub mod config;
pub mod daemons;
pub mod ecmp;
pub mod flows;
pub mod pair;

pub use bed::{AnycastLab, Bfd, VIP};
pub use daemons::{FRR_DIR, Frr};
pub use flows::{Answer, Fate, Flows};
pub use pair::BgpPair;

/// The FRR programs a bed needs, for [`crate::privileged::require`].
pub const TOOLS: [&str; 5] = [
    "ip",
    "vtysh",
    "/usr/lib/frr/zebra",
    "/usr/lib/frr/bgpd",
    "/usr/lib/frr/bfdd",
];
