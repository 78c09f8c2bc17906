//! Errors of this crate.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

use netlink_packet_core::DecodeError;

use crate::types::{DaemonState, ServiceKey};

/// Everything that can go wrong talking to IPVS.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The generic netlink family "IPVS" does not exist: the `ip_vs` module is not loaded (or
    /// IPVS is not built) in this network namespace's kernel.
    #[error("ipvs is not available: generic netlink family \"IPVS\" not found (is ip_vs loaded?)")]
    NotLoaded,
    /// The kernel refused the operation (no `CAP_NET_ADMIN` in the socket's namespace).
    #[error("{op}: permission denied")]
    PermissionDenied {
        /// What was attempted.
        op: String,
    },
    /// `EEXIST` adding a service.
    #[error("service {0} already exists")]
    ServiceExists(ServiceKey),
    /// `ESRCH`: the service does not exist.
    #[error("no such service {0}")]
    NoSuchService(ServiceKey),
    /// `EEXIST` adding a destination.
    #[error("destination {dest} already exists in service {service}")]
    DestinationExists {
        /// The service.
        service: ServiceKey,
        /// The destination's address.
        dest: SocketAddr,
    },
    /// `ENOENT` changing or deleting a destination.
    #[error("no such destination {dest} in service {service}")]
    NoSuchDestination {
        /// The service.
        service: ServiceKey,
        /// The destination's address.
        dest: SocketAddr,
    },
    /// `EEXIST` starting a sync daemon.
    #[error("{0} sync daemon is already running")]
    DaemonExists(DaemonState),
    /// `ESRCH` stopping a sync daemon.
    #[error("no {0} sync daemon is running")]
    NoSuchDaemon(DaemonState),
    /// Any other error the kernel returned, with the operation it answered.
    #[error("{op} failed")]
    Kernel {
        /// What was attempted.
        op: String,
        /// The errno as an I/O error.
        #[source]
        source: io::Error,
    },
    /// A value that cannot be sent to the kernel.
    #[error("invalid {field} {value:?}")]
    Invalid {
        /// Which field.
        field: &'static str,
        /// The offending value.
        value: String,
    },
    /// A value in a kernel reply this crate cannot represent.
    #[error("unsupported {what} {value} in kernel reply")]
    Unsupported {
        /// Which field.
        what: &'static str,
        /// The value.
        value: u32,
    },
    /// A kernel reply without a mandatory attribute.
    #[error("kernel reply lacks the {what}")]
    Missing {
        /// Which attribute.
        what: &'static str,
    },
    /// A reply that does not parse as netlink.
    #[error("malformed netlink message from the kernel")]
    Decode(#[source] DecodeError),
    /// The reply stream ended without the expected answer.
    #[error("no reply from the kernel to {op}")]
    NoReply {
        /// What was attempted.
        op: String,
    },
    /// Socket I/O failed.
    #[error("netlink socket i/o")]
    Io(#[from] io::Error),
    /// Entering a network namespace failed.
    #[error("cannot open a netlink socket in network namespace {path}")]
    Netns {
        /// The namespace file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Error::Decode(e)
    }
}
