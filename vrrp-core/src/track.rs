//! Tracked objects and the effective priority they produce (keepalived's `track_script`,
//! `track_interface`, `track_file` semantics; RFC 9568 leaves priority policy to the operator).
//!
//! Each object has a name and a weight:
//! - weight > 0 is added to the base priority while the object is up;
//! - weight < 0 is added while the object is down;
//! - weight 0 puts the router in Fault while the object is down.
//!
//! The effective priority is clamped to 1..=254; an owner (base priority 255) is never changed.
//! vrrp-core never runs scripts or watches links itself: the embedder feeds states in with
//! [`crate::Input::Track`].

use crate::error::ConfigError;
use crate::types::Priority;

/// State of a tracked object as reported by the embedder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrackState {
    /// Healthy.
    Up,
    /// Failed.
    Down,
}

/// One tracked object of a router's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedObject {
    /// Name the embedder uses when reporting its state.
    pub name: String,
    /// Priority contribution, -254..=254; 0 means "fault while down".
    pub weight: i32,
    /// State assumed until the first report (keepalived starts scripts up unless `init_fail`).
    pub initial: TrackState,
}

impl TrackedObject {
    /// An object starting up.
    pub fn new(name: impl Into<String>, weight: i32) -> Self {
        TrackedObject {
            name: name.into(),
            weight,
            initial: TrackState::Up,
        }
    }

    /// The same object starting down (keepalived's `init_fail`).
    pub fn starting_down(mut self) -> Self {
        self.initial = TrackState::Down;
        self
    }

    /// Contribution to the priority in `state`.
    fn contribution(&self, state: TrackState) -> i32 {
        match (state, self.weight) {
            (TrackState::Up, w) if w > 0 => w,
            (TrackState::Down, w) if w < 0 => w,
            _ => 0,
        }
    }
}

/// The live state of a router's tracked objects.
#[derive(Debug, Clone, Default)]
pub struct TrackSet {
    objects: Vec<(TrackedObject, TrackState)>,
}

impl TrackSet {
    /// Validates the objects and starts each in its initial state.
    pub fn new(objects: &[TrackedObject]) -> Result<Self, ConfigError> {
        let mut set = TrackSet {
            objects: Vec::with_capacity(objects.len()),
        };
        for object in objects {
            if !(-254..=254).contains(&object.weight) {
                return Err(ConfigError::TrackWeight {
                    name: object.name.clone(),
                    weight: object.weight,
                });
            }
            if set.objects.iter().any(|(o, _)| o.name == object.name) {
                return Err(ConfigError::DuplicateTrack(object.name.clone()));
            }
            set.objects.push((object.clone(), object.initial));
        }
        Ok(set)
    }

    /// Records a state; returns false when the name is unknown or the state unchanged.
    pub fn update(&mut self, name: &str, state: TrackState) -> bool {
        match self.objects.iter_mut().find(|(o, _)| o.name == name) {
            Some((_, current)) if *current != state => {
                *current = state;
                true
            }
            _ => false,
        }
    }

    /// Takes over the state of every object that `previous` knows by the same name (a
    /// reconfiguration keeps what the tracked objects last reported); the others keep their
    /// initial state.
    pub fn inherit(&mut self, previous: &TrackSet) {
        for (object, state) in &mut self.objects {
            if let Some(old) = previous.state(&object.name) {
                *state = old;
            }
        }
    }

    /// Whether an object with weight 0 is down.
    pub fn faulted(&self) -> bool {
        self.objects
            .iter()
            .any(|(o, s)| o.weight == 0 && *s == TrackState::Down)
    }

    /// Current state of an object.
    pub fn state(&self, name: &str) -> Option<TrackState> {
        self.objects
            .iter()
            .find(|(o, _)| o.name == name)
            .map(|(_, s)| *s)
    }

    /// Base priority plus the weights in force, clamped to 1..=254; 255 stays 255.
    pub fn effective_priority(&self, base: Priority) -> Priority {
        if base.is_owner() {
            return base;
        }
        let sum: i32 = self.objects.iter().map(|(o, s)| o.contribution(*s)).sum();
        let value = (i32::from(base.get()) + sum).clamp(1, 254);
        // Clamped to 1..=254 just above.
        Priority(value as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(objects: &[TrackedObject]) -> TrackSet {
        TrackSet::new(objects).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn negative_weight_applies_while_down() {
        let mut t = set(&[TrackedObject::new("nginx", -60)]);
        assert_eq!(t.effective_priority(Priority(150)), Priority(150));
        assert!(t.update("nginx", TrackState::Down));
        assert_eq!(t.effective_priority(Priority(150)), Priority(90));
    }

    #[test]
    fn positive_weight_applies_while_up_and_clamps() {
        let mut t = set(&[TrackedObject::new("a", 200)]);
        assert_eq!(t.effective_priority(Priority(100)), Priority(254));
        t.update("a", TrackState::Down);
        assert_eq!(t.effective_priority(Priority(100)), Priority(100));
    }

    #[test]
    fn owner_priority_is_untouched_and_floor_is_one() {
        let t = set(&[TrackedObject::new("a", -254).starting_down()]);
        assert_eq!(t.effective_priority(Priority::OWNER), Priority::OWNER);
        assert_eq!(t.effective_priority(Priority(10)), Priority(1));
    }

    #[test]
    fn weight_zero_down_is_fault() {
        let mut t = set(&[TrackedObject::new("eth0", 0)]);
        assert!(!t.faulted());
        t.update("eth0", TrackState::Down);
        assert!(t.faulted());
    }

    #[test]
    fn invalid_objects_are_rejected_by_name() {
        let err = TrackSet::new(&[TrackedObject::new("x", 300)]).err();
        assert_eq!(
            err,
            Some(ConfigError::TrackWeight {
                name: "x".into(),
                weight: 300
            })
        );
        let err = TrackSet::new(&[TrackedObject::new("x", 1), TrackedObject::new("x", 2)]).err();
        assert_eq!(err, Some(ConfigError::DuplicateTrack("x".into())));
    }
}
