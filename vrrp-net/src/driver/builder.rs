//! Turning instances into a running [`Driver`]: resolving interfaces, opening sockets,
//! registering routers with their interface's demux.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use tokio::sync::mpsc;
use vrrp_core::group::SyncGroup;
use vrrp_core::{Family, VirtualRouter};

use super::clock::Clock;
use super::event::Events;
use super::handle::Handle;
use super::instance::Instance;
use super::reconfigure::{Desired, router_for};
use super::wiring::{Iface, Wiring};
use super::{Driver, Group, Slot};
use crate::error::{DriverError, LinkError};
use crate::firewall::Nftables;
use crate::link::Links;
use crate::supervisor::{DEFAULT_CAPACITY, Supervisor};
use crate::transport::Transport;
use crate::vip::{NetlinkVips, NoAcceptVips, VipBackend};

/// Depth of the queue between the receive tasks and the driver loop.
const RX_QUEUE: usize = 1024;

/// Collects instances, sync groups and optional replacements for the kernel backends.
#[derive(Default)]
pub struct DriverBuilder {
    /// The instances and sync groups to start with.
    desired: Desired,
    vips: Option<Arc<dyn VipBackend>>,
    transports: HashMap<String, Vec<Arc<dyn Transport>>>,
    firewall: Option<String>,
    clock: Clock,
    crash_supervisor: bool,
}

impl DriverBuilder {
    /// Adds an instance.
    pub fn instance(mut self, instance: Instance) -> Self {
        self.desired = self.desired.instance(instance);
        self
    }

    /// Adds a sync group of the named instances (keepalived's `vrrp_sync_group`).
    pub fn sync_group(
        mut self,
        name: impl Into<String>,
        members: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.desired = self.desired.sync_group(name, members);
        self
    }

    /// Uses `backend` instead of rtnetlink for VIPs.
    pub fn vip_backend(mut self, backend: Arc<dyn VipBackend>) -> Self {
        self.vips = Some(backend);
        self
    }

    /// Enforces what needs a firewall through nftables tables named `table` (created fresh at
    /// build, deleted on shutdown; see [`crate::firewall`]): routers without Accept_Mode drop
    /// traffic to their addresses while master (RFC 9568 §6.1), and virtual MAC interfaces
    /// never send IGMP / MLD reports or router solicitations from the shared MAC. Without it,
    /// Accept_Mode false is not enforced (addresses behave as with Accept_Mode true).
    pub fn firewall(mut self, table: impl Into<String>) -> Self {
        self.firewall = Some(table.into());
        self
    }

    /// Starts a crash supervisor (see [`crate::supervisor`]): if this process dies without a
    /// graceful [`super::Handle::shutdown`] (a panic that aborts, SIGKILL, the OOM killer),
    /// a separate small process sends each master's priority-0 advert and removes its
    /// addresses within a millisecond, so a backup takes over after Skew_Time instead of
    /// Master_Down_Interval (RFC 9568 §6.4.3). Off by default; on in keepalived-compat and
    /// vip-proxy. Needs kernel interfaces (custom transports are not covered).
    pub fn crash_supervisor(mut self, on: bool) -> Self {
        self.crash_supervisor = on;
        self
    }

    /// Reads the time from and sleeps on `clock` (default [`Clock::System`]);
    /// [`Clock::Tokio`] makes the driver follow tokio's paused clock in tests.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Uses `transport` for interface `ifname` (its index is `transport.ifindex()`) instead
    /// of a raw socket. Interfaces given this way are not looked up in the kernel: no link
    /// monitoring and no announcements on them.
    pub fn transport(mut self, ifname: impl Into<String>, transport: Arc<dyn Transport>) -> Self {
        self.transports
            .entry(ifname.into())
            .or_default()
            .push(transport);
        self
    }

    /// Resolves interfaces, creates virtual MACs, opens sockets. Must be called inside a tokio
    /// runtime; the returned driver does nothing until [`Driver::run`] is awaited. On failure
    /// the virtual MACs created so far are removed again.
    pub async fn build(self) -> Result<(Driver, Handle, Events), DriverError> {
        let mut wiring = Wiring::default();
        match self.assemble(&mut wiring).await {
            Ok(parts) => Ok(parts),
            Err(e) => {
                if let Err(undo) = wiring.close().await {
                    tracing::warn!(error = %undo, "cannot undo a failed build");
                }
                Err(e)
            }
        }
    }

    async fn assemble(self, wiring: &mut Wiring) -> Result<(Driver, Handle, Events), DriverError> {
        let routers = routers(&self.desired.instances)?;
        if self.needs_kernel() {
            wiring.links = Some(Links::new()?);
        }
        for (name, ts) in &self.transports {
            for t in ts {
                let iface = Iface {
                    name: name.clone(),
                    index: t.ifindex(),
                    mac: None,
                    running: true,
                    kernel: false,
                };
                wiring.custom.insert(name.clone(), iface);
                wiring
                    .transports
                    .insert((t.ifindex(), t.family()), Arc::clone(t));
            }
        }
        let kernel_vips = self.vips.is_none();
        let mut vips: Arc<dyn VipBackend> = match self.vips {
            Some(v) => v,
            None => Arc::new(NetlinkVips::new()?),
        };
        if let Some(table) = &self.firewall {
            let firewall = Arc::new(Nftables::open(table).await?);
            vips = Arc::new(NoAcceptVips::new(vips, Arc::clone(&firewall)));
            wiring.firewall = Some(firewall);
        }
        let mut slots = Vec::with_capacity(self.desired.instances.len());
        for (slot, (instance, router)) in self.desired.instances.iter().zip(routers).enumerate() {
            slots.push(Some(wiring.add(slot, instance, router).await?));
        }
        let groups = groups(
            &self.desired.sync_groups,
            &self.desired.instances,
            &mut slots,
        )?;
        let timer = super::clock::Timer::new(self.clock).map_err(DriverError::Timer)?;

        let (rx_tx, rx) = mpsc::channel(RX_QUEUE);
        let (cmd_tx, commands) = mpsc::unbounded_channel();
        let (ev_tx, ev_rx) = mpsc::unbounded_channel();
        let vip_notices = vips.take_notices();
        let tracked: HashSet<String> = self
            .desired
            .instances
            .iter()
            .flat_map(|i| i.config.track.iter().map(|t| t.name.clone()))
            .collect();
        let tracked = Arc::new(RwLock::new(tracked));
        let by_name = self
            .desired
            .instances
            .iter()
            .enumerate()
            .map(|(slot, i)| (i.name().to_owned(), slot))
            .collect();
        let mut driver = Driver {
            slots,
            by_name,
            wiring: std::mem::take(wiring),
            rx_tasks: HashMap::new(),
            rx_tx,
            rx,
            vips,
            vip_notices,
            link_stream: None,
            groups,
            group_specs: self.desired.sync_groups,
            commands,
            events: ev_tx,
            tracked: Arc::clone(&tracked),
            dirty: Vec::new(),
            timer,
            buf: vec![0; super::TX_BUFFER],
            supervisor: None,
            supervisor_retry_at: None,
            will_stale: true,
            kernel_vips,
        };
        if self.crash_supervisor {
            match Supervisor::spawn(DEFAULT_CAPACITY) {
                Ok(supervisor) => {
                    driver.emit(super::Event::SupervisorStarted {
                        pid: supervisor.pid(),
                    });
                    driver.supervisor = Some(supervisor);
                }
                Err(e) => {
                    *wiring = std::mem::take(&mut driver.wiring);
                    return Err(e.into());
                }
            }
        }
        if let Err(e) = driver.serve_new_wiring() {
            // The driver owns the wiring now: hand it back so the failed build is undone.
            *wiring = std::mem::take(&mut driver.wiring);
            return Err(e);
        }
        let handle = Handle {
            tx: cmd_tx,
            tracked,
        };
        Ok((driver, handle, Events { rx: ev_rx }))
    }

    /// Whether anything must be looked up in (or created through) the kernel.
    fn needs_kernel(&self) -> bool {
        let custom = |name: &String| self.transports.contains_key(name);
        self.desired.instances.iter().any(|i| {
            !custom(&i.interface)
                || i.vmac.is_some()
                || !i.track_interfaces.is_empty()
                || i.placements
                    .iter()
                    .any(|p| p.dev.as_ref().is_some_and(|d| !custom(d)))
        })
    }
}

/// Validates every instance into a router; names must be unique.
fn routers(instances: &[Instance]) -> Result<Vec<VirtualRouter>, DriverError> {
    let mut routers: Vec<VirtualRouter> = Vec::with_capacity(instances.len());
    for instance in instances {
        if routers.iter().any(|r| r.config().name == instance.name()) {
            return Err(DriverError::DuplicateInstance(instance.name().to_owned()));
        }
        routers.push(router_for(instance)?);
    }
    Ok(routers)
}

/// Sync groups by member slot; marks each member's slot.
fn groups(
    groups: &[(String, Vec<String>)],
    instances: &[Instance],
    slots: &mut [Option<Slot>],
) -> Result<Vec<Group>, DriverError> {
    let mut out = Vec::with_capacity(groups.len());
    for (name, members) in groups {
        let mut indexes = Vec::with_capacity(members.len());
        for m in members {
            let slot = instances
                .iter()
                .position(|i| i.name() == m)
                .ok_or_else(|| DriverError::UnknownInstance(m.clone()))?;
            if let Some(s) = slots.get_mut(slot).and_then(Option::as_mut) {
                s.group = Some((out.len(), indexes.len()));
            }
            indexes.push(slot);
        }
        out.push(Group {
            group: SyncGroup::new(name.clone(), indexes.len()),
            members: indexes,
        });
    }
    Ok(out)
}

/// The address a router on `ifname` should use as its primary address: the first IPv4
/// address, or the first IPv6 link-local address (RFC 9568 §5.1.2.1). Opens a netlink
/// connection per call: for many instances, use one [`Links`] and
/// [`Links::primary_address`].
pub async fn primary_address(ifname: &str, family: Family) -> Result<IpAddr, LinkError> {
    Links::new()?.primary_address(ifname, family).await
}
