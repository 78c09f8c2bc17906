//! Errors of the anycast owner.

use std::net::IpAddr;
use std::path::PathBuf;

use crate::error::{LinkError, NetlinkError, SupervisorError, VipError};

/// A configuration the owner cannot run, or a handle whose owner is gone.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnycastError {
    /// The configuration has no address to announce.
    #[error("anycast owner {0:?} has no address")]
    NoAddress(String),
    /// The same address is listed twice.
    #[error("address {0} is listed twice")]
    DuplicateAddress(IpAddr),
    /// A prefix length longer than the address.
    #[error("prefix length {prefix_len} is too long for {addr}")]
    PrefixLength {
        /// The address.
        addr: IpAddr,
        /// Its prefix length.
        prefix_len: u8,
    },
    /// Two tracked objects have the same name.
    #[error("tracked object {0:?} is listed twice")]
    DuplicateTrack(String),
    /// [`super::Handle::set_track_state`] named an object the owner does not track (a typo
    /// would otherwise go unnoticed).
    #[error("no tracked object is named {0:?}")]
    UnknownTrack(String),
    /// The interface carrying the addresses could not be found.
    #[error(transparent)]
    Link(#[from] LinkError),
    /// The VIP backend could not be opened, or a stale address could not be removed.
    #[error(transparent)]
    Vip(#[from] VipError),
    /// A stale drain hold could not be removed at start.
    #[error(transparent)]
    Hold(#[from] HoldError),
    /// The crash supervisor could not be started.
    #[error(transparent)]
    Supervisor(#[from] SupervisorError),
    /// The owner has stopped; the handle has nobody to talk to.
    #[error("the anycast owner has stopped")]
    Stopped,
}

/// A failure to add or remove the local route that keeps a withdrawn address answering.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum HoldError {
    /// The kernel refused the route.
    #[error("cannot {action} the local route of {addr} on interface index {ifindex}")]
    Route {
        /// `add` or `remove`.
        action: &'static str,
        /// The address.
        addr: IpAddr,
        /// The interface index.
        ifindex: u32,
        /// What the kernel said.
        #[source]
        source: NetlinkError,
    },
    /// A hold that is not the kernel's failed (test doubles, other implementations).
    #[error("drain hold of {addr}: {message}")]
    Other {
        /// The address.
        addr: IpAddr,
        /// What happened.
        message: String,
    },
}

/// A BGP speaker could not be told to announce or withdraw.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SpeakerError {
    /// The speaker's control program could not be run.
    #[error("cannot run {program}: {message}")]
    Spawn {
        /// The program.
        program: PathBuf,
        /// Why.
        message: String,
    },
    /// The speaker refused the command.
    #[error("{program} refused {command:?}: {output}")]
    Refused {
        /// The program.
        program: PathBuf,
        /// The command it was given.
        command: String,
        /// What it printed.
        output: String,
    },
    /// The speaker did not answer within its time limit.
    #[error("{program} did not answer within {seconds} s")]
    Timeout {
        /// The program.
        program: PathBuf,
        /// The limit.
        seconds: u64,
    },
}
