//! [`ScheduleBuilder`]: a [`Schedule`] built field by field and validated once.

use super::Schedule;
use crate::{ConfigError, Health};
use std::time::Duration;

/// Builds a [`Schedule`], starting from a profile and validating at the end.
///
/// ```
/// use healthcheck::{Health, Schedule};
/// use std::time::Duration;
///
/// let schedule = Schedule::builder()
///     .interval(Duration::from_millis(500))
///     .timeout(Duration::from_millis(200))
///     .rise(1)
///     .fall(2)
///     .initial(Health::Up)
///     .build()?;
/// assert_eq!(schedule.fall, 2);
///
/// // keepalived's semantics with a shorter delay_loop:
/// let keepalived = Schedule::keepalived()
///     .into_builder()
///     .interval(Duration::from_secs(6))
///     .warmup(Duration::from_secs(6))
///     .build()?;
/// assert_eq!(keepalived.rise, 1);
///
/// assert!(Schedule::builder().rise(0).build().is_err());
/// # Ok::<(), healthcheck::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ScheduleBuilder {
    schedule: Schedule,
}

impl ScheduleBuilder {
    /// Starts from `schedule` (a profile such as [`Schedule::keepalived`]).
    pub fn new(schedule: Schedule) -> Self {
        ScheduleBuilder { schedule }
    }

    /// Time between the starts of two rounds of probes (keepalived's `delay_loop`).
    pub fn interval(mut self, interval: Duration) -> Self {
        self.schedule.interval = interval;
        self
    }

    /// Hard limit on one probe attempt (keepalived's `connect_timeout`).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.schedule.timeout = timeout;
        self
    }

    /// Extra attempts after a failure before the round counts as failed (`retry`).
    pub fn retries(mut self, retries: u32) -> Self {
        self.schedule.retries = retries;
        self
    }

    /// Pause before each extra attempt (`delay_before_retry`).
    pub fn delay_before_retry(mut self, delay: Duration) -> Self {
        self.schedule.delay_before_retry = delay;
        self
    }

    /// The first probe starts at a uniformly random point in `[0, warmup)`.
    pub fn warmup(mut self, warmup: Duration) -> Self {
        self.schedule.warmup = warmup;
        self
    }

    /// Consecutive passing rounds needed to go up (at least 1).
    pub fn rise(mut self, rise: u32) -> Self {
        self.schedule.rise = rise;
        self
    }

    /// Consecutive failing rounds needed to go down (at least 1).
    pub fn fall(mut self, fall: u32) -> Self {
        self.schedule.fall = fall;
        self
    }

    /// The state before the first verdict (`Health::Down` is keepalived's `alpha`).
    pub fn initial(mut self, initial: Health) -> Self {
        self.schedule.initial = initial;
        self
    }

    /// The schedule, after [`Schedule::validate`]; the error names the first
    /// offending field.
    pub fn build(self) -> Result<Schedule, ConfigError> {
        self.schedule.validate()?;
        Ok(self.schedule)
    }
}

impl Default for ScheduleBuilder {
    /// Starts from [`Schedule::default`].
    fn default() -> Self {
        ScheduleBuilder::new(Schedule::default())
    }
}

impl From<Schedule> for ScheduleBuilder {
    fn from(schedule: Schedule) -> Self {
        ScheduleBuilder::new(schedule)
    }
}
