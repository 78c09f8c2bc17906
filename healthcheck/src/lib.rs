//! keepalived's real-server health checkers as an async library.
//!
//! Three layers, kept apart:
//! - **probes**: [`Check`] implementations in [`checkers`] (TCP, HTTP/HTTPS, SMTP,
//!   DNS, UDP, ICMP echo, external program, tracked file), each one probe with a
//!   hard deadline;
//! - **hysteresis**: the pure [`Threshold`] (rise/fall) per check, combined per
//!   [`Target`] ("all checks up"), driven by the [`Scheduler`] (interval, timeout,
//!   retries, warmup jitter, bounded concurrency), which yields ordered [`Event`]s;
//! - **sinks** in [`sink`]: an in-process [`sink::BackendSet`] for Rust proxies, an
//!   IPVS [`sink::Pool`] (keepalived's quorum, hysteresis, sorry server,
//!   `inhibit_on_failure`) and VRRP tracking updates ([`sink::VrrpTrack`]).

mod aggregate;
mod check;
pub mod checkers;
mod error;
mod event;
mod reason;
mod schedule;
mod scheduler;
pub mod sink;
mod target;
mod threshold;

pub use check::{Check, Outcome, Weight};
pub use error::ConfigError;
pub use event::Event;
pub use reason::Reason;
pub use schedule::Schedule;
pub use scheduler::{Running, Scheduler};
pub use target::{Target, TargetId};
pub use threshold::{Health, Threshold};
