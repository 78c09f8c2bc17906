//! Anycast: a health-gated address owner for active-active nodes behind ECMP routers.
//!
//! VRRP gives a VIP one active node. To scale out, every node holds the same address on `lo`
//! (or a dummy interface) while it is healthy, and the node's own BGP speaker (FRR's bgpd,
//! BIRD) announces it to the upstream routers, which spread flows across the nodes by ECMP.
//! This module is the part in the node's program: it owns the addresses the way a VRRP
//! instance does (a [`Handle`], an ordered [`Events`] stream, tracked objects with weights),
//! but instead of winning an election it announces while the effective weight is at least a
//! threshold and withdraws otherwise. It never speaks BGP: the speaker redistributes the
//! connected routes the addresses make, through a route map, or is told through a
//! [`Speaker`].
//!
//! - **Withdrawing is graceful.** The routers need ~100 ms or more to converge after a
//!   withdraw; the node keeps answering for [`Anycast::drain`] (new connections the routers
//!   still send, and the existing ones), then stops. Without a speaker the address goes at
//!   once (that is the withdraw) and a [`hold`] route keeps local delivery; with one, the
//!   speaker withdraws first and the address stays for the drain. [`Handle::shutdown`] is
//!   withdraw, drain, stop.
//! - **A dead process does not keep its announcement.** The kernel keeps a killed
//!   process's addresses, so they stay announced; every owner removes them when it starts,
//!   before deciding anything ([`Event::StaleRemoved`]); with
//!   [`OwnerBuilder::crash_supervisor`] the crate's crash supervisor ([`crate::supervisor`])
//!   removes them as soon as the process dies; and [`withdraw_stale`] is the same removal
//!   for anything else that notices the death (systemd's `ExecStopPost=`).
//! - Addresses go through the same [`crate::vip::VipBackend`] as VRRP's (rtnetlink, or a
//!   test double with [`OwnerBuilder::vip_backend`]).
//!
//! ```no_run
//! use futures::StreamExt;
//! use vrrp_core::{TrackState, TrackedObject, VirtualAddress};
//! use vrrp_net::anycast::{Anycast, Event, Owner};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let config = Anycast::new("web", [VirtualAddress::host("203.0.113.10".parse()?)])
//!         // weight 0: withdrawn while the backend pool is down, whatever else holds
//!         .track(TrackedObject::new("pool", 0).starting_down())
//!         .drain(std::time::Duration::from_secs(1));
//!     let (owner, anycast, mut events) = Owner::builder(config).build().await?;
//!     tokio::spawn(owner.run());
//!     // From the health checks: announced from the first "up" on.
//!     anycast.set_track_state("pool", TrackState::Up)?;
//!     tokio::spawn(async move {
//!         while let Some(event) = events.next().await {
//!             eprintln!("{event}"); // web: announced 203.0.113.10 (healthy, weight 100)
//!             if matches!(event, Event::Stopped { .. }) {
//!                 break;
//!             }
//!         }
//!     });
//!     tokio::signal::ctrl_c().await?;
//!     anycast.shutdown().await?; // withdrawn, drained for 1 s while serving, removed
//!     Ok(())
//! }
//! ```
//!
//! The speaker's side (FRR, one node; the routers need `maximum-paths` and, with one AS per
//! node, `bgp bestpath as-path multipath-relax`; BFD on the sessions detects dead nodes):
//!
//! ```text
//! ip prefix-list VIPS seq 10 permit 203.0.113.0/24 le 32
//! route-map VIPS permit 10
//!  match ip address prefix-list VIPS
//! router bgp 65001
//!  neighbor 198.51.100.1 remote-as 65000
//!  neighbor 198.51.100.1 bfd
//!  address-family ipv4 unicast
//!   redistribute connected route-map VIPS
//!   neighbor 198.51.100.1 route-map VIPS out
//! ```

mod builder;
mod config;
mod crash;
mod error;
mod event;
mod handle;
mod health;
pub mod hold;
mod owner;
pub mod speaker;
mod stale;

pub use builder::OwnerBuilder;
pub use config::{Anycast, DEFAULT_DRAIN, DEFAULT_THRESHOLD, DEFAULT_WEIGHT};
pub use error::{AnycastError, HoldError, SpeakerError};
pub use event::{AnnounceReason, Event, Events, Fault, Phase, Status, WithdrawReason};
pub use handle::Handle;
pub use hold::{Hold, LocalRoutes};
pub use owner::Owner;
pub use speaker::{FrrVtysh, Speaker};
pub use stale::withdraw_stale;
