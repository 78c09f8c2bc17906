//! Global settings: connection timeouts (`SET/GET_CONFIG`) and `GET_INFO`.

use crate::nla::CmdAttr;

/// Connection timeouts in seconds; 0 in a set request leaves that timeout unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timeouts {
    /// TCP established.
    pub tcp: u32,
    /// TCP after a FIN (FIN_WAIT).
    pub tcp_fin: u32,
    /// UDP.
    pub udp: u32,
}

impl Timeouts {
    pub(crate) fn to_attrs(self) -> Vec<CmdAttr> {
        let mut attrs = Vec::with_capacity(3);
        if self.tcp != 0 {
            attrs.push(CmdAttr::TimeoutTcp(self.tcp));
        }
        if self.tcp_fin != 0 {
            attrs.push(CmdAttr::TimeoutTcpFin(self.tcp_fin));
        }
        if self.udp != 0 {
            attrs.push(CmdAttr::TimeoutUdp(self.udp));
        }
        attrs
    }

    pub(crate) fn from_attrs(attrs: &[CmdAttr]) -> Self {
        let mut t = Timeouts::default();
        for attr in attrs {
            match attr {
                CmdAttr::TimeoutTcp(v) => t.tcp = *v,
                CmdAttr::TimeoutTcpFin(v) => t.tcp_fin = *v,
                CmdAttr::TimeoutUdp(v) => t.udp = *v,
                _ => {}
            }
        }
        t
    }
}

/// What `IPVS_CMD_GET_INFO` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Info {
    /// IPVS version, `0x010201` for 1.2.1.
    pub version: u32,
    /// Size of the connection hash table.
    pub conn_tab_size: u32,
}

impl Info {
    /// The version as (major, minor, patch).
    pub fn version_triple(&self) -> (u8, u8, u8) {
        let [_, major, minor, patch] = self.version.to_be_bytes();
        (major, minor, patch)
    }

    pub(crate) fn from_attrs(attrs: &[CmdAttr]) -> Self {
        let mut info = Info::default();
        for attr in attrs {
            match attr {
                CmdAttr::InfoVersion(v) => info.version = *v,
                CmdAttr::InfoConnTabSize(v) => info.conn_tab_size = *v,
                _ => {}
            }
        }
        info
    }
}
