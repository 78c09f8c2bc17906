//! A [pingora](https://github.com/cloudflare/pingora) HTTP proxy that owns its virtual IP
//! with the keepalived-rs crates, in one process and without keepalived:
//!
//! - [`vrrp::VrrpService`]: the `vrrp-net` driver runs one VRRP instance for the VIP as a
//!   pingora background service; if this process dies, its adverts stop and the peer takes
//!   the VIP over within Master_Down_Interval.
//! - [`health::HealthService`]: `healthcheck`'s HTTP checks with rise/fall, as a second
//!   background service, keep a [`healthcheck::sink::BackendSet`]; the pool is a tracked
//!   object of the VRRP instance, so a node with no healthy backend gives the VIP away.
//! - [`discovery::HealthyBackends`]: a pingora
//!   [`ServiceDiscovery`](pingora::lb::discovery::ServiceDiscovery) over that set, so
//!   pingora's [`LoadBalancer`](pingora::lb::LoadBalancer) picks (weighted round robin)
//!   among the healthy backends only; the health service pushes every change to it.
//! - [`proxy::VipProxy`]: the `ProxyHttp` of the pingora proxy service; a connect failure is
//!   retried once on another backend; client connections are made `IP_TRANSPARENT`, so
//!   responses in flight still leave after a handover removed the VIP.
//! - [`shutdown::HandOverOnSignal`]: on SIGTERM / SIGINT the VIP is handed over first
//!   ([`vrrp_net::driver::Handle::hand_over`]), in-flight requests drain, then pingora stops.
//!
//! Pingora binds its listening sockets itself and has no `IP_FREEBIND` option, so listening
//! on the VIP before owning it needs `net.ipv4.ip_nonlocal_bind=1` (`net.ipv6.…` for an
//! IPv6 VIP) in the proxy's network namespace; [`cli::check_bind`] says so at startup.

// One audited `unsafe` block: borrowing pingora's client socket (`proxy::make_transparent`).
#![deny(unsafe_code)]

pub mod cli;
pub mod discovery;
pub mod error;
pub mod health;
pub mod proxy;
pub mod shutdown;
pub mod vrrp;

pub use error::Error;

use std::sync::{Arc, OnceLock};
use tokio::sync::Notify;
use vrrp_net::driver::Handle;

/// The VRRP instance's name in events and handle calls.
pub const INSTANCE: &str = "pingora-vip-proxy";
/// The tracked object standing for "at least one healthy backend".
pub const POOL: &str = "pool";

/// The driver's handle, published by [`vrrp::VrrpService`] once the driver is built
/// (inside pingora's runtime), read by the health service and the signal handler.
pub type VrrpSlot = Arc<OnceLock<Handle>>;

/// A fatal error raised by a background service: it makes the server stop and the process
/// exit with a failure status, instead of serving without VRRP or health checks.
#[derive(Debug, Default)]
pub struct Fatal {
    reason: OnceLock<String>,
    notify: Notify,
}

impl Fatal {
    /// A new, unraised flag.
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// Records `reason` (the first one wins) and wakes [`Fatal::raised`].
    pub fn raise(&self, reason: impl Into<String>) {
        let reason = reason.into();
        tracing::error!("fatal: {reason}");
        let _ = self.reason.set(reason);
        self.notify.notify_one();
    }

    /// Waits until [`Fatal::raise`] was called.
    pub async fn raised(&self) {
        if self.reason.get().is_none() {
            self.notify.notified().await;
        }
    }

    /// The reason, once raised.
    pub fn reason(&self) -> Option<&str> {
        self.reason.get().map(String::as_str)
    }
}
