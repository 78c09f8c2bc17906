//! One state of the model, what user properties may ask of it, and its identity for the
//! checker: a *projection* hashed in place of the routers themselves.
//!
//! # The projection
//!
//! A [`VirtualRouter`] holds absolute instants and ever-growing counters, and is neither
//! `Hash` nor `Eq`. Two states are the same for the checker when their projections are equal:
//!
//! - per router: its state, effective priority, Master_Adver_Interval, and its armed timer as
//!   a delay from now (with RFC announcement pacing, which the model imposes, at most one
//!   timer is armed: Adver_Timer in Master, Master_Down_Timer in Backup; the announcement
//!   schedule is then always idle);
//! - the shadows kept by the node ([`super::actor::Slot`]) of the fields without an accessor
//!   that change what the router does next: the preemption hold (`preempt_delay`, as time
//!   left, or expired, only when a delay is configured), its sync-group vote and fault
//!   reports, and the demux's last accepted master (only with `SkipSameMaster`). Each is set
//!   exactly where the router or demux sets its own copy, which
//!   [`ModelState::projection_error`] cross-checks against the router's own `Debug` output;
//! - whether the glue holds the addresses;
//! - the advertisements on the wire (bytes, addresses, age; by channel, each in sending
//!   order), partition, remaining budgets;
//! - the monitors' history, as ages capped where larger values change no verdict.
//!
//! Left out on purpose: statistics counters (never read by the protocol), the base priority
//! (equal to the effective one up to constant tracking, and `SetPriority` replaces it
//! outright), the `Reason` flags behind `MasterStopped`, `StartupAsMaster` (they only choose
//! the reason reported with the next promotion), and absolute time. The router only ever
//! compares and adds instants, so states equal up to a shift in time behave identically,
//! which makes the state space finite: a check explores every schedule, for all time, within
//! the choices' budgets.

use core::fmt;
use core::hash::{Hash, Hasher};
use core::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::AddressCheck;
use crate::router::VirtualRouter;
use crate::state::State;
use crate::types::{Centisecs, Priority, Vrid};

use super::actor::{NodeState, Slot};
use super::monitor::{Handover, Monitors};
use super::network::{Envelope, Partition, Wire};
use super::spec::NodeId;

/// What stays fixed across the states of one model.
#[derive(Debug)]
pub(crate) struct Limits {
    pub(crate) epoch: Instant,
    pub(crate) names: Vec<String>,
    pub(crate) vrids: Vec<Vrid>,
    /// Calm time after which a state with an empty, unpartitioned LAN is quiescent.
    pub(crate) settle: Duration,
    /// Cap of the ownerless age (above every hand-over bound).
    pub(crate) cap_handover: Duration,
    /// Cap of the ages property 3 compares (above every Master_Down_Interval).
    pub(crate) cap_window: Duration,
}

/// Remaining budgets of the checker's choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Budget {
    pub(crate) losses: u8,
    pub(crate) duplicates: u8,
    pub(crate) crashes: u8,
    pub(crate) restarts: u8,
    pub(crate) partitions: u8,
    pub(crate) shutdowns: u8,
    pub(crate) hand_overs: u8,
    pub(crate) reorders: u8,
    /// Priority changes not applied yet (bit per change).
    pub(crate) changes: u16,
}

/// One state of a model: every node, the LAN, the remaining choices and the history the
/// properties need. User properties ([`super::ModelBuilder::property`]) read it through the
/// methods below.
#[derive(Clone)]
pub struct ModelState {
    pub(crate) now: Instant,
    pub(crate) nodes: Vec<Arc<NodeState>>,
    pub(crate) wire: Wire,
    pub(crate) partition: Option<Partition>,
    pub(crate) budget: Budget,
    pub(crate) monitors: Monitors,
    pub(crate) limits: Arc<Limits>,
}

impl ModelState {
    /// Model time since the start.
    pub fn elapsed(&self) -> Duration {
        self.now.saturating_duration_since(self.limits.epoch)
    }

    /// The number of nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// A node's name.
    pub fn node_name(&self, node: NodeId) -> &str {
        self.limits.names.get(node).map_or("?", String::as_str)
    }

    /// Whether the node is running (not crashed; it may be shut down).
    pub fn is_up(&self, node: NodeId) -> bool {
        self.nodes.get(node).is_some_and(|n| n.up)
    }

    /// The node's router for `vrid`, unless the node is down.
    pub fn router(&self, node: NodeId, vrid: Vrid) -> Option<&VirtualRouter> {
        self.slot(node, vrid).map(|s| &s.router)
    }

    /// Whether the node's glue holds the addresses of `vrid` (installed, not yet removed).
    pub fn holds_addresses(&self, node: NodeId, vrid: Vrid) -> bool {
        self.slot(node, vrid).is_some_and(|s| s.holds)
    }

    /// The nodes whose router for `vrid` is Master.
    pub fn masters(&self, vrid: Vrid) -> Vec<NodeId> {
        (0..self.nodes.len())
            .filter(|n| {
                self.router(*n, vrid)
                    .is_some_and(|r| r.state() == State::Master)
            })
            .collect()
    }

    /// The nodes holding the addresses of `vrid`.
    pub fn holders(&self, vrid: Vrid) -> Vec<NodeId> {
        (0..self.nodes.len())
            .filter(|n| self.holds_addresses(*n, vrid))
            .collect()
    }

    /// The advertisements on the wire.
    pub fn in_flight(&self) -> &[Envelope] {
        &self.wire.in_flight
    }

    /// Whether the LAN is partitioned.
    pub fn is_partitioned(&self) -> bool {
        self.partition.is_some()
    }

    /// Quiescent: the LAN is whole and empty, and since the last fault, heal or planned
    /// operation every timer has had its chance to fire (the model's settle time, by default
    /// twice the longest Master_Down_Interval plus two advertisement intervals and the longest
    /// `preempt_delay`), or no timer is armed at all, so that nothing will happen any more.
    pub fn is_quiescent(&self) -> bool {
        if self.partition.is_some() || !self.wire.in_flight.is_empty() {
            return false;
        }
        if self.live_slots().any(|(_, s)| s.pending_install) {
            return false;
        }
        let armed = self
            .live_slots()
            .any(|(_, s)| s.router.poll_timeout().is_some());
        !armed || self.now.saturating_duration_since(self.monitors.calm_since) >= self.limits.settle
    }

    /// Compares the projection's shadows with the routers' own state (as their `Debug`
    /// output shows it): `None` when every shadow matches. Slow; meant for tests of this
    /// crate, as a property of a model (`|s| s.projection_error().is_none()`).
    pub fn projection_error(&self) -> Option<String> {
        for (n, node) in self.nodes.iter().enumerate() {
            for slot in &node.slots {
                let text = format!("{:?}", slot.router);
                let vrid = slot.router.config().vrid;
                let expect = [
                    format!("preempt_hold_until: {:?},", slot.hold_until),
                    format!("group_vote: {:?},", slot.vote),
                    format!("group_fault_reported: {:?},", slot.own_fault),
                    format!("group: {:?} }}", slot.told_fault),
                    "outputs: []".to_string(),
                    "left: 0, second_round: None".to_string(),
                ];
                if let Some(missing) = expect.iter().find(|e| !text.contains(e.as_str())) {
                    return Some(format!(
                        "node {n} vrid {vrid}: router lacks `{missing}`: {text}"
                    ));
                }
                let timers = text
                    .split_once("deadlines: [")
                    .and_then(|(_, rest)| rest.split_once(']'))
                    .map(|(inside, _)| inside.matches("Some(").count());
                if timers.is_none_or(|armed| armed > 1) {
                    return Some(format!(
                        "node {n} vrid {vrid}: more than one timer armed: {text}"
                    ));
                }
            }
            if let Some(group) = &node.group {
                let text = format!("{group:?}");
                let mut members: Vec<&Slot> =
                    node.slots.iter().filter(|s| s.member.is_some()).collect();
                members.sort_by_key(|s| s.member);
                for s in members {
                    let expect = format!(
                        "Member {{ state: {:?}, vote: {:?}, own_fault: {:?}, told_fault: {:?} }}",
                        s.router.state(),
                        s.vote,
                        s.own_fault,
                        s.told_fault
                    );
                    if !text.contains(&expect) {
                        return Some(format!("node {n}: group lacks `{expect}`: {text}"));
                    }
                }
            }
        }
        None
    }

    pub(crate) fn slot(&self, node: NodeId, vrid: Vrid) -> Option<&Slot> {
        let n = self.nodes.get(node)?;
        n.slots.iter().find(|s| s.router.config().vrid == vrid)
    }

    /// Every router of a running node, with its node.
    pub(crate) fn live_slots(&self) -> impl Iterator<Item = (NodeId, &Slot)> {
        self.nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.up)
            .flat_map(|(i, n)| n.slots.iter().map(move |s| (i, s)))
    }

    /// The earliest deadline of any running router.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.nodes
            .iter()
            .filter(|n| n.up)
            .filter_map(|n| n.next_deadline())
            .min()
    }

    fn age(&self, t: Instant, cap: Duration) -> Duration {
        self.now.saturating_duration_since(t).min(cap)
    }

    fn projection(&self) -> Projection {
        let window = self.limits.cap_window;
        let nodes = self
            .nodes
            .iter()
            .map(|node| {
                if !node.up {
                    return None;
                }
                Some(
                    node.slots
                        .iter()
                        .map(|s| self.project_slot(s, window))
                        .collect(),
                )
            })
            .collect();
        let wire = self
            .wire
            .canonical()
            .into_iter()
            .map(|e| WireKey {
                to: e.to,
                from: e.from,
                src: e.src,
                dst: e.dst,
                bytes: Arc::clone(&e.bytes),
                age: self.now.saturating_duration_since(e.sent_at),
            })
            .collect();
        let watches = self
            .monitors
            .vrids
            .iter()
            .map(|w| {
                (
                    w.ownerless_since
                        .map(|t| self.age(t, self.limits.cap_handover)),
                    w.handover,
                )
            })
            .collect();
        Projection {
            nodes,
            wire,
            partition: self.partition.map(|p| p.0),
            budget: self.budget,
            calm: self.age(self.monitors.calm_since, self.limits.settle),
            watches,
            drops: self
                .monitors
                .last_drop
                .iter()
                .map(|d| d.map(|t| self.age(t, window)))
                .collect(),
            verdicts: (
                self.monitors.handover_broken,
                self.monitors.promoted_while_hearing,
                self.monitors.handover_completed,
            ),
        }
    }

    fn project_slot(&self, s: &Slot, window: Duration) -> SlotKey {
        let config = s.router.config();
        let hold = if config.preempt_delay.is_zero() {
            HoldKey::None
        } else {
            match s.hold_until {
                None => HoldKey::None,
                Some(until) if until > self.now => HoldKey::Left(until - self.now),
                Some(_) => HoldKey::Expired,
            }
        };
        SlotKey {
            state: s.router.state(),
            priority: s.router.priority(),
            master_adver_interval: s.router.master_adver_interval(),
            timer: s
                .router
                .poll_timeout()
                .map(|t| t.saturating_duration_since(self.now)),
            holds: s.holds,
            pending_install: s.pending_install,
            last_master: (config.address_check == AddressCheck::SkipSameMaster)
                .then_some(s.last_master)
                .flatten(),
            hold,
            group: s.member.map(|_| (s.vote, s.own_fault, s.told_fault)),
            master_since: s.master_since.map(|t| self.age(t, window)),
            priority_since: self.age(s.priority_since, window),
        }
    }
}

/// The identity of a state (see the module documentation).
#[derive(PartialEq, Eq, Hash)]
struct Projection {
    nodes: Vec<Option<Vec<SlotKey>>>,
    wire: Vec<WireKey>,
    partition: Option<u8>,
    budget: Budget,
    calm: Duration,
    watches: Vec<(Option<Duration>, Option<Handover>)>,
    drops: Vec<Option<Duration>>,
    verdicts: (bool, bool, bool),
}

#[derive(PartialEq, Eq, Hash)]
struct SlotKey {
    state: State,
    priority: Priority,
    master_adver_interval: Centisecs,
    timer: Option<Duration>,
    holds: bool,
    pending_install: bool,
    last_master: Option<IpAddr>,
    hold: HoldKey,
    group: Option<(bool, bool, bool)>,
    master_since: Option<Duration>,
    priority_since: Duration,
}

#[derive(PartialEq, Eq, Hash)]
enum HoldKey {
    None,
    Left(Duration),
    Expired,
}

#[derive(PartialEq, Eq, Hash)]
struct WireKey {
    to: NodeId,
    from: NodeId,
    src: IpAddr,
    dst: IpAddr,
    bytes: Arc<[u8]>,
    age: Duration,
}

impl Hash for ModelState {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.projection().hash(state);
    }
}

impl PartialEq for ModelState {
    fn eq(&self, other: &Self) -> bool {
        self.projection() == other.projection()
    }
}

impl Eq for ModelState {}

impl fmt::Debug for ModelState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={:?}", self.elapsed())?;
        for (n, node) in self.nodes.iter().enumerate() {
            write!(f, "; {}:", self.node_name(n))?;
            if !node.up {
                write!(f, " down")?;
                continue;
            }
            for s in &node.slots {
                let r = &s.router;
                write!(
                    f,
                    " [vrid {} {} prio {}{}",
                    r.config().vrid,
                    r.state(),
                    r.priority(),
                    if s.holds { " holds" } else { "" }
                )?;
                if let Some(t) = r.poll_timeout() {
                    write!(f, " timer +{:?}", t.saturating_duration_since(self.now))?;
                }
                write!(f, "]")?;
            }
        }
        if !self.wire.in_flight.is_empty() {
            write!(f, "; wire: {:?}", self.wire.in_flight)?;
        }
        if let Some(p) = self.partition {
            write!(f, "; partition {:?}", p.members(self.nodes.len()))?;
        }
        if let Some(note) = &self.monitors.note {
            write!(f, "; {note}")?;
        }
        Ok(())
    }
}
