//! `IPVS_DAEMON_ATTR_*`: a connection sync daemon, nested in `IPVS_CMD_ATTR_DAEMON`.

use std::net::{Ipv4Addr, Ipv6Addr};

use netlink_packet_core::{
    DecodeError, DefaultNla, Nla, NlaBuffer, Parseable, parse_u8, parse_u16, parse_u32,
};

use super::{emit_cstr, parse_cstr};
use crate::constants::*;

/// One attribute of a sync daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaemonAttr {
    /// `IPVS_DAEMON_ATTR_STATE`: `IP_VS_STATE_MASTER` or `IP_VS_STATE_BACKUP`.
    State(u32),
    /// `IPVS_DAEMON_ATTR_MCAST_IFN`: multicast interface name.
    McastIfn(String),
    /// `IPVS_DAEMON_ATTR_SYNC_ID`: sync id.
    SyncId(u32),
    /// `IPVS_DAEMON_ATTR_SYNC_MAXLEN`: UDP payload size.
    SyncMaxlen(u16),
    /// `IPVS_DAEMON_ATTR_MCAST_GROUP`: IPv4 multicast group.
    McastGroup(Ipv4Addr),
    /// `IPVS_DAEMON_ATTR_MCAST_GROUP6`: IPv6 multicast group.
    McastGroup6(Ipv6Addr),
    /// `IPVS_DAEMON_ATTR_MCAST_PORT`: multicast (base) port.
    McastPort(u16),
    /// `IPVS_DAEMON_ATTR_MCAST_TTL`: multicast TTL.
    McastTtl(u8),
    /// Any other kind.
    Other(DefaultNla),
}

impl Nla for DaemonAttr {
    fn value_len(&self) -> usize {
        use DaemonAttr::*;
        match self {
            State(_) | SyncId(_) | McastGroup(_) => 4,
            McastIfn(s) => s.len() + 1,
            SyncMaxlen(_) | McastPort(_) => 2,
            McastGroup6(_) => 16,
            McastTtl(_) => 1,
            Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        use DaemonAttr::*;
        match self {
            State(_) => IPVS_DAEMON_ATTR_STATE,
            McastIfn(_) => IPVS_DAEMON_ATTR_MCAST_IFN,
            SyncId(_) => IPVS_DAEMON_ATTR_SYNC_ID,
            SyncMaxlen(_) => IPVS_DAEMON_ATTR_SYNC_MAXLEN,
            McastGroup(_) => IPVS_DAEMON_ATTR_MCAST_GROUP,
            McastGroup6(_) => IPVS_DAEMON_ATTR_MCAST_GROUP6,
            McastPort(_) => IPVS_DAEMON_ATTR_MCAST_PORT,
            McastTtl(_) => IPVS_DAEMON_ATTR_MCAST_TTL,
            Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        use DaemonAttr::*;
        match self {
            State(v) | SyncId(v) => buffer[..4].copy_from_slice(&v.to_ne_bytes()),
            McastIfn(s) => emit_cstr(s, buffer),
            SyncMaxlen(v) | McastPort(v) => buffer[..2].copy_from_slice(&v.to_ne_bytes()),
            McastGroup(a) => buffer[..4].copy_from_slice(&a.octets()),
            McastGroup6(a) => buffer[..16].copy_from_slice(&a.octets()),
            McastTtl(v) => buffer[0] = *v,
            Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for DaemonAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let v = buf.value();
        Ok(match buf.kind() {
            IPVS_DAEMON_ATTR_STATE => Self::State(parse_u32(v)?),
            IPVS_DAEMON_ATTR_MCAST_IFN => Self::McastIfn(parse_cstr(v)?),
            IPVS_DAEMON_ATTR_SYNC_ID => Self::SyncId(parse_u32(v)?),
            IPVS_DAEMON_ATTR_SYNC_MAXLEN => Self::SyncMaxlen(parse_u16(v)?),
            IPVS_DAEMON_ATTR_MCAST_GROUP => {
                let raw: [u8; 4] = v
                    .try_into()
                    .map_err(|_| DecodeError::invalid_ip_address(v.len()))?;
                Self::McastGroup(Ipv4Addr::from(raw))
            }
            IPVS_DAEMON_ATTR_MCAST_GROUP6 => {
                let raw: [u8; 16] = v
                    .try_into()
                    .map_err(|_| DecodeError::invalid_ip_address(v.len()))?;
                Self::McastGroup6(Ipv6Addr::from(raw))
            }
            IPVS_DAEMON_ATTR_MCAST_PORT => Self::McastPort(parse_u16(v)?),
            IPVS_DAEMON_ATTR_MCAST_TTL => Self::McastTtl(parse_u8(v)?),
            _ => Self::Other(DefaultNla::parse(buf)?),
        })
    }
}
