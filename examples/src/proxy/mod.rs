//! The pieces of `vip-proxy` that are not VRRP or health checking: a listener bound on
//! an address the host does not own yet, a lock-free weighted pick over the healthy
//! backends, request forwarding with one retry, and the command-line value parsers.
//!
//! The crates do the rest: `vrrp-net`'s driver owns the VIP, `healthcheck`'s scheduler
//! and [`healthcheck::sink::BackendSet`] decide which backends are healthy.

mod error;
mod forward;
mod listener;
mod pool;
mod spec;

pub use error::SpecError;
pub use forward::{Body, forward, is_idempotent};
pub use listener::bind_freebind;
pub use pool::Pool;
pub use spec::{BackendSpec, parse_duration};
