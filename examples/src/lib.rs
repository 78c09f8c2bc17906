//! Helpers shared by the example programs.

#[cfg(all(feature = "vrrp", feature = "health"))]
pub mod keepalived_compat;
pub mod keepalived_conf;
#[cfg(all(feature = "vrrp", feature = "health"))]
pub mod proxy;

/// The README's Rust snippets, compiled and run as doctests so that they stay true.
#[cfg(all(doctest, feature = "vrrp", feature = "ipvs", feature = "health"))]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
