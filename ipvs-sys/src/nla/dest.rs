//! `IPVS_DEST_ATTR_*`: a destination (real server), nested in `IPVS_CMD_ATTR_DEST`.

use netlink_packet_core::{
    DecodeError, DefaultNla, Nla, NlaBuffer, Parseable, parse_u8, parse_u16, parse_u16_be,
    parse_u32,
};

use super::{InetAddr, StatsAttr, emit_nested, nested_len, parse_nested};
use crate::constants::*;

/// One attribute of a destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DestAttr {
    /// `IPVS_DEST_ATTR_ADDR`: real server address.
    Addr(InetAddr),
    /// `IPVS_DEST_ATTR_PORT`: real server port (host order here, network order on the wire).
    Port(u16),
    /// `IPVS_DEST_ATTR_FWD_METHOD`: connection flags, forwarding method bits (`IP_VS_CONN_F_*`).
    FwdMethod(u32),
    /// `IPVS_DEST_ATTR_WEIGHT`: weight (a C `int`).
    Weight(i32),
    /// `IPVS_DEST_ATTR_U_THRESH`: upper connection threshold (0: none).
    UThresh(u32),
    /// `IPVS_DEST_ATTR_L_THRESH`: lower connection threshold (0: none).
    LThresh(u32),
    /// `IPVS_DEST_ATTR_ACTIVE_CONNS`: active connections.
    ActiveConns(u32),
    /// `IPVS_DEST_ATTR_INACT_CONNS`: inactive connections.
    InactConns(u32),
    /// `IPVS_DEST_ATTR_PERSIST_CONNS`: persistence templates.
    PersistConns(u32),
    /// `IPVS_DEST_ATTR_STATS`: 32-bit statistics.
    Stats(Vec<StatsAttr>),
    /// `IPVS_DEST_ATTR_ADDR_FAMILY`: family of this destination's address.
    AddrFamily(u16),
    /// `IPVS_DEST_ATTR_STATS64`: 64-bit statistics.
    Stats64(Vec<StatsAttr>),
    /// `IPVS_DEST_ATTR_TUN_TYPE`: tunnel type (`IP_VS_CONN_F_TUNNEL_TYPE_*`).
    TunType(u8),
    /// `IPVS_DEST_ATTR_TUN_PORT`: tunnel (GUE) port, host order here.
    TunPort(u16),
    /// `IPVS_DEST_ATTR_TUN_FLAGS`: tunnel encapsulation flags (`IP_VS_TUNNEL_ENCAP_FLAG_*`).
    TunFlags(u16),
    /// Any other kind.
    Other(DefaultNla),
}

impl Nla for DestAttr {
    fn value_len(&self) -> usize {
        use DestAttr::*;
        match self {
            Addr(_) => 16,
            TunType(_) => 1,
            Port(_) | AddrFamily(_) | TunPort(_) | TunFlags(_) => 2,
            FwdMethod(_) | Weight(_) | UThresh(_) | LThresh(_) | ActiveConns(_) | InactConns(_)
            | PersistConns(_) => 4,
            Stats(a) | Stats64(a) => nested_len(a),
            Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        use DestAttr::*;
        match self {
            Addr(_) => IPVS_DEST_ATTR_ADDR,
            Port(_) => IPVS_DEST_ATTR_PORT,
            FwdMethod(_) => IPVS_DEST_ATTR_FWD_METHOD,
            Weight(_) => IPVS_DEST_ATTR_WEIGHT,
            UThresh(_) => IPVS_DEST_ATTR_U_THRESH,
            LThresh(_) => IPVS_DEST_ATTR_L_THRESH,
            ActiveConns(_) => IPVS_DEST_ATTR_ACTIVE_CONNS,
            InactConns(_) => IPVS_DEST_ATTR_INACT_CONNS,
            PersistConns(_) => IPVS_DEST_ATTR_PERSIST_CONNS,
            Stats(_) => IPVS_DEST_ATTR_STATS,
            AddrFamily(_) => IPVS_DEST_ATTR_ADDR_FAMILY,
            Stats64(_) => IPVS_DEST_ATTR_STATS64,
            TunType(_) => IPVS_DEST_ATTR_TUN_TYPE,
            TunPort(_) => IPVS_DEST_ATTR_TUN_PORT,
            TunFlags(_) => IPVS_DEST_ATTR_TUN_FLAGS,
            Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        use DestAttr::*;
        match self {
            Addr(a) => buffer[..16].copy_from_slice(&a.0),
            Port(v) | TunPort(v) => buffer[..2].copy_from_slice(&v.to_be_bytes()),
            AddrFamily(v) | TunFlags(v) => buffer[..2].copy_from_slice(&v.to_ne_bytes()),
            TunType(v) => buffer[0] = *v,
            Weight(v) => buffer[..4].copy_from_slice(&v.to_ne_bytes()),
            FwdMethod(v) | UThresh(v) | LThresh(v) | ActiveConns(v) | InactConns(v)
            | PersistConns(v) => buffer[..4].copy_from_slice(&v.to_ne_bytes()),
            Stats(a) | Stats64(a) => emit_nested(a, buffer),
            Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for DestAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let v = buf.value();
        Ok(match buf.kind() {
            IPVS_DEST_ATTR_ADDR => Self::Addr(InetAddr::parse(v)?),
            IPVS_DEST_ATTR_PORT => Self::Port(parse_u16_be(v)?),
            IPVS_DEST_ATTR_FWD_METHOD => Self::FwdMethod(parse_u32(v)?),
            IPVS_DEST_ATTR_WEIGHT => Self::Weight(parse_u32(v)? as i32),
            IPVS_DEST_ATTR_U_THRESH => Self::UThresh(parse_u32(v)?),
            IPVS_DEST_ATTR_L_THRESH => Self::LThresh(parse_u32(v)?),
            IPVS_DEST_ATTR_ACTIVE_CONNS => Self::ActiveConns(parse_u32(v)?),
            IPVS_DEST_ATTR_INACT_CONNS => Self::InactConns(parse_u32(v)?),
            IPVS_DEST_ATTR_PERSIST_CONNS => Self::PersistConns(parse_u32(v)?),
            IPVS_DEST_ATTR_STATS => Self::Stats(parse_nested(v)?),
            IPVS_DEST_ATTR_ADDR_FAMILY => Self::AddrFamily(parse_u16(v)?),
            IPVS_DEST_ATTR_STATS64 => Self::Stats64(parse_nested(v)?),
            IPVS_DEST_ATTR_TUN_TYPE => Self::TunType(parse_u8(v)?),
            IPVS_DEST_ATTR_TUN_PORT => Self::TunPort(parse_u16_be(v)?),
            IPVS_DEST_ATTR_TUN_FLAGS => Self::TunFlags(parse_u16(v)?),
            _ => Self::Other(DefaultNla::parse(buf)?),
        })
    }
}
