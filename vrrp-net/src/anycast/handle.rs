//! The cloneable remote control of a running [`super::Owner`].

use std::collections::HashSet;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, watch};
use vrrp_core::TrackState;

use super::error::AnycastError;
use super::event::Status;

#[derive(Debug)]
pub(super) enum Command {
    Track { name: String, state: TrackState },
    Withdraw { reply: oneshot::Sender<()> },
    Resume { reply: oneshot::Sender<()> },
    Shutdown { reply: oneshot::Sender<()> },
}

/// Controls a running [`super::Owner`]; clones control the same owner. When every handle
/// is dropped, the owner shuts down as by [`Handle::shutdown`].
#[derive(Debug, Clone)]
pub struct Handle {
    pub(super) tx: mpsc::UnboundedSender<Command>,
    pub(super) tracked: Arc<HashSet<String>>,
    pub(super) status: watch::Receiver<Status>,
}

impl Handle {
    /// Reports the state of tracked object `name`; a name the owner does not track is
    /// [`AnycastError::UnknownTrack`].
    pub fn set_track_state(&self, name: &str, state: TrackState) -> Result<(), AnycastError> {
        if !self.tracked.contains(name) {
            return Err(AnycastError::UnknownTrack(name.to_owned()));
        }
        self.send(Command::Track {
            name: name.to_owned(),
            state,
        })
    }

    /// Withdraws the addresses whatever the tracked objects say (maintenance), gracefully:
    /// the routers are told, the node keeps answering for the drain time, then the addresses
    /// go. Returns once the routers were told; [`Handle::resume`] lifts it.
    pub async fn withdraw(&self) -> Result<(), AnycastError> {
        self.ask(|reply| Command::Withdraw { reply }).await
    }

    /// Lifts [`Handle::withdraw`]: the addresses are announced again if the tracked objects
    /// allow it. Returns once that is decided (and done).
    pub async fn resume(&self) -> Result<(), AnycastError> {
        self.ask(|reply| Command::Resume { reply }).await
    }

    /// Stops gracefully: withdraws, keeps answering for the drain time while the routers
    /// converge, removes the addresses; returns when that is done (the drain time after the
    /// call, or at once if nothing was announced). Stop serving after it returns.
    pub async fn shutdown(&self) -> Result<(), AnycastError> {
        self.ask(|reply| Command::Shutdown { reply }).await
    }

    /// The owner's state now.
    pub fn status(&self) -> Status {
        self.status.borrow().clone()
    }

    /// A receiver of the owner's [`Status`], updated at every change; `changed()` fails once
    /// the owner is gone.
    pub fn watch(&self) -> watch::Receiver<Status> {
        self.status.clone()
    }

    async fn ask(
        &self,
        make: impl FnOnce(oneshot::Sender<()>) -> Command,
    ) -> Result<(), AnycastError> {
        let (reply, rx) = oneshot::channel();
        self.send(make(reply))?;
        rx.await.map_err(|_| AnycastError::Stopped)
    }

    fn send(&self, command: Command) -> Result<(), AnycastError> {
        self.tx.send(command).map_err(|_| AnycastError::Stopped)
    }
}
