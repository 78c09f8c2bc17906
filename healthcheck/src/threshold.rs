//! The rise/fall hysteresis: a pure state machine, no I/O and no clock.

use std::num::NonZeroU32;

/// Up or down, as seen by the sinks.
///
/// Deliberately exhaustive, like keepalived's and IPVS's view of a real server, so
/// that sinks can `match` on it without a catch-all arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Health {
    /// Passing: in the pool.
    Up,
    /// Failing: out of the pool (or at weight 0 with `inhibit_on_failure`).
    Down,
}

/// Counts consecutive probe results and flips after `rise` passes or `fall` failures.
///
/// A result agreeing with the current state resets the opposite streak, so
/// `rise = 2` needs two passes in a row. keepalived's checkers behave as `rise = 1`,
/// `fall = 1` with retries inside each probe (see [`crate::Schedule::keepalived`]).
///
/// ```
/// use healthcheck::{Health, Threshold};
/// use std::num::NonZeroU32;
///
/// let two = NonZeroU32::new(2).unwrap();
/// let mut t = Threshold::new(two, two, Health::Down);
/// assert_eq!(t.observe(true), None);
/// assert_eq!(t.observe(true), Some(Health::Up));
/// assert_eq!(t.observe(false), None);
/// assert_eq!(t.observe(true), None); // streak reset
/// assert_eq!(t.observe(false), None);
/// assert_eq!(t.observe(false), Some(Health::Down));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Threshold {
    rise: NonZeroU32,
    fall: NonZeroU32,
    state: Health,
    streak: u32,
}

impl Threshold {
    /// A machine in `initial` state with no streak.
    pub fn new(rise: NonZeroU32, fall: NonZeroU32, initial: Health) -> Self {
        Threshold {
            rise,
            fall,
            state: initial,
            streak: 0,
        }
    }

    /// The current state.
    pub fn state(&self) -> Health {
        self.state
    }

    /// Takes new limits, keeping the state and the current streak (which counts toward
    /// the new limit from the next result on).
    pub(crate) fn set_limits(&mut self, rise: NonZeroU32, fall: NonZeroU32) {
        self.rise = rise;
        self.fall = fall;
    }

    /// Feeds one probe result; returns the new state when it changes.
    pub fn observe(&mut self, passed: bool) -> Option<Health> {
        let (needed, target) = match (self.state, passed) {
            (Health::Up, true) | (Health::Down, false) => {
                self.streak = 0;
                return None;
            }
            (Health::Down, true) => (self.rise, Health::Up),
            (Health::Up, false) => (self.fall, Health::Down),
        };
        self.streak += 1;
        if self.streak >= needed.get() {
            self.state = target;
            self.streak = 0;
            Some(target)
        } else {
            None
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn n(v: u32) -> NonZeroU32 {
        NonZeroU32::new(v).unwrap()
    }

    #[test]
    fn rise_one_fall_one_flips_on_every_change() {
        let mut t = Threshold::new(n(1), n(1), Health::Up);
        assert_eq!(t.observe(false), Some(Health::Down));
        assert_eq!(t.observe(false), None);
        assert_eq!(t.observe(true), Some(Health::Up));
    }

    #[test]
    fn fall_three_needs_three_consecutive_failures() {
        let mut t = Threshold::new(n(1), n(3), Health::Up);
        assert_eq!(t.observe(false), None);
        assert_eq!(t.observe(false), None);
        assert_eq!(t.observe(true), None);
        assert_eq!(t.observe(false), None);
        assert_eq!(t.observe(false), None);
        assert_eq!(t.observe(false), Some(Health::Down));
        assert_eq!(t.state(), Health::Down);
    }

    #[test]
    fn alpha_start_needs_rise_passes() {
        let mut t = Threshold::new(n(3), n(1), Health::Down);
        assert_eq!(t.observe(true), None);
        assert_eq!(t.observe(true), None);
        assert_eq!(t.observe(true), Some(Health::Up));
    }
}
