//! Changing a running router's configuration in place.
//!
//! RFC 9568 leaves configuration changes to the implementation; keepalived's reload keeps a
//! router whose interface, family and VRID match and restarts the others. Here a router keeps
//! its state, timers and counters across [`VirtualRouter::reconfigure`]; what changed takes
//! effect as the protocol would have it had it been configured so from the start, and never
//! causes a transition by itself: a master stays master (a peer may take over afterwards by
//! the ordinary rules, e.g. preemption when this router's priority dropped below its own).

use std::sync::Arc;
use std::time::Instant;

use super::VirtualRouter;
use crate::announce::AnnounceSchedule;
use crate::config::RouterConfig;
use crate::error::ConfigError;
use crate::output::Output;
use crate::state::State;
use crate::timer::Timer;
use crate::track::TrackSet;
use crate::types::{Version, VirtualAddress};

/// What [`VirtualRouter::reconfigure`] changed on the addresses; a master has been told
/// (outputs) to install and announce `added` and to remove `removed`, nothing else.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reconfigured {
    /// Addresses (virtual and excluded) the new configuration adds.
    pub added: Vec<VirtualAddress>,
    /// Addresses the new configuration no longer has.
    pub removed: Vec<VirtualAddress>,
}

impl VirtualRouter {
    /// Replaces the configuration of a running router without a state transition.
    ///
    /// The identity of the virtual router cannot change: a different VRID, family, version or
    /// sync-group membership is [`ConfigError::NotInPlace`] (remove the router and create a
    /// new one). Otherwise `config` is validated like [`VirtualRouter::new`] and, on success:
    /// - state, timers and counters are kept; tracked objects known by the same name keep
    ///   their last reported state, new ones start in their initial state;
    /// - the base priority becomes the configured one if the configured priority changed
    ///   (a priority set at run time with [`crate::Input::SetPriority`] otherwise stays);
    /// - a master installs and announces only the added addresses and removes only the
    ///   removed ones; when what it advertises changed (addresses, interval, priority) it sends
    ///   an advertisement at once and restarts Adver_Timer with the new interval (RFC 9568
    ///   §6.4.3's timer, reset as on any advertisement it sends);
    /// - a VRRPv3 backup keeps the Master_Adver_Interval learned from the master (RFC 9568
    ///   §6.4.2); a VRRPv2 router uses the configured interval (RFC 3768 does not learn it);
    /// - a tracked object now down with weight 0 faults the router as it would have at once.
    ///
    /// On error nothing changes.
    pub fn reconfigure(
        &mut self,
        now: Instant,
        config: RouterConfig,
    ) -> Result<Reconfigured, ConfigError> {
        let old = &self.config;
        let identity = [
            ("virtual_router_id", old.vrid != config.vrid),
            ("family", old.family != config.family),
            ("version", old.version != config.version),
            ("sync group membership", old.sync_group != config.sync_group),
        ];
        if let Some((field, _)) = identity.iter().find(|(_, differs)| *differs) {
            return Err(ConfigError::NotInPlace { field });
        }
        config.validate()?;
        let mut track = TrackSet::new(&config.track)?;
        track.inherit(&self.track);

        let (advertised, installed) = super::addresses(&config);
        let added: Vec<VirtualAddress> = installed
            .iter()
            .filter(|a| !self.installed.contains(a))
            .copied()
            .collect();
        let removed: Vec<VirtualAddress> = self
            .installed
            .iter()
            .filter(|a| !installed.contains(a))
            .copied()
            .collect();
        let readvertise =
            advertised != self.advertised || config.advert_interval != self.config.advert_interval;
        let announce_changed = config.announce != self.config.announce;
        if config.priority != self.config.priority {
            self.base_priority = config.priority;
        }
        if config.preempt_delay.is_zero() {
            self.preempt_hold_until = None;
        }
        if announce_changed {
            self.announce = AnnounceSchedule::new(config.announce);
        }
        self.advertised = advertised;
        self.installed = installed;
        self.track = track;
        self.config = config;
        if self.config.version == Version::V2 || self.state == State::Master {
            self.master_adver_interval = self.config.advert_interval;
        }

        let priority_before = self.priority;
        self.faults.track = self.track.faulted();
        self.refresh_priority();
        if self.state == State::Master {
            self.apply_to_master(&added, &removed);
            if readvertise || self.priority != priority_before {
                self.send_advert(self.priority);
                self.timers.set(
                    Timer::Adver,
                    now + self.config.advert_interval.as_duration(),
                );
            }
            if announce_changed {
                match self.announce.resume(now) {
                    Some(at) => self.timers.set(Timer::Announce, at),
                    None => self.timers.cancel(Timer::Announce),
                }
            }
        }
        self.apply_faults(now);
        Ok(Reconfigured { added, removed })
    }

    /// A master's address changes: remove first, then install and announce what is new.
    fn apply_to_master(&mut self, added: &[VirtualAddress], removed: &[VirtualAddress]) {
        if !removed.is_empty() {
            self.outputs.push_back(Output::RemoveVips {
                addresses: removed.iter().copied().collect(),
            });
        }
        if !added.is_empty() {
            let addresses: Arc<[VirtualAddress]> = added.iter().copied().collect();
            self.outputs.push_back(Output::InstallVips {
                addresses: Arc::clone(&addresses),
                accept_mode: self.config.accept_mode,
            });
            // The first round of the announce schedule, for the new addresses only (keepalived
            // sends its `garp_master_repeat` for an address added by a reload); spaced rounds
            // are not repeated.
            let repeat = match self.config.announce.interval.is_zero() {
                true => self.config.announce.repeat.max(1),
                false => 1,
            };
            for _ in 0..repeat {
                self.outputs.push_back(Output::Announce {
                    addresses: Arc::clone(&addresses),
                });
            }
        }
    }
}
