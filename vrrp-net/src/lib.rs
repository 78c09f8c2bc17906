//! Tokio glue for [`vrrp_core`]: real VRRP failover on a real network.
//!
//! - [`transport`]: raw IP protocol 112 sockets (IPv4 and IPv6, multicast and unicast, TTL /
//!   hop limit 255 sent, and read back on receipt from ancillary data), one per interface and
//!   family; an in-memory LAN for tests.
//! - [`vip`]: virtual addresses through rtnetlink (label, scope, IPv6 without DAD, idempotent,
//!   external removals noticed); a recording backend for tests.
//! - [`announce`]: gratuitous ARP and unsolicited neighbour advertisements over AF_PACKET.
//! - [`vmac`]: the optional virtual MAC macvlan.
//! - [`link`]: interface lookups and link state changes.
//! - [`supervisor`]: the crash supervisor, which sends priority 0 and removes the addresses
//!   when the process dies without a graceful stop.
//! - [`anycast`]: the active-active alternative to VRRP: a health-gated address owner whose
//!   addresses the node's BGP speaker announces to ECMP routers.
//! - [`driver`]: runs the routers of any number of instances in one loop, with a [`driver::Handle`]
//!   and an ordered [`driver::Events`] stream.
//!
//! Everything here needs `CAP_NET_RAW` and `CAP_NET_ADMIN` (or root) when used with the kernel.
//!
//! Adding VRRP failover to a tokio program:
//!
//! ```no_run
//! use futures::StreamExt;
//! use vrrp_core::{Centisecs, Family, RouterConfig, VirtualAddress};
//! use vrrp_net::driver::{Driver, Event, Instance, primary_address};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let primary = primary_address("eth0", Family::V4).await?;
//!     let config = RouterConfig::builder("VI_1", 51, primary)
//!         .priority(150)
//!         .advert_interval(Centisecs::new(100))
//!         .virtual_address(VirtualAddress::with_prefix("192.0.2.100".parse()?, 24))
//!         .build()?;
//!     let (driver, handle, mut events) =
//!         Driver::builder().instance(Instance::new(config, "eth0")).build().await?;
//!     tokio::spawn(driver.run());
//!     tokio::spawn(async move {
//!         let _ = tokio::signal::ctrl_c().await;
//!         let _ = handle.shutdown().await; // priority 0, VIPs removed
//!     });
//!     while let Some(event) = events.next().await {
//!         match event {
//!             Event::StateChanged { instance, to, .. } => println!("{instance} is now {to}"),
//!             Event::Stopped => break,
//!             other => eprintln!("{other:?}"),
//!         }
//!     }
//!     Ok(())
//! }
//! ```

/// The sans-IO protocol core this crate drives, re-exported so one dependency is enough.
pub use vrrp_core;

pub mod announce;
pub mod anycast;
pub mod bind;
pub mod driver;
pub mod error;
pub mod firewall;
pub mod link;
pub mod route;
pub mod supervisor;
pub mod transport;
pub mod vip;
pub mod vmac;

pub use error::{
    AnnounceError, DriverError, FirewallError, LinkError, SupervisorError, TransportError,
    VipError, VmacError,
};
