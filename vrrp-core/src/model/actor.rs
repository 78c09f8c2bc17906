//! One node of the model as an actor: it owns real [`VirtualRouter`]s, its receive path
//! ([`Demux`]) and its [`SyncGroup`], feeds them inputs, drains every output and carries it
//! out as a glue would. What the rest of the model must see (adverts to send, addresses
//! installed or removed, promotions) comes back as [`Effect`]s, in order.
//!
//! Besides the routers, a slot keeps *shadows* of the few router fields that decide future
//! behaviour but have no accessor (see [`super::state`] for why each is faithful).

use core::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use crate::demux::{Demux, RxMeta};
use crate::group::SyncGroup;
use crate::output::{Advertisement, Output};
use crate::router::{GroupCommand, Input, VirtualRouter};
use crate::state::State;
use crate::types::{Family, Priority, Vrid};

use super::network::Envelope;
use super::spec::Mutant;

/// What a node is, fixed for the whole check.
#[derive(Debug, Clone)]
pub(crate) struct NodeSpec {
    pub(crate) name: String,
    /// Fresh routers (Initialize), cloned at every (re)start.
    pub(crate) routers: Vec<VirtualRouter>,
    /// The sync-group member index of each router, if in the group.
    pub(crate) members: Vec<Option<usize>>,
    /// The group's name, if there is one.
    pub(crate) group: Option<String>,
    pub(crate) mutant: Option<Mutant>,
}

impl NodeSpec {
    /// The slot of the router with `vrid`.
    pub(crate) fn slot_of(&self, vrid: Vrid) -> Option<usize> {
        self.routers.iter().position(|r| r.config().vrid == vrid)
    }
}

/// What a node's action produced that the rest of the model acts on.
#[derive(Debug, Clone)]
pub(crate) enum Effect {
    /// The glue sends this advertisement.
    Transmit(Advertisement),
    /// The router in `slot` now holds (or no longer holds) its addresses.
    Vips { slot: usize, holds: bool },
    /// The router in `slot` became master, coming from `from`.
    BecameMaster { slot: usize, from: State },
}

/// One router of a running node, with the shadows and the monitors' per-router data.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    pub(crate) router: VirtualRouter,
    /// The glue installed the addresses (between `InstallVips` and `RemoveVips`).
    pub(crate) holds: bool,
    /// [`Mutant::AdvertBeforeInstall`]: `InstallVips` not carried out yet.
    pub(crate) pending_install: bool,
    /// Shadow of the demux entry's last accepted source (`AddressCheck::SkipSameMaster`).
    pub(crate) last_master: Option<IpAddr>,
    /// Shadow of the router's `preempt_hold_until` (keepalived `preempt_delay`).
    pub(crate) hold_until: Option<Instant>,
    /// Shadow of the router's sync-group vote (equal to its group member's vote).
    pub(crate) vote: bool,
    /// Shadow of the own-fault status the router last reported to its group.
    pub(crate) own_fault: bool,
    /// The group-fault status the group last told the router.
    pub(crate) told_fault: bool,
    /// Sync-group member index.
    pub(crate) member: Option<usize>,
    /// Master, advertising its current priority, since then.
    pub(crate) master_since: Option<Instant>,
    /// Its priority last changed then (or the node started).
    pub(crate) priority_since: Instant,
}

/// A node: running (with routers) or down.
#[derive(Debug, Clone)]
pub(crate) struct NodeState {
    pub(crate) up: bool,
    pub(crate) slots: Vec<Slot>,
    pub(crate) group: Option<SyncGroup>,
    demux_v4: Option<Arc<Demux>>,
    demux_v6: Option<Arc<Demux>>,
}

impl NodeState {
    /// A crashed node: no router, nothing installed.
    pub(crate) fn down() -> Self {
        NodeState {
            up: false,
            slots: Vec::new(),
            group: None,
            demux_v4: None,
            demux_v6: None,
        }
    }

    /// A node with fresh routers in Initialize; [`NodeState::start`] starts them.
    pub(crate) fn fresh(spec: &NodeSpec, now: Instant) -> Self {
        let mut demux_v4 = Demux::new(Family::V4);
        let mut demux_v6 = Demux::new(Family::V6);
        let (mut has_v4, mut has_v6) = (false, false);
        let slots = spec
            .routers
            .iter()
            .enumerate()
            .map(|(i, router)| {
                let config = router.config();
                let demux = match config.family {
                    Family::V4 => {
                        has_v4 = true;
                        &mut demux_v4
                    }
                    Family::V6 => {
                        has_v6 = true;
                        &mut demux_v6
                    }
                };
                // The model refused duplicate VRIDs when it was built.
                let _ = demux.register(config.vrid.get(), i, router.rx_policy());
                Slot {
                    router: router.clone(),
                    holds: false,
                    pending_install: false,
                    last_master: None,
                    hold_until: None,
                    vote: false,
                    own_fault: false,
                    told_fault: false,
                    member: spec.members.get(i).copied().flatten(),
                    master_since: None,
                    priority_since: now,
                }
            })
            .collect();
        let members = spec.members.iter().flatten().count();
        NodeState {
            up: true,
            slots,
            group: spec
                .group
                .as_ref()
                .map(|name| SyncGroup::new(name.clone(), members)),
            demux_v4: has_v4.then(|| Arc::new(demux_v4)),
            demux_v6: has_v6.then(|| Arc::new(demux_v6)),
        }
    }

    /// Whether every router is in Initialize (never started, or shut down).
    pub(crate) fn idle(&self) -> bool {
        self.slots
            .iter()
            .all(|s| s.router.state() == State::Initialize)
    }

    /// The earliest timer of the node's routers.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.slots
            .iter()
            .filter_map(|s| s.router.poll_timeout())
            .min()
    }

    /// Startup event for every router (RFC 9568 §6.4.1).
    pub(crate) fn start(&mut self, spec: &NodeSpec, now: Instant, fx: &mut Vec<Effect>) {
        for s in 0..self.slots.len() {
            self.slots[s].router.handle(now, Input::Startup);
        }
        self.drain(spec, now, fx);
    }

    /// Shutdown event for every router (RFC 9568 §6.4.2, §6.4.3).
    pub(crate) fn shutdown(&mut self, spec: &NodeSpec, now: Instant, fx: &mut Vec<Effect>) {
        for s in 0..self.slots.len() {
            self.slots[s].router.handle(now, Input::Shutdown);
        }
        self.drain(spec, now, fx);
    }

    /// The router in `slot` reaches its deadline.
    pub(crate) fn timeout(
        &mut self,
        spec: &NodeSpec,
        slot: usize,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) {
        if let Some(s) = self.slots.get_mut(slot) {
            s.router.handle(now, Input::Timeout);
        }
        self.drain(spec, now, fx);
    }

    /// Sets the base priority of the router in `slot`.
    pub(crate) fn set_priority(
        &mut self,
        spec: &NodeSpec,
        slot: usize,
        priority: Priority,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) {
        if let Some(s) = self.slots.get_mut(slot) {
            s.router.handle(now, Input::SetPriority(priority));
        }
        self.drain(spec, now, fx);
    }

    /// [`Mutant::AdvertBeforeInstall`]: the glue installs the addresses now.
    pub(crate) fn install(&mut self, slot: usize, fx: &mut Vec<Effect>) {
        if let Some(s) = self.slots.get_mut(slot)
            && s.pending_install
        {
            s.pending_install = false;
            s.holds = true;
            fx.push(Effect::Vips { slot, holds: true });
        }
    }

    /// The node dies: its addresses vanish with it.
    pub(crate) fn crash(&mut self, fx: &mut Vec<Effect>) {
        for (slot, s) in self.slots.iter().enumerate() {
            if s.holds {
                fx.push(Effect::Vips { slot, holds: false });
            }
        }
        *self = NodeState::down();
    }

    /// Receives `envelope`: the demux validates it (RFC 9568 §7.1), the router it is for
    /// handles it. Returns whether the demux accepted it.
    pub(crate) fn deliver(
        &mut self,
        spec: &NodeSpec,
        envelope: &Envelope,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) -> bool {
        let meta = RxMeta {
            src: envelope.src,
            dst: envelope.dst,
            ttl: 255,
        };
        let demux = match Family::of(&envelope.src) {
            Family::V4 => self.demux_v4.as_mut(),
            Family::V6 => self.demux_v6.as_mut(),
        };
        let Some(demux) = demux else {
            return false;
        };
        let Ok(dispatch) = Arc::make_mut(demux).receive(meta, &envelope.bytes) else {
            return false;
        };
        let Some(slot) = self.slots.get_mut(dispatch.slot) else {
            return false;
        };
        slot.last_master = Some(meta.src);
        let ignored = match spec.mutant {
            Some(Mutant::IgnoreAdverts) => true,
            Some(Mutant::NeverStepDown) => slot.router.state() == State::Master,
            _ => false,
        };
        if ignored {
            return true;
        }
        slot.shadow_preempt_hold(dispatch.advert.priority, now);
        slot.router.handle(
            now,
            Input::Advert {
                meta: dispatch.meta,
                advert: dispatch.advert,
            },
        );
        self.drain(spec, now, fx);
        true
    }

    /// Drains every router until no output is left, carrying each out.
    fn drain(&mut self, spec: &NodeSpec, now: Instant, fx: &mut Vec<Effect>) {
        loop {
            let mut progressed = false;
            for s in 0..self.slots.len() {
                while let Some(out) = self.slots[s].router.poll() {
                    progressed = true;
                    self.carry_out(spec, s, out, now, fx);
                }
            }
            if !progressed {
                break;
            }
        }
    }

    fn carry_out(
        &mut self,
        spec: &NodeSpec,
        s: usize,
        out: Output,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) {
        self.tell_group(spec, s, &out, now);
        let slot = &mut self.slots[s];
        match out {
            Output::Transmit(advert) => {
                if spec.mutant == Some(Mutant::SilentShutdown) && advert.priority == Priority::STOP
                {
                    return;
                }
                fx.push(Effect::Transmit(advert));
            }
            Output::InstallVips { .. } => {
                if spec.mutant == Some(Mutant::AdvertBeforeInstall) {
                    slot.pending_install = true;
                } else if !slot.holds {
                    slot.holds = true;
                    fx.push(Effect::Vips {
                        slot: s,
                        holds: true,
                    });
                }
            }
            Output::RemoveVips { .. } => {
                slot.pending_install = false;
                if slot.holds {
                    slot.holds = false;
                    fx.push(Effect::Vips {
                        slot: s,
                        holds: false,
                    });
                }
            }
            Output::StateChanged { from, to, .. } => {
                if to == State::Master {
                    // Promotion clears the vote and the preemption hold.
                    slot.vote = false;
                    slot.hold_until = None;
                    slot.master_since = Some(now);
                    fx.push(Effect::BecameMaster { slot: s, from });
                } else if from == State::Master {
                    slot.master_since = None;
                }
            }
            Output::PriorityChanged { .. } => {
                slot.priority_since = now;
                if slot.master_since.is_some() {
                    slot.master_since = Some(now);
                }
            }
            Output::GroupVote { want_master } => slot.vote = want_master,
            Output::GroupFault { active } => slot.own_fault = active,
            _ => {}
        }
    }

    /// Feeds `out` of slot `s` to the sync group and delivers its commands at once, as the
    /// simulator's glue does.
    fn tell_group(&mut self, spec: &NodeSpec, s: usize, out: &Output, now: Instant) {
        let Some(member) = self.slots[s].member else {
            return;
        };
        if spec.mutant == Some(Mutant::IgnoreSyncGroup) {
            if let Output::GroupVote { want_master: true } = out {
                self.slots[s]
                    .router
                    .handle(now, Input::Group(GroupCommand::Master));
            }
            return;
        }
        let Some(group) = self.group.as_mut() else {
            return;
        };
        let mut commands = Vec::new();
        group.observe(member, out, &mut commands);
        for (m, command) in commands {
            if let Some(target) = self.slots.iter_mut().find(|x| x.member == Some(m)) {
                if let GroupCommand::Fault { active } = command {
                    target.told_fault = active;
                }
                target.router.handle(now, Input::Group(command));
            }
        }
    }
}

impl Slot {
    /// Mirrors `VirtualRouter::backup_receive`'s use of the preemption hold for an accepted
    /// advert of `advertised` priority, before the router handles it: a Backup that preempts
    /// starts the hold on the first lower-priority advert, one of higher or equal priority
    /// clears it.
    fn shadow_preempt_hold(&mut self, advertised: Priority, now: Instant) {
        if self.router.state() != State::Backup || advertised == Priority::STOP {
            return;
        }
        let config = self.router.config();
        if advertised >= self.router.priority() {
            self.hold_until = None;
        } else if config.preempt && !config.preempt_delay.is_zero() {
            self.hold_until.get_or_insert(now + config.preempt_delay);
        }
    }
}
