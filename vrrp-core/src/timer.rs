//! The timer table of one virtual router. [`Timers::next`] is what `poll_timeout` returns.

use std::time::Instant;

/// The timers a virtual router runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Timer {
    /// Adver_Timer (RFC 9568 §6.2): next advertisement while master.
    Adver,
    /// Master_Down_Timer (RFC 9568 §6.2): backup declares the master down.
    MasterDown,
    /// Next gratuitous ARP / unsolicited NA of the announcement schedule.
    Announce,
}

impl Timer {
    const ALL: [Timer; 3] = [Timer::Adver, Timer::MasterDown, Timer::Announce];

    const fn index(self) -> usize {
        match self {
            Timer::Adver => 0,
            Timer::MasterDown => 1,
            Timer::Announce => 2,
        }
    }
}

/// Deadlines of the armed timers.
#[derive(Debug, Clone, Default)]
pub(crate) struct Timers {
    deadlines: [Option<Instant>; 3],
}

impl Timers {
    /// Arms (or re-arms) a timer.
    pub(crate) fn set(&mut self, timer: Timer, at: Instant) {
        self.deadlines[timer.index()] = Some(at);
    }

    /// Disarms a timer.
    pub(crate) fn cancel(&mut self, timer: Timer) {
        self.deadlines[timer.index()] = None;
    }

    /// Deadline of a timer, if armed.
    pub(crate) fn deadline(&self, timer: Timer) -> Option<Instant> {
        self.deadlines[timer.index()]
    }

    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.deadlines.iter().flatten().min().copied()
    }

    /// The armed timer with the earliest deadline at or before `now`, disarmed.
    pub(crate) fn pop_expired(&mut self, now: Instant) -> Option<Timer> {
        let timer = Timer::ALL
            .into_iter()
            .filter_map(|t| self.deadline(t).filter(|d| *d <= now).map(|d| (d, t)))
            .min_by_key(|(d, _)| *d)
            .map(|(_, t)| t)?;
        self.cancel(timer);
        Some(timer)
    }

    /// Disarms everything.
    pub(crate) fn clear(&mut self) {
        self.deadlines = [None; 3];
    }
}
