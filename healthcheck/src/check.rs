//! The probe interface: one check, one verdict.

use crate::Reason;
use async_trait::async_trait;
use tokio::time::Instant;

/// One kind of health probe (TCP connect, HTTP GET, external program...).
///
/// `check` runs a single probe. The scheduler cancels it at `deadline`, so an
/// implementation never needs its own timer to be safe; it only looks at `deadline`
/// when silence itself is a verdict (a UDP probe that needs no reply) or when it must
/// clean up before the deadline (an external program's process group). A cancelled
/// probe counts as [`Reason::Timeout`].
#[async_trait]
pub trait Check: Send + Sync + std::fmt::Debug {
    /// Runs one probe, to finish by `deadline`.
    async fn check(&self, deadline: Instant) -> Outcome;
}

/// The verdict of one probe.
///
/// Deliberately exhaustive: a probe passes or fails. What can grow is how a pass
/// affects the weight ([`Weight`]) and why a probe fails ([`Reason`]), both
/// `#[non_exhaustive]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The service answered as expected.
    Up(Weight),
    /// The service failed the probe.
    Down(Reason),
}

impl Outcome {
    /// Up, leaving the target's weight as configured.
    pub const UP: Outcome = Outcome::Up(Weight::Configured);

    /// Whether the probe passed.
    pub fn is_up(&self) -> bool {
        matches!(self, Outcome::Up(_))
    }
}

/// How a passing probe affects the target's weight.
///
/// keepalived's `misc_dynamic` sets the weight to `exit status - 2`
/// ([`Weight::Set`]); a dynamic `FILE_CHECK` adds the weighted file value
/// ([`Weight::Offset`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Weight {
    /// Keep the configured weight.
    #[default]
    Configured,
    /// Replace the weight.
    Set(u32),
    /// Add to the weight (after any [`Weight::Set`]); the sum is clamped at zero.
    Offset(i64),
}
