//! Router states (RFC 9568 §6.4) and why a transition happened.

use core::fmt;
use core::net::IpAddr;

/// State of a virtual router.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Waiting for a Startup event (RFC 9568 §6.4.1).
    Initialize,
    /// Monitoring the master (RFC 9568 §6.4.2).
    Backup,
    /// Forwarding for the virtual addresses (RFC 9568 §6.4.3).
    Master,
    /// Not participating because a tracked object, the link or the I/O layer failed
    /// (keepalived's FAULT; not an RFC state).
    Fault,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Initialize => "INIT",
            State::Backup => "BACKUP",
            State::Master => "MASTER",
            State::Fault => "FAULT",
        })
    }
}

/// Why a state transition happened. New reasons may be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// Startup event (RFC 9568 §6.4.1).
    Startup,
    /// Startup of the address owner, priority 255 (RFC 9568 §6.4.1).
    StartupOwner,
    /// Startup with keepalived's `state MASTER` (an explicit deviation).
    StartupAsMaster,
    /// Master_Down_Timer fired (RFC 9568 §6.4.2).
    MasterDown,
    /// Master_Down_Timer set to Skew_Time after a priority-0 advert fired (RFC 9568 §6.4.2).
    MasterStopped,
    /// An advert with higher priority, or equal priority and a higher primary address, arrived
    /// while master (RFC 9568 §6.4.3).
    HigherPriority {
        /// Sender of that advert.
        from: IpAddr,
    },
    /// Shutdown event (RFC 9568 §6.4.2, §6.4.3).
    Shutdown,
    /// A tracked object with weight 0 went down.
    TrackFault,
    /// The interface went down.
    LinkDown,
    /// The I/O layer reported a failure (socket or address installation).
    IoFault,
    /// The sync group moved this member.
    SyncGroup,
    /// Every fault cause cleared.
    FaultCleared,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Startup => f.write_str("startup"),
            Reason::StartupOwner => f.write_str("startup as address owner"),
            Reason::StartupAsMaster => f.write_str("startup with initial state master"),
            Reason::MasterDown => f.write_str("master down interval expired"),
            Reason::MasterStopped => f.write_str("master sent priority 0"),
            Reason::HigherPriority { from } => write!(f, "higher priority advert from {from}"),
            Reason::Shutdown => f.write_str("shutdown"),
            Reason::TrackFault => f.write_str("tracked object down"),
            Reason::LinkDown => f.write_str("link down"),
            Reason::IoFault => f.write_str("i/o fault"),
            Reason::SyncGroup => f.write_str("sync group"),
            Reason::FaultCleared => f.write_str("fault cleared"),
        }
    }
}
