//! Write operations on IPVS, each one request, with the errno mapping that names its object.

use std::fmt;
use std::io;
use std::net::SocketAddr;

use crate::error::Error;
use crate::message::{IpvsCmd, IpvsMessage};
use crate::nla::CmdAttr;
use crate::types::{DaemonState, Destination, Service, ServiceKey, SyncDaemon, Timeouts};

const EPERM: i32 = 1;
const ENOENT: i32 = 2;
const ESRCH: i32 = 3;
const EACCES: i32 = 13;
const EEXIST: i32 = 17;

/// One change to the kernel's IPVS state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `IPVS_CMD_NEW_SERVICE`.
    AddService(Service),
    /// `IPVS_CMD_SET_SERVICE`: scheduler, flags, persistence.
    UpdateService(Service),
    /// `IPVS_CMD_DEL_SERVICE` (its destinations go with it).
    DeleteService(ServiceKey),
    /// `IPVS_CMD_NEW_DEST`.
    AddDestination(ServiceKey, Destination),
    /// `IPVS_CMD_SET_DEST`: forwarding method, weight, thresholds.
    UpdateDestination(ServiceKey, Destination),
    /// `IPVS_CMD_DEL_DEST`.
    DeleteDestination(ServiceKey, SocketAddr),
    /// `IPVS_CMD_FLUSH`: delete every service.
    Flush,
    /// `IPVS_CMD_ZERO`: zero one service's counters, or all.
    Zero(Option<ServiceKey>),
    /// `IPVS_CMD_SET_CONFIG`: connection timeouts (zeros unchanged).
    SetTimeouts(Timeouts),
    /// `IPVS_CMD_NEW_DAEMON`.
    StartDaemon(SyncDaemon),
    /// `IPVS_CMD_DEL_DAEMON`.
    StopDaemon(DaemonState),
}

impl Command {
    /// Checks the values fit the kernel's limits before anything is sent.
    pub fn validate(&self) -> Result<(), Error> {
        match self {
            Command::AddService(s) | Command::UpdateService(s) => s.validate(),
            Command::AddDestination(_, d) | Command::UpdateDestination(_, d) => d.validate(),
            Command::StartDaemon(d) => d.validate(),
            _ => Ok(()),
        }
    }

    /// The request message.
    pub fn to_message(&self) -> IpvsMessage {
        use Command::*;
        let (cmd, attrs) = match self {
            AddService(s) => (IpvsCmd::NewService, vec![CmdAttr::Service(s.to_attrs())]),
            UpdateService(s) => (IpvsCmd::SetService, vec![CmdAttr::Service(s.to_attrs())]),
            DeleteService(k) => (IpvsCmd::DelService, vec![CmdAttr::Service(k.to_attrs())]),
            AddDestination(k, d) => (
                IpvsCmd::NewDest,
                vec![CmdAttr::Service(k.to_attrs()), CmdAttr::Dest(d.to_attrs())],
            ),
            UpdateDestination(k, d) => (
                IpvsCmd::SetDest,
                vec![CmdAttr::Service(k.to_attrs()), CmdAttr::Dest(d.to_attrs())],
            ),
            DeleteDestination(k, a) => (
                IpvsCmd::DelDest,
                vec![
                    CmdAttr::Service(k.to_attrs()),
                    CmdAttr::Dest(Destination::key_attrs(*a)),
                ],
            ),
            Flush => (IpvsCmd::Flush, vec![]),
            Zero(None) => (IpvsCmd::Zero, vec![]),
            Zero(Some(k)) => (IpvsCmd::Zero, vec![CmdAttr::Service(k.to_attrs())]),
            SetTimeouts(t) => (IpvsCmd::SetConfig, t.to_attrs()),
            StartDaemon(d) => (IpvsCmd::NewDaemon, vec![CmdAttr::Daemon(d.to_attrs())]),
            StopDaemon(s) => (
                IpvsCmd::DelDaemon,
                vec![CmdAttr::Daemon(SyncDaemon::state_attrs(*s))],
            ),
        };
        IpvsMessage::new(cmd, attrs)
    }

    /// The typed error for the errno the kernel answered this command with.
    pub(crate) fn error(&self, errno: i32) -> Error {
        use Command::*;
        match (self, errno) {
            (_, EPERM | EACCES) => Error::PermissionDenied {
                op: self.to_string(),
            },
            (AddService(s), EEXIST) => Error::ServiceExists(s.key),
            (UpdateService(s), ESRCH) => Error::NoSuchService(s.key),
            (DeleteService(k) | Zero(Some(k)), ESRCH) => Error::NoSuchService(*k),
            (AddDestination(k, _) | UpdateDestination(k, _), ESRCH) => Error::NoSuchService(*k),
            (DeleteDestination(k, _), ESRCH) => Error::NoSuchService(*k),
            (AddDestination(k, d), EEXIST) => Error::DestinationExists {
                service: *k,
                dest: d.addr,
            },
            (UpdateDestination(k, d), ENOENT) => Error::NoSuchDestination {
                service: *k,
                dest: d.addr,
            },
            (DeleteDestination(k, a), ENOENT) => Error::NoSuchDestination {
                service: *k,
                dest: *a,
            },
            (StartDaemon(d), EEXIST) => Error::DaemonExists(d.state),
            (StopDaemon(s), ESRCH) => Error::NoSuchDaemon(*s),
            _ => Error::Kernel {
                op: self.to_string(),
                source: io::Error::from_raw_os_error(errno),
            },
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Command::*;
        match self {
            AddService(s) => write!(f, "add service {} (scheduler {})", s.key, s.scheduler),
            UpdateService(s) => write!(f, "update service {} (scheduler {})", s.key, s.scheduler),
            DeleteService(k) => write!(f, "delete service {k}"),
            AddDestination(k, d) => write!(f, "add destination {} to service {k}", d.addr),
            UpdateDestination(k, d) => write!(f, "update destination {} of service {k}", d.addr),
            DeleteDestination(k, a) => write!(f, "delete destination {a} from service {k}"),
            Flush => f.write_str("flush"),
            Zero(None) => f.write_str("zero all counters"),
            Zero(Some(k)) => write!(f, "zero counters of service {k}"),
            SetTimeouts(t) => write!(f, "set timeouts {}/{}/{}", t.tcp, t.tcp_fin, t.udp),
            StartDaemon(d) => write!(f, "start {} sync daemon on {}", d.state, d.interface),
            StopDaemon(s) => write!(f, "stop {s} sync daemon"),
        }
    }
}
