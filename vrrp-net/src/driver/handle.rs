//! The cloneable remote control of a running driver.

use std::collections::HashSet;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use vrrp_core::stats::{InterfaceStats, RouterStats, RxStats};
use vrrp_core::{Priority, State, TrackState};

use crate::error::DriverError;

/// Counters and state of one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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
    /// Names of the tracked objects some instance tracks (fixed at build).
    pub(super) tracked: Arc<HashSet<String>>,
}

impl Handle {
    /// Sets the base priority of `instance` (keepalived's priority; tracking still applies).
    /// A non-owner is kept within 1..=254 and the owner's 255 is fixed (RFC 9568 §5.2.4).
    pub async fn set_priority(
        &self,
        instance: &str,
        priority: Priority,
    ) -> Result<(), DriverError> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::SetPriority {
            instance: instance.to_owned(),
            priority: priority.get(),
            reply,
        })?;
        rx.await.map_err(|_| DriverError::Stopped)?
    }

    /// Reports the state of tracked object `name` to every instance tracking it; a name no
    /// instance tracks is [`DriverError::UnknownTrack`] (a typo would otherwise go unnoticed).
    pub fn set_track_state(&self, name: &str, state: TrackState) -> Result<(), DriverError> {
        if !self.tracked.contains(name) {
            return Err(DriverError::UnknownTrack(name.to_owned()));
        }
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

    /// A planned handover without a gap: if `instance` is master, lowers its priority to 1
    /// and keeps the VIP until a peer has taken over (its higher-priority advert moves this
    /// router to Backup, RFC 9568 §6.4.3) or `timeout` passed. Returns whether the instance
    /// ended in Backup. Unlike [`Handle::shutdown`]'s priority-0 advert, which leaves the VIP
    /// ownerless for the peer's Skew_Time, the VIP always has an owner; it costs the peer's
    /// Master_Down_Interval of waiting, so pass at least that. Call [`Handle::shutdown`] after.
    pub async fn hand_over(
        &self,
        instance: &str,
        timeout: std::time::Duration,
    ) -> Result<bool, DriverError> {
        if self.status(instance).await?.state != State::Master {
            return Ok(false);
        }
        self.set_priority(instance, Priority(1)).await?;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.status(instance).await?.state != State::Master {
                return Ok(true);
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(false);
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
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
