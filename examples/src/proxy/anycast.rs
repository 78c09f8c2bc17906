//! vip-proxy's `--mode anycast`: the VIP on `lo` while at least one backend is healthy, so
//! the node's BGP speaker announces it to the ECMP routers; every node serves at once.

use std::time::Duration;

use futures::StreamExt;
use vrrp_core::{TrackState, TrackedObject, VirtualAddress};
use vrrp_net::anycast::{Anycast, AnycastError, Handle, Owner};

/// What decides whether this node serves the VIP.
#[derive(Debug, Clone)]
pub enum Gate {
    /// A VRRP instance of this name (one active node).
    Vrrp(vrrp_net::driver::Handle, &'static str),
    /// An anycast owner (every healthy node).
    Anycast(Handle),
}

impl Gate {
    /// Reports the state of tracked object `name`; false once the owner has stopped.
    pub fn set_track_state(&self, name: &str, state: TrackState) -> bool {
        match self {
            Gate::Vrrp(vrrp, _) => vrrp.set_track_state(name, state).is_ok(),
            Gate::Anycast(anycast) => anycast.set_track_state(name, state).is_ok(),
        }
    }
}

/// The anycast configuration of a proxy: `vip` on `interface`, withdrawn while tracked
/// object `pool` is down (weight 0), answering for `drain` after a withdraw.
pub fn config(vip: VirtualAddress, interface: &str, pool: &str, drain: Duration) -> Anycast {
    Anycast::new("vip-proxy", [vip])
        .interface(interface)
        .track(TrackedObject::new(pool, 0).starting_down())
        .drain(drain)
}

/// Starts the owner of `config` (removing what a killed predecessor left), with a crash
/// supervisor that removes the VIP if this process dies (`crash_supervisor`), logging its
/// events to stderr.
pub async fn start(config: Anycast, crash_supervisor: bool) -> Result<Handle, AnycastError> {
    let (owner, handle, mut events) = Owner::builder(config)
        .crash_supervisor(crash_supervisor)
        .build()
        .await?;
    tokio::spawn(owner.run());
    tokio::spawn(async move {
        while let Some(event) = events.next().await {
            eprintln!("vip-proxy: anycast {event}");
        }
    });
    Ok(handle)
}
