//! What one anycast owner announces, where, and when.

use std::collections::HashSet;
use std::time::Duration;

use vrrp_core::{TrackedObject, VirtualAddress};

use super::error::AnycastError;

/// Default base weight.
pub const DEFAULT_WEIGHT: i32 = 100;
/// Default threshold: announced while the effective weight is at least this.
pub const DEFAULT_THRESHOLD: i32 = 1;
/// Default time a withdrawn address keeps answering while the routers converge.
pub const DEFAULT_DRAIN: Duration = Duration::from_secs(1);

/// One health-gated anycast address set: announced (on [`Anycast::interface`], `lo` by
/// default, where the node's BGP speaker picks it up as a connected route) while the node is
/// healthy, withdrawn otherwise.
///
/// Health is keepalived's tracking turned into a yes/no: the effective weight is
/// [`Anycast::weight`] plus the weight of every up object with a positive weight plus the
/// weight of every down object with a negative weight; the addresses are announced while
/// it is at least [`Anycast::threshold`] and no object of weight 0 is down (weight 0 means
/// "withdraw while down", as it means Fault for a VRRP instance).
///
/// Built with [`Anycast::new`] and the chainable setters; the fields stay readable.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Anycast {
    /// Name in events and logs.
    pub name: String,
    /// The addresses, usually host routes (/32, /128).
    pub addresses: Vec<VirtualAddress>,
    /// The interface carrying them while announced (`lo`, or a dummy interface).
    pub interface: String,
    /// Base weight.
    pub weight: i32,
    /// Lowest effective weight that is still announced.
    pub threshold: i32,
    /// Tracked objects; their states come through [`super::Handle::set_track_state`].
    pub track: Vec<TrackedObject>,
    /// How long a withdrawn address keeps answering (new and existing connections) while the
    /// routers converge, before it stops for good.
    pub drain: Duration,
}

impl Anycast {
    /// `addresses` on `lo`, base weight [`DEFAULT_WEIGHT`], threshold [`DEFAULT_THRESHOLD`],
    /// nothing tracked (always announced), drain [`DEFAULT_DRAIN`].
    pub fn new(
        name: impl Into<String>,
        addresses: impl IntoIterator<Item = VirtualAddress>,
    ) -> Self {
        Self {
            name: name.into(),
            addresses: addresses.into_iter().collect(),
            interface: "lo".to_owned(),
            weight: DEFAULT_WEIGHT,
            threshold: DEFAULT_THRESHOLD,
            track: Vec::new(),
            drain: DEFAULT_DRAIN,
        }
    }

    /// Puts the addresses on `interface` instead of `lo`.
    pub fn interface(mut self, interface: impl Into<String>) -> Self {
        self.interface = interface.into();
        self
    }

    /// Sets the base weight.
    pub fn weight(mut self, weight: i32) -> Self {
        self.weight = weight;
        self
    }

    /// Sets the threshold.
    pub fn threshold(mut self, threshold: i32) -> Self {
        self.threshold = threshold;
        self
    }

    /// Adds a tracked object.
    pub fn track(mut self, object: TrackedObject) -> Self {
        self.track.push(object);
        self
    }

    /// Sets the drain time.
    pub fn drain(mut self, drain: Duration) -> Self {
        self.drain = drain;
        self
    }

    /// Checks what can be checked without the kernel.
    pub fn validate(&self) -> Result<(), AnycastError> {
        if self.addresses.is_empty() {
            return Err(AnycastError::NoAddress(self.name.clone()));
        }
        let mut seen = HashSet::new();
        for a in &self.addresses {
            let max = if a.address.is_ipv4() { 32 } else { 128 };
            if a.prefix_len > max {
                return Err(AnycastError::PrefixLength {
                    addr: a.address,
                    prefix_len: a.prefix_len,
                });
            }
            if !seen.insert(a.address) {
                return Err(AnycastError::DuplicateAddress(a.address));
            }
        }
        let mut names = HashSet::new();
        for t in &self.track {
            if !names.insert(t.name.as_str()) {
                return Err(AnycastError::DuplicateTrack(t.name.clone()));
            }
        }
        Ok(())
    }
}
