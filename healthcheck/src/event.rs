//! Ordered state changes, the only thing sinks consume.

use crate::{Health, Reason, TargetId};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::time::Instant;

/// One change of a target: it joined, its health or weight changed, it was replaced in
/// place, or it left.
///
/// Events of one scheduler carry strictly increasing `seq` numbers and are delivered
/// in that order. The first event of every target ([`Change::Added`], with
/// [`Reason::Initial`]) states its configured starting point, so a sink can be built from
/// events alone; its last, if it is removed, is [`Change::Removed`].
///
/// Only the [`crate::Scheduler`] creates events; a test feeding a sink builds them with
/// `test_util::event` (feature `test-util`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Event {
    /// Position in the scheduler's event stream, from 0.
    pub seq: u64,
    /// When the deciding probe result arrived (or the change was made).
    pub at: Instant,
    /// Which target.
    pub target: TargetId,
    /// The target's name.
    pub name: Arc<str>,
    /// The target's address.
    pub addr: SocketAddr,
    /// What kind of change this is. Sinks look at it first: a [`Change::Removed`] event's
    /// `health` is the target's last one, not a verdict.
    pub change: Change,
    /// The new health.
    pub health: Health,
    /// The effective weight (configured, or as set by dynamic checks).
    pub weight: u32,
    /// Why: the failing probe's reason for a down change, `None` for up and weight
    /// changes, [`Reason::Initial`] for a target's starting point (added, or replaced with
    /// new checks), [`Reason::Removed`] for a removal.
    pub reason: Option<Reason>,
}

/// What an [`Event`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Change {
    /// The target joined the scheduler (at start, through `Running::add` or
    /// `Control::add`, or at its new address after `Control::replace`): `health` and
    /// `weight` are its starting point. Sinks add it.
    Added,
    /// A probe verdict changed the target's health or effective weight.
    Health,
    /// The target was replaced in place (`Control::replace`: same name, id and address):
    /// `health` and `weight` are those after the replacement, kept or started over.
    Replaced,
    /// The target left the scheduler: it is no longer probed and sinks drop it, whatever
    /// its health. `health` and `weight` are its last ones, not a probe verdict.
    Removed,
}
