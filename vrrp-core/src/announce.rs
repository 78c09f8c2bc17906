//! Pacing of gratuitous ARPs / unsolicited neighbour advertisements after becoming master
//! (RFC 9568 §6.4.1 and §6.4.2 ask for one; keepalived repeats, delays and refreshes them, which
//! [`AnnounceConfig`] expresses). Each firing of the schedule is one
//! [`crate::Output::Announce`]: one frame per virtual address.

use std::time::Instant;

use crate::config::AnnounceConfig;

/// Where the announcement schedule stands.
#[derive(Debug, Clone)]
pub(crate) struct AnnounceSchedule {
    config: AnnounceConfig,
    /// Announcements left in the current round, the one about to fire included.
    left: u32,
    /// When the second round is due, if still pending.
    second_round: Option<Instant>,
}

impl AnnounceSchedule {
    pub(crate) fn new(config: AnnounceConfig) -> Self {
        AnnounceSchedule {
            config,
            left: 0,
            second_round: None,
        }
    }

    /// Starts the schedule on becoming master; the first announcement is due at once.
    pub(crate) fn start(&mut self, now: Instant) {
        self.left = self.config.repeat;
        self.second_round = self.config.second_round_delay.map(|d| now + d);
    }

    /// A master whose schedule was replaced: no new burst (its addresses were announced
    /// already), only the refreshes of the new configuration, if any; returns when the next
    /// is due.
    pub(crate) fn resume(&mut self, now: Instant) -> Option<Instant> {
        self.second_round = None;
        self.left = self.config.refresh_repeat;
        self.config.refresh.map(|period| now + period)
    }

    /// Accounts for one announcement sent at `now`; returns when the next one is due.
    pub(crate) fn fire(&mut self, now: Instant) -> Option<Instant> {
        self.left = self.left.saturating_sub(1);
        if self.left > 0 {
            return Some(now + self.config.interval);
        }
        if let Some(at) = self.second_round.take() {
            self.left = self.config.repeat;
            return Some(at.max(now));
        }
        let period = self.config.refresh?;
        self.left = self.config.refresh_repeat;
        Some(now + period)
    }
}
