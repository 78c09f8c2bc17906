//! The properties every model is checked against, each derived from RFC 9568's state machine
//! (or keepalived's sync groups), and the dispatch of user properties.

use std::sync::Arc;

use stateright::Property;

use crate::state::State;
use crate::types::Vrid;

use super::state::ModelState;
use super::system::VrrpModel;

/// A built-in property.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Builtin {
    /// In a quiescent state ([`ModelState::is_quiescent`]) every VRID with a running router
    /// has exactly one master, and no backup would preempt it: none with preemption on has
    /// a higher priority (a sync-group member only counts if every member of its group would
    /// go too).
    SingleMaster,
    /// A planned hand-over (started while another router runs to take over and every
    /// advert on the wire is a current master's), on a path without loss, crash or
    /// partition, leaves the addresses without holder only for the Skew_Time of a priority-0
    /// shutdown (the longest of the new holder's sync group, plus `max_delay`), and never
    /// when the master hands over by lowering its priority to 1.
    HandoverKeepsAddresses,
    /// A backup does not become master while a master of higher or equal priority, whose
    /// adverts to it are not lost, has been advertising for a whole Master_Down_Interval.
    BackupHearingStays,
    /// In a quiescent state no sync group has one member master and another backup.
    GroupTogether,
}

impl Builtin {
    /// Every built-in property.
    pub const ALL: [Builtin; 4] = [
        Builtin::SingleMaster,
        Builtin::HandoverKeepsAddresses,
        Builtin::BackupHearingStays,
        Builtin::GroupTogether,
    ];

    /// The property's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::SingleMaster => "single master when quiescent",
            Builtin::HandoverKeepsAddresses => "planned hand-over keeps the addresses",
            Builtin::BackupHearingStays => "backup hearing a master stays backup",
            Builtin::GroupTogether => "sync group not split when quiescent",
        }
    }

    /// Where the property comes from.
    pub fn basis(self) -> &'static str {
        match self {
            Builtin::SingleMaster => {
                "RFC 9568 §6.4.2 (a Backup with Preempt_Mode resets Master_Down_Timer on an \
                 advert of greater or equal priority, discards a lower one, and transitions to \
                 Master when the timer fires) and §6.4.3 (a Master yields to a greater priority, \
                 or an equal one from a greater primary address)"
            }
            Builtin::HandoverKeepsAddresses => {
                "RFC 9568 §6.4.3 (on Shutdown a Master sends an ADVERTISEMENT with Priority = 0) \
                 and §6.4.2 (a Backup receiving Priority 0 sets Master_Down_Timer to Skew_Time; \
                 on becoming Master it broadcasts the addresses); a lowered priority is \
                 preempted per §6.4.2 and the old Master yields per §6.4.3"
            }
            Builtin::BackupHearingStays => {
                "RFC 9568 §6.4.2: if Preempt_Mode is False, or the advert's priority is greater \
                 than or equal to the local priority, reset Master_Down_Timer to \
                 Master_Down_Interval; only its expiry makes a Backup Master"
            }
            Builtin::GroupTogether => {
                "keepalived vrrp_sync_group (crate::group) over RFC 9568 §6.4 states: members \
                 go Master only together, and one leaving Master takes the others to Backup"
            }
        }
    }

    fn check(self) -> fn(&VrrpModel, &ModelState) -> bool {
        match self {
            Builtin::SingleMaster => single_master,
            Builtin::HandoverKeepsAddresses => handover_keeps_addresses,
            Builtin::BackupHearingStays => backup_hearing_stays,
            Builtin::GroupTogether => group_together,
        }
    }
}

/// The example that quiescent states are reached (so state properties are not vacuous).
pub(crate) const QUIESCENT: &str = "a quiescent state is reached";
/// The example that a clean planned hand-over completes.
pub(crate) const HANDOVER_DONE: &str = "a planned hand-over completes";

/// A property given by the user.
#[derive(Clone)]
pub(crate) struct UserProperty {
    pub(crate) name: &'static str,
    pub(crate) check: Arc<dyn Fn(&ModelState) -> bool + Send + Sync>,
}

/// How many user properties of each kind a model may have.
pub(crate) const MAX_USER: usize = 16;

/// stateright takes properties as plain function pointers: one per index.
fn always<const I: usize>(model: &VrrpModel, state: &ModelState) -> bool {
    model.always.get(I).is_none_or(|p| (p.check)(state))
}

fn sometimes<const I: usize>(model: &VrrpModel, state: &ModelState) -> bool {
    model.sometimes.get(I).is_some_and(|p| (p.check)(state))
}

type Condition = fn(&VrrpModel, &ModelState) -> bool;

const ALWAYS: [Condition; MAX_USER] = [
    always::<0>,
    always::<1>,
    always::<2>,
    always::<3>,
    always::<4>,
    always::<5>,
    always::<6>,
    always::<7>,
    always::<8>,
    always::<9>,
    always::<10>,
    always::<11>,
    always::<12>,
    always::<13>,
    always::<14>,
    always::<15>,
];

const SOMETIMES: [Condition; MAX_USER] = [
    sometimes::<0>,
    sometimes::<1>,
    sometimes::<2>,
    sometimes::<3>,
    sometimes::<4>,
    sometimes::<5>,
    sometimes::<6>,
    sometimes::<7>,
    sometimes::<8>,
    sometimes::<9>,
    sometimes::<10>,
    sometimes::<11>,
    sometimes::<12>,
    sometimes::<13>,
    sometimes::<14>,
    sometimes::<15>,
];

/// Every property of `model`, for stateright.
pub(crate) fn all(model: &VrrpModel) -> Vec<Property<VrrpModel>> {
    let mut out: Vec<Property<VrrpModel>> = model
        .builtins
        .iter()
        .map(|b| Property::always(b.name(), b.check()))
        .collect();
    out.extend(
        model
            .always
            .iter()
            .zip(ALWAYS)
            .map(|(p, check)| Property::always(p.name, check)),
    );
    out.extend(
        model
            .sometimes
            .iter()
            .zip(SOMETIMES)
            .map(|(p, check)| Property::sometimes(p.name, check)),
    );
    out.push(Property::sometimes(QUIESCENT, |_, s: &ModelState| {
        s.is_quiescent()
    }));
    if model.choices.shutdowns > 0 || model.choices.hand_overs > 0 {
        out.push(Property::sometimes(HANDOVER_DONE, |_, s: &ModelState| {
            s.monitors.handover_completed
        }));
    }
    out
}

/// Running routers of `vrid` taking part in the protocol (Backup or Master), as (node, slot).
fn participants(s: &ModelState, vrid: Vrid) -> impl Iterator<Item = (usize, usize)> + '_ {
    s.nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.up)
        .flat_map(move |(i, n)| {
            n.slots
                .iter()
                .enumerate()
                .filter(move |(_, x)| {
                    x.router.config().vrid == vrid
                        && matches!(x.router.state(), State::Backup | State::Master)
                })
                .map(move |(k, _)| (i, k))
        })
}

/// The unique master of `vrid`, if there is exactly one.
fn sole_master(s: &ModelState, vrid: Vrid) -> Option<(usize, usize)> {
    let mut masters = participants(s, vrid)
        .filter(|(n, k)| s.nodes[*n].slots[*k].router.state() == State::Master);
    let first = masters.next()?;
    masters.next().is_none().then_some(first)
}

/// Whether the backup in (node, slot) would preempt its VRID's master on its own: RFC 9568
/// §6.4.2 discards the master's adverts (Preempt_Mode and a lower priority), so its
/// Master_Down_Timer fires.
fn wants_master(s: &ModelState, node: usize, slot: usize) -> bool {
    let x = &s.nodes[node].slots[slot];
    if x.router.state() != State::Backup || !x.router.config().preempt {
        return false;
    }
    let vrid = x.router.config().vrid;
    sole_master(s, vrid)
        .is_some_and(|(mn, mk)| s.nodes[mn].slots[mk].router.priority() < x.router.priority())
}

/// Property 1 ([`Builtin::SingleMaster`]).
fn single_master(model: &VrrpModel, s: &ModelState) -> bool {
    if !s.is_quiescent() {
        return true;
    }
    for &vrid in &model.limits.vrids {
        if participants(s, vrid).next().is_none() {
            continue;
        }
        if sole_master(s, vrid).is_none() {
            return false;
        }
        for (n, k) in participants(s, vrid) {
            if !wants_master(s, n, k) {
                continue;
            }
            let node = &s.nodes[n];
            let group_goes = node.slots[k].member.is_none()
                || node
                    .slots
                    .iter()
                    .enumerate()
                    .filter(|(i, x)| *i != k && x.member.is_some())
                    .all(|(i, x)| x.router.state() == State::Master || wants_master(s, n, i));
            if group_goes {
                return false;
            }
        }
    }
    true
}

/// Property 2 ([`Builtin::HandoverKeepsAddresses`]): the transition check ran in the
/// monitors; here, a quiescent state must not be stuck without holder.
fn handover_keeps_addresses(model: &VrrpModel, s: &ModelState) -> bool {
    if s.monitors.handover_broken {
        return false;
    }
    if !s.is_quiescent() {
        return true;
    }
    model
        .limits
        .vrids
        .iter()
        .zip(&s.monitors.vrids)
        .all(|(&vrid, watch)| {
            let stuck = watch.handover.is_some_and(|h| h.clean)
                && watch.ownerless_since.is_some()
                && participants(s, vrid).next().is_some();
            !stuck
        })
}

/// Property 3 ([`Builtin::BackupHearingStays`]): checked on each promotion by the monitors.
fn backup_hearing_stays(_: &VrrpModel, s: &ModelState) -> bool {
    !s.monitors.promoted_while_hearing
}

/// Property 4 ([`Builtin::GroupTogether`]).
fn group_together(_: &VrrpModel, s: &ModelState) -> bool {
    if !s.is_quiescent() {
        return true;
    }
    s.nodes.iter().filter(|n| n.up).all(|n| {
        let states = || {
            n.slots
                .iter()
                .filter(|x| x.member.is_some())
                .map(|x| x.router.state())
        };
        !(states().any(|st| st == State::Master) && states().any(|st| st == State::Backup))
    })
}
