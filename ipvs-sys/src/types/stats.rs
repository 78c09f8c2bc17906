//! Traffic counters of a service or destination.

use crate::nla::StatsAttr;

/// Counters and rate estimates (`struct ip_vs_kstats` as the kernel reports it).
///
/// Filled from `*_ATTR_STATS64` when the kernel sends it (since 4.1), else from the 32-bit
/// `*_ATTR_STATS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Connections scheduled.
    pub conns: u64,
    /// Incoming packets.
    pub inpkts: u64,
    /// Outgoing packets.
    pub outpkts: u64,
    /// Incoming bytes.
    pub inbytes: u64,
    /// Outgoing bytes.
    pub outbytes: u64,
    /// Connection rate (per second).
    pub cps: u64,
    /// Incoming packet rate.
    pub inpps: u64,
    /// Outgoing packet rate.
    pub outpps: u64,
    /// Incoming byte rate.
    pub inbps: u64,
    /// Outgoing byte rate.
    pub outbps: u64,
}

impl Stats {
    pub(crate) fn from_attrs(attrs: &[StatsAttr]) -> Self {
        let mut s = Stats::default();
        for attr in attrs {
            match attr {
                StatsAttr::Conns(c) => s.conns = c.value,
                StatsAttr::InPkts(c) => s.inpkts = c.value,
                StatsAttr::OutPkts(c) => s.outpkts = c.value,
                StatsAttr::InBytes(c) => s.inbytes = c.value,
                StatsAttr::OutBytes(c) => s.outbytes = c.value,
                StatsAttr::Cps(c) => s.cps = c.value,
                StatsAttr::InPps(c) => s.inpps = c.value,
                StatsAttr::OutPps(c) => s.outpps = c.value,
                StatsAttr::InBps(c) => s.inbps = c.value,
                StatsAttr::OutBps(c) => s.outbps = c.value,
                StatsAttr::Other(_) => {}
            }
        }
        s
    }
}
