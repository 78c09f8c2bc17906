//! VRRP tracking: a target's health ([`VrrpTrack`], keepalived's `vrrp_script`) or a
//! pool's quorum ([`QuorumTrack`], keepalived's `quorum_down` wired to VRRP) drives a
//! tracked object, so a router's priority follows the service it fronts.

use super::{Pool, PoolOp};
use crate::{Change, Event, Health};
use std::collections::HashMap;
pub use vrrp_core::TrackState;

impl From<Health> for TrackState {
    fn from(health: Health) -> Self {
        match health {
            Health::Up => TrackState::Up,
            Health::Down => TrackState::Down,
        }
    }
}

/// Maps targets to tracked-object names and yields ordered `(name, state)` updates,
/// each only when the object's state changes.
///
/// Feed each update to the router as `vrrp_core::Input::Track { name, state }`. The
/// router applies keepalived's `vrrp_script` weight rules (weight > 0 added while up,
/// weight < 0 added while down, weight 0 puts it in fault); this sink reports up/down
/// after the scheduler's own rise/fall, which play the role of the script's
/// `rise`/`fall`.
#[derive(Debug, Default)]
pub struct VrrpTrack {
    objects: HashMap<String, String>,
    last: HashMap<String, TrackState>,
}

impl VrrpTrack {
    /// No targets tracked yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Tracks target `target` as object `object` (a `vrrp_script` name).
    pub fn track(mut self, target: &str, object: &str) -> Self {
        self.objects.insert(target.to_owned(), object.to_owned());
        self
    }

    /// The update for one event, if its target is tracked and the object's state
    /// changed (weight-only events never produce one). A removed target
    /// ([`Change::Removed`]) leaves its object as it was: nothing probes it any more.
    pub fn handle_event(&mut self, event: &Event) -> Option<(String, TrackState)> {
        if event.change == Change::Removed {
            return None;
        }
        let object = self.objects.get(&*event.name)?;
        let state = TrackState::from(event.health);
        if self.last.insert(object.clone(), state) == Some(state) {
            return None;
        }
        Some((object.clone(), state))
    }
}

/// Turns one [`Pool`]'s quorum into a tracked object: `(name, Down)` when the pool loses
/// quorum, `(name, Up)` when it regains it, each only on a change.
///
/// A director whose real servers are out of its reach should not keep the virtual address:
/// configure the router with `vrrp_core::TrackedObject::new(name, weight)` (a negative
/// weight lowers the priority while quorum is lost, 0 puts the instance in fault) and feed
/// each update to it (`vrrp_core::Input::Track`, or
/// `vrrp_net::driver::Handle::set_track_state`). Like the pool and `TrackedObject::new`,
/// it starts up.
///
/// ```
/// use healthcheck::sink::{Dest, Pool, PoolConfig, QuorumTrack};
/// use healthcheck::{Health, TargetId, test_util};
/// use vrrp_core::{Input, Priority, RouterConfig, TrackedObject, VirtualAddress, VirtualRouter};
///
/// let rs = |n: u8| std::net::SocketAddr::from(([192, 0, 2, n], 80));
/// let config = PoolConfig::default().quorum(2);
/// let reals = [21, 22].map(|n| (Dest { addr: rs(n), weight: 1 }, Health::Up));
/// let mut pool = Pool::new(config, reals)?;
/// let mut quorum = QuorumTrack::new("quorum_web");
///
/// let router = RouterConfig::builder("VI_51", 51, "192.0.2.11".parse()?)
///     .priority(150)
///     .virtual_address(VirtualAddress::host("192.0.2.100".parse()?))
///     .track(TrackedObject::new("quorum_web", -60))
///     .build()?;
/// let mut vr = VirtualRouter::new(router)?;
///
/// pool.startup();
/// // In production the event comes from `Running::next_event`.
/// let down = test_util::event(TargetId(0), "rs21", rs(21), Health::Down, 1);
/// for op in pool.handle_event(&down) {
///     if let Some((name, state)) = quorum.handle_op(&op) {
///         vr.handle(std::time::Instant::now(), Input::Track { name: &name, state });
///     }
/// }
/// assert_eq!(vr.priority(), Priority(90));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct QuorumTrack {
    object: String,
    last: TrackState,
}

impl QuorumTrack {
    /// Reports a pool's quorum as tracked object `object`.
    pub fn new(object: &str) -> Self {
        QuorumTrack {
            object: object.to_owned(),
            last: TrackState::Up,
        }
    }

    /// The tracked object's name.
    pub fn object(&self) -> &str {
        &self.object
    }

    /// The update for one of the pool's operations: `QuorumDown` gives `Down`,
    /// `QuorumUp` gives `Up`; table operations give nothing.
    pub fn handle_op(&mut self, op: &PoolOp) -> Option<(String, TrackState)> {
        match op {
            PoolOp::QuorumUp { .. } => self.report(TrackState::Up),
            PoolOp::QuorumDown { .. } => self.report(TrackState::Down),
            PoolOp::Add(_) | PoolOp::SetWeight(_) | PoolOp::Remove(_) => None,
        }
    }

    /// The update, if quorum changed since the last report, read from the pool itself.
    /// Use it after every `PoolSink` call, failed ones included: a call that failed on the
    /// backend returns no operations, but the pool's quorum changed all the same.
    pub fn handle_pool(&mut self, pool: &Pool) -> Option<(String, TrackState)> {
        self.report(if pool.has_quorum() {
            TrackState::Up
        } else {
            TrackState::Down
        })
    }

    fn report(&mut self, state: TrackState) -> Option<(String, TrackState)> {
        if std::mem::replace(&mut self.last, state) == state {
            return None;
        }
        Some((self.object.clone(), state))
    }
}
