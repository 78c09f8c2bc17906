//! Scheduler names (`ip_vs_<name>` kernel modules).

use std::fmt;
use std::str::FromStr;

use crate::constants::IP_VS_SCHEDNAME_MAXLEN;
use crate::error::Error;

/// A scheduling algorithm, by its kernel name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scheduler {
    /// `rr`: round robin.
    RoundRobin,
    /// `wrr`: weighted round robin.
    WeightedRoundRobin,
    /// `lc`: least connections.
    LeastConnection,
    /// `wlc`: weighted least connections.
    WeightedLeastConnection,
    /// `lblc`: locality-based least connections.
    LocalityBasedLeastConnection,
    /// `lblcr`: locality-based least connections with replication.
    LocalityBasedLeastConnectionReplication,
    /// `dh`: destination hashing.
    DestinationHashing,
    /// `sh`: source hashing (flags `sh-fallback`, `sh-port`).
    SourceHashing,
    /// `sed`: shortest expected delay.
    ShortestExpectedDelay,
    /// `nq`: never queue.
    NeverQueue,
    /// `mh`: Maglev hashing (flags `mh-fallback`, `mh-port`).
    MaglevHashing,
    /// `fo`: weighted failover.
    WeightedFailover,
    /// `ovf`: weighted overflow.
    WeightedOverflow,
    /// `twos`: weighted random twos choice.
    TwoRandomChoices,
    /// Another scheduler module, by name.
    Other(String),
}

impl Scheduler {
    /// The kernel's name for this scheduler.
    pub fn name(&self) -> &str {
        use Scheduler::*;
        match self {
            RoundRobin => "rr",
            WeightedRoundRobin => "wrr",
            LeastConnection => "lc",
            WeightedLeastConnection => "wlc",
            LocalityBasedLeastConnection => "lblc",
            LocalityBasedLeastConnectionReplication => "lblcr",
            DestinationHashing => "dh",
            SourceHashing => "sh",
            ShortestExpectedDelay => "sed",
            NeverQueue => "nq",
            MaglevHashing => "mh",
            WeightedFailover => "fo",
            WeightedOverflow => "ovf",
            TwoRandomChoices => "twos",
            Other(name) => name,
        }
    }

    /// Every scheduler this crate names, in the kernel's Kconfig order.
    pub const KNOWN: [Scheduler; 14] = [
        Scheduler::RoundRobin,
        Scheduler::WeightedRoundRobin,
        Scheduler::LeastConnection,
        Scheduler::WeightedLeastConnection,
        Scheduler::LocalityBasedLeastConnection,
        Scheduler::LocalityBasedLeastConnectionReplication,
        Scheduler::DestinationHashing,
        Scheduler::SourceHashing,
        Scheduler::ShortestExpectedDelay,
        Scheduler::NeverQueue,
        Scheduler::MaglevHashing,
        Scheduler::WeightedFailover,
        Scheduler::WeightedOverflow,
        Scheduler::TwoRandomChoices,
    ];
}

impl Default for Scheduler {
    /// `wlc`, the kernel's and ipvsadm's default.
    fn default() -> Self {
        Scheduler::WeightedLeastConnection
    }
}

impl FromStr for Scheduler {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        if let Some(known) = Scheduler::KNOWN.iter().find(|k| k.name() == s) {
            return Ok(known.clone());
        }
        let valid = !s.is_empty()
            && s.len() < IP_VS_SCHEDNAME_MAXLEN
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if valid {
            Ok(Scheduler::Other(s.to_owned()))
        } else {
            Err(Error::Invalid {
                field: "scheduler",
                value: s.to_owned(),
            })
        }
    }
}

impl fmt::Display for Scheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
