//! Consumers of [`crate::Event`]s: an in-process backend set (and [`Picker`], its lock-free
//! weighted pick for a proxy's request path), an IPVS pool and VRRP tracking (of targets, and
//! of a pool's quorum). Each is fed the same ordered events and
//! none of them probes anything.
//!
//! [`BackendSet`] and the [`Pool`] model are always built; the kernel backend of a pool
//! (`IpvsPool`) needs the `ipvs` feature and the VRRP trackers (`VrrpTrack`,
//! `QuorumTrack`) the `vrrp` feature.

mod backend_set;
#[cfg(feature = "ipvs")]
mod ipvs;
mod picker;
mod pool;
#[cfg(feature = "vrrp")]
mod vrrp;

pub use backend_set::{Backend, BackendSet, BackendSetWriter, backend_set};
#[cfg(feature = "ipvs")]
pub use ipvs::IpvsPool;
pub use picker::Picker;
pub use pool::{Dest, Pool, PoolBackend, PoolConfig, PoolOp, PoolSink};
#[cfg(feature = "vrrp")]
pub use vrrp::{QuorumTrack, TrackState, VrrpTrack};
