//! `IPVS_SVC_ATTR_*`: a virtual service, nested in `IPVS_CMD_ATTR_SERVICE`.

use netlink_packet_core::{
    DecodeError, DefaultNla, Nla, NlaBuffer, Parseable, parse_u16, parse_u16_be, parse_u32,
};

use super::{InetAddr, StatsAttr, emit_cstr, emit_nested, nested_len, parse_cstr, parse_nested};
use crate::constants::*;

/// `struct ip_vs_flags`: the flags to set and which of them the kernel should look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ServiceFlagsAttr {
    /// Flag values (`IP_VS_SVC_F_*`).
    pub flags: u32,
    /// Which bits of `flags` apply.
    pub mask: u32,
}

/// One attribute of a virtual service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceAttr {
    /// `IPVS_SVC_ATTR_AF`: address family (`AF_INET`, `AF_INET6`).
    Af(u16),
    /// `IPVS_SVC_ATTR_PROTOCOL`: `IPPROTO_TCP`, `IPPROTO_UDP` or `IPPROTO_SCTP`.
    Protocol(u16),
    /// `IPVS_SVC_ATTR_ADDR`: virtual address.
    Addr(InetAddr),
    /// `IPVS_SVC_ATTR_PORT`: virtual port (host order here, network order on the wire).
    Port(u16),
    /// `IPVS_SVC_ATTR_FWMARK`: firewall mark of a fwmark service.
    Fwmark(u32),
    /// `IPVS_SVC_ATTR_SCHED_NAME`: scheduler name.
    SchedName(String),
    /// `IPVS_SVC_ATTR_FLAGS`: `struct ip_vs_flags`.
    Flags(ServiceFlagsAttr),
    /// `IPVS_SVC_ATTR_TIMEOUT`: persistence timeout in seconds.
    Timeout(u32),
    /// `IPVS_SVC_ATTR_NETMASK`: persistence netmask, the 4 wire bytes as they are (an IPv4
    /// mask in network order, or for IPv6 a prefix length in host order).
    Netmask([u8; 4]),
    /// `IPVS_SVC_ATTR_STATS`: 32-bit statistics.
    Stats(Vec<StatsAttr>),
    /// `IPVS_SVC_ATTR_PE_NAME`: persistence engine name.
    PeName(String),
    /// `IPVS_SVC_ATTR_STATS64`: 64-bit statistics.
    Stats64(Vec<StatsAttr>),
    /// Any other kind.
    Other(DefaultNla),
}

impl Nla for ServiceAttr {
    fn value_len(&self) -> usize {
        use ServiceAttr::*;
        match self {
            Af(_) | Protocol(_) | Port(_) => 2,
            Fwmark(_) | Timeout(_) | Netmask(_) => 4,
            Addr(_) => 16,
            Flags(_) => 8,
            SchedName(s) | PeName(s) => s.len() + 1,
            Stats(a) | Stats64(a) => nested_len(a),
            Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        use ServiceAttr::*;
        match self {
            Af(_) => IPVS_SVC_ATTR_AF,
            Protocol(_) => IPVS_SVC_ATTR_PROTOCOL,
            Addr(_) => IPVS_SVC_ATTR_ADDR,
            Port(_) => IPVS_SVC_ATTR_PORT,
            Fwmark(_) => IPVS_SVC_ATTR_FWMARK,
            SchedName(_) => IPVS_SVC_ATTR_SCHED_NAME,
            Flags(_) => IPVS_SVC_ATTR_FLAGS,
            Timeout(_) => IPVS_SVC_ATTR_TIMEOUT,
            Netmask(_) => IPVS_SVC_ATTR_NETMASK,
            Stats(_) => IPVS_SVC_ATTR_STATS,
            PeName(_) => IPVS_SVC_ATTR_PE_NAME,
            Stats64(_) => IPVS_SVC_ATTR_STATS64,
            Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        use ServiceAttr::*;
        match self {
            Af(v) | Protocol(v) => buffer[..2].copy_from_slice(&v.to_ne_bytes()),
            Port(v) => buffer[..2].copy_from_slice(&v.to_be_bytes()),
            Fwmark(v) | Timeout(v) => buffer[..4].copy_from_slice(&v.to_ne_bytes()),
            Netmask(raw) => buffer[..4].copy_from_slice(raw),
            Addr(a) => buffer[..16].copy_from_slice(&a.0),
            Flags(f) => {
                buffer[..4].copy_from_slice(&f.flags.to_ne_bytes());
                buffer[4..8].copy_from_slice(&f.mask.to_ne_bytes());
            }
            SchedName(s) | PeName(s) => emit_cstr(s, buffer),
            Stats(a) | Stats64(a) => emit_nested(a, buffer),
            Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for ServiceAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let v = buf.value();
        Ok(match buf.kind() {
            IPVS_SVC_ATTR_AF => Self::Af(parse_u16(v)?),
            IPVS_SVC_ATTR_PROTOCOL => Self::Protocol(parse_u16(v)?),
            IPVS_SVC_ATTR_ADDR => Self::Addr(InetAddr::parse(v)?),
            IPVS_SVC_ATTR_PORT => Self::Port(parse_u16_be(v)?),
            IPVS_SVC_ATTR_FWMARK => Self::Fwmark(parse_u32(v)?),
            IPVS_SVC_ATTR_SCHED_NAME => Self::SchedName(parse_cstr(v)?),
            IPVS_SVC_ATTR_FLAGS => {
                if v.len() != 8 {
                    return Err(DecodeError::invalid_number(8, v.len()));
                }
                Self::Flags(ServiceFlagsAttr {
                    flags: parse_u32(&v[..4])?,
                    mask: parse_u32(&v[4..])?,
                })
            }
            IPVS_SVC_ATTR_TIMEOUT => Self::Timeout(parse_u32(v)?),
            IPVS_SVC_ATTR_NETMASK => {
                let raw: [u8; 4] = v
                    .try_into()
                    .map_err(|_| DecodeError::invalid_number(4, v.len()))?;
                Self::Netmask(raw)
            }
            IPVS_SVC_ATTR_STATS => Self::Stats(parse_nested(v)?),
            IPVS_SVC_ATTR_PE_NAME => Self::PeName(parse_cstr(v)?),
            IPVS_SVC_ATTR_STATS64 => Self::Stats64(parse_nested(v)?),
            _ => Self::Other(DefaultNla::parse(buf)?),
        })
    }
}
