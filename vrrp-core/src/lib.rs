//! Sans-IO VRRP: the protocol of RFC 3768 (VRRPv2) and RFC 9568 (VRRPv3, IPv4 and IPv6) as
//! pure functions over advertisements and timers.
//!
//! This crate owns no socket, no clock and no runtime. A [`VirtualRouter`] is driven with
//! [`VirtualRouter::handle`] (an [`Input`] and the current time), its actions are drained
//! with [`VirtualRouter::poll`] (an [`Output`]: transmit this advert, install or remove these
//! addresses, announce them, the state changed), and [`VirtualRouter::poll_timeout`] says when
//! to call back with [`Input::Timeout`]. Received bytes go through a [`Demux`], which
//! validates them per RFC 9568 §7.1 and counts every rejection.
//!
//! keepalived's deviations from the RFCs are explicit typed options of [`RouterConfig`]; the
//! [`config::Profile::Keepalived`] profile sets them as keepalived does by default.
//!
//! With the `sim` feature, `sim` provides a deterministic simulated LAN to test failover
//! logic in plain `cargo test`; with the `model` feature, `model` model-checks a set of
//! router configurations exhaustively (every schedule within budgets of losses, duplicates,
//! reorderings, crashes and partitions) with stateright, over the same `VirtualRouter`.
//!
//! What it does not do: sockets, address installation, ARP, scripts (see the `vrrp-net` crate).
//!
//! ```
//! use std::time::{Duration, Instant};
//! use vrrp_core::{Centisecs, Input, Output, RouterConfig, State, VirtualAddress, VirtualRouter};
//!
//! let config = RouterConfig::builder("VI_1", 51, "192.0.2.11".parse().unwrap())
//!     .priority(150)
//!     .advert_interval(Centisecs::new(100))
//!     .virtual_address(VirtualAddress::with_prefix("192.0.2.100".parse().unwrap(), 24))
//!     .build()
//!     .unwrap();
//! let mut router = VirtualRouter::new(config).unwrap();
//! let start = Instant::now();
//! router.handle(start, Input::Startup);
//! assert_eq!(router.state(), State::Backup);
//!
//! // Nobody advertises: at Master_Down_Interval the router takes over.
//! let wake = router.poll_timeout().unwrap();
//! assert_eq!(wake - start, router.master_down_interval());
//! router.handle(wake, Input::Timeout);
//! assert_eq!(router.state(), State::Master);
//! let mut installed = false;
//! while let Some(out) = router.poll() {
//!     if let Output::InstallVips { .. } = out {
//!         installed = true;
//!     }
//! }
//! assert!(installed);
//! // As master it advertises every Advertisement_Interval.
//! assert_eq!(router.poll_timeout(), Some(wake + Duration::from_secs(1)));
//! ```
#![forbid(unsafe_code)]

mod announce;
pub mod config;
pub mod demux;
mod error;
pub mod group;
mod output;
mod router;
mod state;
pub mod stats;
pub mod strict;
mod timer;
pub mod track;
mod types;
pub mod unicast;
pub mod wire;

#[cfg(feature = "model")]
pub mod model;
#[cfg(feature = "sim")]
pub mod sim;

pub use config::{RouterConfig, RouterConfigBuilder};
pub use demux::{Demux, Dispatch, RxMeta, RxPolicy};
pub use error::{ConfigError, ParseError, RxError};
pub use output::{Advertisement, Output};
pub use router::{GroupCommand, Input, Reconfigured, VirtualRouter};
pub use state::{Reason, State};
pub use track::{TrackState, TrackedObject};
pub use types::{Centisecs, Family, Priority, Version, VirtualAddress, Vrid};
