//! When and how often a target is probed, and how results become up/down.

mod builder;

pub use builder::ScheduleBuilder;

use crate::{ConfigError, Health};
use std::time::Duration;

/// Per-target timing and hysteresis.
///
/// Field names follow keepalived: `interval` is `delay_loop`, `timeout` is
/// `connect_timeout` (here a hard limit on the whole probe), `retries` is `retry`,
/// `initial = Health::Down` is `alpha`.
///
/// Build one with [`Schedule::builder`] (or from a profile with
/// [`Schedule::into_builder`]), which validates it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Schedule {
    /// Time between the starts of two rounds of probes.
    pub interval: Duration,
    /// Hard limit on one probe attempt; exceeding it is [`crate::Reason::Timeout`].
    pub timeout: Duration,
    /// Extra attempts after a failure before the round counts as failed.
    pub retries: u32,
    /// Pause before each extra attempt.
    pub delay_before_retry: Duration,
    /// The first probe starts at a uniformly random point in `[0, warmup)`, which
    /// spreads thousands of targets over the interval instead of probing in bursts.
    pub warmup: Duration,
    /// Consecutive passing rounds needed to go up.
    pub rise: u32,
    /// Consecutive failing rounds needed to go down.
    pub fall: u32,
    /// The state before the first verdict.
    pub initial: Health,
}

impl Schedule {
    /// A builder starting from [`Schedule::default`], the load-balancer profile.
    pub fn builder() -> ScheduleBuilder {
        ScheduleBuilder::default()
    }

    /// A builder starting from this schedule (e.g. [`Schedule::keepalived`]).
    pub fn into_builder(self) -> ScheduleBuilder {
        ScheduleBuilder::new(self)
    }

    /// keepalived's checker semantics: `rise = fall = 1`, one retry after 1 s, start up
    /// (no `alpha`), `delay_loop` 60 s, `connect_timeout` 5 s, warmup over the whole
    /// interval.
    pub fn keepalived() -> Self {
        Schedule {
            interval: Duration::from_secs(60),
            timeout: Duration::from_secs(5),
            retries: 1,
            delay_before_retry: Duration::from_secs(1),
            warmup: Duration::from_secs(60),
            rise: 1,
            fall: 1,
            initial: Health::Up,
        }
    }

    /// Checks every field; the error names the first offending one.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.interval.is_zero() {
            return Err(ConfigError::Interval(self.interval));
        }
        if self.timeout.is_zero() {
            return Err(ConfigError::Timeout(self.timeout));
        }
        if self.rise == 0 {
            return Err(ConfigError::Rise(self.rise));
        }
        if self.fall == 0 {
            return Err(ConfigError::Fall(self.fall));
        }
        Ok(())
    }
}

impl Default for Schedule {
    /// A load-balancer profile: probe every 2 s with a 1 s timeout, no retries,
    /// up after 2 passes, down after 3 failures, start down.
    fn default() -> Self {
        Schedule {
            interval: Duration::from_secs(2),
            timeout: Duration::from_secs(1),
            retries: 0,
            delay_before_retry: Duration::from_secs(1),
            warmup: Duration::from_secs(2),
            rise: 2,
            fall: 3,
            initial: Health::Down,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn zero_rise_is_rejected_by_name() {
        let s = Schedule {
            rise: 0,
            ..Schedule::default()
        };
        let err = s.validate().err().map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("rise 0 must be at least 1"));
    }

    #[test]
    fn both_profiles_are_valid() {
        assert!(Schedule::default().validate().is_ok());
        assert!(Schedule::keepalived().validate().is_ok());
    }
}
