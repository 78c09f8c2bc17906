//! The driver: owns the routers of one or many instances, the per-interface demuxes, the
//! sockets and the backends, and runs them from one select loop. `now` is read here only.
//!
//! Build it with [`Driver::builder`], spawn [`Driver::run`], control it with the [`Handle`]
//! and watch the [`Events`] stream.
//!
//! I/O failures do not disappear: a VIP that cannot be installed or an advert that cannot be
//! sent becomes an [`Event::Fault`] and moves the router to Fault (`Input::IoFault`); after
//! [`IO_RETRY`] the fault is cleared and the router starts over from Backup, so it recovers
//! once the cause is gone.

mod alarm;
mod builder;
mod clock;
mod event;
mod handle;
mod instance;
mod last_will;
mod output;
mod reconfigure;
mod thread;
mod view;
mod wiring;

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv6Addr};
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use vrrp_core::group::SyncGroup;
use vrrp_core::{Input, RxMeta, TrackState, VirtualRouter};

pub use builder::{DriverBuilder, primary_address};
pub use clock::Clock;
pub use event::{Event, Events, Fault};
pub use handle::{Handle, InstanceStatus};
pub use instance::{Instance, VipPlacement};
pub use reconfigure::{Desired, Identity, Reconciled, Update};
pub use thread::DriverThread;
pub use view::InstanceView;

use crate::announce::{MacAddress, PacketSocket};
use crate::error::{DriverError, TransportError};
use crate::link::LinkChange;
use crate::supervisor::Supervisor;
use crate::transport::{AddressFamily, Received, Transport};
use crate::vip::{Vip, VipBackend, VipNotice};
use handle::Command;
use wiring::{Iface, Wiring};

/// How long a router stays in Fault after an I/O failure before it tries again.
pub const IO_RETRY: Duration = Duration::from_secs(1);
/// Large enough for any advertisement.
const TX_BUFFER: usize = 4096;
/// Pause after a receive error, so a dead socket does not spin.
const RX_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// A transport / demux key: interface index and family.
type Key = (u32, AddressFamily);

#[derive(Debug, Clone)]
enum LinkUse {
    /// The instance's own interface: its link state is `Input::Link`.
    Own,
    /// A tracked interface: its link state is `Input::Track` for this name.
    Track(String),
}

struct Slot {
    router: VirtualRouter,
    /// The instance as last given (build, add or update): what an update is compared with.
    instance: Instance,
    /// Where its addresses go by default (the virtual MAC interface, else its interface).
    default_dev: Iface,
    /// Its own interface's index and link state at wiring time, when a kernel interface.
    own_link: Option<(u32, bool)>,
    /// Tracked interfaces found down at wiring time, told to the router when it starts.
    tracked_down: Vec<String>,
    rx_key: Key,
    tx_key: Key,
    dsts: Vec<IpAddr>,
    /// TTL / hop limit of every advert sent to `dsts` (255 unless unicast with `unicast_ttl`).
    ttl: u8,
    vips: HashMap<IpAddr, Vip>,
    /// Addresses an update took away or moved, looked up first while their removal drains.
    retiring: HashMap<IpAddr, Vip>,
    /// What [`Handle::watch`] receivers see.
    view: watch::Sender<InstanceView>,
    /// (group index, member index).
    group: Option<(usize, usize)>,
    io_retry_at: Option<Instant>,
}

struct Group {
    group: SyncGroup,
    members: Vec<usize>,
}

struct Announcer {
    socket: PacketSocket,
    mac: MacAddress,
    link_local: Option<Ipv6Addr>,
}

type LinkStream = Pin<Box<dyn Stream<Item = LinkChange> + Send>>;

/// Runs VRRP instances on real (or test) I/O; see the module docs.
pub struct Driver {
    /// Instances by slot; a removed instance leaves a hole that the next added one fills.
    slots: Vec<Option<Slot>>,
    wiring: Wiring,
    rx_tasks: HashMap<Key, JoinHandle<()>>,
    rx_tx: mpsc::Sender<(Key, Result<Received, TransportError>)>,
    rx: mpsc::Receiver<(Key, Result<Received, TransportError>)>,
    vips: Arc<dyn VipBackend>,
    vip_notices: Option<mpsc::UnboundedReceiver<VipNotice>>,
    link_stream: Option<LinkStream>,
    groups: Vec<Group>,
    /// The sync groups as given (name, member names), in `groups` order.
    group_specs: Vec<(String, Vec<String>)>,
    commands: mpsc::UnboundedReceiver<Command>,
    events: mpsc::UnboundedSender<Event>,
    /// Slot of each instance, by name.
    by_name: HashMap<String, usize>,
    /// Names of the objects some instance tracks, shared with every [`Handle`].
    tracked: Arc<RwLock<HashSet<String>>>,
    /// Slots that may have outputs to drain.
    dirty: Vec<usize>,
    timer: clock::Timer,
    buf: Vec<u8>,
    /// The crash supervisor, when turned on ([`DriverBuilder::crash_supervisor`]).
    supervisor: Option<Supervisor>,
    /// When to start a supervisor in place of a lost one.
    supervisor_retry_at: Option<Instant>,
    /// Something the supervisor's will depends on changed since it was last published.
    will_stale: bool,
    /// VIPs go through the kernel (rtnetlink), so the will may remove them through it too.
    kernel_vips: bool,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("instances", &self.slots.iter().flatten().count())
            .finish_non_exhaustive()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        for task in self.rx_tasks.values() {
            task.abort();
        }
    }
}

async fn receive_loop(
    key: Key,
    transport: Arc<dyn Transport>,
    tx: mpsc::Sender<(Key, Result<Received, TransportError>)>,
) {
    loop {
        let received = transport.recv().await;
        let failed = received.is_err();
        if tx.send((key, received)).await.is_err() {
            return;
        }
        if failed {
            tokio::time::sleep(RX_ERROR_PAUSE).await;
        }
    }
}

async fn next_notice(rx: &mut Option<mpsc::UnboundedReceiver<VipNotice>>) -> Option<VipNotice> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn next_link(stream: &mut Option<LinkStream>) -> Option<LinkChange> {
    match stream {
        Some(s) => s.next().await,
        None => std::future::pending().await,
    }
}

impl Driver {
    /// A builder with no instances.
    pub fn builder() -> DriverBuilder {
        DriverBuilder::default()
    }

    /// Runs until [`Handle::shutdown`]: starts every router, then serves packets, timers,
    /// link changes, VIP notices and handle commands in one loop.
    ///
    /// Returns after the graceful shutdown; `Err` when it could not clean up after itself
    /// (a virtual MAC interface or the firewall tables left behind), so a program can exit
    /// non-zero. Faults while running are [`Event::Fault`]s, not errors of `run`.
    pub async fn run(mut self) -> Result<(), DriverError> {
        let now = self.timer.now();
        self.startup(now).await;
        loop {
            let deadline = self.next_deadline();
            let timer = &self.timer;
            let sleep = timer.sleep_until(deadline);
            tokio::select! {
                Some(command) = self.commands.recv() => {
                    let now = self.timer.now();
                    if let Command::Shutdown { reply } = command {
                        let cleaned = self.shutdown(now).await;
                        // The caller may have stopped waiting; the shutdown happened anyway.
                        let _ = reply.send(());
                        return cleaned;
                    }
                    self.command(now, command).await;
                }
                Some((key, received)) = self.rx.recv() => self.receive(self.timer.now(), key, received).await,
                Some(notice) = next_notice(&mut self.vip_notices) => self.vip_notice(self.timer.now(), notice).await,
                Some(change) = next_link(&mut self.link_stream) => self.link_change(self.timer.now(), change).await,
                exit = last_will::supervisor_exit(&mut self.supervisor) => self.supervisor_lost(self.timer.now(), exit),
                () = sleep => self.timeouts(self.timer.now()).await,
            }
        }
    }

    async fn startup(&mut self, now: Instant) {
        // A crash may have left our addresses behind; nobody owns them until elected.
        let leftovers: Vec<Vip> = self
            .slots
            .iter()
            .flatten()
            .flat_map(|s| s.vips.values().cloned())
            .collect();
        for vip in leftovers {
            if let Err(e) = self.vips.remove(&vip).await {
                tracing::warn!(%vip, error = %e, "cannot remove a leftover virtual address");
            }
        }
        for slot in 0..self.slots.len() {
            self.start(now, slot);
        }
        self.drain(now).await;
    }

    /// Starts the router of `slot`: tells it which of its links were found down when it was
    /// wired (its own interface, tracked interfaces), then Startup (RFC 9568 §6.4.1).
    fn start(&mut self, now: Instant, slot: usize) {
        let Some(s) = self.slot_mut(slot) else { return };
        let own_down = matches!(s.own_link, Some((_, false)));
        let tracked_down = std::mem::take(&mut s.tracked_down);
        if own_down {
            self.feed(now, slot, Input::Link { up: false });
        }
        for name in &tracked_down {
            self.feed(
                now,
                slot,
                Input::Track {
                    name,
                    state: TrackState::Down,
                },
            );
        }
        self.feed(now, slot, Input::Startup);
    }

    async fn shutdown(&mut self, now: Instant) -> Result<(), DriverError> {
        for slot in 0..self.slots.len() {
            self.feed(now, slot, Input::Shutdown);
        }
        self.drain(now).await;
        // Every master has stopped gracefully: the supervisor has nothing left to do.
        if let Some(supervisor) = self.supervisor.take() {
            supervisor.retire().await;
        }
        let cleaned = self.wiring.close().await;
        self.emit(Event::Stopped);
        cleaned
    }

    fn slot(&self, slot: usize) -> Option<&Slot> {
        self.slots.get(slot).and_then(Option::as_ref)
    }

    fn slot_mut(&mut self, slot: usize) -> Option<&mut Slot> {
        self.slots.get_mut(slot).and_then(Option::as_mut)
    }

    fn name_of(&self, slot: usize) -> String {
        self.slot(slot)
            .map(|s| s.router.config().name.clone())
            .unwrap_or_default()
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.slots
            .iter()
            .flatten()
            .flat_map(|s| [s.router.poll_timeout(), s.io_retry_at])
            .flatten()
            .chain(self.supervisor_retry_at)
            .min()
    }

    fn feed(&mut self, now: Instant, slot: usize, input: Input<'_>) {
        if let Some(s) = self.slot_mut(slot) {
            s.router.handle(now, input);
            self.dirty.push(slot);
        }
    }

    fn emit(&self, event: Event) {
        // Nobody listening is fine: events are also logged.
        let _ = self.events.send(event);
    }

    fn fault(&mut self, now: Instant, slot: usize, fault: Fault) {
        let instance = self.name_of(slot);
        tracing::warn!(%instance, ?fault, "i/o fault, entering fault state");
        self.emit(Event::Fault {
            instance: Some(instance),
            fault,
        });
        if let Some(s) = self.slot_mut(slot) {
            s.io_retry_at = Some(now + IO_RETRY);
        }
        self.feed(now, slot, Input::IoFault { active: true });
    }

    async fn timeouts(&mut self, now: Instant) {
        for slot in 0..self.slots.len() {
            let Some(s) = self.slot_mut(slot) else {
                continue;
            };
            let due = s.router.poll_timeout().is_some_and(|t| t <= now);
            let retry = s.io_retry_at.is_some_and(|t| t <= now);
            if retry {
                s.io_retry_at = None;
            }
            if due {
                self.feed(now, slot, Input::Timeout);
            }
            if retry {
                self.feed(now, slot, Input::IoFault { active: false });
            }
        }
        if self.supervisor_retry_at.is_some_and(|t| t <= now) {
            self.restart_supervisor(now);
        }
        self.drain(now).await;
    }

    async fn receive(
        &mut self,
        now: Instant,
        key: Key,
        received: Result<Received, TransportError>,
    ) {
        let received = match received {
            Ok(r) => r,
            Err(error) => {
                tracing::warn!(error = %error, "receive failed");
                self.emit(Event::Fault {
                    instance: None,
                    fault: Fault::Receive {
                        error: Arc::new(error),
                    },
                });
                return;
            }
        };
        let Some(demux) = self.wiring.demuxes.get_mut(&key) else {
            return;
        };
        let meta = RxMeta {
            src: received.src,
            dst: received.dst,
            ttl: received.ttl,
        };
        match demux.receive(meta, &received.payload) {
            Ok(dispatch) => {
                let slot = dispatch.slot;
                let Some(s) = self.slots.get_mut(slot).and_then(Option::as_mut) else {
                    return;
                };
                s.router.handle(
                    now,
                    Input::Advert {
                        meta: dispatch.meta,
                        advert: dispatch.advert,
                    },
                );
                self.dirty.push(slot);
                self.drain(now).await;
            }
            Err(error) => tracing::debug!(src = %received.src, %error, "advertisement dropped"),
        }
    }

    async fn command(&mut self, now: Instant, command: Command) {
        self.wiring.forget_lookups();
        // Configuration changes alter what a priority-0 advert carries.
        self.will_stale = true;
        match command {
            Command::SetPriority {
                instance,
                priority,
                reply,
            } => {
                let result = match self.slot_named(&instance) {
                    Some(slot) => {
                        self.feed(now, slot, Input::SetPriority(vrrp_core::Priority(priority)));
                        Ok(())
                    }
                    None => Err(DriverError::UnknownInstance(instance)),
                };
                let _ = reply.send(result);
            }
            Command::Track { name, state } => {
                for slot in 0..self.slots.len() {
                    let tracks = self
                        .slot(slot)
                        .is_some_and(|s| s.router.config().track.iter().any(|t| t.name == name));
                    if tracks {
                        self.feed(now, slot, Input::Track { name: &name, state });
                    }
                }
            }
            Command::Status { instance, reply } => {
                let status = match self.slot_named(&instance).and_then(|i| self.slot(i)) {
                    Some(s) => {
                        let demux = self.wiring.demuxes.get(&s.rx_key);
                        let vrid = s.router.config().vrid.get();
                        Ok(InstanceStatus {
                            state: s.router.state(),
                            priority: s.router.priority(),
                            router: *s.router.stats(),
                            rx: demux
                                .and_then(|d| d.router_stats(vrid))
                                .cloned()
                                .unwrap_or_default(),
                            interface: demux.map(|d| *d.stats()).unwrap_or_default(),
                        })
                    }
                    None => Err(DriverError::UnknownInstance(instance)),
                };
                let _ = reply.send(status);
            }
            Command::Watch { instance, reply } => {
                let result = match self.slot_named(&instance).and_then(|i| self.slot(i)) {
                    Some(s) => Ok(s.view.subscribe()),
                    None => Err(DriverError::UnknownInstance(instance)),
                };
                let _ = reply.send(result);
            }
            Command::Instances { reply } => {
                let names = self
                    .slots
                    .iter()
                    .flatten()
                    .map(|s| s.router.config().name.clone())
                    .collect();
                let _ = reply.send(names);
            }
            Command::Add { instance, reply } => {
                let result = self.add_instance(now, *instance, None).await;
                let _ = reply.send(result);
            }
            Command::Remove { instance, reply } => {
                let result = self.remove_instance(now, &instance, false).await;
                let _ = reply.send(result);
            }
            Command::Update { instance, reply } => {
                let result = self.update_instance(now, *instance).await;
                let _ = reply.send(result);
            }
            Command::Reconcile { desired, reply } => {
                let result = self.reconcile(now, *desired).await;
                let _ = reply.send(result);
            }
            Command::Shutdown { .. } => {}
        }
        self.drain(now).await;
    }

    fn slot_named(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    async fn vip_notice(&mut self, now: Instant, notice: VipNotice) {
        let VipNotice::RemovedExternally(vip) = notice;
        let owner = self.slots.iter().position(|s| {
            s.as_ref().is_some_and(|s| {
                s.router.state() == vrrp_core::State::Master
                    && s.vips.values().any(|v| v.same_address(&vip))
            })
        });
        let Some(slot) = owner else { return };
        let instance = self.name_of(slot);
        let untracked = self.slot(slot).is_some_and(|s| {
            s.vips
                .values()
                .any(|v| v.same_address(&vip) && v.options.no_track)
        });
        if untracked {
            // keepalived's no_track: the instance does not care who removes the address.
            tracing::info!(%instance, %vip, "no_track virtual address removed by someone else, left out");
            return;
        }
        tracing::warn!(%instance, %vip, "virtual address removed by someone else, putting it back");
        self.emit(Event::Fault {
            instance: Some(instance),
            fault: Fault::VipRemovedExternally { vip: vip.clone() },
        });
        let installed = self
            .slot(slot)
            .and_then(|s| s.vips.values().find(|v| v.same_address(&vip)).cloned())
            .unwrap_or(vip);
        if let Err(error) = self.vips.add(&installed).await {
            self.fault(
                now,
                slot,
                Fault::VipAdd {
                    vip: installed,
                    error: Arc::new(error),
                },
            );
            self.drain(now).await;
        }
    }

    async fn link_change(&mut self, now: Instant, change: LinkChange) {
        self.wiring.forget_lookups();
        let rewired = if !change.removed && !change.name.is_empty() {
            self.follow_recreated(now, &change).await
        } else {
            Vec::new()
        };
        self.apply_link(now, change, &rewired);
        self.drain(now).await;
    }

    /// An interface of a known name under a new index was deleted and created again
    /// (keepalived's `dynamic_interfaces`): instances running on it are wired afresh (their
    /// sockets and virtual MACs went with the old interface), tracked interfaces of that name
    /// follow the new index.
    ///
    /// Returns the slots wired afresh: they read the interface's state just now, so `change`
    /// (possibly older) is not applied to them.
    async fn follow_recreated(&mut self, now: Instant, change: &LinkChange) -> Vec<usize> {
        let moved: Vec<(String, u32)> = self
            .slots
            .iter()
            .flatten()
            .filter_map(|s| match s.own_link {
                Some((index, _))
                    if s.instance.interface == change.name && index != change.ifindex =>
                {
                    Some((s.router.config().name.clone(), index))
                }
                _ => None,
            })
            .collect();
        let mut rewired = Vec::new();
        for (name, old) in moved {
            let Some(slot) = self.slot_named(&name) else {
                continue;
            };
            let Some(s) = self.slot(slot) else { continue };
            let (instance, group) = (s.instance.clone(), s.group);
            tracing::info!(%name, interface = %change.name, "interface recreated, wiring the instance again");
            // In Fault since its interface went: nothing to announce, no state to report.
            let quiet = s.router.state() == vrrp_core::State::Fault;
            if let Err(e) = self.detach(now, slot, !quiet).await {
                // What went with the old interface (its virtual MAC) cannot be removed again.
                tracing::debug!(%name, error = %e, "releasing the old interface");
            }
            // Its sockets are bound to a device that no longer exists.
            for key in self.wiring.forget_index(old) {
                if let Some(task) = self.rx_tasks.remove(&key) {
                    task.abort();
                }
            }
            match self
                .add_with_link(now, instance, group, Some(change.running))
                .await
            {
                Ok(()) => {
                    if let Some(slot) = self.slot_named(&name) {
                        rewired.push(slot);
                    }
                }
                Err(e) => {
                    tracing::warn!(%name, error = %e, "cannot wire the instance on the recreated interface");
                    self.emit(Event::Fault {
                        instance: Some(name),
                        fault: Fault::Rewire { error: Arc::new(e) },
                    });
                }
            }
        }
        let mut retracked = Vec::new();
        for (index, uses) in &mut self.wiring.link_uses {
            if *index == change.ifindex {
                continue;
            }
            uses.retain(|(slot, what)| match what {
                LinkUse::Track(name) if *name == change.name => {
                    retracked.push((*slot, what.clone()));
                    false
                }
                _ => true,
            });
        }
        if !retracked.is_empty() {
            self.wiring
                .link_uses
                .entry(change.ifindex)
                .or_default()
                .extend(retracked);
        }
        self.wiring.link_uses.retain(|_, uses| !uses.is_empty());
        rewired
    }

    /// Feeds `change` to the slots using that interface, but the `skip`ped ones' own link.
    fn apply_link(&mut self, now: Instant, change: LinkChange, skip: &[usize]) {
        let Some(uses) = self.wiring.link_uses.get(&change.ifindex).cloned() else {
            return;
        };
        for (slot, what) in uses {
            match what {
                LinkUse::Own if skip.contains(&slot) => {}
                LinkUse::Own => self.feed(now, slot, Input::Link { up: change.running }),
                LinkUse::Track(name) => {
                    let state = if change.running {
                        TrackState::Up
                    } else {
                        TrackState::Down
                    };
                    self.feed(now, slot, Input::Track { name: &name, state });
                }
            }
        }
    }

    /// Spawns a receive task for every demuxed key that has none, and the link watch once
    /// some instance uses a kernel interface's link state.
    fn serve_new_wiring(&mut self) -> Result<(), DriverError> {
        for (key, transport) in &self.wiring.transports {
            if self.wiring.demuxes.contains_key(key) && !self.rx_tasks.contains_key(key) {
                let (key, transport, tx) = (*key, Arc::clone(transport), self.rx_tx.clone());
                self.rx_tasks
                    .insert(key, tokio::spawn(receive_loop(key, transport, tx)));
            }
        }
        if self.link_stream.is_none() && !self.wiring.link_uses.is_empty() {
            self.link_stream = Some(Box::pin(crate::link::link_changes()?));
        }
        Ok(())
    }

    /// Recomputes the names some instance tracks, for [`Handle::set_track_state`].
    fn refresh_tracked(&self) {
        let names: HashSet<String> = self
            .slots
            .iter()
            .flatten()
            .flat_map(|s| s.router.config().track.iter().map(|t| t.name.clone()))
            .collect();
        match self.tracked.write() {
            Ok(mut set) => *set = names,
            Err(poisoned) => *poisoned.into_inner() = names,
        }
    }
}
