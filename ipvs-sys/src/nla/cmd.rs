//! First-level attributes of an IPVS message: `IPVS_CMD_ATTR_*`, or `IPVS_INFO_ATTR_*` in the
//! reply to `IPVS_CMD_GET_INFO` (the two spaces share numbers, so parsing needs the command).

use netlink_packet_core::{
    DecodeError, DefaultNla, NLA_F_NESTED, Nla, NlaBuffer, Parseable, ParseableParametrized,
    parse_u32,
};

use super::{DaemonAttr, DestAttr, ServiceAttr, emit_nested, nested_len, parse_nested};
use crate::constants::*;

/// One first-level attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CmdAttr {
    /// `IPVS_CMD_ATTR_SERVICE`: nested service attributes.
    Service(Vec<ServiceAttr>),
    /// `IPVS_CMD_ATTR_DEST`: nested destination attributes.
    Dest(Vec<DestAttr>),
    /// `IPVS_CMD_ATTR_DAEMON`: nested sync daemon attributes.
    Daemon(Vec<DaemonAttr>),
    /// `IPVS_CMD_ATTR_TIMEOUT_TCP`: TCP established timeout, seconds.
    TimeoutTcp(u32),
    /// `IPVS_CMD_ATTR_TIMEOUT_TCP_FIN`: TCP FIN_WAIT timeout, seconds.
    TimeoutTcpFin(u32),
    /// `IPVS_CMD_ATTR_TIMEOUT_UDP`: UDP timeout, seconds.
    TimeoutUdp(u32),
    /// `IPVS_INFO_ATTR_VERSION` (in `IPVS_CMD_SET_INFO`/`GET_INFO` messages): IPVS version.
    InfoVersion(u32),
    /// `IPVS_INFO_ATTR_CONN_TAB_SIZE` (in info messages): connection hash table size.
    InfoConnTabSize(u32),
    /// Any other kind.
    Other(DefaultNla),
}

impl Nla for CmdAttr {
    fn value_len(&self) -> usize {
        use CmdAttr::*;
        match self {
            Service(a) => nested_len(a),
            Dest(a) => nested_len(a),
            Daemon(a) => nested_len(a),
            TimeoutTcp(_) | TimeoutTcpFin(_) | TimeoutUdp(_) | InfoVersion(_)
            | InfoConnTabSize(_) => 4,
            Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        use CmdAttr::*;
        match self {
            // Requests mark nests with NLA_F_NESTED, as ipvsadm does; parsing ignores the bit.
            Service(_) => IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED,
            Dest(_) => IPVS_CMD_ATTR_DEST | NLA_F_NESTED,
            Daemon(_) => IPVS_CMD_ATTR_DAEMON | NLA_F_NESTED,
            TimeoutTcp(_) => IPVS_CMD_ATTR_TIMEOUT_TCP,
            TimeoutTcpFin(_) => IPVS_CMD_ATTR_TIMEOUT_TCP_FIN,
            TimeoutUdp(_) => IPVS_CMD_ATTR_TIMEOUT_UDP,
            InfoVersion(_) => IPVS_INFO_ATTR_VERSION,
            InfoConnTabSize(_) => IPVS_INFO_ATTR_CONN_TAB_SIZE,
            Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        use CmdAttr::*;
        match self {
            Service(a) => emit_nested(a, buffer),
            Dest(a) => emit_nested(a, buffer),
            Daemon(a) => emit_nested(a, buffer),
            TimeoutTcp(v) | TimeoutTcpFin(v) | TimeoutUdp(v) | InfoVersion(v)
            | InfoConnTabSize(v) => buffer[..4].copy_from_slice(&v.to_ne_bytes()),
            Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> ParseableParametrized<NlaBuffer<&'a T>, u8> for CmdAttr {
    fn parse_with_param(buf: &NlaBuffer<&'a T>, cmd: u8) -> Result<Self, DecodeError> {
        let v = buf.value();
        if cmd == IPVS_CMD_SET_INFO || cmd == IPVS_CMD_GET_INFO {
            return Ok(match buf.kind() {
                IPVS_INFO_ATTR_VERSION => Self::InfoVersion(parse_u32(v)?),
                IPVS_INFO_ATTR_CONN_TAB_SIZE => Self::InfoConnTabSize(parse_u32(v)?),
                _ => Self::Other(DefaultNla::parse(buf)?),
            });
        }
        Ok(match buf.kind() {
            IPVS_CMD_ATTR_SERVICE => Self::Service(parse_nested(v)?),
            IPVS_CMD_ATTR_DEST => Self::Dest(parse_nested(v)?),
            IPVS_CMD_ATTR_DAEMON => Self::Daemon(parse_nested(v)?),
            IPVS_CMD_ATTR_TIMEOUT_TCP => Self::TimeoutTcp(parse_u32(v)?),
            IPVS_CMD_ATTR_TIMEOUT_TCP_FIN => Self::TimeoutTcpFin(parse_u32(v)?),
            IPVS_CMD_ATTR_TIMEOUT_UDP => Self::TimeoutUdp(parse_u32(v)?),
            _ => Self::Other(DefaultNla::parse(buf)?),
        })
    }
}
