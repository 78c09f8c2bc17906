//! The announce-or-withdraw decision: tracked objects and weights in, a verdict out. Pure.

use vrrp_core::{TrackState, TrackedObject};

use super::event::WithdrawReason;

/// What the tracked objects say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Healthy enough to be announced.
    Announce,
    /// Not healthy: withdraw, for this reason.
    Withdraw(WithdrawReason),
}

/// The live states of the tracked objects and the weights they produce.
#[derive(Debug, Clone)]
pub(super) struct Health {
    base: i32,
    threshold: i32,
    objects: Vec<(TrackedObject, TrackState)>,
}

impl Health {
    /// Every object in its initial state (names are unique: checked by `Anycast::validate`).
    pub(super) fn new(base: i32, threshold: i32, objects: &[TrackedObject]) -> Self {
        Self {
            base,
            threshold,
            objects: objects.iter().map(|o| (o.clone(), o.initial)).collect(),
        }
    }

    /// Records a state; returns whether it changed.
    pub(super) fn update(&mut self, name: &str, state: TrackState) -> bool {
        match self.objects.iter_mut().find(|(o, _)| o.name == name) {
            Some((_, current)) if *current != state => {
                *current = state;
                true
            }
            _ => false,
        }
    }

    /// The effective weight: the base plus the weights in force (saturating).
    pub(super) fn weight(&self) -> i32 {
        self.objects
            .iter()
            .map(|(o, s)| match (s, o.weight) {
                (TrackState::Up, w) if w > 0 => w,
                (TrackState::Down, w) if w < 0 => w,
                _ => 0,
            })
            .fold(self.base, i32::saturating_add)
    }

    /// Announce or withdraw, and why.
    pub(super) fn verdict(&self) -> Verdict {
        let down_gate = self
            .objects
            .iter()
            .find(|(o, s)| o.weight == 0 && *s == TrackState::Down);
        if let Some((object, _)) = down_gate {
            return Verdict::Withdraw(WithdrawReason::TrackedDown {
                name: object.name.clone(),
            });
        }
        let weight = self.weight();
        if weight < self.threshold {
            return Verdict::Withdraw(WithdrawReason::WeightBelowThreshold {
                weight,
                threshold: self.threshold,
            });
        }
        Verdict::Announce
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_follow_keepalived_and_gate_on_the_threshold() {
        let objects = [
            TrackedObject::new("pool", -60),
            TrackedObject::new("bonus", 20).starting_down(),
        ];
        let mut h = Health::new(50, 1, &objects);
        assert_eq!(h.weight(), 50);
        assert_eq!(h.verdict(), Verdict::Announce);
        assert!(h.update("pool", TrackState::Down));
        assert_eq!(h.weight(), -10);
        assert_eq!(
            h.verdict(),
            Verdict::Withdraw(WithdrawReason::WeightBelowThreshold {
                weight: -10,
                threshold: 1
            })
        );
        assert!(h.update("bonus", TrackState::Up));
        assert_eq!(h.weight(), 10);
        assert_eq!(h.verdict(), Verdict::Announce);
        assert!(!h.update("bonus", TrackState::Up), "unchanged");
        assert!(!h.update("nobody", TrackState::Down), "unknown");
    }

    #[test]
    fn a_down_weight_zero_object_withdraws_whatever_the_weight() {
        let mut h = Health::new(1000, 1, &[TrackedObject::new("gate", 0)]);
        assert_eq!(h.verdict(), Verdict::Announce);
        h.update("gate", TrackState::Down);
        assert_eq!(h.weight(), 1000);
        assert_eq!(
            h.verdict(),
            Verdict::Withdraw(WithdrawReason::TrackedDown {
                name: "gate".into()
            })
        );
    }

    #[test]
    fn weights_saturate() {
        let h = Health::new(i32::MAX, 1, &[TrackedObject::new("a", 10)]);
        assert_eq!(h.weight(), i32::MAX);
    }
}
