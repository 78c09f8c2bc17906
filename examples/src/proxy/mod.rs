//! The pieces of `vip-proxy` that are not in the crates: request forwarding with one retry
//! and the command-line value parsers.
//!
//! The crates do the rest: `vrrp-net`'s driver owns the VIP and [`vrrp_net::bind`] listens
//! on it before owning it; `healthcheck`'s scheduler and [`healthcheck::sink::BackendSet`]
//! decide which backends are healthy and [`healthcheck::sink::Picker`] picks among them.
//!
//! # VRRP failover in your own tokio program
//!
//! The driver runs inside the process: if the process dies, its adverts stop and the peer
//! takes the VIP over within Master_Down_Interval; no tracking script is needed.
//!
//! ```no_run
//! use futures::StreamExt;
//! use vrrp_core::{Centisecs, Family, RouterConfig, VirtualAddress};
//! use vrrp_net::driver::{Driver, Instance, primary_address};
//!
//! # async fn serve(_listener: tokio::net::TcpListener) {}
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // Listen on the VIP before owning it (IP_FREEBIND): a takeover is then VRRP + GARP only.
//!     let listener = vrrp_net::bind::bind_tokio_tcp("192.0.2.100:80".parse()?, Default::default())?;
//!     let primary = primary_address("eth0", Family::V4).await?;
//!     let config = RouterConfig::builder("web", 51, primary)
//!         .priority(150)
//!         .advert_interval(Centisecs::new(10)) // 100 ms
//!         .virtual_address(VirtualAddress::with_prefix("192.0.2.100".parse()?, 24))
//!         .build()?;
//!     let (driver, vrrp, mut events) =
//!         Driver::builder().instance(Instance::new(config, "eth0")).build().await?;
//!     tokio::spawn(driver.run());
//!     tokio::spawn(async move {
//!         while let Some(event) = events.next().await {
//!             eprintln!("{event:?}"); // StateChanged { to: Master, .. } and the like
//!         }
//!     });
//!     tokio::spawn(serve(listener));
//!     tokio::signal::ctrl_c().await?;
//!     vrrp.shutdown().await?; // priority-0 advert, VIP removed
//!     Ok(())
//! }
//! ```
//!
//! # A health-checked backend set in your proxy
//!
//! HTTP checks with rise/fall feed a [`healthcheck::sink::BackendSet`]; requests pick from a
//! lock-free [`healthcheck::sink::Picker`] snapshot of it; and the pool as a whole is one VRRP tracked object,
//! so a node without a healthy backend gives the VIP away (configure the instance with
//! `.track(TrackedObject::new("pool", -100).starting_down())`).
//!
//! ```no_run
//! use healthcheck::checkers::{HttpCheck, Url};
//! use healthcheck::sink::{Picker, backend_set};
//! use healthcheck::{Health, Schedule, Scheduler, Target};
//! use std::time::Duration;
//! use vrrp_core::TrackState;
//!
//! # async fn example(vrrp: vrrp_net::driver::Handle) -> Result<(), Box<dyn std::error::Error>> {
//! let schedule = Schedule::builder()
//!     .interval(Duration::from_millis(500))
//!     .rise(2)
//!     .fall(2)
//!     .initial(Health::Down)
//!     .build()?;
//! let mut scheduler = Scheduler::new();
//! for backend in ["192.0.2.21:8080", "192.0.2.22:8080"] {
//!     let addr = backend.parse()?;
//!     let check = HttpCheck::new(addr, vec![Url::new("/health")?])?;
//!     scheduler.add(Target::new(backend, addr).schedule(schedule.clone()).check(check))?;
//! }
//! let mut running = scheduler.start()?;
//! let (mut writer, healthy) = backend_set();
//! let pool = Picker::follow(healthy.clone());
//! tokio::spawn(async move {
//!     loop {
//!         let event = running.next_event().await;
//!         if writer.handle_event(&event) {
//!             let up = healthy.current().iter().any(|b| b.weight > 0);
//!             let state = if up { TrackState::Up } else { TrackState::Down };
//!             let _ = vrrp.set_track_state("pool", state);
//!         }
//!     }
//! });
//! // Per request: one atomic load, no lock; `Some(failed)` on a retry avoids that backend.
//! let backend = pool.pick(fastrand::u64(..), None);
//! # let _ = backend;
//! # Ok(())
//! # }
//! ```

pub mod anycast;
mod error;
mod forward;
mod spec;

pub use error::SpecError;
pub use forward::{Body, forward, is_idempotent};
pub use spec::{BackendSpec, parse_advert_interval, parse_duration, parse_vip, parse_vrid};
