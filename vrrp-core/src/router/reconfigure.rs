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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::disallowed_methods)]

    use std::net::IpAddr;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::router::Input;
    use crate::state::Reason;
    use crate::track::{TrackState, TrackedObject};
    use crate::types::{Centisecs, Priority};

    fn addr(s: &str) -> VirtualAddress {
        VirtualAddress::with_prefix(s.parse().unwrap(), 24)
    }

    fn config(priority: u8, vips: &[&str]) -> RouterConfig {
        let mut b =
            RouterConfig::builder("vi", 51, "192.0.2.2".parse().unwrap()).priority(priority);
        for v in vips {
            b = b.virtual_address(addr(v));
        }
        b.build().unwrap()
    }

    /// A router that became master at the returned instant, outputs drained.
    fn master(config: RouterConfig) -> (VirtualRouter, Instant) {
        let mut r = VirtualRouter::new(config).unwrap();
        r.handle(Instant::now(), Input::Startup);
        let due = r.poll_timeout().unwrap();
        r.handle(due, Input::Timeout);
        while r.poll().is_some() {}
        assert_eq!(r.state(), State::Master);
        (r, due)
    }

    fn outputs(r: &mut VirtualRouter) -> Vec<Output> {
        std::iter::from_fn(|| r.poll()).collect()
    }

    fn ips(list: &[VirtualAddress]) -> Vec<IpAddr> {
        list.iter().map(|a| a.address).collect()
    }

    #[test]
    fn master_installs_and_removes_only_the_difference() {
        let (mut r, now) = master(config(100, &["192.0.2.100", "192.0.2.101"]));
        let stats = *r.stats();
        let done = r
            .reconfigure(now, config(100, &["192.0.2.100", "192.0.2.102"]))
            .unwrap();
        assert_eq!(done.added, vec![addr("192.0.2.102")]);
        assert_eq!(done.removed, vec![addr("192.0.2.101")]);
        let out = outputs(&mut r);
        let removed: Vec<IpAddr> = out
            .iter()
            .filter_map(|o| match o {
                Output::RemoveVips { addresses } => Some(ips(addresses)),
                _ => None,
            })
            .flatten()
            .collect();
        let installed: Vec<IpAddr> = out
            .iter()
            .filter_map(|o| match o {
                Output::InstallVips { addresses, .. } => Some(ips(addresses)),
                _ => None,
            })
            .flatten()
            .collect();
        assert_eq!(removed, vec!["192.0.2.101".parse::<IpAddr>().unwrap()]);
        assert_eq!(installed, vec!["192.0.2.102".parse::<IpAddr>().unwrap()]);
        assert!(
            !out.iter().any(|o| matches!(o, Output::StateChanged { .. })),
            "no transition: {out:?}"
        );
        // The new address list goes out at once.
        let advert = out.iter().find_map(|o| match o {
            Output::Transmit(a) => Some(a),
            _ => None,
        });
        assert_eq!(
            advert.map(|a| a.addresses.to_vec()),
            Some(vec![
                "192.0.2.100".parse::<IpAddr>().unwrap(),
                "192.0.2.102".parse().unwrap()
            ])
        );
        assert_eq!(r.state(), State::Master);
        assert_eq!(r.stats().master_transitions, stats.master_transitions);
    }

    #[test]
    fn unchanged_configuration_changes_nothing() {
        let (mut r, now) = master(config(100, &["192.0.2.100"]));
        let timeout = r.poll_timeout();
        let done = r.reconfigure(now, config(100, &["192.0.2.100"])).unwrap();
        assert_eq!(done, Reconfigured::default());
        assert!(outputs(&mut r).is_empty());
        assert_eq!(r.poll_timeout(), timeout);
    }

    #[test]
    fn identity_changes_are_refused_and_change_nothing() {
        let (mut r, now) = master(config(100, &["192.0.2.100"]));
        let mut other = config(100, &["192.0.2.100"]);
        other.vrid = crate::types::Vrid::new(52).unwrap();
        assert_eq!(
            r.reconfigure(now, other),
            Err(ConfigError::NotInPlace {
                field: "virtual_router_id"
            })
        );
        let mut v2 = config(100, &["192.0.2.100"]);
        v2.version = Version::V2;
        v2.advert_interval = Centisecs::new(100);
        assert!(matches!(
            r.reconfigure(now, v2),
            Err(ConfigError::NotInPlace { field: "version" })
        ));
        let mut invalid = config(100, &["192.0.2.100"]);
        invalid.priority = Priority(0);
        assert_eq!(r.reconfigure(now, invalid), Err(ConfigError::Priority));
        assert!(outputs(&mut r).is_empty());
        assert_eq!(r.config().priority, Priority(100));
    }

    #[test]
    fn backup_priority_change_does_not_preempt_by_itself() {
        let mut r = VirtualRouter::new(config(100, &["192.0.2.100"])).unwrap();
        let t0 = Instant::now();
        r.handle(t0, Input::Startup);
        while r.poll().is_some() {}
        let down_at = r.poll_timeout();
        r.reconfigure(
            t0 + Duration::from_millis(10),
            config(200, &["192.0.2.100"]),
        )
        .unwrap();
        let out = outputs(&mut r);
        assert!(
            out.iter()
                .all(|o| matches!(o, Output::PriorityChanged { .. })),
            "{out:?}"
        );
        assert_eq!(r.priority(), Priority(200));
        assert_eq!(r.state(), State::Backup);
        assert_eq!(r.poll_timeout(), down_at, "Master_Down_Timer untouched");
    }

    #[test]
    fn tracked_objects_keep_their_state_and_new_faults_apply() {
        let mut c = config(100, &["192.0.2.100"]);
        c.track = vec![TrackedObject::new("chk", -30)];
        let (mut r, now) = master(c.clone());
        r.handle(
            now,
            Input::Track {
                name: "chk",
                state: TrackState::Down,
            },
        );
        while r.poll().is_some() {}
        assert_eq!(r.priority(), Priority(70));
        // Same object kept down; a new weight-0 object starting down faults the router.
        c.track.push(TrackedObject::new("link", 0).starting_down());
        r.reconfigure(now, c).unwrap();
        assert_eq!(r.track_state("chk"), Some(TrackState::Down));
        let out = outputs(&mut r);
        assert!(out.iter().any(|o| matches!(
            o,
            Output::StateChanged {
                to: State::Fault,
                reason: Reason::TrackFault,
                ..
            }
        )));
    }

    #[test]
    fn runtime_priority_survives_unless_the_configured_one_changes() {
        let (mut r, now) = master(config(100, &["192.0.2.100"]));
        r.handle(now, Input::SetPriority(Priority(50)));
        while r.poll().is_some() {}
        let mut same = config(100, &["192.0.2.100"]);
        same.preempt = false;
        r.reconfigure(now, same).unwrap();
        assert_eq!(r.priority(), Priority(50));
        r.reconfigure(now, config(120, &["192.0.2.100"])).unwrap();
        assert_eq!(r.priority(), Priority(120));
    }
}
