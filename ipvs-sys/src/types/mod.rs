//! Typed IPVS objects and their conversion to and from netlink attributes.

mod config;
mod daemon;
mod destination;
mod scheduler;
mod service;
mod stats;

pub use config::{Info, Timeouts};
pub use daemon::{DaemonState, SyncDaemon};
pub use destination::{
    Destination, DestinationEntry, ForwardMethod, Tunnel, TunnelCsum, TunnelType,
};
pub use scheduler::Scheduler;
pub use service::{Family, Protocol, Service, ServiceEntry, ServiceFlags, ServiceKey};
pub use stats::Stats;

pub(crate) use destination::DestFields;
pub(crate) use service::ServiceFields;
