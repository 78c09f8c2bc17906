//! Helpers shared by the example programs.

#[cfg(feature = "vrrp")]
pub mod keepalived_compat;
pub mod keepalived_conf;
#[cfg(feature = "health")]
pub mod proxy;
