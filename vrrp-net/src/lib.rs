//! Tokio glue for `vrrp-core`: real VRRP failover on a real network.
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod announce;
pub mod error;
pub mod link;
pub mod transport;
pub mod vip;
pub mod vmac;

pub use error::{LinkError, TransportError, VipError};
