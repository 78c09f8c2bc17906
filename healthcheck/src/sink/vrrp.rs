//! VRRP tracking: a target's health drives a tracked object, so a router's priority
//! follows the service it fronts (keepalived's `vrrp_script`).

use crate::{Event, Health};
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
    /// changed (weight-only events never produce one).
    pub fn handle_event(&mut self, event: &Event) -> Option<(String, TrackState)> {
        let object = self.objects.get(&*event.name)?;
        let state = TrackState::from(event.health);
        if self.last.insert(object.clone(), state) == Some(state) {
            return None;
        }
        Some((object.clone(), state))
    }
}
