//! How the simulated LAN carries a packet from one node to another.

use std::time::Duration;

/// Properties of the path between two nodes (or the default for every pair).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkConfig {
    /// Fixed one-way delay.
    pub latency: Duration,
    /// Extra uniformly random delay in 0..=jitter; packets can overtake each other, which is
    /// how reordering is simulated.
    pub jitter: Duration,
    /// Probability that a packet is lost.
    pub loss: f64,
    /// Probability that a packet is delivered twice.
    pub duplicate: f64,
}

impl LinkConfig {
    /// A perfect link with `latency`.
    pub const fn ideal(latency: Duration) -> Self {
        LinkConfig {
            latency,
            jitter: Duration::ZERO,
            loss: 0.0,
            duplicate: 0.0,
        }
    }

    /// The same link losing packets with probability `loss`.
    pub const fn with_loss(mut self, loss: f64) -> Self {
        self.loss = loss;
        self
    }

    /// The same link with random extra delay up to `jitter` (reordering).
    pub const fn with_jitter(mut self, jitter: Duration) -> Self {
        self.jitter = jitter;
        self
    }

    /// The same link duplicating packets with probability `duplicate`.
    pub const fn with_duplicate(mut self, duplicate: f64) -> Self {
        self.duplicate = duplicate;
        self
    }
}

impl Default for LinkConfig {
    /// 100 µs, no loss: a quiet switched LAN.
    fn default() -> Self {
        LinkConfig::ideal(Duration::from_micros(100))
    }
}
