//! A deterministic simulated LAN for testing failover logic in plain `cargo test`.
//!
//! Nodes hold one or more [`VirtualRouter`]s; every advertisement they send is emitted to
//! bytes, carried over a simulated multicast link (latency, jitter and so reordering, loss,
//! duplication, partitions, all drawn from one seeded generator) and parsed again by the
//! receivers' [`Demux`]. Time is virtual: a simulated day takes well under a second. Faults
//! (crash, restart, graceful shutdown, partitions, priority and track changes, link down) are
//! scheduled at given times, and everything is recorded in a [`Timeline`] that tests query.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use vrrp_core::sim::{Action, Lan};
//! use vrrp_core::{RouterConfig, VirtualAddress, Vrid};
//!
//! let vip = VirtualAddress::host("192.0.2.100".parse().unwrap());
//! let mut lan = Lan::new(7, Instant::now());
//! let a = lan.add_router(RouterConfig::builder("VI_1", 1, "192.0.2.1".parse().unwrap())
//!     .priority(200).virtual_address(vip).build().unwrap()).unwrap();
//! let b = lan.add_router(RouterConfig::builder("VI_1", 1, "192.0.2.2".parse().unwrap())
//!     .priority(100).virtual_address(vip).build().unwrap()).unwrap();
//! lan.schedule(Duration::from_secs(10), Action::Crash(a));
//! lan.run_for(Duration::from_secs(20));
//!
//! let vrid = Vrid::new(1).unwrap();
//! assert_eq!(lan.timeline().master_at(vrid, Duration::from_secs(9)), Some(a));
//! assert_eq!(lan.timeline().master_at(vrid, Duration::from_secs(20)), Some(b));
//! let delay = lan.timeline().failover_delay(vrid, a, Duration::from_secs(10)).unwrap();
//! assert!(delay <= Duration::from_millis(3610));
//! ```

mod link;
mod rng;
mod timeline;

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::time::{Duration, Instant};

use crate::config::RouterConfig;
use crate::demux::{Demux, RxMeta};
use crate::error::ConfigError;
use crate::group::SyncGroup;
use crate::output::Output;
use crate::router::{GroupCommand, Input, VirtualRouter};
use crate::track::TrackState;
use crate::types::{Family, Priority, Vrid};

pub use link::LinkConfig;
pub use timeline::{EventKind, Timeline, TimelineEvent};

use rng::Rng;

/// Index of a node on the LAN.
pub type NodeId = usize;

/// IPv4 VRRP multicast group (RFC 9568 §5.1.1.2).
const MCAST_V4: IpAddr = IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18));
/// IPv6 VRRP multicast group (RFC 9568 §5.1.2.2).
const MCAST_V6: IpAddr = IpAddr::V6(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12));

/// A fault or change applied at a scheduled time.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Startup event for every router of the node.
    Start(NodeId),
    /// The node dies at once: no priority-0 advert, its addresses vanish with it.
    Crash(NodeId),
    /// A crashed or shut-down node comes back with fresh routers (configured priorities) and
    /// starts. Ignored for a node that is running.
    Restart(NodeId),
    /// Graceful shutdown: priority-0 adverts and address removal.
    Shutdown(NodeId),
    /// Splits the LAN: packets only flow within a side. Nodes not listed form one more side.
    Partition(Vec<Vec<NodeId>>),
    /// Ends any partition.
    Heal,
    /// Sets the base priority of a node's router.
    SetPriority(NodeId, Vrid, Priority),
    /// Reports a tracked object's state to every router of the node tracking it.
    Track(NodeId, String, TrackState),
    /// The node's link goes down or up (routers go to and leave Fault).
    Link(NodeId, bool),
    /// Replaces the default link properties.
    SetLink(LinkConfig),
}

#[derive(Debug)]
struct Slot {
    config: RouterConfig,
    router: VirtualRouter,
    group: Option<(usize, usize)>,
}

#[derive(Debug)]
struct Node {
    name: String,
    alive: bool,
    slots: Vec<Slot>,
    demux_v4: Demux,
    demux_v6: Demux,
    groups: Vec<SyncGroup>,
}

impl Node {
    fn build_demux(&mut self) -> Result<(), ConfigError> {
        self.demux_v4 = Demux::new(Family::V4);
        self.demux_v6 = Demux::new(Family::V6);
        for (i, slot) in self.slots.iter().enumerate() {
            let demux = match slot.config.family {
                Family::V4 => &mut self.demux_v4,
                Family::V6 => &mut self.demux_v6,
            };
            demux.register(slot.config.vrid.get(), i, slot.router.rx_policy())?;
        }
        Ok(())
    }
}

/// A queued event, ordered by time then by scheduling order (so equal times stay FIFO).
#[derive(Debug)]
struct Scheduled {
    at: Instant,
    seq: u64,
    event: Event,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for Scheduled {}

impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

#[derive(Debug)]
enum Event {
    Deliver {
        to: NodeId,
        family: Family,
        meta: RxMeta,
        bytes: Vec<u8>,
    },
    Apply(Action),
}

/// The simulated LAN.
#[derive(Debug)]
pub struct Lan {
    epoch: Instant,
    now: Instant,
    nodes: Vec<Node>,
    link: LinkConfig,
    pair_links: BTreeMap<(NodeId, NodeId), LinkConfig>,
    partition: Option<Vec<usize>>,
    queue: BinaryHeap<Reverse<Scheduled>>,
    seq: u64,
    rng: Rng,
    timeline: Timeline,
    delivered: u64,
    dropped: u64,
    scratch: Vec<(usize, GroupCommand)>,
}

impl Lan {
    /// An empty LAN whose clock starts at `epoch` (any instant; only differences matter),
    /// with random choices drawn from `seed`.
    pub fn new(seed: u64, epoch: Instant) -> Self {
        Lan {
            epoch,
            now: epoch,
            nodes: Vec::new(),
            link: LinkConfig::default(),
            pair_links: BTreeMap::new(),
            partition: None,
            queue: BinaryHeap::new(),
            seq: 0,
            rng: Rng::new(seed),
            timeline: Timeline::default(),
            delivered: 0,
            dropped: 0,
            scratch: Vec::new(),
        }
    }

    /// Sets the default link properties.
    pub fn set_link(&mut self, link: LinkConfig) {
        self.link = link;
    }

    /// Sets the properties of the path from `from` to `to` (one direction).
    pub fn set_pair_link(&mut self, from: NodeId, to: NodeId, link: LinkConfig) {
        self.pair_links.insert((from, to), link);
    }

    /// Adds an empty node; routers are added with [`Lan::add_router_to`].
    pub fn add_node(&mut self, name: impl Into<String>) -> NodeId {
        self.nodes.push(Node {
            name: name.into(),
            alive: true,
            slots: Vec::new(),
            demux_v4: Demux::new(Family::V4),
            demux_v6: Demux::new(Family::V6),
            groups: Vec::new(),
        });
        let id = self.nodes.len() - 1;
        self.schedule(Duration::ZERO, Action::Start(id));
        id
    }

    /// Adds a node with one router, started at time zero.
    pub fn add_router(&mut self, config: RouterConfig) -> Result<NodeId, ConfigError> {
        let node = self.add_node(config.primary_address.to_string());
        self.add_router_to(node, config)?;
        Ok(node)
    }

    /// Adds a router to an existing node.
    pub fn add_router_to(&mut self, node: NodeId, config: RouterConfig) -> Result<(), ConfigError> {
        let router = VirtualRouter::new(config.clone())?;
        let n = self.node_mut(node);
        n.slots.push(Slot {
            config,
            router,
            group: None,
        });
        n.build_demux()
    }

    /// Makes the node's routers with these VRIDs a sync group (their configs must have
    /// `sync_group` set).
    pub fn add_sync_group(&mut self, node: NodeId, name: &str, vrids: &[Vrid]) {
        let n = self.node_mut(node);
        let group = n.groups.len();
        let mut member = 0;
        for slot in n.slots.iter_mut() {
            if vrids.contains(&slot.config.vrid) {
                slot.group = Some((group, member));
                member += 1;
            }
        }
        n.groups.push(SyncGroup::new(name, member));
    }

    fn node_mut(&mut self, node: NodeId) -> &mut Node {
        &mut self.nodes[node]
    }

    /// Schedules `action` at simulated time `at` since the start.
    pub fn schedule(&mut self, at: Duration, action: Action) {
        let at = self.epoch + at;
        self.push(at, Event::Apply(action));
    }

    fn push(&mut self, at: Instant, event: Event) {
        self.seq += 1;
        self.queue.push(Reverse(Scheduled {
            at,
            seq: self.seq,
            event,
        }));
    }

    /// The recorded history.
    pub fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    /// Simulated time since the start.
    pub fn elapsed(&self) -> Duration {
        self.now - self.epoch
    }

    /// The current simulated instant.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// A node's router for `vrid`, if the node is alive.
    pub fn router(&self, node: NodeId, vrid: Vrid) -> Option<&VirtualRouter> {
        let n = self.nodes.get(node)?;
        n.alive.then_some(())?;
        n.slots
            .iter()
            .find(|s| s.config.vrid == vrid)
            .map(|s| &s.router)
    }

    /// A node's demux for `family`.
    pub fn demux(&self, node: NodeId, family: Family) -> Option<&Demux> {
        let n = self.nodes.get(node)?;
        Some(match family {
            Family::V4 => &n.demux_v4,
            Family::V6 => &n.demux_v6,
        })
    }

    /// Name of a node.
    pub fn node_name(&self, node: NodeId) -> &str {
        self.nodes.get(node).map_or("?", |n| n.name.as_str())
    }

    /// Packets delivered and dropped (loss or partition) so far.
    pub fn packet_counts(&self) -> (u64, u64) {
        (self.delivered, self.dropped)
    }

    /// Runs for `duration` of simulated time.
    pub fn run_for(&mut self, duration: Duration) {
        let until = self.now + duration;
        self.run_until(until - self.epoch);
    }

    /// Runs until simulated time `at` since the start.
    pub fn run_until(&mut self, at: Duration) {
        let limit = self.epoch + at;
        loop {
            let next_event = self.queue.peek().map(|Reverse(s)| s.at);
            let next_timer = self.next_timer();
            let next = match (next_event, next_timer) {
                (Some(e), Some((t, _, _))) => e.min(t),
                (Some(e), None) => e,
                (None, Some((t, _, _))) => t,
                (None, None) => break,
            };
            if next > limit {
                break;
            }
            self.now = next;
            match (next_event, next_timer) {
                (Some(e), _) if e == next => {
                    if let Some(Reverse(scheduled)) = self.queue.pop() {
                        self.process(scheduled.event);
                    }
                }
                (_, Some((_, node, slot))) => {
                    self.nodes[node].slots[slot]
                        .router
                        .handle(next, Input::Timeout);
                    self.drain(node);
                }
                _ => {}
            }
        }
        self.now = limit;
    }

    fn next_timer(&self) -> Option<(Instant, NodeId, usize)> {
        let mut best: Option<(Instant, NodeId, usize)> = None;
        for (n, node) in self.nodes.iter().enumerate() {
            if !node.alive {
                continue;
            }
            for (s, slot) in node.slots.iter().enumerate() {
                if let Some(t) = slot.router.poll_timeout()
                    && best.is_none_or(|(b, _, _)| t < b)
                {
                    best = Some((t, n, s));
                }
            }
        }
        best
    }

    fn process(&mut self, event: Event) {
        match event {
            Event::Deliver {
                to,
                family,
                meta,
                bytes,
            } => {
                let now = self.now;
                let node = &mut self.nodes[to];
                if !node.alive {
                    return;
                }
                let demux = match family {
                    Family::V4 => &mut node.demux_v4,
                    Family::V6 => &mut node.demux_v6,
                };
                if let Ok(d) = demux.receive(meta, &bytes) {
                    node.slots[d.slot].router.handle(
                        now,
                        Input::Advert {
                            meta: d.meta,
                            advert: d.advert,
                        },
                    );
                    self.drain(to);
                }
            }
            Event::Apply(action) => self.apply(action),
        }
    }

    fn record(&mut self, node: NodeId, vrid: Option<Vrid>, kind: EventKind) {
        let at = self.now - self.epoch;
        self.timeline.push(TimelineEvent {
            at,
            node,
            vrid,
            kind,
        });
    }

    fn apply(&mut self, action: Action) {
        let now = self.now;
        let (node, description) = match &action {
            Action::Start(n) => (Some(*n), "start".to_string()),
            Action::Crash(n) => (Some(*n), "crash".to_string()),
            Action::Restart(n) => (Some(*n), "restart".to_string()),
            Action::Shutdown(n) => (Some(*n), "shutdown".to_string()),
            Action::Partition(sides) => (None, format!("partition {sides:?}")),
            Action::Heal => (None, "heal".to_string()),
            Action::SetPriority(n, vrid, p) => {
                (Some(*n), format!("set priority of vrid {vrid} to {p}"))
            }
            Action::Track(n, name, state) => (Some(*n), format!("track {name} {state:?}")),
            Action::Link(n, up) => (
                Some(*n),
                format!("link {}", if *up { "up" } else { "down" }),
            ),
            Action::SetLink(l) => (None, format!("link {l:?}")),
        };
        self.record(
            node.unwrap_or(usize::MAX),
            None,
            EventKind::Action(description),
        );
        match action {
            Action::Start(n) => {
                for slot in &mut self.nodes[n].slots {
                    slot.router.handle(now, Input::Startup);
                }
                self.drain(n);
            }
            Action::Crash(n) => {
                if !self.nodes[n].alive {
                    return;
                }
                self.nodes[n].alive = false;
                let changes: Vec<(Vrid, crate::state::State)> = self.nodes[n]
                    .slots
                    .iter()
                    .map(|s| (s.config.vrid, s.router.state()))
                    .collect();
                for (vrid, state) in changes {
                    if state == crate::state::State::Master {
                        self.record(n, Some(vrid), EventKind::VipsRemoved);
                    }
                    if state != crate::state::State::Initialize {
                        let reason = crate::state::Reason::Shutdown;
                        self.record(
                            n,
                            Some(vrid),
                            EventKind::State {
                                from: state,
                                to: crate::state::State::Initialize,
                                reason,
                            },
                        );
                    }
                }
            }
            Action::Restart(n) => {
                let node = &mut self.nodes[n];
                let running = node.alive
                    && node
                        .slots
                        .iter()
                        .any(|s| s.router.state() != crate::state::State::Initialize);
                if running {
                    return;
                }
                for slot in &mut node.slots {
                    // Configs were validated when added, so rebuilding cannot fail.
                    if let Ok(r) = VirtualRouter::new(slot.config.clone()) {
                        slot.router = r;
                    }
                }
                for (g, group) in node.groups.iter_mut().enumerate() {
                    let members = node
                        .slots
                        .iter()
                        .filter(|s| s.group.is_some_and(|(i, _)| i == g))
                        .count();
                    *group = SyncGroup::new(group.name(), members);
                }
                node.alive = true;
                // The same configs were registered before; a rebuild cannot conflict.
                let _ = node.build_demux();
                for slot in &mut node.slots {
                    slot.router.handle(now, Input::Startup);
                }
                self.drain(n);
            }
            Action::Shutdown(n) => {
                for slot in &mut self.nodes[n].slots {
                    slot.router.handle(now, Input::Shutdown);
                }
                self.drain(n);
            }
            Action::Partition(sides) => {
                let mut side_of = vec![sides.len(); self.nodes.len()];
                for (i, side) in sides.iter().enumerate() {
                    for &n in side {
                        if let Some(s) = side_of.get_mut(n) {
                            *s = i;
                        }
                    }
                }
                self.partition = Some(side_of);
            }
            Action::Heal => self.partition = None,
            Action::SetPriority(n, vrid, p) => {
                for slot in self.nodes[n]
                    .slots
                    .iter_mut()
                    .filter(|s| s.config.vrid == vrid)
                {
                    slot.router.handle(now, Input::SetPriority(p));
                }
                self.drain(n);
            }
            Action::Track(n, name, state) => {
                for slot in &mut self.nodes[n].slots {
                    slot.router.handle(now, Input::Track { name: &name, state });
                }
                self.drain(n);
            }
            Action::Link(n, up) => {
                for slot in &mut self.nodes[n].slots {
                    slot.router.handle(now, Input::Link { up });
                }
                self.drain(n);
            }
            Action::SetLink(l) => self.link = l,
        }
    }

    /// Drains every router of `node` until no output is left, carrying out each.
    fn drain(&mut self, node: NodeId) {
        if !self.nodes[node].alive {
            return;
        }
        loop {
            let mut progressed = false;
            for s in 0..self.nodes[node].slots.len() {
                while let Some(out) = self.nodes[node].slots[s].router.poll() {
                    progressed = true;
                    self.carry_out(node, s, out);
                }
            }
            if !progressed {
                break;
            }
        }
    }

    fn carry_out(&mut self, node: NodeId, slot: usize, out: Output) {
        let vrid = self.nodes[node].slots[slot].config.vrid;
        if let Some((g, member)) = self.nodes[node].slots[slot].group {
            let mut commands = std::mem::take(&mut self.scratch);
            self.nodes[node].groups[g].observe(member, &out, &mut commands);
            for (m, command) in commands.drain(..) {
                let now = self.now;
                if let Some(target) = self.nodes[node]
                    .slots
                    .iter_mut()
                    .find(|s| s.group == Some((g, m)))
                {
                    target.router.handle(now, Input::Group(command));
                }
            }
            self.scratch = commands;
        }
        match out {
            Output::Transmit(advert) => {
                let dst = match advert.family {
                    Family::V4 => MCAST_V4,
                    Family::V6 => MCAST_V6,
                };
                let mut bytes = vec![0u8; advert.repr().buffer_len()];
                if advert.emit_into(dst, &mut bytes).is_none() {
                    return;
                }
                let meta = RxMeta {
                    src: advert.source,
                    dst,
                    ttl: 255,
                };
                for to in 0..self.nodes.len() {
                    if to != node {
                        self.send(node, to, advert.family, meta, &bytes);
                    }
                }
            }
            Output::InstallVips { .. } => self.record(node, Some(vrid), EventKind::VipsInstalled),
            Output::RemoveVips { .. } => self.record(node, Some(vrid), EventKind::VipsRemoved),
            Output::StateChanged { from, to, reason } => {
                self.record(node, Some(vrid), EventKind::State { from, to, reason })
            }
            Output::PriorityChanged { from, to } => {
                self.record(node, Some(vrid), EventKind::Priority { from, to })
            }
            Output::Announce { .. } | Output::GroupVote { .. } | Output::GroupFault { .. } => {}
        }
    }

    fn send(&mut self, from: NodeId, to: NodeId, family: Family, meta: RxMeta, bytes: &[u8]) {
        if let Some(side) = &self.partition
            && side.get(from) != side.get(to)
        {
            self.dropped += 1;
            return;
        }
        let link = self
            .pair_links
            .get(&(from, to))
            .copied()
            .unwrap_or(self.link);
        if self.rng.chance(link.loss) {
            self.dropped += 1;
            return;
        }
        let copies = if self.rng.chance(link.duplicate) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let jitter = self.rng.below_or_eq(link.jitter.as_nanos() as u64);
            let at = self.now + link.latency + Duration::from_nanos(jitter);
            self.delivered += 1;
            self.push(
                at,
                Event::Deliver {
                    to,
                    family,
                    meta,
                    bytes: bytes.to_vec(),
                },
            );
        }
    }
}
