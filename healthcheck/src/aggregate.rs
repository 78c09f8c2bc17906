//! Turns probe verdicts into ordered events: per-check rise/fall, then "all checks
//! up" per target, then weights. Pure: no I/O, time is passed in.

use crate::{Change, Event, Health, Outcome, Reason, Target, TargetId, Threshold, Weight};
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use tokio::time::Instant;

/// The health book of every target of one scheduler.
#[derive(Debug, Default)]
pub(crate) struct Aggregate {
    targets: Vec<Entry>,
    seq: u64,
}

#[derive(Debug)]
struct Entry {
    name: Arc<str>,
    addr: SocketAddr,
    configured: u32,
    checks: Vec<CheckState>,
    health: Health,
    weight: u32,
    removed: bool,
}

#[derive(Debug)]
struct CheckState {
    threshold: Threshold,
    weight: Weight,
}

impl Aggregate {
    /// Registers a target (already validated) and returns its id.
    pub(crate) fn push(&mut self, target: &Target) -> TargetId {
        self.targets.push(Entry::new(target));
        TargetId(self.targets.len() - 1)
    }

    /// The event stating a target's starting health ([`Change::Added`]).
    pub(crate) fn initial_event(&mut self, now: Instant, id: TargetId) -> Option<Event> {
        self.targets.get(id.0)?;
        Some(self.event(now, id, Change::Added, Some(Reason::Initial)))
    }

    /// Marks a target removed; its last event is [`Change::Removed`] with its last health
    /// and weight. Later verdicts for it are ignored.
    pub(crate) fn remove(&mut self, now: Instant, id: TargetId) -> Option<Event> {
        let entry = self.targets.get_mut(id.0).filter(|e| !e.removed)?;
        entry.removed = true;
        Some(self.event(now, id, Change::Removed, Some(Reason::Removed)))
    }

    /// Takes a replaced target's new weight and rise/fall, keeping every check's health
    /// and streak (same address, same checks); its [`Change::Replaced`] event.
    pub(crate) fn retune(&mut self, now: Instant, id: TargetId, target: &Target) -> Option<Event> {
        let entry = self.targets.get_mut(id.0).filter(|e| !e.removed)?;
        let (rise, fall) = limits(target);
        for c in &mut entry.checks {
            c.threshold.set_limits(rise, fall);
        }
        entry.configured = target.weight;
        entry.weight = effective_weight(entry.configured, &entry.checks);
        Some(self.event(now, id, Change::Replaced, None))
    }

    /// Starts a replaced target over from its new schedule's `initial` health (new checks
    /// or a new address). At the same address its event is [`Change::Replaced`]; at a new
    /// one, [`Change::Removed`] at the old address then [`Change::Added`] at the new.
    pub(crate) fn restart(&mut self, now: Instant, id: TargetId, target: &Target) -> Vec<Event> {
        let Some(entry) = self.targets.get_mut(id.0).filter(|e| !e.removed) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if entry.addr != target.addr {
            // The removal names the old address and last state: issued before the reset.
            out.push(self.event(now, id, Change::Removed, Some(Reason::Removed)));
            self.targets[id.0] = Entry::new(target);
            out.push(self.event(now, id, Change::Added, Some(Reason::Initial)));
        } else {
            *entry = Entry::new(target);
            out.push(self.event(now, id, Change::Replaced, Some(Reason::Initial)));
        }
        out
    }

    /// Current health and effective weight of a live target.
    pub(crate) fn state(&self, id: TargetId) -> Option<(Health, u32)> {
        self.targets
            .get(id.0)
            .filter(|e| !e.removed)
            .map(|e| (e.health, e.weight))
    }

    /// Feeds the verdict of one probe round of check `check` of `target`.
    pub(crate) fn handle_outcome(
        &mut self,
        now: Instant,
        target: TargetId,
        check: usize,
        outcome: Outcome,
    ) -> Option<Event> {
        let entry = self.targets.get_mut(target.0).filter(|e| !e.removed)?;
        let state = entry.checks.get_mut(check)?;
        let reason = match outcome {
            Outcome::Up(weight) => {
                state.weight = weight;
                state.threshold.observe(true);
                None
            }
            Outcome::Down(reason) => {
                state.threshold.observe(false);
                Some(reason)
            }
        };
        let health = if entry
            .checks
            .iter()
            .all(|c| c.threshold.state() == Health::Up)
        {
            Health::Up
        } else {
            Health::Down
        };
        let weight = effective_weight(entry.configured, &entry.checks);
        let changed = health != entry.health || (health == Health::Up && weight != entry.weight);
        entry.weight = weight;
        if !changed {
            return None;
        }
        entry.health = health;
        let reason = match health {
            Health::Up => None,
            Health::Down => reason,
        };
        Some(self.event(now, target, Change::Health, reason))
    }

    fn event(
        &mut self,
        now: Instant,
        target: TargetId,
        change: Change,
        reason: Option<Reason>,
    ) -> Event {
        let e = &self.targets[target.0];
        let event = Event {
            seq: self.seq,
            at: now,
            target,
            name: e.name.clone(),
            addr: e.addr,
            change,
            health: e.health,
            weight: e.weight,
            reason,
        };
        self.seq += 1;
        event
    }
}

impl Entry {
    /// A target's entry at its schedule's starting health.
    fn new(target: &Target) -> Self {
        let s = &target.schedule;
        let (rise, fall) = limits(target);
        let checks = target
            .checks
            .iter()
            .map(|_| CheckState {
                threshold: Threshold::new(rise, fall, s.initial),
                weight: Weight::Configured,
            })
            .collect();
        Entry {
            name: Arc::from(target.name.as_str()),
            addr: target.addr,
            configured: target.weight,
            checks,
            health: s.initial,
            weight: target.weight,
            removed: false,
        }
    }
}

/// A validated target's rise and fall (validation refuses 0).
fn limits(target: &Target) -> (NonZeroU32, NonZeroU32) {
    let s = &target.schedule;
    (
        NonZeroU32::new(s.rise).unwrap_or(NonZeroU32::MIN),
        NonZeroU32::new(s.fall).unwrap_or(NonZeroU32::MIN),
    )
}

/// The configured weight, replaced by the last [`Weight::Set`] and shifted by every
/// [`Weight::Offset`], clamped to `0..=u32::MAX`.
fn effective_weight(configured: u32, checks: &[CheckState]) -> u32 {
    let base = checks
        .iter()
        .filter_map(|c| match c.weight {
            Weight::Set(w) => Some(w),
            _ => None,
        })
        .next_back()
        .unwrap_or(configured);
    let offset: i64 = checks
        .iter()
        .map(|c| match c.weight {
            Weight::Offset(d) => d,
            _ => 0,
        })
        .sum();
    (i64::from(base) + offset).clamp(0, i64::from(u32::MAX)) as u32
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::{Check, Schedule};
    use async_trait::async_trait;

    #[derive(Debug)]
    struct Never;

    #[async_trait]
    impl Check for Never {
        async fn check(&self, _deadline: Instant) -> Outcome {
            Outcome::UP
        }
    }

    fn two_check_target() -> Target {
        let schedule = Schedule {
            rise: 1,
            fall: 1,
            initial: Health::Up,
            ..Schedule::default()
        };
        Target::new("rs1", "127.0.0.1:80".parse().unwrap())
            .schedule(schedule)
            .weight(5)
            .check(Never)
            .check(Never)
    }

    #[test]
    fn target_is_down_while_any_check_is_down() {
        let now = Instant::now();
        let mut a = Aggregate::default();
        let id = a.push(&two_check_target());
        assert!(a.initial_event(now, id).is_some());
        let ev = a.handle_outcome(now, id, 1, Outcome::Down(Reason::Refused));
        assert_eq!(
            ev.map(|e| (e.health, e.reason)),
            Some((Health::Down, Some(Reason::Refused)))
        );
        // the other check failing too changes nothing
        assert_eq!(
            a.handle_outcome(now, id, 0, Outcome::Down(Reason::Timeout)),
            None
        );
        assert_eq!(a.handle_outcome(now, id, 1, Outcome::UP), None);
        let ev = a.handle_outcome(now, id, 0, Outcome::UP);
        assert_eq!(ev.map(|e| (e.health, e.seq)), Some((Health::Up, 2)));
    }

    #[test]
    fn dynamic_weight_changes_are_events_while_up() {
        let now = Instant::now();
        let mut a = Aggregate::default();
        let id = a.push(&two_check_target());
        a.initial_event(now, id);
        let ev = a.handle_outcome(now, id, 0, Outcome::Up(Weight::Set(10)));
        assert_eq!(ev.map(|e| e.weight), Some(10));
        let ev = a.handle_outcome(now, id, 1, Outcome::Up(Weight::Offset(-3)));
        assert_eq!(ev.map(|e| e.weight), Some(7));
        assert_eq!(
            a.handle_outcome(now, id, 1, Outcome::Up(Weight::Offset(-3))),
            None
        );
        let ev = a.handle_outcome(now, id, 1, Outcome::Up(Weight::Offset(-30)));
        assert_eq!(ev.map(|e| e.weight), Some(0));
        assert_eq!(a.state(id), Some((Health::Up, 0)));
    }
}
