//! What can stop the proxy from starting.

use std::net::SocketAddr;

/// A startup error: the configuration, the listening address or a part of the
/// keepalived-rs crates refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The listener cannot bind on the VIP before owning it.
    #[error(
        "cannot listen on {addr} before owning it: the kernel refuses non-local binds; \
         run `sysctl -w net.ipv4.ip_nonlocal_bind=1` (net.ipv6.ip_nonlocal_bind for an \
         IPv6 VIP) in this network namespace"
    )]
    NonLocalBind {
        /// The VIP and port.
        addr: SocketAddr,
    },
    /// Another bind error (port in use, permission).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The VIP and port.
        addr: SocketAddr,
        /// What the kernel said.
        #[source]
        source: std::io::Error,
    },
    /// The interface has no usable primary address.
    #[error("interface {interface}: {source}")]
    Interface {
        /// The interface.
        interface: String,
        /// Why.
        #[source]
        source: vrrp_net::LinkError,
    },
    /// The VRRP instance's configuration is invalid.
    #[error("vrrp configuration: {0}")]
    Vrrp(#[from] vrrp_core::ConfigError),
    /// A health check's configuration is invalid.
    #[error("health check configuration: {0}")]
    Health(#[from] healthcheck::ConfigError),
    /// The startup runtime could not be created.
    #[error("runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// A background service failed after the server started.
    #[error("{0}")]
    Fatal(String),
}
