//! The running owner: one loop that turns health, commands and timers into announcements,
//! withdrawals and drains, in order.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::{Instant, sleep_until};
use vrrp_core::VirtualAddress;

use super::config::Anycast;
use super::crash::Crash;
use super::event::{AnnounceReason, Event, Fault, Phase, Status, WithdrawReason};
use super::handle::Command;
use super::health::{Health, Verdict};
use super::hold::Hold;
use super::speaker::Speaker;
use crate::vip::{Vip, VipBackend, VipNotice};

/// How long after a failed install the owner tries again.
const RETRY: Duration = Duration::from_secs(1);

/// What keeps a withdrawn address answering during its drain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Drain {
    /// The addresses are gone, a [`Hold`] keeps local delivery.
    Hold,
    /// The speaker withdrew the prefixes; the addresses are still on the interface.
    Addresses,
}

/// Everything the builder hands over.
pub(super) struct Parts {
    pub(super) config: Anycast,
    pub(super) placed: Vec<Vip>,
    pub(super) vips: Arc<dyn VipBackend>,
    pub(super) hold: Arc<dyn Hold>,
    pub(super) speaker: Option<Arc<dyn Speaker>>,
    pub(super) notices: Option<mpsc::UnboundedReceiver<VipNotice>>,
    pub(super) commands: mpsc::UnboundedReceiver<Command>,
    pub(super) events: mpsc::UnboundedSender<Event>,
    pub(super) status: watch::Sender<Status>,
    pub(super) health: Health,
    pub(super) crash: Option<Crash>,
}

/// A health-gated anycast address owner; does nothing until [`Owner::run`] is awaited.
///
/// Made by [`Owner::builder`]; controlled through its [`super::Handle`]; reports through its
/// [`super::Events`].
pub struct Owner {
    parts: Parts,
    weight: i32,
    phase: Phase,
    drain: Option<(Drain, Instant)>,
    held_down: bool,
    /// The next announce's reason when it is not [`AnnounceReason::Healthy`].
    next_reason: Option<AnnounceReason>,
    retry_at: Option<Instant>,
    /// `Some` once stopping: who waits for the end.
    stopping: Option<Vec<oneshot::Sender<()>>>,
    commands_open: bool,
}

impl Owner {
    /// A builder for an owner of `config`.
    pub fn builder(config: Anycast) -> super::OwnerBuilder {
        super::OwnerBuilder::new(config)
    }

    pub(super) fn new(parts: Parts) -> Self {
        let weight = parts.health.weight();
        Self {
            parts,
            weight,
            phase: Phase::Withdrawn,
            drain: None,
            held_down: false,
            next_reason: None,
            retry_at: None,
            stopping: None,
            commands_open: true,
        }
    }

    /// Runs until [`super::Handle::shutdown`] (or every handle dropped) and the drain that
    /// follows; the addresses are then gone from the node. Dropping the future instead
    /// leaves them where they are (as a crash would: see [`super::withdraw_stale`]).
    pub async fn run(mut self) {
        let name = self.parts.config.name.clone();
        tracing::info!(owner = %name, "anycast owner started");
        loop {
            self.converge().await;
            if self.stopping.is_some() && self.phase == Phase::Withdrawn {
                break;
            }
            let respawn = self.parts.crash.as_ref().and_then(|c| c.respawn_at);
            let deadline = [self.drain.map(|(_, at)| at), self.retry_at, respawn]
                .into_iter()
                .flatten()
                .min();
            tokio::select! {
                command = self.parts.commands.recv(), if self.commands_open => match command {
                    Some(command) => self.command(command).await,
                    None => {
                        self.commands_open = false;
                        self.stopping.get_or_insert_with(Vec::new);
                    }
                },
                Some(notice) = next_notice(&mut self.parts.notices) => self.notice(notice).await,
                exit = supervisor_lost(&mut self.parts.crash) => {
                    self.fault(Fault::SupervisorLost { exit });
                }
                () = sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                    self.timer().await;
                }
            }
        }
        if let Some(crash) = self.parts.crash.take() {
            crash.retire().await;
        }
        self.emit(Event::Stopped { name: name.clone() });
        tracing::info!(owner = %name, "anycast owner stopped");
        for waiter in self.stopping.take().unwrap_or_default() {
            let _ = waiter.send(());
        }
    }

    /// What the owner should be doing now.
    fn wanted(&self) -> Verdict {
        if self.stopping.is_some() {
            Verdict::Withdraw(WithdrawReason::Shutdown)
        } else if self.held_down {
            Verdict::Withdraw(WithdrawReason::Requested)
        } else {
            self.parts.health.verdict()
        }
    }

    /// Announces or withdraws if what is wanted differs from what is.
    async fn converge(&mut self) {
        let weight = self.parts.health.weight();
        if weight != self.weight {
            let from = std::mem::replace(&mut self.weight, weight);
            self.emit(Event::WeightChanged {
                name: self.parts.config.name.clone(),
                from,
                to: weight,
            });
            self.publish();
        }
        match (self.wanted(), self.phase) {
            (Verdict::Announce, Phase::Announced) | (Verdict::Withdraw(_), Phase::Withdrawn) => {}
            (Verdict::Withdraw(_), Phase::Draining) => {}
            (Verdict::Announce, _) => {
                if self.retry_at.is_none() {
                    self.announce().await;
                }
            }
            (Verdict::Withdraw(reason), Phase::Announced) => self.withdraw(reason).await,
        }
    }

    async fn announce(&mut self) {
        let placed = self.parts.placed.clone();
        // The will first: a death between the two would leave the addresses behind.
        self.bequeath(true);
        for (i, vip) in placed.iter().enumerate() {
            if let Err(error) = self.parts.vips.add(vip).await {
                self.fault(Fault::VipAdd {
                    vip: vip.clone(),
                    error: Arc::new(error),
                });
                // All or nothing: a partial set would announce part of the service.
                if self.drain.map(|(kind, _)| kind) != Some(Drain::Addresses) {
                    for done in &placed[..i] {
                        self.remove_address(done).await;
                    }
                }
                self.retry_at = Some(Instant::now() + RETRY);
                self.next_reason = Some(AnnounceReason::Retried);
                self.bequeath(self.drain.map(|(kind, _)| kind) == Some(Drain::Addresses));
                return;
            }
        }
        if let Some((Drain::Hold, _)) = self.drain {
            for vip in &placed {
                self.release_hold(vip).await;
            }
        }
        self.drain = None;
        if let Some(speaker) = self.parts.speaker.clone()
            && let Err(error) = speaker.announce(&self.parts.config.addresses).await
        {
            self.fault(Fault::Speaker { error });
        }
        self.phase = Phase::Announced;
        let reason = self.next_reason.take().unwrap_or(AnnounceReason::Healthy);
        tracing::info!(owner = %self.parts.config.name, %reason, weight = self.weight, "announced");
        self.emit(Event::Announced {
            name: self.parts.config.name.clone(),
            addresses: self.addresses(),
            reason,
            weight: self.weight,
        });
        self.publish();
    }

    async fn withdraw(&mut self, reason: WithdrawReason) {
        let mut kind = Drain::Hold;
        if let Some(speaker) = self.parts.speaker.clone() {
            match speaker.withdraw(&self.parts.config.addresses).await {
                Ok(()) => kind = Drain::Addresses,
                // Fall back to what always withdraws: the addresses go, the hold stays.
                Err(error) => self.fault(Fault::Speaker { error }),
            }
        }
        if kind == Drain::Hold {
            // Hold first: local delivery never stops while the address goes.
            for vip in self.parts.placed.clone() {
                if let Err(error) = self.parts.hold.hold(&vip).await {
                    self.fault(Fault::Hold { error });
                }
                self.remove_address(&vip).await;
            }
            self.bequeath(false);
        }
        self.phase = Phase::Draining;
        self.drain = Some((kind, Instant::now() + self.parts.config.drain));
        tracing::info!(owner = %self.parts.config.name, %reason, "withdrawn");
        self.emit(Event::Withdrawn {
            name: self.parts.config.name.clone(),
            addresses: self.addresses(),
            reason,
        });
        self.publish();
        if self.parts.config.drain.is_zero() {
            self.end_drain().await;
        }
    }

    async fn end_drain(&mut self) {
        let Some((kind, _)) = self.drain.take() else {
            return;
        };
        for vip in self.parts.placed.clone() {
            match kind {
                Drain::Hold => self.release_hold(&vip).await,
                Drain::Addresses => self.remove_address(&vip).await,
            }
        }
        self.bequeath(false);
        self.phase = Phase::Withdrawn;
        self.emit(Event::Drained {
            name: self.parts.config.name.clone(),
        });
        self.publish();
    }

    async fn timer(&mut self) {
        let now = Instant::now();
        if self.drain.is_some_and(|(_, at)| at <= now) {
            self.end_drain().await;
        }
        if self.retry_at.is_some_and(|at| at <= now) {
            self.retry_at = None;
        }
        if let Some(crash) = &mut self.parts.crash
            && crash.respawn_at.is_some_and(|at| at <= now)
            && let Err(error) = crash.respawn()
        {
            crash.respawn_at = Some(now + RETRY);
            self.fault(Fault::Supervisor { error });
        }
    }

    async fn command(&mut self, command: Command) {
        match command {
            Command::Track { name, state } => {
                self.parts.health.update(&name, state);
            }
            Command::Withdraw { reply } => {
                self.held_down = true;
                self.converge().await;
                self.publish();
                let _ = reply.send(());
            }
            Command::Resume { reply } => {
                if std::mem::take(&mut self.held_down) {
                    self.next_reason = Some(AnnounceReason::Resumed);
                }
                self.converge().await;
                self.publish();
                let _ = reply.send(());
            }
            Command::Shutdown { reply } => {
                self.stopping.get_or_insert_with(Vec::new).push(reply);
            }
        }
    }

    async fn notice(&mut self, notice: VipNotice) {
        let VipNotice::RemovedExternally(vip) = notice;
        let ours = self.parts.placed.iter().any(|v| v.same_address(&vip));
        let expected = self.phase == Phase::Announced
            || self.drain.map(|(kind, _)| kind) == Some(Drain::Addresses);
        if !ours || !expected {
            return;
        }
        self.fault(Fault::VipRemovedExternally { vip: vip.clone() });
        if let Err(error) = self.parts.vips.add(&vip).await {
            self.fault(Fault::VipAdd {
                vip,
                error: Arc::new(error),
            });
        }
    }

    /// Makes the crash supervisor's will remove the addresses on death (`on`), or nothing.
    fn bequeath(&mut self, on: bool) {
        let Some(crash) = &mut self.parts.crash else {
            return;
        };
        let placed: &[Vip] = if on { &self.parts.placed } else { &[] };
        if let Err(error) = crash.bequeath(placed) {
            self.fault(Fault::Supervisor { error });
        }
    }

    async fn remove_address(&mut self, vip: &Vip) {
        if let Err(error) = self.parts.vips.remove(vip).await {
            self.fault(Fault::VipRemove {
                vip: vip.clone(),
                error: Arc::new(error),
            });
        }
    }

    async fn release_hold(&mut self, vip: &Vip) {
        if let Err(error) = self.parts.hold.release(vip).await {
            self.fault(Fault::Hold { error });
        }
    }

    fn addresses(&self) -> Vec<IpAddr> {
        let all: &[VirtualAddress] = &self.parts.config.addresses;
        all.iter().map(|a| a.address).collect()
    }

    fn fault(&self, fault: Fault) {
        tracing::warn!(owner = %self.parts.config.name, %fault, "anycast fault");
        self.emit(Event::Fault {
            name: self.parts.config.name.clone(),
            fault,
        });
    }

    fn emit(&self, event: Event) {
        // Nobody reading the stream is allowed; the owner runs on.
        let _ = self.parts.events.send(event);
    }

    fn publish(&self) {
        self.parts.status.send_replace(Status {
            phase: self.phase,
            weight: self.weight,
            held_down: self.held_down,
        });
    }
}

/// The supervisor's exit, or never without one.
async fn supervisor_lost(crash: &mut Option<Crash>) -> crate::supervisor::SupervisorExit {
    match crash {
        Some(c) => c.lost().await,
        None => std::future::pending().await,
    }
}

/// The next notice, or never when there is no (longer a) notice stream.
async fn next_notice(
    notices: &mut Option<mpsc::UnboundedReceiver<VipNotice>>,
) -> Option<VipNotice> {
    match notices {
        Some(rx) => {
            let notice = rx.recv().await;
            if notice.is_none() {
                *notices = None;
            }
            notice
        }
        None => std::future::pending().await,
    }
}
