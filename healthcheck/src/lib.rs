//! keepalived's real-server health checkers as an async library.
//!
//! Three layers, kept apart:
//! - **probes**: [`Check`] implementations in [`checkers`] (TCP, HTTP/HTTPS, SMTP,
//!   DNS, UDP, ICMP echo, external program, tracked file), each one probe under a
//!   hard deadline, each failure carrying a [`Reason`];
//! - **hysteresis**: a pure [`Threshold`] (rise/fall) per check, combined per
//!   [`Target`] ("all checks up"), driven by the [`Scheduler`] (interval, timeout,
//!   retries, warmup jitter, bounded concurrency), which yields ordered [`Event`]s;
//! - **sinks** in [`sink`], fed those events: an in-process [`sink::BackendSet`] for
//!   Rust proxies, an IPVS [`sink::Pool`] (keepalived's quorum, hysteresis, sorry
//!   server, `inhibit_on_failure`; `ipvs` feature for the kernel backend) and VRRP
//!   tracking updates for a `vrrp-core` router (`vrrp` feature), from targets
//!   (`sink::VrrpTrack`) or a pool's quorum (`sink::QuorumTrack`).
//!
//! Thousands of targets run as futures on the caller's tokio runtime, with no thread
//! per check; targets can be added, removed and replaced while running, from any task,
//! through a cloneable [`Control`] handle (or [`Running::add`] and [`Running::remove`]),
//! and re-probed at once ([`Control::recheck`], e.g. when a `FileWatch` sees a tracked
//! file change). Every change is an [`Event`] whose [`Change`] says what happened: a
//! target joins ([`Change::Added`]) and leaves ([`Change::Removed`], never a fake "down"),
//! and the sinks follow. [`Schedule::keepalived`] gives keepalived's
//! semantics (`rise = fall = 1`, retries inside the probe, start up);
//! [`Schedule::default`] a load-balancer profile (rise 2, fall 3, start down).
//!
//! # Features
//!
//! Pay only for what you use: the default build is the scheduler, the sinks' pure
//! models ([`sink::BackendSet`], [`sink::Pool`]) and [`checkers::TcpCheck`], on tokio
//! alone. No third-party type appears in the public API of the default build.
//!
//! | feature | adds | pulls in |
//! |---|---|---|
//! | `http` | `checkers::HttpCheck` (`HTTP_GET`) | hyper, md-5 |
//! | `tls` | `checkers::TlsClient` (`SSL_GET`) | rustls (no provider) |
//! | `tls-ring` | rustls's *ring* provider as the fallback | ring |
//! | `tls-aws-lc-rs` | rustls's aws-lc-rs provider as the fallback | aws-lc-rs |
//! | `regex` | `checkers::Url::regex` | regex |
//! | `dns` | `checkers::DnsCheck` (`DNS_CHECK`) | hickory-proto |
//! | `smtp` | `checkers::SmtpCheck` (`SMTP_CHECK`) | |
//! | `udp` | `checkers::UdpCheck` (`UDP_CHECK`) | |
//! | `icmp` | `checkers::IcmpCheck` (`PING_CHECK`) | socket2 |
//! | `program` | `checkers::ProgramCheck` (`MISC_CHECK`), `process::Program` (the script runner: process group, deadline, user) | nix |
//! | `file` | `checkers::FileCheck` (`FILE_CHECK`), `FileWatch` (inotify) | nix |
//! | `ipvs` | `sink::IpvsPool` | ipvs-sys |
//! | `vrrp` | `sink::VrrpTrack`, `sink::QuorumTrack` | vrrp-core |
//! | `full` | all of the above but a TLS provider | |
//! | `test-util` | `test_util`, helpers for the embedder's tests | |
//!
//! **TLS providers.** The crate never installs or forces a rustls
//! [`CryptoProvider`](https://docs.rs/rustls/latest/rustls/crypto/struct.CryptoProvider.html):
//! a `TlsClient` uses the process-default provider when the program installed one
//! (`CryptoProvider::install_default`, as pingora, axum-server or reqwest programs do),
//! else the provider of `tls-aws-lc-rs` or `tls-ring` (aws-lc-rs if both are on), else
//! it fails with `ConfigError::NoCryptoProvider`.
//!
//! # Embedding: a proxy's backend set
//!
//! A proxy keeps a [`sink::BackendSet`] handle in every worker and picks among the
//! healthy backends; one task turns scheduler events into set updates.
//!
//! ```
//! use healthcheck::checkers::TcpCheck;
//! use healthcheck::sink::backend_set;
//! use healthcheck::{Health, Schedule, Scheduler, Target};
//! use std::time::Duration;
//! use tokio::net::TcpListener;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Two backends listening on loopback, and one address where nothing listens.
//! let a = TcpListener::bind("127.0.0.1:0").await?;
//! let b = TcpListener::bind("127.0.0.1:0").await?;
//! let gone = TcpListener::bind("127.0.0.1:0").await?.local_addr()?;
//!
//! let schedule = Schedule::builder()
//!     .interval(Duration::from_millis(200))
//!     .timeout(Duration::from_millis(100))
//!     .warmup(Duration::ZERO)
//!     .rise(1)
//!     .fall(2)
//!     .initial(Health::Down)
//!     .build()?;
//! let mut scheduler = Scheduler::new().max_in_flight(256);
//! for (name, addr, weight) in [("a", a.local_addr()?, 3), ("b", b.local_addr()?, 1), ("gone", gone, 1)] {
//!     let target = Target::new(name, addr)
//!         .weight(weight)
//!         .schedule(schedule.clone())
//!         .check(TcpCheck::new(addr));
//!     scheduler.add(target)?;
//! }
//! let mut running = scheduler.start()?;
//!
//! // The observer: events -> backend set (and, alongside, IPVS or VRRP sinks).
//! let (mut writer, backends) = backend_set();
//! tokio::spawn(async move {
//!     loop {
//!         let event = running.next_event().await;
//!         if let Some(reason) = &event.reason {
//!             eprintln!("{} is {:?}: {reason}", event.name, event.health);
//!         }
//!         writer.handle_event(&event);
//!     }
//! });
//!
//! // A proxy worker: wait until both live backends are in, then route by weight.
//! let mut watch = backends.clone();
//! while backends.current().len() < 2 {
//!     watch.changed().await;
//! }
//! let names: Vec<_> = backends.current().iter().map(|b| b.name.to_string()).collect();
//! assert_eq!(names, ["a", "b"]);
//! let chosen = backends.pick(fastrand::u64(..)).expect("two backends with weight");
//! assert!(chosen.name.as_ref() == "a" || chosen.name.as_ref() == "b");
//! # Ok(())
//! # }
//! ```
//!
//! # Changing targets while running
//!
//! [`Running::into_parts`] splits the scheduler into a [`Control`] handle (cloneable,
//! usable from any task; each operation is applied when it returns) and the [`Events`]
//! stream. [`Control::replace`] swaps a target's schedule, weight or checks under the same
//! name and id: with the same address and the same checks (the same `Arc`s) it keeps its
//! health, rise/fall streaks and dynamic weights ([`Replaced::Kept`]); new checks or a new
//! address start it over at the new schedule's `initial` health ([`Replaced::Restarted`]).
//! [`Control::suspend`] stops a target's probes without forgetting its health or streaks
//! (keepalived's `ha_suspend`), [`Control::resume`] starts them again.
//!
//! ```
//! use healthcheck::checkers::TcpCheck;
//! use healthcheck::{Change, Health, Replaced, Schedule, Scheduler, Target};
//! use std::time::Duration;
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let addr = "192.0.2.21:80".parse()?;
//! let schedule = Schedule::builder().initial(Health::Up).build()?;
//! let web = Target::new("web", addr).schedule(schedule.clone()).check(TcpCheck::new(addr));
//! let mut scheduler = Scheduler::new();
//! scheduler.add(web.clone())?;
//! let (control, mut events) = scheduler.start()?.into_parts();
//! assert_eq!(events.next_event().await.change, Change::Added);
//!
//! // Elsewhere (a reload task): a new weight and interval, the same checks.
//! let reload = tokio::spawn(async move {
//!     let slower = schedule.into_builder().interval(Duration::from_secs(10)).build()?;
//!     // A clone of the running target holds the same check `Arc`s: their state is kept.
//!     let web = web.schedule(slower).weight(5);
//!     let (id, how) = control.replace(web)?;
//!     assert_eq!(how, Replaced::Kept);
//!     control.remove(id)?;
//!     Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
//! });
//! reload.await?.map_err(|e| e.to_string())?;
//!
//! let replaced = events.next_event().await;
//! assert_eq!((replaced.change, replaced.health, replaced.weight), (Change::Replaced, Health::Up, 5));
//! // Removal is its own event: sinks drop the target whatever its last health.
//! assert_eq!(events.next_event().await.change, Change::Removed);
//! # Ok(())
//! # }
//! ```
//!
//! [`sink::BackendSet`] and [`sink::Pool`] follow these events (an added target joins in
//! its initial health, a removed one leaves and quorum is re-evaluated); a pool can also be
//! changed directly ([`sink::Pool::set_real`], [`sink::Pool::remove_real`],
//! [`sink::Pool::reconfigure`]), and a [`sink::PoolSink`] then brings its backend to the
//! new table with one sync, which for `sink::IpvsPool` sends only the difference.
//!
//! # Pingora
//!
//! There is no adapter for `pingora-load-balancing`'s `HealthCheck` trait, even behind
//! a feature: version 0.9 resolves to 136 crates on its own (pingora-core's
//! connectors and runtime, h2, brotli, flate2...) against 16 for this crate's default
//! build (110 with every feature), and
//! its trait runs each probe under pingora's own loop and thresholds, bypassing the
//! [`Scheduler`]'s jitter and concurrency bound and the sinks here. A pingora proxy
//! can read a [`sink::BackendSet`] from its `ServiceDiscovery` implementation, or
//! implement pingora's `HealthCheck` in a few lines by calling [`Check::check`].
#![forbid(unsafe_code)]

mod aggregate;
mod check;
pub mod checkers;
mod control;
mod core;
mod error;
mod event;
mod probe;
#[cfg(feature = "program")]
pub mod process;
mod reason;
mod schedule;
mod scheduler;
pub mod sink;
mod target;
#[cfg(feature = "test-util")]
pub mod test_util;
mod threshold;
#[cfg(feature = "file")]
mod watch;

pub use check::{Check, Outcome, Weight};
pub use control::{Control, ControlError, Replaced};
pub use error::ConfigError;
pub use event::{Change, Event};
pub use reason::Reason;
pub use schedule::{Schedule, ScheduleBuilder};
pub use scheduler::{Events, Running, Scheduler};
pub use target::{Target, TargetId};
pub use threshold::{Health, Threshold};
#[cfg(feature = "file")]
pub use watch::FileWatch;
