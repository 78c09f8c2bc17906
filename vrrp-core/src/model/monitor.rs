//! History the properties need beyond the current state: when the LAN was last disturbed
//! (quiescence), planned hand-overs in progress and how long nobody held the addresses
//! (property 2), lost advertisements per direction (property 3), and the verdicts of the
//! properties that are checked on transitions rather than on states.

use std::sync::Arc;
use std::time::Instant;

use super::spec::NodeId;

/// How a planned hand-over began.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum HandoverKind {
    /// `Input::Shutdown`: the master sends priority 0 and removes its addresses at once.
    Shutdown,
    /// `Input::SetPriority(1)`: the master stays until a backup preempts it.
    LowerPriority,
}

/// A planned hand-over of one VRID in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Handover {
    pub(crate) kind: HandoverKind,
    /// The node whose master started it.
    pub(crate) initiator: NodeId,
    /// No loss, crash or partition happened since it began.
    pub(crate) clean: bool,
}

/// Per-VRID history.
#[derive(Debug, Clone, Default)]
pub(crate) struct VridWatch {
    /// Since when nobody holds the addresses, while a clean hand-over is in progress.
    pub(crate) ownerless_since: Option<Instant>,
    pub(crate) handover: Option<Handover>,
}

/// All history of one state.
#[derive(Debug, Clone)]
pub(crate) struct Monitors {
    /// The last fault, heal or planned operation.
    pub(crate) calm_since: Instant,
    /// Parallel to the model's VRIDs.
    pub(crate) vrids: Vec<VridWatch>,
    /// The last advert lost (loss, partition, dead receiver) per direction, `from * n + to`.
    pub(crate) last_drop: Vec<Option<Instant>>,
    /// Property 2 failed on the step into this state.
    pub(crate) handover_broken: bool,
    /// Property 3 failed on the step into this state.
    pub(crate) promoted_while_hearing: bool,
    /// Some clean planned hand-over completed (an example that property 2 was exercised).
    pub(crate) handover_completed: bool,
    /// What the step's violation was (for reports; not part of the state's identity).
    pub(crate) note: Option<Arc<str>>,
}

impl Monitors {
    pub(crate) fn new(epoch: Instant, vrids: usize, nodes: usize) -> Self {
        Monitors {
            calm_since: epoch,
            vrids: vec![VridWatch::default(); vrids],
            last_drop: vec![None; nodes * nodes],
            handover_broken: false,
            promoted_while_hearing: false,
            handover_completed: false,
            note: None,
        }
    }

    /// Forgets the verdicts of the previous step: a transition violation belongs to the state
    /// the violating step led to.
    pub(crate) fn new_step(&mut self) {
        self.handover_broken = false;
        self.promoted_while_hearing = false;
        self.note = None;
    }

    /// A fault, heal or planned operation happened now.
    pub(crate) fn disturbed(&mut self, now: Instant) {
        self.calm_since = now;
    }

    /// A loss, crash or partition: hand-overs in progress are no longer clean.
    pub(crate) fn lossy(&mut self, now: Instant) {
        self.disturbed(now);
        for watch in &mut self.vrids {
            if let Some(h) = watch.handover.as_mut() {
                h.clean = false;
            }
            watch.ownerless_since = None;
        }
    }

    /// An advert from `from` to `to` was lost now.
    pub(crate) fn dropped(&mut self, nodes: usize, from: NodeId, to: NodeId, now: Instant) {
        if let Some(slot) = self.last_drop.get_mut(from * nodes + to) {
            *slot = Some(now);
        }
    }

    /// The last advert lost from `from` to `to`.
    pub(crate) fn last_drop(&self, nodes: usize, from: NodeId, to: NodeId) -> Option<Instant> {
        self.last_drop.get(from * nodes + to).copied().flatten()
    }

    /// Describes a transition violation (the first of the step).
    pub(crate) fn note(&mut self, text: String) {
        if self.note.is_none() {
            self.note = Some(text.into());
        }
    }
}
