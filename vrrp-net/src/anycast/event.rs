//! What the owner reports, in the order it happened, and its state for observers.

use std::fmt;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::Stream;
use tokio::sync::mpsc;

use super::error::{HoldError, SpeakerError};
use crate::error::{SupervisorError, VipError};
use crate::supervisor::SupervisorExit;
use crate::vip::Vip;

/// Where an owner stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Phase {
    /// The addresses are on the interface and announced.
    Announced,
    /// Withdrawn from the routers, still answering locally until the drain time ends.
    Draining,
    /// Withdrawn and gone from the node.
    Withdrawn,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Announced => "ANNOUNCED",
            Phase::Draining => "DRAINING",
            Phase::Withdrawn => "WITHDRAWN",
        })
    }
}

/// An owner's state as [`super::Handle::watch`] shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Status {
    /// Where it stands.
    pub phase: Phase,
    /// The effective weight.
    pub weight: i32,
    /// Whether [`super::Handle::withdraw`] holds it withdrawn.
    pub held_down: bool,
}

/// Why the addresses were announced.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AnnounceReason {
    /// The tracked objects say the node is healthy (at start, or again).
    Healthy,
    /// [`super::Handle::resume`] lifted an administrative withdraw.
    Resumed,
    /// Installing failed before; this retry succeeded.
    Retried,
}

impl fmt::Display for AnnounceReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AnnounceReason::Healthy => "healthy",
            AnnounceReason::Resumed => "resumed",
            AnnounceReason::Retried => "installed on retry",
        })
    }
}

/// Why the addresses were withdrawn.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WithdrawReason {
    /// The effective weight fell below the threshold.
    WeightBelowThreshold {
        /// The effective weight.
        weight: i32,
        /// The threshold.
        threshold: i32,
    },
    /// A tracked object of weight 0 went down.
    TrackedDown {
        /// Its name.
        name: String,
    },
    /// [`super::Handle::withdraw`].
    Requested,
    /// [`super::Handle::shutdown`], or every handle dropped.
    Shutdown,
}

impl fmt::Display for WithdrawReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WithdrawReason::WeightBelowThreshold { weight, threshold } => {
                write!(f, "weight {weight} below threshold {threshold}")
            }
            WithdrawReason::TrackedDown { name } => write!(f, "{name} down"),
            WithdrawReason::Requested => f.write_str("withdraw requested"),
            WithdrawReason::Shutdown => f.write_str("shutting down"),
        }
    }
}

/// An I/O failure the owner met; each one is also logged.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Fault {
    /// Installing an address failed: the set stays withdrawn and is retried every second.
    VipAdd {
        /// The address.
        vip: Vip,
        /// Why.
        error: Arc<VipError>,
    },
    /// Removing an address failed.
    VipRemove {
        /// The address.
        vip: Vip,
        /// Why.
        error: Arc<VipError>,
    },
    /// Someone else removed an announced address; it was put back.
    VipRemovedExternally {
        /// The address.
        vip: Vip,
    },
    /// The drain hold could not be added (new connections may be refused while the routers
    /// converge) or removed.
    Hold {
        /// Why.
        error: HoldError,
    },
    /// The BGP speaker could not be told.
    Speaker {
        /// Why.
        error: SpeakerError,
    },
    /// The crash supervisor could not be started or told the will: a death now leaves the
    /// addresses until the next start.
    Supervisor {
        /// Why.
        error: Arc<SupervisorError>,
    },
    /// The crash supervisor process exited (something killed it); another one is started a
    /// second later.
    SupervisorLost {
        /// How it ended.
        exit: SupervisorExit,
    },
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::VipAdd { vip, error } => write!(f, "cannot install {vip}: {error}"),
            Fault::VipRemove { vip, error } => write!(f, "cannot remove {vip}: {error}"),
            Fault::VipRemovedExternally { vip } => write!(f, "{vip} removed by someone else"),
            Fault::Hold { error } => write!(f, "{error}"),
            Fault::Speaker { error } => write!(f, "{error}"),
            Fault::Supervisor { error } => write!(f, "crash supervisor: {error}"),
            Fault::SupervisorLost { exit } => write!(f, "crash supervisor lost: {exit}"),
        }
    }
}

/// One thing that happened to an owner.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Event {
    /// Addresses a crashed predecessor left on the interface were removed at start, before
    /// anything was decided.
    StaleRemoved {
        /// Owner name.
        name: String,
        /// The addresses found and removed.
        addresses: Vec<IpAddr>,
    },
    /// The effective weight changed.
    WeightChanged {
        /// Owner name.
        name: String,
        /// Previous weight.
        from: i32,
        /// New weight.
        to: i32,
    },
    /// The addresses are installed and announced.
    Announced {
        /// Owner name.
        name: String,
        /// The addresses.
        addresses: Vec<IpAddr>,
        /// Why.
        reason: AnnounceReason,
        /// The effective weight.
        weight: i32,
    },
    /// The routers were told to stop sending to this node; it keeps answering for the drain
    /// time.
    Withdrawn {
        /// Owner name.
        name: String,
        /// The addresses.
        addresses: Vec<IpAddr>,
        /// Why.
        reason: WithdrawReason,
    },
    /// The drain time ended: the addresses no longer answer on this node.
    Drained {
        /// Owner name.
        name: String,
    },
    /// An I/O fault.
    Fault {
        /// Owner name.
        name: String,
        /// What failed.
        fault: Fault,
    },
    /// The owner stopped: withdrawn, drained, nothing left on the node.
    Stopped {
        /// Owner name.
        name: String,
    },
}

/// One line for logs: `web: withdrawn 203.0.113.10 (pool down)`.
impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::StaleRemoved { name, addresses } => {
                write!(f, "{name}: removed stale {}", list(addresses))
            }
            Event::WeightChanged { name, from, to } => write!(f, "{name}: weight {from} -> {to}"),
            Event::Announced {
                name,
                addresses,
                reason,
                weight,
            } => write!(
                f,
                "{name}: announced {} ({reason}, weight {weight})",
                list(addresses)
            ),
            Event::Withdrawn {
                name,
                addresses,
                reason,
            } => write!(f, "{name}: withdrawn {} ({reason})", list(addresses)),
            Event::Drained { name } => write!(f, "{name}: drained"),
            Event::Fault { name, fault } => write!(f, "{name}: fault: {fault}"),
            Event::Stopped { name } => write!(f, "{name}: stopped"),
        }
    }
}

fn list(addresses: &[IpAddr]) -> String {
    let text: Vec<String> = addresses.iter().map(ToString::to_string).collect();
    text.join(", ")
}

/// The ordered stream of [`Event`]s; ends when the owner is gone.
#[derive(Debug)]
pub struct Events {
    pub(super) rx: mpsc::UnboundedReceiver<Event>,
}

impl Stream for Events {
    type Item = Event;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.rx.poll_recv(cx)
    }
}
