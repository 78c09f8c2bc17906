//! [`VirtualRouter`]: the state machine of one (interface, family, VRID), RFC 9568 §6 and
//! RFC 3768 §6, driven by [`Input`]s and drained through [`VirtualRouter::poll`].

use core::net::IpAddr;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::announce::AnnounceSchedule;
use crate::config::{RouterConfig, StartupState};
use crate::demux::{RxMeta, RxPolicy};
use crate::error::ConfigError;
use crate::output::{Advertisement, Output};
use crate::state::{Reason, State};
use crate::stats::RouterStats;
use crate::timer::{Timer, Timers};
use crate::track::{TrackSet, TrackState};
use crate::types::{Centisecs, Priority, Version, VirtualAddress};
use crate::wire::AdvertRepr;

mod reconfigure;

pub use reconfigure::Reconfigured;

/// An event for a virtual router.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Input<'a> {
    /// Startup event (RFC 9568 §6.4.1).
    Startup,
    /// Shutdown event (RFC 9568 §6.4.2, §6.4.3): a master sends priority 0 and removes its
    /// addresses.
    Shutdown,
    /// The deadline returned by [`VirtualRouter::poll_timeout`] has been reached.
    Timeout,
    /// An advertisement that passed [`crate::Demux::receive`].
    Advert {
        /// Addresses and TTL it came with.
        meta: RxMeta,
        /// The advertisement.
        advert: AdvertRepr<'a>,
    },
    /// A tracked object changed state.
    Track {
        /// Its configured name.
        name: &'a str,
        /// Its new state.
        state: TrackState,
    },
    /// Sets the base priority of a non-owner, clamped to 1..=254 (0 is reserved for stopping,
    /// 255 for the address owner, whose priority never changes: RFC 9568 §5.2.4).
    SetPriority(Priority),
    /// The interface's link state.
    Link {
        /// Whether the link is up.
        up: bool,
    },
    /// The glue's I/O (socket, address installation) failed or recovered.
    IoFault {
        /// Whether the fault is present.
        active: bool,
    },
    /// A decision of the member's sync group.
    Group(GroupCommand),
}

/// What a sync group tells a member (see [`crate::group::SyncGroup`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupCommand {
    /// Every member wants to be master: go.
    Master,
    /// Another member left master: follow it to backup.
    Backup,
    /// Another member is (or no longer is) in fault.
    Fault {
        /// Whether some other member is in fault.
        active: bool,
    },
}

/// Active reasons for Fault.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Faults {
    track: bool,
    link: bool,
    io: bool,
    group: bool,
}

impl Faults {
    fn any(self) -> bool {
        self.own() || self.group
    }

    /// Faults of this router itself, as opposed to ones imposed by its sync group.
    fn own(self) -> bool {
        self.track || self.link || self.io
    }

    fn reason(self) -> Reason {
        if self.link {
            Reason::LinkDown
        } else if self.io {
            Reason::IoFault
        } else if self.track {
            Reason::TrackFault
        } else {
            Reason::SyncGroup
        }
    }
}

/// What `config` advertises (its virtual addresses) and installs (those and the excluded ones).
fn addresses(config: &RouterConfig) -> (Arc<[IpAddr]>, Arc<[VirtualAddress]>) {
    let advertised = config.virtual_addresses.iter().map(|v| v.address).collect();
    let installed = config
        .virtual_addresses
        .iter()
        .chain(&config.excluded_addresses)
        .copied()
        .collect();
    (advertised, installed)
}

/// One VRRP virtual router: a pure state machine. Time comes in with every call.
#[derive(Debug, Clone)]
pub struct VirtualRouter {
    config: RouterConfig,
    advertised: Arc<[IpAddr]>,
    installed: Arc<[VirtualAddress]>,
    state: State,
    track: TrackSet,
    base_priority: Priority,
    priority: Priority,
    master_adver_interval: Centisecs,
    timers: Timers,
    announce: AnnounceSchedule,
    faults: Faults,
    /// Master_Down_Timer was set to Skew_Time by a priority-0 advert.
    down_after_stop: bool,
    /// Backup only for keepalived's `state MASTER` wait: its Master_Down_Timer means Master
    /// with [`Reason::StartupAsMaster`].
    startup_master: bool,
    /// keepalived `preempt_delay`: lower-priority masters are accepted until then.
    preempt_hold_until: Option<Instant>,
    /// Sync group: this member has asked to become master.
    group_vote: bool,
    /// Sync group: the own-fault status last reported to the group.
    group_fault_reported: bool,
    outputs: VecDeque<Output>,
    stats: RouterStats,
}

impl VirtualRouter {
    /// Validates `config` and builds a router in Initialize.
    pub fn new(config: RouterConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let track = TrackSet::new(&config.track)?;
        let (advertised, installed) = addresses(&config);
        let priority = track.effective_priority(config.priority);
        Ok(VirtualRouter {
            advertised,
            installed,
            state: State::Initialize,
            base_priority: config.priority,
            priority,
            master_adver_interval: config.advert_interval,
            timers: Timers::default(),
            announce: AnnounceSchedule::new(config.announce),
            faults: Faults {
                track: track.faulted(),
                ..Faults::default()
            },
            track,
            down_after_stop: false,
            startup_master: false,
            preempt_hold_until: None,
            group_vote: false,
            group_fault_reported: false,
            outputs: VecDeque::with_capacity(16),
            stats: RouterStats::default(),
            config,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &RouterConfig {
        &self.config
    }

    /// Current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Effective priority (base plus tracking).
    pub fn priority(&self) -> Priority {
        self.priority
    }

    /// Master_Adver_Interval: learned from the master for v3 (RFC 9568 §6.4.2), configured for v2.
    pub fn master_adver_interval(&self) -> Centisecs {
        self.master_adver_interval
    }

    /// Skew_Time (RFC 9568 §6.1; RFC 3768 §6.1 for v2).
    pub fn skew_time(&self) -> Duration {
        let weight = u64::from(256 - u16::from(self.priority.get()));
        let micros = match self.config.version {
            Version::V3 => weight * self.master_adver_interval.as_micros() / 256,
            Version::V2 => weight * 1_000_000 / 256,
        };
        Duration::from_micros(micros)
    }

    /// The Skew_Time of priority 255, the smallest there is (keepalived's `state MASTER` wait).
    fn min_skew_time(&self) -> Duration {
        match self.config.version {
            Version::V3 => self.master_adver_interval.as_duration() / 256,
            Version::V2 => Duration::from_micros(1_000_000 / 256),
        }
    }

    /// Master_Down_Interval (RFC 9568 §6.1): `down_timer_adverts` (3) x Master_Adver_Interval
    /// + Skew_Time.
    pub fn master_down_interval(&self) -> Duration {
        self.master_adver_interval.as_duration() * u32::from(self.config.down_timer_adverts)
            + self.skew_time()
    }

    /// Counters.
    pub fn stats(&self) -> &RouterStats {
        &self.stats
    }

    /// State of a tracked object.
    pub fn track_state(&self, name: &str) -> Option<TrackState> {
        self.track.state(name)
    }

    /// What the receive path needs to validate adverts for this router.
    pub fn rx_policy(&self) -> RxPolicy {
        RxPolicy {
            version: self.config.version,
            family: self.config.family,
            checksum_mode: self.config.checksum_mode,
            auth: self.config.auth,
            advert_interval: self.config.advert_interval,
            addresses: Arc::clone(&self.advertised),
            owner: self.config.priority.is_owner(),
            address_check: self.config.address_check,
            primary_address: self.config.primary_address,
            unicast: self
                .config
                .unicast
                .then(|| self.config.unicast_receive.clone()),
        }
    }

    /// The next output, in the order events happened.
    pub fn poll(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When [`Input::Timeout`] is next due; `None` in Initialize and Fault.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// Feeds one input. Never fails: inputs that do not apply in the current state are ignored.
    pub fn handle(&mut self, now: Instant, input: Input<'_>) {
        match input {
            Input::Startup => self.handle_startup(now),
            Input::Shutdown => self.handle_shutdown(),
            Input::Timeout => self.handle_timeout(now),
            Input::Advert { meta, advert } => self.handle_advert(now, &meta, &advert),
            Input::Track { name, state } => {
                if self.track.update(name, state) {
                    self.faults.track = self.track.faulted();
                    self.refresh_priority();
                    self.apply_faults(now);
                }
            }
            Input::SetPriority(p) => {
                if !self.config.priority.is_owner() {
                    self.base_priority = Priority(p.get().clamp(1, 254));
                    self.refresh_priority();
                }
            }
            Input::Link { up } => {
                self.faults.link = !up;
                self.apply_faults(now);
            }
            Input::IoFault { active } => {
                self.faults.io = active;
                self.apply_faults(now);
            }
            Input::Group(command) => self.handle_group(now, command),
        }
    }

    fn handle_startup(&mut self, now: Instant) {
        if self.state != State::Initialize {
            return;
        }
        if self.faults.any() {
            self.set_state(State::Fault, self.faults.reason());
            self.apply_faults(now);
            return;
        }
        self.enter_protocol(now, None);
    }

    /// RFC 9568 §6.4.1 (also used when a fault clears, with `reason` set).
    fn enter_protocol(&mut self, now: Instant, reason: Option<Reason>) {
        if self.priority.is_owner() {
            // RFC 9568 §6.4.1: the owner transitions to Master at once.
            self.become_master(now, reason.unwrap_or(Reason::StartupOwner));
        } else if self.config.startup == StartupState::Master && reason.is_none() {
            // keepalived 2.2.7's `state MASTER` below 255, an explicit deviation from RFC 9568
            // §6.4.1: Backup for one Advertisement_Interval plus the smallest Skew_Time (that
            // of priority 255), so a master already on the link is heard first and a rejoining
            // router does not take the addresses over with its announcements; then Master.
            self.master_adver_interval = self.config.advert_interval;
            self.set_state(State::Backup, Reason::Startup);
            self.down_after_stop = false;
            self.startup_master = true;
            let wait = self.config.advert_interval.as_duration() + self.min_skew_time();
            self.timers.set(Timer::MasterDown, now + wait);
        } else {
            // RFC 9568 §6.4.1: Master_Adver_Interval = Advertisement_Interval,
            // Master_Down_Timer = Master_Down_Interval, transition to Backup.
            self.master_adver_interval = self.config.advert_interval;
            self.set_state(State::Backup, reason.unwrap_or(Reason::Startup));
            self.arm_master_down(now, false);
        }
    }

    fn handle_shutdown(&mut self) {
        match self.state {
            State::Master => {
                // RFC 9568 §6.4.3: cancel Adver_Timer, send priority 0, transition to Initialize.
                self.timers.clear();
                self.send_advert(Priority::STOP);
                self.set_state(State::Initialize, Reason::Shutdown);
                self.outputs.push_back(Output::RemoveVips {
                    addresses: Arc::clone(&self.installed),
                });
            }
            State::Backup | State::Fault => {
                // RFC 9568 §6.4.2: cancel Master_Down_Timer, transition to Initialize.
                self.timers.clear();
                self.set_state(State::Initialize, Reason::Shutdown);
            }
            State::Initialize => {}
        }
        self.withdraw_vote();
    }

    fn handle_timeout(&mut self, now: Instant) {
        while let Some(timer) = self.timers.pop_expired(now) {
            match (timer, self.state) {
                // RFC 9568 §6.4.3: Adver_Timer fires: send an advert, reset the timer.
                (Timer::Adver, State::Master) => {
                    self.send_advert(self.priority);
                    self.timers.set(
                        Timer::Adver,
                        now + self.config.advert_interval.as_duration(),
                    );
                }
                // RFC 9568 §6.4.2: Master_Down_Timer fires: become master.
                (Timer::MasterDown, State::Backup) => {
                    let reason = if self.startup_master {
                        Reason::StartupAsMaster
                    } else if self.down_after_stop {
                        Reason::MasterStopped
                    } else {
                        Reason::MasterDown
                    };
                    self.become_master(now, reason);
                }
                (Timer::Announce, State::Master) => self.announce(now),
                _ => {}
            }
        }
    }

    fn handle_advert(&mut self, now: Instant, meta: &RxMeta, advert: &AdvertRepr<'_>) {
        if !matches!(self.state, State::Backup | State::Master) {
            return;
        }
        self.stats.rcvd_advertisements += 1;
        if advert.priority == Priority::STOP {
            self.stats.rcvd_pri_zero_packets += 1;
        }
        match self.state {
            State::Backup => self.backup_receive(now, advert),
            State::Master => self.master_receive(now, meta, advert),
            State::Initialize | State::Fault => {}
        }
    }

    /// RFC 9568 §6.4.2 (RFC 3768 §6.4.2), receipt of an ADVERTISEMENT in Backup.
    fn backup_receive(&mut self, now: Instant, advert: &AdvertRepr<'_>) {
        if advert.priority == Priority::STOP {
            // "If the Priority in the ADVERTISEMENT is zero, then set the Master_Down_Timer
            // to Skew_Time."
            self.timers.set(Timer::MasterDown, now + self.skew_time());
            self.down_after_stop = true;
            return;
        }
        let accept = !self.config.preempt
            || advert.priority >= self.priority
            || self.holding_preemption(now);
        if accept {
            // "If Preempt_Mode is False, or if the Priority in the ADVERTISEMENT is greater
            // than or equal to the local Priority": learn Master_Adver_Interval (v3 only;
            // RFC 3768 has no learning), recompute, reset Master_Down_Timer.
            if self.config.version == Version::V3 {
                self.master_adver_interval = advert.max_adver_int;
            }
            if advert.priority >= self.priority {
                self.preempt_hold_until = None;
            }
            self.arm_master_down(now, false);
            self.withdraw_vote();
        }
        // Otherwise (preempting, lower priority): discard; Master_Down_Timer will fire.
    }

    /// keepalived `preempt_delay`: whether a lower-priority master is still tolerated.
    fn holding_preemption(&mut self, now: Instant) -> bool {
        if self.config.preempt_delay.is_zero() {
            return false;
        }
        let until = *self
            .preempt_hold_until
            .get_or_insert(now + self.config.preempt_delay);
        now < until
    }

    /// RFC 9568 §6.4.3 (RFC 3768 §6.4.3), receipt of an ADVERTISEMENT in Master.
    fn master_receive(&mut self, now: Instant, meta: &RxMeta, advert: &AdvertRepr<'_>) {
        if advert.priority == Priority::STOP {
            // "If the Priority in the ADVERTISEMENT is zero, then send an ADVERTISEMENT and
            // reset the Adver_Timer."
            self.send_advert(self.priority);
            self.timers.set(
                Timer::Adver,
                now + self.config.advert_interval.as_duration(),
            );
            return;
        }
        let higher = advert.priority > self.priority
            || (advert.priority == self.priority && meta.src > self.config.primary_address);
        if higher {
            // "If the Priority in the ADVERTISEMENT is greater than the local Priority, or
            // equal and the primary address of the sender is greater (unsigned, network
            // byte order)": cancel Adver_Timer, learn the interval, set Master_Down_Timer,
            // transition to Backup.
            if self.config.higher_prio_send_advert {
                // keepalived `vrrp_higher_prio_send_advert`: one last advert first.
                self.send_advert(self.priority);
            }
            if self.config.version == Version::V3 {
                self.master_adver_interval = advert.max_adver_int;
            }
            self.leave_master(
                now,
                State::Backup,
                Reason::HigherPriority { from: meta.src },
            );
        } else if self.config.lower_prio_advert {
            // keepalived default (deviation from RFC 9568 §6.4.3 "discard"): answer a
            // lower-priority master at once so it steps down without waiting.
            self.send_advert(self.priority);
            self.timers.set(
                Timer::Adver,
                now + self.config.advert_interval.as_duration(),
            );
        }
        // Otherwise: RFC 9568 §6.4.3 "discard the ADVERTISEMENT".
    }

    fn handle_group(&mut self, now: Instant, command: GroupCommand) {
        match command {
            GroupCommand::Master => {
                if self.state == State::Backup && self.group_vote && !self.faults.any() {
                    self.group_vote = false;
                    self.promote(now, Reason::SyncGroup);
                }
            }
            GroupCommand::Backup => {
                if self.state == State::Master {
                    self.leave_master(now, State::Backup, Reason::SyncGroup);
                }
            }
            GroupCommand::Fault { active } => {
                self.faults.group = active;
                self.apply_faults(now);
            }
        }
    }

    /// Enters or leaves Fault after a fault cause changed.
    fn apply_faults(&mut self, now: Instant) {
        if self.config.sync_group && self.faults.own() != self.group_fault_reported {
            self.group_fault_reported = self.faults.own();
            self.outputs.push_back(Output::GroupFault {
                active: self.group_fault_reported,
            });
        }
        let faulted = self.faults.any();
        match self.state {
            State::Backup if faulted => {
                self.timers.clear();
                self.withdraw_vote();
                self.set_state(State::Fault, self.faults.reason());
            }
            State::Master if faulted => {
                // keepalived leaves master for fault with a priority-0 advert so the backup
                // takes over after Skew_Time instead of Master_Down_Interval.
                self.send_advert(Priority::STOP);
                self.leave_master(now, State::Fault, self.faults.reason());
                self.timers.clear();
            }
            State::Fault if !faulted => self.enter_protocol(now, Some(Reason::FaultCleared)),
            _ => {}
        }
    }

    fn refresh_priority(&mut self) {
        let new = self.track.effective_priority(self.base_priority);
        if new != self.priority {
            let from = self.priority;
            self.priority = new;
            self.outputs
                .push_back(Output::PriorityChanged { from, to: new });
        }
    }

    /// Master_Down_Timer fired (or owner startup): asks the sync group first when in one.
    fn become_master(&mut self, now: Instant, reason: Reason) {
        if self.config.sync_group {
            if !self.group_vote {
                self.group_vote = true;
                self.outputs
                    .push_back(Output::GroupVote { want_master: true });
            }
            if self.state == State::Initialize {
                self.set_state(State::Backup, Reason::Startup);
            }
            return;
        }
        self.promote(now, reason);
    }

    /// RFC 9568 §6.4.1 / §6.4.2: send an ADVERTISEMENT, broadcast gratuitous ARP /
    /// unsolicited NA, set Adver_Timer, transition to Master.
    ///
    /// The addresses are installed before the advertisement goes out: the old master removes
    /// its copy when it hears the advert, and installing first leaves no instant in which
    /// nobody holds them.
    fn promote(&mut self, now: Instant, reason: Reason) {
        self.timers.cancel(Timer::MasterDown);
        self.down_after_stop = false;
        self.preempt_hold_until = None;
        self.stats.master_transitions += 1;
        self.set_state(State::Master, reason);
        self.outputs.push_back(Output::InstallVips {
            addresses: Arc::clone(&self.installed),
            accept_mode: self.config.accept_mode,
        });
        self.send_advert(self.priority);
        self.announce.start(now);
        self.announce(now);
        self.timers.set(
            Timer::Adver,
            now + self.config.advert_interval.as_duration(),
        );
    }

    /// Leaves Master for `to`, removing the addresses; in Backup, Master_Down_Timer is armed.
    fn leave_master(&mut self, now: Instant, to: State, reason: Reason) {
        self.timers.cancel(Timer::Adver);
        self.timers.cancel(Timer::Announce);
        self.set_state(to, reason);
        self.outputs.push_back(Output::RemoveVips {
            addresses: Arc::clone(&self.installed),
        });
        if to == State::Backup {
            self.arm_master_down(now, false);
        }
    }

    /// Sends the announcement due now, and any further ones due at once (zero spacing),
    /// then re-arms the announce timer for the next.
    fn announce(&mut self, now: Instant) {
        loop {
            self.outputs.push_back(Output::Announce {
                addresses: Arc::clone(&self.installed),
            });
            match self.announce.fire(now) {
                Some(next) if next <= now => continue,
                Some(next) => self.timers.set(Timer::Announce, next),
                None => self.timers.cancel(Timer::Announce),
            }
            break;
        }
    }

    fn arm_master_down(&mut self, now: Instant, after_stop: bool) {
        self.down_after_stop = after_stop;
        // An advert was heard (or the state restarted): `state MASTER`'s wait is over.
        self.startup_master = false;
        self.timers
            .set(Timer::MasterDown, now + self.master_down_interval());
    }

    fn send_advert(&mut self, priority: Priority) {
        if priority == Priority::STOP {
            self.stats.sent_pri_zero_packets += 1;
        }
        self.stats.sent_advertisements += 1;
        self.outputs.push_back(Output::Transmit(Advertisement {
            version: self.config.version,
            vrid: self.config.vrid,
            priority,
            max_adver_int: self.config.advert_interval,
            family: self.config.family,
            addresses: Arc::clone(&self.advertised),
            auth: self.config.auth,
            source: self.config.primary_address,
            checksum_mode: self.config.checksum_mode,
        }));
    }

    fn withdraw_vote(&mut self) {
        if self.group_vote {
            self.group_vote = false;
            self.outputs
                .push_back(Output::GroupVote { want_master: false });
        }
    }

    fn set_state(&mut self, to: State, reason: Reason) {
        let from = self.state;
        if from != to {
            self.state = to;
            self.outputs
                .push_back(Output::StateChanged { from, to, reason });
        }
    }
}
