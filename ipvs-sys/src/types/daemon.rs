//! Connection synchronisation daemons (`IPVS_CMD_*_DAEMON`).

use std::fmt;
use std::net::IpAddr;

use crate::constants::*;
use crate::error::Error;
use crate::nla::DaemonAttr;

/// Role of a sync daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DaemonState {
    /// Sends connection state (`IP_VS_STATE_MASTER`).
    Master,
    /// Receives connection state (`IP_VS_STATE_BACKUP`).
    Backup,
}

impl DaemonState {
    fn to_raw(self) -> u32 {
        match self {
            DaemonState::Master => IP_VS_STATE_MASTER,
            DaemonState::Backup => IP_VS_STATE_BACKUP,
        }
    }
}

impl fmt::Display for DaemonState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DaemonState::Master => "master",
            DaemonState::Backup => "backup",
        })
    }
}

/// A sync daemon's configuration. Zero / `None` fields take the kernel's defaults when
/// starting one and hold the kernel's values when listed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SyncDaemon {
    /// Master or backup.
    pub state: DaemonState,
    /// Interface the sync messages go out of / come in on.
    pub interface: String,
    /// Sync id (0..=255).
    pub sync_id: u32,
    /// UDP payload size limit.
    pub max_len: u16,
    /// Multicast group (IPv4 or IPv6).
    pub group: Option<IpAddr>,
    /// UDP port.
    pub port: u16,
    /// Multicast TTL.
    pub ttl: u8,
}

impl SyncDaemon {
    /// A daemon with the kernel's defaults for everything but state, interface and sync id.
    pub fn new(state: DaemonState, interface: impl Into<String>, sync_id: u32) -> Self {
        Self {
            state,
            interface: interface.into(),
            sync_id,
            max_len: 0,
            group: None,
            port: 0,
            ttl: 0,
        }
    }

    /// Checks the interface name fits the kernel's limit.
    pub fn validate(&self) -> Result<(), Error> {
        if self.interface.is_empty() || self.interface.len() >= IP_VS_IFNAME_MAXLEN {
            return Err(Error::Invalid {
                field: "sync daemon interface",
                value: self.interface.clone(),
            });
        }
        Ok(())
    }

    pub(crate) fn to_attrs(&self) -> Vec<DaemonAttr> {
        let mut attrs = vec![
            DaemonAttr::State(self.state.to_raw()),
            DaemonAttr::McastIfn(self.interface.clone()),
            DaemonAttr::SyncId(self.sync_id),
        ];
        if self.max_len != 0 {
            attrs.push(DaemonAttr::SyncMaxlen(self.max_len));
        }
        match self.group {
            Some(IpAddr::V4(g)) => attrs.push(DaemonAttr::McastGroup(g)),
            Some(IpAddr::V6(g)) => attrs.push(DaemonAttr::McastGroup6(g)),
            None => {}
        }
        if self.port != 0 {
            attrs.push(DaemonAttr::McastPort(self.port));
        }
        if self.ttl != 0 {
            attrs.push(DaemonAttr::McastTtl(self.ttl));
        }
        attrs
    }

    pub(crate) fn state_attrs(state: DaemonState) -> Vec<DaemonAttr> {
        vec![DaemonAttr::State(state.to_raw())]
    }

    pub(crate) fn from_attrs(attrs: &[DaemonAttr]) -> Result<Self, Error> {
        let mut d = SyncDaemon::new(DaemonState::Master, String::new(), 0);
        let mut state = None;
        for attr in attrs {
            match attr {
                DaemonAttr::State(v) => {
                    state = Some(match *v {
                        IP_VS_STATE_MASTER => DaemonState::Master,
                        IP_VS_STATE_BACKUP => DaemonState::Backup,
                        other => {
                            return Err(Error::Unsupported {
                                what: "daemon state",
                                value: other,
                            });
                        }
                    })
                }
                DaemonAttr::McastIfn(v) => d.interface = v.clone(),
                DaemonAttr::SyncId(v) => d.sync_id = *v,
                DaemonAttr::SyncMaxlen(v) => d.max_len = *v,
                DaemonAttr::McastGroup(g) if !g.is_unspecified() => d.group = Some(IpAddr::V4(*g)),
                DaemonAttr::McastGroup6(g) if !g.is_unspecified() => d.group = Some(IpAddr::V6(*g)),
                DaemonAttr::McastPort(v) => d.port = *v,
                DaemonAttr::McastTtl(v) => d.ttl = *v,
                _ => {}
            }
        }
        d.state = state.ok_or(Error::Missing {
            what: "daemon state",
        })?;
        Ok(d)
    }
}
