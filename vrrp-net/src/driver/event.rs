//! What the driver reports, in the order it happened.

use std::fmt;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::Stream;
use tokio::sync::mpsc;
use vrrp_core::{Priority, Reason, State};

use crate::error::{AnnounceError, TransportError, VipError};
use crate::vip::Vip;

/// An I/O failure the driver met; each one is also logged.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Fault {
    /// Installing a VIP failed: the router went to Fault.
    VipAdd {
        /// The address.
        vip: Vip,
        /// Why.
        error: Arc<VipError>,
    },
    /// Removing a VIP failed.
    VipRemove {
        /// The address.
        vip: Vip,
        /// Why.
        error: Arc<VipError>,
    },
    /// Someone else removed one of our VIPs while we were master; it was put back if possible.
    VipRemovedExternally {
        /// The address.
        vip: Vip,
    },
    /// Sending an advertisement failed: the router went to Fault.
    Send {
        /// The destination.
        dst: IpAddr,
        /// Why.
        error: Arc<TransportError>,
    },
    /// Receiving failed on a socket.
    Receive {
        /// Why.
        error: Arc<TransportError>,
    },
    /// The instance's interface was recreated and wiring the instance on it again failed:
    /// the instance is gone until it is added again.
    Rewire {
        /// Why.
        error: Arc<crate::error::DriverError>,
    },
    /// A gratuitous ARP / neighbour advertisement could not be sent.
    Announce {
        /// Why.
        error: Arc<AnnounceError>,
    },
}

/// One thing that happened to an instance.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Event {
    /// The instance changed state.
    StateChanged {
        /// Instance name.
        instance: String,
        /// Previous state.
        from: State,
        /// New state.
        to: State,
        /// Why.
        reason: Reason,
        /// Effective priority at the time.
        priority: Priority,
    },
    /// The instance's effective priority changed.
    PriorityChanged {
        /// Instance name.
        instance: String,
        /// Previous priority.
        from: Priority,
        /// New priority.
        to: Priority,
    },
    /// A master installed these addresses (on becoming master, or added by an update).
    AddressesInstalled {
        /// Instance name.
        instance: String,
        /// The addresses, in the order installed.
        addresses: Vec<IpAddr>,
    },
    /// These addresses were removed (leaving master, or taken away by an update).
    AddressesRemoved {
        /// Instance name.
        instance: String,
        /// The addresses removed.
        addresses: Vec<IpAddr>,
    },
    /// An instance was added to the running driver ([`super::Handle::add_instance`],
    /// [`super::Handle::reconcile`]); its Startup follows.
    InstanceAdded {
        /// Instance name.
        instance: String,
    },
    /// An instance was removed from the running driver after its graceful stop.
    InstanceRemoved {
        /// Instance name.
        instance: String,
    },
    /// An I/O fault.
    Fault {
        /// The instance, or `None` for what is shared by several (a receive socket).
        instance: Option<String>,
        /// What failed.
        fault: Fault,
    },
    /// A crash supervisor process started (at build, or in place of a lost one); from now
    /// on a death of this process without a graceful stop sends the masters' priority-0
    /// adverts and removes their addresses.
    SupervisorStarted {
        /// Its process id.
        pid: u32,
    },
    /// The crash supervisor process ended although the driver runs (something killed it);
    /// nothing else is disturbed, and another one is started within [`super::IO_RETRY`].
    SupervisorLost {
        /// How it ended.
        exit: crate::supervisor::SupervisorExit,
    },
    /// The driver has shut down: every master sent priority 0 and removed its VIPs.
    Stopped,
}

/// One line for logs: `VI_1: BACKUP -> MASTER (master down interval expired, priority 100)`.
impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::StateChanged {
                instance,
                from,
                to,
                reason,
                priority,
            } => write!(
                f,
                "{instance}: {from} -> {to} ({reason}, priority {priority})"
            ),
            Event::PriorityChanged { instance, from, to } => {
                write!(f, "{instance}: priority {from} -> {to}")
            }
            Event::AddressesInstalled {
                instance,
                addresses,
            } => write!(f, "{instance}: installed {}", list(addresses)),
            Event::AddressesRemoved {
                instance,
                addresses,
            } => write!(f, "{instance}: removed {}", list(addresses)),
            Event::InstanceAdded { instance } => write!(f, "{instance}: added"),
            Event::InstanceRemoved { instance } => write!(f, "{instance}: removed"),
            Event::Fault { instance, fault } => {
                let instance = instance.as_deref().unwrap_or("(shared)");
                write!(f, "{instance}: fault: {fault:?}")
            }
            Event::SupervisorStarted { pid } => write!(f, "crash supervisor started (pid {pid})"),
            Event::SupervisorLost { exit } => write!(f, "crash supervisor lost: {exit}"),
            Event::Stopped => f.write_str("stopped: priority 0 sent, addresses removed"),
        }
    }
}

/// `a, b, c`.
fn list(addresses: &[IpAddr]) -> String {
    let text: Vec<String> = addresses.iter().map(ToString::to_string).collect();
    text.join(", ")
}

/// The ordered stream of [`Event`]s; ends when the driver is gone.
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
