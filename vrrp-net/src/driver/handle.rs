//! The cloneable remote control of a running driver.

use tokio::sync::{mpsc, oneshot};
use vrrp_core::stats::{InterfaceStats, RouterStats, RxStats};
use vrrp_core::{Priority, State, TrackState};

use crate::error::DriverError;

/// Counters and state of one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceStatus {
    /// Current state.
    pub state: State,
    /// Effective priority.
    pub priority: Priority,
    /// Router counters.
    pub router: RouterStats,
    /// Receive counters of this VRID.
    pub rx: RxStats,
    /// Counters of the interface's receive path (shared by its VRIDs).
    pub interface: InterfaceStats,
}

#[derive(Debug)]
pub(super) enum Command {
    SetPriority {
        instance: String,
        priority: u8,
        reply: oneshot::Sender<Result<(), DriverError>>,
    },
    Track {
        name: String,
        state: TrackState,
    },
    Status {
        instance: String,
        reply: oneshot::Sender<Result<InstanceStatus, DriverError>>,
    },
    Shutdown {
        reply: oneshot::Sender<()>,
    },
}

/// Controls a running [`super::Driver`]; clones control the same driver.
#[derive(Debug, Clone)]
pub struct Handle {
    pub(super) tx: mpsc::UnboundedSender<Command>,
}

impl Handle {
    /// Sets the base priority of `instance` (keepalived's priority; tracking still applies).
    pub async fn set_priority(&self, instance: &str, priority: u8) -> Result<(), DriverError> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::SetPriority {
            instance: instance.to_owned(),
            priority,
            reply,
        })?;
        rx.await.map_err(|_| DriverError::Stopped)?
    }

    /// Reports the state of tracked object `name` to every instance tracking it.
    pub fn set_track_state(&self, name: &str, state: TrackState) -> Result<(), DriverError> {
        self.send(Command::Track {
            name: name.to_owned(),
            state,
        })
    }

    /// State and counters of `instance`.
    pub async fn status(&self, instance: &str) -> Result<InstanceStatus, DriverError> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Status {
            instance: instance.to_owned(),
            reply,
        })?;
        rx.await.map_err(|_| DriverError::Stopped)?
    }

    /// Stops gracefully: masters send priority 0 and remove their VIPs, virtual MACs are
    /// removed; returns when that is done.
    pub async fn shutdown(&self) -> Result<(), DriverError> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Shutdown { reply })?;
        rx.await.map_err(|_| DriverError::Stopped)
    }

    fn send(&self, command: Command) -> Result<(), DriverError> {
        self.tx.send(command).map_err(|_| DriverError::Stopped)
    }
}
