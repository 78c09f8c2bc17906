//! The cloneable remote control of a running driver.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use tokio::sync::{mpsc, oneshot, watch};
use vrrp_core::stats::{InterfaceStats, RouterStats, RxStats};
use vrrp_core::{Priority, State, TrackState};

use super::instance::Instance;
use super::reconfigure::{Desired, Reconciled, Update};
use super::view::InstanceView;
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
    Watch {
        instance: String,
        reply: oneshot::Sender<Result<watch::Receiver<InstanceView>, DriverError>>,
    },
    Instances {
        reply: oneshot::Sender<Vec<String>>,
    },
    Add {
        instance: Box<Instance>,
        reply: oneshot::Sender<Result<(), DriverError>>,
    },
    Remove {
        instance: String,
        reply: oneshot::Sender<Result<(), DriverError>>,
    },
    Update {
        instance: Box<Instance>,
        reply: oneshot::Sender<Result<Update, DriverError>>,
    },
    Reconcile {
        desired: Box<Desired>,
        reply: oneshot::Sender<Result<Reconciled, DriverError>>,
    },
    Shutdown {
        reply: oneshot::Sender<()>,
    },
}

/// Controls a running [`super::Driver`]; clones control the same driver.
#[derive(Debug, Clone)]
pub struct Handle {
    pub(super) tx: mpsc::UnboundedSender<Command>,
    /// Names of the objects some instance tracks (kept current by the driver).
    pub(super) tracked: Arc<RwLock<HashSet<String>>>,
}

impl Handle {
    /// Sets the base priority of `instance` (keepalived's priority; tracking still applies).
    /// A non-owner is kept within 1..=254 and the owner's 255 is fixed (RFC 9568 §5.2.4).
    pub async fn set_priority(
        &self,
        instance: &str,
        priority: Priority,
    ) -> Result<(), DriverError> {
        self.ask(|reply| Command::SetPriority {
            instance: instance.to_owned(),
            priority: priority.get(),
            reply,
        })
        .await?
    }

    /// Reports the state of tracked object `name` to every instance tracking it; a name no
    /// instance tracks is [`DriverError::UnknownTrack`] (a typo would otherwise go unnoticed).
    pub fn set_track_state(&self, name: &str, state: TrackState) -> Result<(), DriverError> {
        let known = match self.tracked.read() {
            Ok(set) => set.contains(name),
            Err(poisoned) => poisoned.into_inner().contains(name),
        };
        if !known {
            return Err(DriverError::UnknownTrack(name.to_owned()));
        }
        self.send(Command::Track {
            name: name.to_owned(),
            state,
        })
    }

    /// State and counters of `instance`.
    pub async fn status(&self, instance: &str) -> Result<InstanceStatus, DriverError> {
        self.ask(|reply| Command::Status {
            instance: instance.to_owned(),
            reply,
        })
        .await?
    }

    /// A receiver of `instance`'s [`InstanceView`] (state, priority, installed addresses),
    /// updated as the driver carries out each change; any number of parts of a program can
    /// follow an instance this way without owning the [`super::Events`] stream. The sender
    /// is dropped, and `changed()` fails, when the instance is removed or the driver stops.
    pub async fn watch(
        &self,
        instance: &str,
    ) -> Result<watch::Receiver<InstanceView>, DriverError> {
        self.ask(|reply| Command::Watch {
            instance: instance.to_owned(),
            reply,
        })
        .await?
    }

    /// The names of the running instances, in slot order.
    pub async fn instances(&self) -> Result<Vec<String>, DriverError> {
        self.ask(|reply| Command::Instances { reply }).await
    }

    /// Adds and starts an instance (wired as at build: interfaces, sockets, virtual MAC);
    /// answered once it has started. A name in use is [`DriverError::DuplicateInstance`], a
    /// sync-group member [`DriverError::SyncGroupMember`] (groups change through
    /// [`Handle::reconcile`]); on error nothing was changed.
    pub async fn add_instance(&self, instance: Instance) -> Result<(), DriverError> {
        self.ask(|reply| Command::Add {
            instance: Box::new(instance),
            reply,
        })
        .await?
    }

    /// Stops and removes `instance` as a graceful stop of that instance alone would: a master
    /// sends priority 0 and removes its addresses (RFC 9568 §6.4.3); its virtual MAC is
    /// deleted. A sync-group member is [`DriverError::SyncGroupMember`].
    pub async fn remove_instance(&self, instance: &str) -> Result<(), DriverError> {
        self.ask(|reply| Command::Remove {
            instance: instance.to_owned(),
            reply,
        })
        .await?
    }

    /// Changes the instance of the same name. When interface, family, VRID, version and
    /// transport (unicast or multicast group, virtual MAC) match, it is changed in place: its
    /// state, timers and counters are kept, a master installs and removes only the address
    /// difference ([`vrrp_core::VirtualRouter::reconfigure`]); otherwise it is removed and
    /// added again, and the result says why ([`Update::Replaced`]). On error (invalid
    /// configuration, an interface that does not exist) nothing was changed.
    pub async fn update_instance(&self, instance: Instance) -> Result<Update, DriverError> {
        self.ask(|reply| Command::Update {
            instance: Box::new(instance),
            reply,
        })
        .await?
    }

    /// Makes the running set of instances and sync groups `desired`: instances not in it are
    /// removed (gracefully), new ones added, the others updated as by
    /// [`Handle::update_instance`] (unchanged ones are not touched at all); members of a sync
    /// group whose membership changed are replaced. The whole desired set is validated
    /// first: if any instance or group is invalid, nothing is changed. Failures met while
    /// applying (an interface that vanished) do not stop the others and are listed in
    /// [`Reconciled::failed`]. The library form of keepalived's reload.
    pub async fn reconcile(&self, desired: Desired) -> Result<Reconciled, DriverError> {
        self.ask(|reply| Command::Reconcile {
            desired: Box::new(desired),
            reply,
        })
        .await?
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
        self.ask(|reply| Command::Shutdown { reply }).await
    }

    /// Sends the command `make` builds around a reply channel and waits for the answer.
    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, DriverError> {
        let (reply, rx) = oneshot::channel();
        self.send(make(reply))?;
        rx.await.map_err(|_| DriverError::Stopped)
    }

    fn send(&self, command: Command) -> Result<(), DriverError> {
        self.tx.send(command).map_err(|_| DriverError::Stopped)
    }
}
