//! Linux IPVS (IP Virtual Server) over generic netlink, for tokio.
//!
//! The crate speaks the kernel's `IPVS` generic netlink family (`<linux/ip_vs.h>`) directly:
//! services (TCP, UDP, SCTP or fwmark, IPv4 and IPv6) with their scheduler, flags and
//! persistence; destinations with their forwarding method, weight and thresholds; counters;
//! timeouts; sync daemons; and [`IpvsHandle::apply`] (the whole table) and
//! [`IpvsHandle::apply_service`] (one service, others left alone), which reconcile the kernel
//! with a desired state by sending only the commands needed.
//!
//! Layers, from the wire up:
//! - [`nla`]: one enum per attribute space, implementing the rust-netlink `Nla` traits, with
//!   an `Other` fallback so that attributes of newer kernels never fail a parse;
//! - [`raw`]: an allocation-free reader of the configuration in dump replies, used by
//!   [`IpvsHandle::state`] and [`IpvsHandle::apply`] (a no-op apply reads every destination);
//! - [`IpvsMessage`]: command + attributes, wrapped in `GenlMessage` on the socket;
//! - [`types`]: [`Service`], [`Destination`], [`Stats`], [`SyncDaemon`]... and their mapping to
//!   attributes;
//! - [`IpvsHandle`]: the async API, and [`Command`] for write operations (errno is mapped to
//!   typed [`Error`]s naming the object: [`Error::ServiceExists`], [`Error::NoSuchService`],
//!   [`Error::NoSuchDestination`], [`Error::NotLoaded`], [`Error::PermissionDenied`]...).
//!
//! Network namespaces: a netlink socket stays bound to the namespace it was created in.
//! [`IpvsHandle::new_in_netns`] creates it from a short-lived thread that entered the
//! namespace; [`IpvsHandle::from_socket`] takes a socket the caller opened.
//!
//! ```no_run
//! use ipvs_sys::{Destination, ForwardMethod, IpvsHandle, Scheduler, Service, ServiceKey};
//!
//! # async fn run() -> Result<(), ipvs_sys::Error> {
//! let ipvs = IpvsHandle::new().await?;
//! let key = ServiceKey::tcp("192.0.2.10:80".parse().expect("literal"));
//! ipvs.add_service(&Service::new(key, Scheduler::WeightedRoundRobin)).await?;
//! let real = Destination::new("198.51.100.1:8080".parse().expect("literal")).weight(10);
//! ipvs.add_destination(&key, &real).await?;
//! // A health checker drains it: weight 0 keeps live connections, sends no new ones.
//! ipvs.update_destination(&key, &real.weight(0)).await?;
//! for entry in ipvs.destinations(&key).await? {
//!     println!("{} weight {} active {}", entry.destination.addr, entry.destination.weight,
//!              entry.active_conns);
//! }
//! # let _ = ForwardMethod::DirectRoute;
//! # Ok(()) }
//! ```
//!
//! Reconciling a whole configuration (a reload):
//!
//! ```no_run
//! use ipvs_sys::{Desired, DesiredService, Destination, IpvsHandle, Scheduler, Service, ServiceKey};
//!
//! # async fn run() -> Result<(), ipvs_sys::Error> {
//! let ipvs = IpvsHandle::new().await?;
//! let key = ServiceKey::tcp("192.0.2.10:443".parse().expect("literal"));
//! let desired = Desired {
//!     services: vec![DesiredService {
//!         service: Service::new(key, Scheduler::RoundRobin).persistent(300),
//!         destinations: vec![Destination::new("198.51.100.1:443".parse().expect("literal"))],
//!     }],
//! };
//! let changes = ipvs.apply(&desired).await?;
//! println!("{} commands sent", changes.commands.len());
//! assert!(ipvs.apply(&desired).await?.is_empty()); // converged: nothing more to do
//! # Ok(()) }
//! ```
//!
//! A program that owns one virtual service among others' reconciles only that one: the
//! service is created if missing, leftovers of an earlier run are removed, and destinations
//! that stay keep their connections.
//!
//! ```no_run
//! use ipvs_sys::{DesiredService, Destination, ForwardMethod, IpvsHandle, Scheduler, Service,
//!                ServiceKey};
//!
//! # async fn run() -> Result<(), ipvs_sys::Error> {
//! let ipvs = IpvsHandle::new().await?;
//! let key = ServiceKey::tcp("192.0.2.100:80".parse().expect("literal"));
//! let mine = DesiredService {
//!     service: Service::new(key, Scheduler::WeightedRoundRobin),
//!     destinations: vec![Destination::new("192.0.2.21:80".parse().expect("literal"))
//!         .forward(ForwardMethod::DirectRoute)],
//! };
//! ipvs.apply_service(&mine).await?;
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]

mod apply;
mod command;
mod connection;
mod constants;
mod error;
mod handle;
mod message;
pub mod nla;
pub mod raw;
pub mod sync_daemons;
pub mod types;

pub use apply::{Changes, Desired, DesiredService, plan, plan_service};
pub use command::Command;
pub use error::Error;
pub use handle::IpvsHandle;
pub use message::{IpvsCmd, IpvsMessage};
pub use types::*;
