//! The recorded history of a simulation and the questions tests ask of it.

use std::time::Duration;

use crate::state::{Reason, State};
use crate::types::{Priority, Vrid};

use super::NodeId;

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// A router changed state.
    State {
        /// Previous state.
        from: State,
        /// New state.
        to: State,
        /// Why.
        reason: Reason,
    },
    /// A router's effective priority changed.
    Priority {
        /// Previous value.
        from: Priority,
        /// New value.
        to: Priority,
    },
    /// The node installed the router's virtual addresses.
    VipsInstalled,
    /// The node removed them (also recorded when a crash takes them away).
    VipsRemoved,
    /// A scheduled action was applied (its description).
    Action(String),
}

/// One entry of the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEvent {
    /// Simulated time since the start.
    pub at: Duration,
    /// Node concerned.
    pub node: NodeId,
    /// Virtual router concerned (`None` for node-wide actions).
    pub vrid: Option<Vrid>,
    /// What happened.
    pub kind: EventKind,
}

/// Everything that happened, in order.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    events: Vec<TimelineEvent>,
}

impl Timeline {
    pub(crate) fn push(&mut self, event: TimelineEvent) {
        self.events.push(event);
    }

    /// All events in order.
    pub fn events(&self) -> &[TimelineEvent] {
        &self.events
    }

    /// State changes only.
    pub fn state_changes(&self) -> impl Iterator<Item = &TimelineEvent> {
        self.events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::State { .. }))
    }

    /// Nodes in Master for `vrid` at time `at` (events at exactly `at` included).
    pub fn masters_at(&self, vrid: Vrid, at: Duration) -> Vec<NodeId> {
        let mut masters: Vec<NodeId> = Vec::new();
        for e in self.events.iter().take_while(|e| e.at <= at) {
            if e.vrid != Some(vrid) {
                continue;
            }
            if let EventKind::State { to, .. } = e.kind {
                masters.retain(|n| *n != e.node);
                if to == State::Master {
                    masters.push(e.node);
                }
            }
        }
        masters.sort();
        masters
    }

    /// The single master for `vrid` at `at`, if exactly one.
    pub fn master_at(&self, vrid: Vrid, at: Duration) -> Option<NodeId> {
        match self.masters_at(vrid, at).as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }

    /// Nodes holding `vrid`'s virtual addresses at `at`.
    pub fn vip_owners_at(&self, vrid: Vrid, at: Duration) -> Vec<NodeId> {
        let mut owners: Vec<NodeId> = Vec::new();
        for e in self.events.iter().take_while(|e| e.at <= at) {
            if e.vrid != Some(vrid) {
                continue;
            }
            match e.kind {
                EventKind::VipsInstalled if !owners.contains(&e.node) => {
                    owners.push(e.node);
                }
                EventKind::VipsRemoved => owners.retain(|n| *n != e.node),
                _ => {}
            }
        }
        owners.sort();
        owners
    }

    /// Intervals `[start, end)` during which `vrid` had more than one master, within
    /// `[from, to)`.
    pub fn dual_master_intervals(
        &self,
        vrid: Vrid,
        from: Duration,
        to: Duration,
    ) -> Vec<(Duration, Duration)> {
        let mut count = 0usize;
        let mut masters: Vec<NodeId> = Vec::new();
        let mut start = None;
        let mut out = Vec::new();
        for e in &self.events {
            if e.vrid != Some(vrid) {
                continue;
            }
            let EventKind::State { to: new, .. } = e.kind else {
                continue;
            };
            masters.retain(|n| *n != e.node);
            if new == State::Master {
                masters.push(e.node);
            }
            let before = count;
            count = masters.len();
            if before <= 1 && count > 1 {
                start = Some(e.at);
            } else if before > 1
                && count <= 1
                && let Some(s) = start.take()
            {
                out.push((s, e.at));
            }
        }
        if let Some(s) = start {
            out.push((s, to));
        }
        out.into_iter()
            .filter_map(|(s, e)| {
                let (s, e) = (s.max(from), e.min(to));
                (s < e).then_some((s, e))
            })
            .collect()
    }

    /// The longest interval with more than one master for `vrid` within `[from, to)`.
    pub fn longest_dual_master(&self, vrid: Vrid, from: Duration, to: Duration) -> Duration {
        self.dual_master_intervals(vrid, from, to)
            .into_iter()
            .map(|(s, e)| e - s)
            .max()
            .unwrap_or_default()
    }

    /// Time from `after` until some node other than `old` becomes master of `vrid`.
    pub fn failover_delay(&self, vrid: Vrid, old: NodeId, after: Duration) -> Option<Duration> {
        self.events
            .iter()
            .filter(|e| e.at >= after && e.vrid == Some(vrid) && e.node != old)
            .find(|e| {
                matches!(
                    e.kind,
                    EventKind::State {
                        to: State::Master,
                        ..
                    }
                )
            })
            .map(|e| e.at - after)
    }

    /// Number of transitions into Master for `vrid` within `[from, to)`.
    pub fn master_transitions(&self, vrid: Vrid, from: Duration, to: Duration) -> usize {
        self.state_changes()
            .filter(|e| e.vrid == Some(vrid) && e.at >= from && e.at < to)
            .filter(|e| {
                matches!(
                    e.kind,
                    EventKind::State {
                        to: State::Master,
                        ..
                    }
                )
            })
            .count()
    }
}
