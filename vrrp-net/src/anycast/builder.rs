//! Turning an [`Anycast`] into a running [`Owner`]: the interface, the backends, and the
//! removal of what a dead predecessor left.

use std::collections::HashSet;
use std::sync::Arc;

use tokio::sync::{mpsc, watch};

use super::config::Anycast;
use super::crash::Crash;
use super::error::AnycastError;
use super::event::{Event, Events, Fault, Phase, Status};
use super::handle::Handle;
use super::health::Health;
use super::hold::{Hold, LocalRoutes};
use super::owner::Owner;
use super::speaker::Speaker;
use super::stale;
use crate::link::Links;
use crate::vip::{NetlinkVips, VipBackend};

/// Collects an [`Anycast`] configuration and optional replacements for the kernel parts.
pub struct OwnerBuilder {
    config: Anycast,
    vips: Option<Arc<dyn VipBackend>>,
    hold: Option<Arc<dyn Hold>>,
    speaker: Option<Arc<dyn Speaker>>,
    ifindex: Option<u32>,
    crash_supervisor: bool,
}

impl OwnerBuilder {
    pub(super) fn new(config: Anycast) -> Self {
        Self {
            config,
            vips: None,
            hold: None,
            speaker: None,
            ifindex: None,
            crash_supervisor: false,
        }
    }

    /// Uses `backend` instead of rtnetlink for the addresses.
    pub fn vip_backend(mut self, backend: Arc<dyn VipBackend>) -> Self {
        self.vips = Some(backend);
        self
    }

    /// Uses `hold` instead of a local route for the drain hold ([`super::hold`]).
    pub fn hold(mut self, hold: Arc<dyn Hold>) -> Self {
        self.hold = Some(hold);
        self
    }

    /// Also tells `speaker` to announce and withdraw ([`super::speaker`]).
    pub fn speaker(mut self, speaker: Arc<dyn Speaker>) -> Self {
        self.speaker = Some(speaker);
        self
    }

    /// Uses interface index `ifindex` instead of looking [`Anycast::interface`] up. With a
    /// VIP backend and a hold of its own as well, the owner never touches the kernel (tests).
    pub fn interface_index(mut self, ifindex: u32) -> Self {
        self.ifindex = Some(ifindex);
        self
    }

    /// Starts a crash supervisor ([`crate::supervisor`]) whose will removes the addresses
    /// while they are on the interface: a process that dies without a graceful stop is then
    /// withdrawn at once instead of at its next start. Off by default.
    pub fn crash_supervisor(mut self, on: bool) -> Self {
        self.crash_supervisor = on;
        self
    }

    /// Validates the configuration, resolves the interface, removes what a dead predecessor
    /// left (its addresses and drain hold: reported as [`Event::StaleRemoved`]; a speaker is
    /// told to withdraw), and returns the owner with its handle and event stream. Nothing is
    /// announced until [`Owner::run`] is awaited. Must be called inside a tokio runtime.
    pub async fn build(self) -> Result<(Owner, Handle, Events), AnycastError> {
        let config = self.config;
        config.validate()?;
        // Links: to find the interface, and the stale addresses the kernel backend removes.
        let (ifindex, links) = match self.ifindex {
            Some(index) => (index, self.vips.is_none().then(Links::new).transpose()?),
            None => {
                let links = Links::new()?;
                (links.by_name(&config.interface).await?.index, Some(links))
            }
        };
        let vips: Arc<dyn VipBackend> = match self.vips {
            Some(v) => v,
            None => Arc::new(NetlinkVips::new()?),
        };
        let hold: Arc<dyn Hold> = match self.hold {
            Some(h) => h,
            None => Arc::new(LocalRoutes::new()?),
        };
        let placed = stale::placements(&config, ifindex);
        let (ev_tx, ev_rx) = mpsc::unbounded_channel();

        let found = match &links {
            Some(links) => stale::present(links, &placed).await?,
            None => Vec::new(),
        };
        stale::clear(&placed, vips.as_ref(), hold.as_ref()).await?;
        if !found.is_empty() {
            tracing::warn!(owner = %config.name, addresses = ?found, "removed stale addresses");
            let _ = ev_tx.send(Event::StaleRemoved {
                name: config.name.clone(),
                addresses: found,
            });
        }
        if let Some(speaker) = &self.speaker
            && let Err(error) = speaker.withdraw(&config.addresses).await
        {
            tracing::warn!(owner = %config.name, %error, "speaker: stale withdraw failed");
            let _ = ev_tx.send(Event::Fault {
                name: config.name.clone(),
                fault: Fault::Speaker { error },
            });
        }

        let health = Health::new(config.weight, config.threshold, &config.track);
        let status = Status {
            phase: Phase::Withdrawn,
            weight: health.weight(),
            held_down: false,
        };
        let (status_tx, status_rx) = watch::channel(status);
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let tracked: HashSet<String> = config.track.iter().map(|t| t.name.clone()).collect();
        let notices = vips.take_notices();
        let crash = if self.crash_supervisor {
            Some(Crash::start()?)
        } else {
            None
        };
        let owner = Owner::new(super::owner::Parts {
            config,
            placed,
            vips,
            hold,
            speaker: self.speaker,
            notices,
            commands: cmd_rx,
            events: ev_tx,
            status: status_tx,
            health,
            crash,
        });
        let handle = Handle {
            tx: cmd_tx,
            tracked: Arc::new(tracked),
            status: status_rx,
        };
        Ok((owner, handle, Events { rx: ev_rx }))
    }
}
