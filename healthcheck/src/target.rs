//! A real server: an address, a weight, a schedule and the checks that must all pass.

use crate::{Check, Schedule};
use std::net::SocketAddr;
use std::sync::Arc;

/// A service endpoint to probe.
///
/// It is up only while every one of its checks is up (keepalived's rule for a real
/// server with several checkers). Built with [`Target::new`] and its setters; the
/// fields stay readable.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Target {
    /// Unique name: the key of events, and the VRRP tracked-object default name.
    pub name: String,
    /// The endpoint the sinks add to pools and backend sets.
    pub addr: SocketAddr,
    /// The configured weight.
    pub weight: u32,
    /// Timing and hysteresis.
    pub schedule: Schedule,
    /// The probes; each keeps its own rise/fall streak.
    pub checks: Vec<Arc<dyn Check>>,
}

impl Target {
    /// A target with weight 1, the default schedule and no checks yet.
    pub fn new(name: impl Into<String>, addr: SocketAddr) -> Self {
        Target {
            name: name.into(),
            addr,
            weight: 1,
            schedule: Schedule::default(),
            checks: Vec::new(),
        }
    }

    /// Adds a check.
    pub fn check(mut self, check: impl Check + 'static) -> Self {
        self.checks.push(Arc::new(check));
        self
    }

    /// Sets the schedule.
    pub fn schedule(mut self, schedule: Schedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// Sets the configured weight.
    pub fn weight(mut self, weight: u32) -> Self {
        self.weight = weight;
        self
    }
}

/// The index of a target in its scheduler, in the order targets were added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TargetId(pub usize);
