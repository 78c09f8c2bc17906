//! One `vrrp_track_process`'s quorum: the count of matching processes, the state the
//! instances were told, and the `fork_delay` / `terminate_delay` in between (keepalived
//! 2.2.7: a fork that makes the quorum waits `fork_delay`, an exit that loses it waits
//! `terminate_delay`; a change back before the delay ends cancels it; other changes
//! (exec, a new `comm`, a rescan) count at once).

use std::time::Duration;

use tokio::time::Instant;

/// What changed the count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cause {
    /// A tracked process forked.
    Fork,
    /// A tracked process exited.
    Exit,
    /// An exec, a new `comm`, a rescan of `/proc`.
    Other,
}

/// The quorum state machine of one tracked process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Quorum {
    range: (u32, u32),
    fork_delay: Duration,
    terminate_delay: Duration,
    count: u32,
    told: bool,
    pending: Option<Instant>,
}

impl Quorum {
    /// Starts with `count` processes, told at once (keepalived's initial state).
    pub(crate) fn new(p: &keepalived_conf::TrackProcess, count: u32) -> Self {
        Quorum {
            range: (p.quorum, p.quorum_max),
            fork_delay: p.fork_delay,
            terminate_delay: p.terminate_delay,
            count,
            told: p.has_quorum(count),
            pending: None,
        }
    }

    fn has_quorum(&self) -> bool {
        (self.range.0..=self.range.1).contains(&self.count)
    }

    /// The state the instances were last told (up: the quorum holds).
    pub(crate) fn up(&self) -> bool {
        self.told
    }

    /// The matching processes counted.
    pub(crate) fn count(&self) -> u32 {
        self.count
    }

    /// When a delayed change is due.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.pending
    }

    /// Sets the count; returns the state to tell now, if it changed.
    pub(crate) fn set_count(&mut self, count: u32, cause: Cause, now: Instant) -> Option<bool> {
        self.count = count;
        let want = self.has_quorum();
        if want == self.told {
            self.pending = None;
            return None;
        }
        let delay = match (want, cause) {
            (true, Cause::Fork) => self.fork_delay,
            (false, Cause::Exit) => self.terminate_delay,
            _ => Duration::ZERO,
        };
        if delay.is_zero() {
            self.pending = None;
            self.told = want;
            return Some(want);
        }
        self.pending.get_or_insert(now + delay);
        None
    }

    /// At or after [`Quorum::deadline`]: the delayed change, if the count still wants it.
    pub(crate) fn expire(&mut self, now: Instant) -> Option<bool> {
        match self.pending {
            Some(at) if at <= now => {
                self.pending = None;
                let want = self.has_quorum();
                (want != self.told).then(|| {
                    self.told = want;
                    want
                })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn quorum(body: &str, count: u32) -> Quorum {
        let c = keepalived_conf::parse_str(
            "k.conf",
            &format!("vrrp_track_process P {{\nprocess sleep\n{body}\n}}\n"),
        )
        .unwrap();
        Quorum::new(&c.track_processes[0], count)
    }

    #[test]
    fn without_delays_changes_are_told_at_once() {
        let now = Instant::now();
        let mut q = quorum("quorum 2\nquorum_max 3", 2);
        assert!(q.up());
        assert_eq!(q.set_count(3, Cause::Fork, now), None);
        assert_eq!(q.set_count(4, Cause::Other, now), Some(false));
        assert_eq!(q.set_count(3, Cause::Exit, now), Some(true));
        assert_eq!(q.set_count(1, Cause::Exit, now), Some(false));
        assert_eq!(q.deadline(), None);
    }

    #[test]
    fn terminate_delay_waits_and_a_return_cancels() {
        let now = Instant::now();
        let mut q = quorum("terminate_delay 2", 1);
        assert_eq!(q.set_count(0, Cause::Exit, now), None);
        assert_eq!(q.deadline(), Some(now + Duration::from_secs(2)));
        assert_eq!(q.expire(now + Duration::from_secs(1)), None);
        // The process is back (exec) before the delay: nothing to tell, nothing pending.
        assert_eq!(q.set_count(1, Cause::Other, now), None);
        assert_eq!(q.deadline(), None);
        assert_eq!(q.set_count(0, Cause::Exit, now), None);
        assert_eq!(q.expire(now + Duration::from_secs(2)), Some(false));
        assert!(!q.up());
    }

    #[test]
    fn fork_delay_applies_to_forks_only() {
        let now = Instant::now();
        let mut q = quorum("fork_delay 1", 0);
        assert_eq!(q.set_count(1, Cause::Fork, now), None);
        assert_eq!(q.expire(now + Duration::from_secs(1)), Some(true));
        let mut q = quorum("fork_delay 1", 0);
        assert_eq!(q.set_count(1, Cause::Other, now), Some(true));
        // A loss by exec is immediate even with a terminate delay.
        let mut q = quorum("delay 1", 1);
        assert_eq!(q.set_count(0, Cause::Other, now), Some(false));
    }

    #[test]
    fn quorum_max_zero_is_up_while_nothing_runs() {
        let now = Instant::now();
        let mut q = quorum("quorum_max 0", 0);
        assert!(q.up());
        assert_eq!(q.set_count(1, Cause::Other, now), Some(false));
    }
}
