//! Ordered state changes, the only thing sinks consume.

use crate::{Health, Reason, TargetId};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::time::Instant;

/// One change of a target's health or weight.
///
/// Events of one scheduler carry strictly increasing `seq` numbers and are delivered
/// in that order. The first event of every target (with [`Reason::Initial`]) states
/// its configured starting point, so a sink can be built from events alone.
///
/// Only the [`crate::Scheduler`] creates events; a test feeding a sink builds them with
/// `test_util::event` (feature `test-util`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Event {
    /// Position in the scheduler's event stream, from 0.
    pub seq: u64,
    /// When the deciding probe result arrived.
    pub at: Instant,
    /// Which target.
    pub target: TargetId,
    /// The target's name.
    pub name: Arc<str>,
    /// The target's address.
    pub addr: SocketAddr,
    /// The new health.
    pub health: Health,
    /// The effective weight (configured, or as set by dynamic checks).
    pub weight: u32,
    /// Why: the failing probe's reason for a down change, `None` for up and weight
    /// changes, [`Reason::Initial`] for the first event.
    pub reason: Option<Reason>,
}
