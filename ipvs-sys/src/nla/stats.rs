//! `IPVS_STATS_ATTR_*`: counters nested in services and destinations (32 and 64-bit forms).

use netlink_packet_core::{
    DecodeError, DefaultNla, Nla, NlaBuffer, Parseable, parse_u32, parse_u64,
};

use crate::constants::*;

/// One counter of `IPVS_SVC_ATTR_STATS(64)` / `IPVS_DEST_ATTR_STATS(64)`.
///
/// The value is kept as `u64` whichever width it had on the wire; `wide` records the width
/// (`STATS64` carries all values as `u64`, `STATS` carries the byte counters as `u64` and the
/// rest as `u32`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatsAttr {
    /// `IPVS_STATS_ATTR_CONNS`: connections scheduled.
    Conns(Counter),
    /// `IPVS_STATS_ATTR_INPKTS`: incoming packets.
    InPkts(Counter),
    /// `IPVS_STATS_ATTR_OUTPKTS`: outgoing packets.
    OutPkts(Counter),
    /// `IPVS_STATS_ATTR_INBYTES`: incoming bytes.
    InBytes(Counter),
    /// `IPVS_STATS_ATTR_OUTBYTES`: outgoing bytes.
    OutBytes(Counter),
    /// `IPVS_STATS_ATTR_CPS`: current connection rate.
    Cps(Counter),
    /// `IPVS_STATS_ATTR_INPPS`: current incoming packet rate.
    InPps(Counter),
    /// `IPVS_STATS_ATTR_OUTPPS`: current outgoing packet rate.
    OutPps(Counter),
    /// `IPVS_STATS_ATTR_INBPS`: current incoming byte rate.
    InBps(Counter),
    /// `IPVS_STATS_ATTR_OUTBPS`: current outgoing byte rate.
    OutBps(Counter),
    /// Any other kind (`IPVS_STATS_ATTR_PAD`, newer kernels).
    Other(DefaultNla),
}

/// A counter value and its wire width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    /// The value.
    pub value: u64,
    /// `true` when carried as a `u64`, `false` for a `u32`.
    pub wide: bool,
}

impl Counter {
    /// A 32-bit counter.
    pub fn narrow(value: u32) -> Self {
        Self {
            value: u64::from(value),
            wide: false,
        }
    }

    /// A 64-bit counter.
    pub fn wide(value: u64) -> Self {
        Self { value, wide: true }
    }

    fn parse(value: &[u8]) -> Result<Self, DecodeError> {
        match value.len() {
            8 => parse_u64(value).map(Self::wide),
            _ => parse_u32(value).map(Self::narrow),
        }
    }
}

impl StatsAttr {
    fn counter(&self) -> Option<&Counter> {
        use StatsAttr::*;
        match self {
            Conns(c) | InPkts(c) | OutPkts(c) | InBytes(c) | OutBytes(c) | Cps(c) | InPps(c)
            | OutPps(c) | InBps(c) | OutBps(c) => Some(c),
            Other(_) => None,
        }
    }
}

impl Nla for StatsAttr {
    fn value_len(&self) -> usize {
        match (self, self.counter()) {
            (_, Some(c)) if c.wide => 8,
            (_, Some(_)) => 4,
            (StatsAttr::Other(nla), None) => nla.value_len(),
            _ => 0,
        }
    }

    fn kind(&self) -> u16 {
        use StatsAttr::*;
        match self {
            Conns(_) => IPVS_STATS_ATTR_CONNS,
            InPkts(_) => IPVS_STATS_ATTR_INPKTS,
            OutPkts(_) => IPVS_STATS_ATTR_OUTPKTS,
            InBytes(_) => IPVS_STATS_ATTR_INBYTES,
            OutBytes(_) => IPVS_STATS_ATTR_OUTBYTES,
            Cps(_) => IPVS_STATS_ATTR_CPS,
            InPps(_) => IPVS_STATS_ATTR_INPPS,
            OutPps(_) => IPVS_STATS_ATTR_OUTPPS,
            InBps(_) => IPVS_STATS_ATTR_INBPS,
            OutBps(_) => IPVS_STATS_ATTR_OUTBPS,
            Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self.counter() {
            Some(c) if c.wide => buffer[..8].copy_from_slice(&c.value.to_ne_bytes()),
            Some(c) => buffer[..4].copy_from_slice(&(c.value as u32).to_ne_bytes()),
            None => {
                if let StatsAttr::Other(nla) = self {
                    nla.emit_value(buffer);
                }
            }
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for StatsAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let v = buf.value();
        Ok(match buf.kind() {
            IPVS_STATS_ATTR_CONNS => Self::Conns(Counter::parse(v)?),
            IPVS_STATS_ATTR_INPKTS => Self::InPkts(Counter::parse(v)?),
            IPVS_STATS_ATTR_OUTPKTS => Self::OutPkts(Counter::parse(v)?),
            IPVS_STATS_ATTR_INBYTES => Self::InBytes(Counter::parse(v)?),
            IPVS_STATS_ATTR_OUTBYTES => Self::OutBytes(Counter::parse(v)?),
            IPVS_STATS_ATTR_CPS => Self::Cps(Counter::parse(v)?),
            IPVS_STATS_ATTR_INPPS => Self::InPps(Counter::parse(v)?),
            IPVS_STATS_ATTR_OUTPPS => Self::OutPps(Counter::parse(v)?),
            IPVS_STATS_ATTR_INBPS => Self::InBps(Counter::parse(v)?),
            IPVS_STATS_ATTR_OUTBPS => Self::OutBps(Counter::parse(v)?),
            _ => Self::Other(DefaultNla::parse(buf)?),
        })
    }
}
