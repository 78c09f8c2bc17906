//! The model as stateright sees it: states, the checker's steps, and how each step changes a
//! state (nodes act, the LAN carries their adverts, the monitors record history).
//!
//! Time is one clock for the LAN. It only moves when a timer expires: the step
//! [`Step::Timeout`] advances it to the earliest deadline of any router (routers with the same
//! deadline expire in every order) and feeds that router [`crate::Input::Timeout`]. Every other
//! step happens at the current instant. An advert on the wire must be delivered or lost before
//! time passes its send time plus [`super::Choices::max_delay`].

use std::sync::Arc;
use std::time::Instant;

use stateright::{Model, Property};

use crate::state::State;
use crate::types::{Priority, Vrid};

use super::actor::{Effect, NodeSpec, NodeState};
use super::monitor::{Handover, HandoverKind, Monitors};
use super::network::{Envelope, Partition, Wire};
use super::properties::{self, Builtin, UserProperty};
use super::spec::{Choices, NodeId, PriorityChange};
use super::state::{Budget, Limits, ModelState};

/// One step the checker may take.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// The first advert of its channel reaches its receiver.
    Deliver(Envelope),
    /// An advert reaches its receiver before an earlier one of the same sender.
    Overtake(Envelope),
    /// The network loses the advert.
    Lose(Envelope),
    /// The network duplicates the advert.
    Duplicate(Envelope),
    /// Time advances to the router's deadline, which expires.
    Timeout {
        /// The node.
        node: NodeId,
        /// Its router's VRID.
        vrid: Vrid,
    },
    /// [`super::Mutant::AdvertBeforeInstall`]: the glue installs the addresses now.
    Install {
        /// The node.
        node: NodeId,
        /// Its router's VRID.
        vrid: Vrid,
    },
    /// The node crashes.
    Crash(NodeId),
    /// The crashed or shut-down node comes back with fresh routers and starts them.
    Restart(NodeId),
    /// The node shuts down gracefully (`Input::Shutdown`).
    Shutdown(NodeId),
    /// The node's masters hand over by lowering their priority to 1.
    HandOver(NodeId),
    /// A planned priority change.
    SetPriority {
        /// The node.
        node: NodeId,
        /// Its router's VRID.
        vrid: Vrid,
        /// The new base priority.
        priority: Priority,
    },
    /// The LAN splits: these nodes on one side, the others on the other.
    Partition {
        /// One side.
        side: Vec<NodeId>,
    },
    /// The partition ends.
    Heal,
}

/// A model of nodes running real [`crate::VirtualRouter`]s on a LAN with the checker's
/// choices; built by [`super::ModelBuilder`] and checked with [`VrrpModel::check`]. It
/// implements [`stateright::Model`], so stateright's other checkers (and its explorer) can
/// run it too.
pub struct VrrpModel {
    pub(crate) specs: Vec<NodeSpec>,
    pub(crate) choices: Choices,
    pub(crate) changes: Vec<PriorityChange>,
    pub(crate) limits: Arc<Limits>,
    pub(crate) builtins: Vec<Builtin>,
    pub(crate) always: Vec<UserProperty>,
    pub(crate) sometimes: Vec<UserProperty>,
    pub(crate) run: super::report::RunOptions,
}

impl core::fmt::Debug for VrrpModel {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("VrrpModel")
            .field("nodes", &self.limits.names)
            .field("vrids", &self.limits.vrids)
            .field("choices", &self.choices)
            .field("settle", &self.limits.settle)
            .finish_non_exhaustive()
    }
}

impl VrrpModel {
    fn vrid_index(&self, vrid: Vrid) -> Option<usize> {
        self.limits.vrids.binary_search(&vrid).ok()
    }

    fn vrid_of(&self, node: NodeId, slot: usize) -> Option<Vrid> {
        self.specs
            .get(node)?
            .routers
            .get(slot)
            .map(|r| r.config().vrid)
    }

    /// Holders of each VRID's addresses.
    fn holders(&self, s: &ModelState) -> Vec<usize> {
        let mut count = vec![0; self.limits.vrids.len()];
        for (_, slot) in s.live_slots() {
            if slot.holds
                && let Some(i) = self.vrid_index(slot.router.config().vrid)
            {
                count[i] += 1;
            }
        }
        count
    }

    fn initial(&self) -> ModelState {
        let epoch = self.limits.epoch;
        let n = self.specs.len();
        let mut s = ModelState {
            now: epoch,
            nodes: self
                .specs
                .iter()
                .map(|spec| Arc::new(NodeState::fresh(spec, epoch)))
                .collect(),
            wire: Wire::default(),
            partition: None,
            budget: Budget {
                losses: self.choices.losses,
                duplicates: self.choices.duplicates,
                crashes: self.choices.crashes,
                restarts: self.choices.restarts,
                partitions: self.choices.partitions,
                shutdowns: self.choices.shutdowns,
                hand_overs: self.choices.hand_overs,
                reorders: self.choices.reorders,
                changes: u16::try_from((1u32 << self.changes.len()) - 1).unwrap_or(u16::MAX),
            },
            monitors: Monitors::new(epoch, self.limits.vrids.len(), n),
            limits: Arc::clone(&self.limits),
        };
        for node in 0..n {
            self.act(&mut s, node, |state, spec, now, fx| {
                state.start(spec, now, fx)
            });
        }
        s
    }

    /// Runs one node's action and carries out its effects.
    fn act(
        &self,
        s: &mut ModelState,
        node: NodeId,
        f: impl FnOnce(&mut NodeState, &NodeSpec, Instant, &mut Vec<Effect>),
    ) {
        let mut holders = self.holders(s);
        let mut fx = Vec::new();
        let now = s.now;
        let Some(spec) = self.specs.get(node) else {
            return;
        };
        f(Arc::make_mut(&mut s.nodes[node]), spec, now, &mut fx);
        for effect in fx {
            match effect {
                Effect::Transmit(advert) => self.send(s, node, &advert),
                Effect::Vips { slot, holds } => self.on_vips(s, &mut holders, node, slot, holds),
                Effect::BecameMaster { slot, from } => {
                    if from == State::Backup {
                        self.on_promotion(s, node, slot);
                    }
                }
            }
        }
        self.finish_handovers(s, &holders);
    }

    /// Puts `advert` on the wire to every other node with a router of its VRID.
    fn send(&self, s: &mut ModelState, from: NodeId, advert: &crate::output::Advertisement) {
        let n = self.specs.len();
        let unicast = self
            .specs
            .get(from)
            .and_then(|spec| spec.slot_of(advert.vrid))
            .is_some_and(|k| self.specs[from].routers[k].config().unicast);
        for to in (0..n).filter(|to| *to != from) {
            let Some(k) = self.specs[to].slot_of(advert.vrid) else {
                continue;
            };
            let cut = s.partition.is_some_and(|p| !p.connects(from, to));
            if cut || !s.nodes[to].up {
                s.monitors.dropped(n, from, to, s.now);
                continue;
            }
            let dst = unicast.then(|| self.specs[to].routers[k].config().primary_address);
            if let Some(envelope) = Envelope::emit(advert, from, to, dst, s.now) {
                s.wire.push(envelope);
            }
        }
    }

    /// Property 2's bookkeeping when the glue installs or removes addresses.
    fn on_vips(
        &self,
        s: &mut ModelState,
        holders: &mut [usize],
        node: NodeId,
        slot: usize,
        holds: bool,
    ) {
        let Some(i) = self.vrid_of(node, slot).and_then(|v| self.vrid_index(v)) else {
            return;
        };
        if holds {
            holders[i] += 1;
        } else {
            holders[i] = holders[i].saturating_sub(1);
        }
        let now = s.now;
        let watch = &mut s.monitors.vrids[i];
        let Some(handover) = watch.handover.filter(|h| h.clean) else {
            return;
        };
        let vrid = self.limits.vrids[i];
        if holders[i] == 0 {
            if watch.ownerless_since.is_none() {
                watch.ownerless_since = Some(now);
                if handover.kind == HandoverKind::LowerPriority {
                    s.monitors.handover_broken = true;
                    s.monitors.note(format!(
                        "vrid {vrid}: nobody holds the addresses during {}'s hand-over",
                        s.limits.names[handover.initiator]
                    ));
                }
            }
        } else if holds && let Some(since) = watch.ownerless_since.take() {
            let gap = now.saturating_duration_since(since);
            let bound = self.choices.max_delay + self.group_skew(s, node, slot);
            if gap > bound {
                s.monitors.handover_broken = true;
                s.monitors.note(format!(
                    "vrid {vrid}: no holder for {gap:?} after {}'s shutdown (bound {bound:?})",
                    s.limits.names[handover.initiator]
                ));
            }
        }
    }

    /// The longest Skew_Time among the new holder and its sync-group partners: the group
    /// promotes them when the last one's Master_Down_Timer (set to Skew_Time) fires.
    fn group_skew(&self, s: &ModelState, node: NodeId, slot: usize) -> std::time::Duration {
        let n = &s.nodes[node];
        let own = n.slots.get(slot);
        let in_group = own.is_some_and(|x| x.member.is_some());
        n.slots
            .iter()
            .enumerate()
            .filter(|(i, x)| *i == slot || (in_group && x.member.is_some()))
            .map(|(_, x)| x.router.skew_time())
            .max()
            .unwrap_or_default()
    }

    /// Ends hand-overs whose initiator no longer holds the addresses while someone else does.
    fn finish_handovers(&self, s: &mut ModelState, holders: &[usize]) {
        for (i, &vrid) in self.limits.vrids.iter().enumerate() {
            let Some(h) = s.monitors.vrids[i].handover else {
                continue;
            };
            if holders[i] > 0 && !s.holds_addresses(h.initiator, vrid) {
                s.monitors.vrids[i].handover = None;
                s.monitors.vrids[i].ownerless_since = None;
                if h.clean {
                    s.monitors.handover_completed = true;
                }
            }
        }
    }

    /// Property 3's check when the router in (node, slot) goes from Backup to Master.
    fn on_promotion(&self, s: &mut ModelState, node: NodeId, slot: usize) {
        let n = self.specs.len();
        let Some(b) = s.nodes[node].slots.get(slot) else {
            return;
        };
        let vrid = b.router.config().vrid;
        let window = b.router.master_down_interval();
        let now = s.now;
        if now.saturating_duration_since(b.priority_since) < window {
            return;
        }
        let priority = b.router.priority();
        for m in (0..n).filter(|m| *m != node) {
            let Some(master) = s.slot(m, vrid) else {
                continue;
            };
            let heard = master.router.state() == State::Master
                && master.router.priority() >= priority
                && master
                    .master_since
                    .is_some_and(|t| now.saturating_duration_since(t) >= window)
                && s.monitors
                    .last_drop(n, m, node)
                    .is_none_or(|t| now.saturating_duration_since(t) > window);
            if heard {
                let text = format!(
                    "vrid {vrid}: {} became master while hearing {} (priority {}) for {window:?}",
                    s.limits.names[node],
                    s.limits.names[m],
                    master.router.priority()
                );
                s.monitors.promoted_while_hearing = true;
                s.monitors.note(text);
                return;
            }
        }
    }

    /// Starts watching a planned hand-over of every VRID `node` holds (or is master of).
    /// It is clean (checked) when another router of the VRID runs to take over, the LAN is
    /// whole and every advert on it comes from a router that is master now: an advert of a
    /// crashed, restarted, shut-down or stepped-down master speaks for a master that is gone,
    /// and whoever yields to it yields to nobody.
    fn start_handovers(&self, s: &mut ModelState, node: NodeId, kind: HandoverKind) {
        let clean = s.partition.is_none()
            && s.wire.in_flight.iter().all(|e| {
                s.slot(e.from, e.vrid)
                    .is_some_and(|x| x.router.state() == State::Master)
            });
        let Some(n) = s.nodes.get(node) else {
            return;
        };
        let vrids: Vec<Vrid> = n
            .slots
            .iter()
            .filter(|x| match kind {
                HandoverKind::Shutdown => x.holds,
                HandoverKind::LowerPriority => x.router.state() == State::Master,
            })
            .map(|x| x.router.config().vrid)
            .collect();
        for vrid in vrids {
            // Someone must be there to take over.
            let taker = (0..s.nodes.len()).any(|m| {
                m != node
                    && s.slot(m, vrid)
                        .is_some_and(|x| matches!(x.router.state(), State::Backup | State::Master))
            });
            if let Some(i) = self.vrid_index(vrid) {
                s.monitors.vrids[i] = super::monitor::VridWatch {
                    ownerless_since: None,
                    handover: Some(Handover {
                        kind,
                        initiator: node,
                        clean: clean && taker,
                    }),
                };
            }
        }
    }

    /// Slots of `node` that may hand over by priority (non-owner masters above 1).
    fn hand_over_slots(&self, s: &ModelState, node: NodeId) -> Vec<usize> {
        s.nodes[node]
            .slots
            .iter()
            .enumerate()
            .filter(|(_, x)| {
                x.router.state() == State::Master
                    && !x.router.config().priority.is_owner()
                    && x.router.priority() > Priority(1)
            })
            .map(|(i, _)| i)
            .collect()
    }

    fn deliver(&self, s: &mut ModelState, envelope: &Envelope) {
        if s.nodes[envelope.to].up {
            self.act(s, envelope.to, |state, spec, now, fx| {
                state.deliver(spec, envelope, now, fx);
            });
        }
    }

    fn apply(&self, s: &mut ModelState, step: Step) {
        let n = self.specs.len();
        match step {
            Step::Deliver(envelope) => {
                if s.wire.take(&envelope) {
                    self.deliver(s, &envelope);
                }
            }
            Step::Overtake(envelope) => {
                if s.wire.take(&envelope) {
                    s.budget.reorders = s.budget.reorders.saturating_sub(1);
                    s.monitors.disturbed(s.now);
                    self.deliver(s, &envelope);
                }
            }
            Step::Lose(envelope) => {
                if s.wire.take(&envelope) {
                    s.budget.losses = s.budget.losses.saturating_sub(1);
                    s.monitors.dropped(n, envelope.from, envelope.to, s.now);
                    s.monitors.lossy(s.now);
                }
            }
            Step::Duplicate(envelope) => {
                if s.wire.duplicate(&envelope) {
                    s.budget.duplicates = s.budget.duplicates.saturating_sub(1);
                    s.monitors.disturbed(s.now);
                }
            }
            Step::Timeout { node, vrid } => {
                if let Some(deadline) = s.next_deadline() {
                    s.now = deadline;
                }
                if let Some(slot) = self.specs[node].slot_of(vrid) {
                    self.act(s, node, |state, spec, now, fx| {
                        state.timeout(spec, slot, now, fx);
                    });
                }
            }
            Step::Install { node, vrid } => {
                if let Some(slot) = self.specs[node].slot_of(vrid) {
                    self.act(s, node, |state, _, _, fx| state.install(slot, fx));
                }
            }
            Step::Crash(node) => {
                s.budget.crashes = s.budget.crashes.saturating_sub(1);
                // A crash is a loss: hand-overs in progress stop being watched first.
                s.monitors.lossy(s.now);
                self.act(s, node, |state, _, _, fx| state.crash(fx));
                for from in s.wire.discard_to(node) {
                    s.monitors.dropped(n, from, node, s.now);
                }
            }
            Step::Restart(node) => {
                s.budget.restarts = s.budget.restarts.saturating_sub(1);
                self.act(s, node, |state, spec, now, fx| {
                    for (slot, x) in state.slots.iter().enumerate() {
                        if x.holds {
                            fx.push(Effect::Vips { slot, holds: false });
                        }
                    }
                    *state = NodeState::fresh(spec, now);
                    state.start(spec, now, fx);
                });
                s.monitors.disturbed(s.now);
            }
            Step::Shutdown(node) => {
                s.budget.shutdowns = s.budget.shutdowns.saturating_sub(1);
                self.start_handovers(s, node, HandoverKind::Shutdown);
                self.act(s, node, |state, spec, now, fx| {
                    state.shutdown(spec, now, fx)
                });
                s.monitors.disturbed(s.now);
            }
            Step::HandOver(node) => {
                s.budget.hand_overs = s.budget.hand_overs.saturating_sub(1);
                self.start_handovers(s, node, HandoverKind::LowerPriority);
                for slot in self.hand_over_slots(s, node) {
                    self.act(s, node, |state, spec, now, fx| {
                        state.set_priority(spec, slot, Priority(1), now, fx);
                    });
                }
                s.monitors.disturbed(s.now);
            }
            Step::SetPriority {
                node,
                vrid,
                priority,
            } => {
                let pending = |(i, c): &(usize, &PriorityChange)| {
                    s.budget.changes & (1 << i) != 0
                        && c.node == node
                        && c.vrid == vrid
                        && c.priority == priority
                };
                if let Some((i, _)) = self.changes.iter().enumerate().find(pending) {
                    s.budget.changes &= !(1 << i);
                    let change = self.changes[i];
                    self.act(s, node, |state, spec, now, fx| {
                        state.set_priority(spec, change.slot, change.priority, now, fx);
                    });
                    s.monitors.disturbed(s.now);
                }
            }
            Step::Partition { side } => {
                s.budget.partitions = s.budget.partitions.saturating_sub(1);
                let mask = side
                    .iter()
                    .filter(|n| **n < 8)
                    .fold(0u8, |m, n| m | (1 << n));
                s.partition = Some(Partition(mask));
                s.monitors.lossy(s.now);
            }
            Step::Heal => {
                s.partition = None;
                s.monitors.disturbed(s.now);
            }
        }
    }

    fn timer_steps(&self, s: &ModelState, actions: &mut Vec<Step>) {
        let Some(deadline) = s.next_deadline() else {
            return;
        };
        if s.live_slots().any(|(_, x)| x.pending_install) {
            return;
        }
        if s.wire
            .oldest()
            .is_some_and(|sent| sent + self.choices.max_delay < deadline)
        {
            return;
        }
        for (node, state) in s.nodes.iter().enumerate().filter(|(_, x)| x.up) {
            for x in &state.slots {
                if x.router.poll_timeout() == Some(deadline) {
                    actions.push(Step::Timeout {
                        node,
                        vrid: x.router.config().vrid,
                    });
                }
            }
        }
    }
}

impl Model for VrrpModel {
    type State = ModelState;
    type Action = Step;

    fn init_states(&self) -> Vec<ModelState> {
        vec![self.initial()]
    }

    fn actions(&self, s: &ModelState, actions: &mut Vec<Step>) {
        let b = s.budget;
        for e in s.wire.heads() {
            actions.push(Step::Deliver(e.clone()));
        }
        if b.reorders > 0 {
            for e in s.wire.behind() {
                actions.push(Step::Overtake(e.clone()));
            }
        }
        for e in s.wire.distinct() {
            if b.losses > 0 {
                actions.push(Step::Lose(e.clone()));
            }
            if b.duplicates > 0 {
                actions.push(Step::Duplicate(e.clone()));
            }
        }
        self.timer_steps(s, actions);
        for (node, state) in s.nodes.iter().enumerate() {
            for x in state.slots.iter().filter(|x| x.pending_install) {
                actions.push(Step::Install {
                    node,
                    vrid: x.router.config().vrid,
                });
            }
        }
        for (node, state) in s.nodes.iter().enumerate() {
            if state.up && b.crashes > 0 {
                actions.push(Step::Crash(node));
            }
            if (!state.up || state.idle()) && b.restarts > 0 {
                actions.push(Step::Restart(node));
            }
            if state.up && !state.idle() && b.shutdowns > 0 {
                actions.push(Step::Shutdown(node));
            }
            if state.up && b.hand_overs > 0 && !self.hand_over_slots(s, node).is_empty() {
                actions.push(Step::HandOver(node));
            }
        }
        for (i, change) in self.changes.iter().enumerate() {
            if b.changes & (1 << i) != 0 && s.nodes[change.node].up {
                actions.push(Step::SetPriority {
                    node: change.node,
                    vrid: change.vrid,
                    priority: change.priority,
                });
            }
        }
        match s.partition {
            None if b.partitions > 0 => {
                for p in Partition::all(self.specs.len()) {
                    actions.push(Step::Partition {
                        side: p.members(self.specs.len()),
                    });
                }
            }
            Some(_) => actions.push(Step::Heal),
            None => {}
        }
    }

    fn next_state(&self, last: &ModelState, step: Step) -> Option<ModelState> {
        let mut s = last.clone();
        s.monitors.new_step();
        self.apply(&mut s, step);
        Some(s)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        properties::all(self)
    }

    fn format_action(&self, step: &Step) -> String {
        let name = |n: &NodeId| {
            self.limits
                .names
                .get(*n)
                .map_or_else(|| n.to_string(), Clone::clone)
        };
        let advert = |e: &Envelope| {
            format!(
                "advert vrid {} priority {} from {} to {}",
                e.vrid,
                e.priority,
                name(&e.from),
                name(&e.to)
            )
        };
        match step {
            Step::Deliver(e) => format!("deliver {}", advert(e)),
            Step::Overtake(e) => format!("deliver, ahead of an earlier one, {}", advert(e)),
            Step::Lose(e) => format!("lose {}", advert(e)),
            Step::Duplicate(e) => format!("duplicate {}", advert(e)),
            Step::Timeout { node, vrid } => format!("timer of {} vrid {vrid} expires", name(node)),
            Step::Install { node, vrid } => {
                format!("{} installs the addresses of vrid {vrid}", name(node))
            }
            Step::Crash(node) => format!("{} crashes", name(node)),
            Step::Restart(node) => format!("{} restarts", name(node)),
            Step::Shutdown(node) => format!("{} shuts down (priority 0)", name(node)),
            Step::HandOver(node) => format!("{} hands over (priority 1)", name(node)),
            Step::SetPriority {
                node,
                vrid,
                priority,
            } => format!("{} sets vrid {vrid} to priority {priority}", name(node)),
            Step::Partition { side } => format!(
                "partition: {:?} | the rest",
                side.iter().map(name).collect::<Vec<_>>()
            ),
            Step::Heal => "partition heals".to_string(),
        }
    }
}
