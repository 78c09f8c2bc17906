//! Where the driver reads the time and how it waits: the seam that lets a program's failover
//! handling be tested in virtual time.

use std::io;
use std::time::Instant;

use super::alarm::Alarm;

/// The driver's clock (see [`super::DriverBuilder::clock`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Clock {
    /// `CLOCK_MONOTONIC` (`std::time::Instant`), sleeping on a `timerfd`: microsecond-precise
    /// timers, for production.
    #[default]
    System,
    /// tokio's clock (`tokio::time::Instant`, `tokio::time::sleep_until`). It follows
    /// `tokio::time::pause` / `advance`, so a test under
    /// `#[tokio::test(start_paused = true)]` runs whole failovers in virtual time, the same
    /// every run. Timers have tokio's 1 ms resolution.
    Tokio,
}

/// A [`Clock`] ready to use: the `timerfd` is opened only for [`Clock::System`].
pub(super) struct Timer {
    clock: Clock,
    alarm: Option<Alarm>,
}

impl Timer {
    /// Opens what `clock` needs. Must be called inside a tokio runtime.
    pub(super) fn new(clock: Clock) -> io::Result<Self> {
        let alarm = match clock {
            Clock::System => Some(Alarm::new()?),
            Clock::Tokio => None,
        };
        Ok(Self { clock, alarm })
    }

    /// The current time on this clock.
    pub(super) fn now(&self) -> Instant {
        match self.clock {
            Clock::System => Instant::now(),
            Clock::Tokio => tokio::time::Instant::now().into_std(),
        }
    }

    /// Returns at `deadline`, or never when there is none.
    pub(super) async fn sleep_until(&self, deadline: Option<Instant>) {
        let Some(at) = deadline else {
            return std::future::pending().await;
        };
        if let Some(alarm) = &self.alarm
            && alarm.sleep_until(at).await.is_ok()
        {
            return;
        }
        // Tokio's clock, or a timerfd that failed: tokio's millisecond timer.
        tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
    }
}
