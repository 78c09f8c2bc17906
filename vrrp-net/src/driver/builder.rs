//! Turning instances into a running [`Driver`]: resolving interfaces, opening sockets,
//! registering routers with their interface's demux.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;

use tokio::sync::mpsc;
use vrrp_core::group::SyncGroup;
use vrrp_core::{Demux, Family, VirtualRouter};

use super::clock::Clock;
use super::event::Events;
use super::handle::Handle;
use super::instance::Instance;
use super::{Announcer, Driver, Group, Key, LinkUse, Slot};
use crate::announce::{MacAddress, PacketSocket};
use crate::error::{DriverError, LinkError};
use crate::firewall::Nftables;
use crate::link::{Links, link_changes};
use crate::transport::{AddressFamily, RawTransport, Transport};
use crate::vip::{NetlinkVips, NoAcceptVips, Vip, VipBackend, VipScope};
use crate::vmac::{Vmac, virtual_mac};

/// Depth of the queue between the receive tasks and the driver loop.
const RX_QUEUE: usize = 1024;

/// Collects instances, sync groups and optional replacements for the kernel backends.
#[derive(Default)]
pub struct DriverBuilder {
    instances: Vec<Instance>,
    groups: Vec<(String, Vec<String>)>,
    vips: Option<Arc<dyn VipBackend>>,
    transports: HashMap<String, Vec<Arc<dyn Transport>>>,
    firewall: Option<String>,
    clock: Clock,
}

/// One resolved interface.
#[derive(Debug, Clone)]
struct Iface {
    index: u32,
    mac: Option<MacAddress>,
    running: bool,
    /// Resolved through the kernel (so announcements and link monitoring apply).
    kernel: bool,
}

pub(super) fn family_of(f: Family) -> AddressFamily {
    match f {
        Family::V4 => AddressFamily::Inet,
        Family::V6 => AddressFamily::Inet6,
    }
}

impl DriverBuilder {
    /// Adds an instance.
    pub fn instance(mut self, instance: Instance) -> Self {
        self.instances.push(instance);
        self
    }

    /// Adds a sync group of the named instances (keepalived's `vrrp_sync_group`).
    pub fn sync_group(
        mut self,
        name: impl Into<String>,
        members: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.groups
            .push((name.into(), members.into_iter().map(Into::into).collect()));
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
        let mut setup = Setup::default();
        match self.assemble(&mut setup).await {
            Ok(parts) => Ok(parts),
            Err(e) => {
                setup.abandon().await;
                Err(e)
            }
        }
    }

    async fn assemble(self, setup: &mut Setup) -> Result<(Driver, Handle, Events), DriverError> {
        let routers = routers(&self.instances)?;
        if self.needs_kernel() {
            setup.links = Some(Links::new()?);
        }
        for (name, ts) in &self.transports {
            for t in ts {
                let iface = Iface {
                    index: t.ifindex(),
                    mac: None,
                    running: true,
                    kernel: false,
                };
                setup.ifaces.insert(name.clone(), iface);
                setup
                    .transports
                    .insert((t.ifindex(), t.family()), Arc::clone(t));
            }
        }
        let mut vips: Arc<dyn VipBackend> = match self.vips {
            Some(v) => v,
            None => Arc::new(NetlinkVips::new()?),
        };
        if let Some(table) = &self.firewall {
            let firewall = Arc::new(Nftables::open(table).await?);
            vips = Arc::new(NoAcceptVips::new(vips, Arc::clone(&firewall)));
            setup.firewall = Some(firewall);
        }
        for (slot, (instance, router)) in self.instances.iter().zip(routers).enumerate() {
            setup.add(slot, instance, router).await?;
        }
        let groups = groups(self.groups, &self.instances, &mut setup.slots)?;
        let initial_links: Vec<(u32, bool)> = setup
            .link_uses
            .keys()
            .filter_map(|index| {
                setup
                    .ifaces
                    .values()
                    .find(|i| i.index == *index)
                    .map(|i| (*index, i.running))
            })
            .collect();
        let link_stream: Option<super::LinkStream> = if setup.link_uses.is_empty() {
            None
        } else {
            Some(Box::pin(link_changes()?))
        };
        let timer = super::clock::Timer::new(self.clock).map_err(DriverError::Timer)?;

        let (rx_tx, rx) = mpsc::channel(RX_QUEUE);
        let mut rx_tasks = Vec::new();
        for (key, transport) in &setup.transports {
            if setup.demuxes.contains_key(key) {
                let (key, transport, tx) = (*key, Arc::clone(transport), rx_tx.clone());
                rx_tasks.push(tokio::spawn(super::receive_loop(key, transport, tx)));
            }
        }
        let (cmd_tx, commands) = mpsc::unbounded_channel();
        let (ev_tx, ev_rx) = mpsc::unbounded_channel();
        let vip_notices = vips.take_notices();
        let driver = Driver {
            slots: std::mem::take(&mut setup.slots),
            demuxes: std::mem::take(&mut setup.demuxes),
            transports: std::mem::take(&mut setup.transports),
            rx_tasks,
            rx,
            vips,
            vip_notices,
            announcers: std::mem::take(&mut setup.announcers),
            link_stream,
            link_uses: std::mem::take(&mut setup.link_uses),
            initial_links,
            groups,
            commands,
            events: ev_tx,
            vmacs: std::mem::take(&mut setup.vmacs),
            links: setup.links.take(),
            firewall: setup.firewall.take(),
            dirty: Vec::new(),
            timer,
            buf: vec![0; super::TX_BUFFER],
        };
        let tracked = self
            .instances
            .iter()
            .flat_map(|i| i.config.track.iter().map(|t| t.name.clone()))
            .collect();
        let handle = Handle {
            tx: cmd_tx,
            tracked: Arc::new(tracked),
        };
        Ok((driver, handle, Events { rx: ev_rx }))
    }

    /// Whether anything must be looked up in (or created through) the kernel.
    fn needs_kernel(&self) -> bool {
        let custom = |name: &String| self.transports.contains_key(name);
        self.instances.iter().any(|i| {
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
        // The peers are given once, on the instance: the core learns from them that it is
        // unicast (its receive rules and strict-mode validation depend on it).
        let mut config = instance.config.clone();
        config.unicast |= !instance.unicast_peers.is_empty();
        let router = VirtualRouter::new(config).map_err(|source| DriverError::Config {
            instance: instance.name().to_owned(),
            source,
        })?;
        routers.push(router);
    }
    Ok(routers)
}

/// Sync groups by member slot; marks each member's slot.
fn groups(
    groups: Vec<(String, Vec<String>)>,
    instances: &[Instance],
    slots: &mut [Slot],
) -> Result<Vec<Group>, DriverError> {
    let mut out = Vec::with_capacity(groups.len());
    for (name, members) in groups {
        let mut indexes = Vec::with_capacity(members.len());
        for m in members {
            let slot = instances
                .iter()
                .position(|i| i.name() == m)
                .ok_or(DriverError::UnknownInstance(m))?;
            slots[slot].group = Some((out.len(), indexes.len()));
            indexes.push(slot);
        }
        out.push(Group {
            group: SyncGroup::new(name, indexes.len()),
            members: indexes,
        });
    }
    Ok(out)
}

/// What has been resolved, opened and created so far.
#[derive(Default)]
struct Setup {
    links: Option<Links>,
    ifaces: HashMap<String, Iface>,
    transports: HashMap<Key, Arc<dyn Transport>>,
    raws: HashMap<Key, Arc<RawTransport>>,
    demuxes: HashMap<Key, Demux>,
    announcers: HashMap<u32, Announcer>,
    link_uses: HashMap<u32, Vec<(usize, LinkUse)>>,
    vmacs: Vec<Vmac>,
    slots: Vec<Slot>,
    firewall: Option<Arc<Nftables>>,
}

impl Setup {
    /// Wires one instance: its interfaces, virtual MAC, sockets, demux entry, VIPs, links.
    async fn add(
        &mut self,
        slot: usize,
        instance: &Instance,
        router: VirtualRouter,
    ) -> Result<(), DriverError> {
        let config = router.config();
        let (vrid, family) = (config.vrid.get(), family_of(config.family));
        let iface = self.resolve(&instance.interface).await?;
        let default_dev = match &instance.vmac {
            Some(name) => {
                let source = match config.primary_address {
                    IpAddr::V6(a) => Some(a),
                    IpAddr::V4(_) => None,
                };
                self.vmac(name, (&instance.interface, &iface), vrid, family, source)
                    .await?
            }
            None => iface.clone(),
        };
        let tx_key = (default_dev.index, family);
        // With a virtual MAC, multicast adverts are received on the macvlan as keepalived does:
        // a frame whose source is the shared virtual MAC (another router of this VRID) is
        // delivered by the macvlan driver to our macvlan only, never to the parent. Unicast
        // adverts are addressed to the parent's own MAC and arrive there.
        let rx_key = if instance.unicast_peers.is_empty() {
            tx_key
        } else {
            (iface.index, family)
        };
        self.transport(rx_key)?;
        self.transport(tx_key)?;
        if let (Some(group), Some(raw)) = (instance.group, self.raws.get(&rx_key)) {
            raw.join(group)?;
        }
        self.demuxes
            .entry(rx_key)
            .or_insert_with(|| Demux::new(config.family))
            .register(vrid, slot, router.rx_policy())
            .map_err(|source| DriverError::Config {
                instance: instance.name().to_owned(),
                source,
            })?;
        let mut vips = HashMap::new();
        for va in config
            .virtual_addresses
            .iter()
            .chain(&config.excluded_addresses)
        {
            let vip = self
                .place(instance, va.address, va.prefix_len, &default_dev)
                .await?;
            vips.insert(va.address, vip);
        }
        if iface.kernel {
            self.link_uses
                .entry(iface.index)
                .or_default()
                .push((slot, LinkUse::Own));
        }
        for name in &instance.track_interfaces {
            let tracked = self.resolve(name).await?;
            self.link_uses
                .entry(tracked.index)
                .or_default()
                .push((slot, LinkUse::Track(name.clone())));
        }
        let dsts = if instance.unicast_peers.is_empty() {
            vec![instance.group.unwrap_or_else(|| family.vrrp_group())]
        } else {
            instance.unicast_peers.clone()
        };
        self.slots.push(Slot {
            router,
            rx_key,
            tx_key,
            dsts,
            ttl: match instance.unicast_peers.is_empty() {
                true => crate::transport::VRRP_TTL,
                false => instance.unicast_ttl.unwrap_or(crate::transport::VRRP_TTL),
            },
            vips,
            group: None,
            io_retry_at: None,
        });
        Ok(())
    }

    /// The interface named `name`, from the custom transports or the kernel.
    async fn resolve(&mut self, name: &str) -> Result<Iface, DriverError> {
        if let Some(i) = self.ifaces.get(name) {
            return Ok(i.clone());
        }
        let links = self
            .links
            .as_ref()
            .ok_or_else(|| LinkError::NoSuchInterface(name.to_owned()))?;
        let found = links.by_name(name).await?;
        let mac = <MacAddress>::try_from(found.mac.as_slice()).ok();
        let iface = Iface {
            index: found.index,
            mac,
            running: found.running,
            kernel: true,
        };
        self.ifaces.insert(name.to_owned(), iface.clone());
        Ok(iface)
    }

    /// Creates the virtual MAC macvlan `name` on `parent`.
    async fn vmac(
        &mut self,
        name: &str,
        (parent_name, parent): (&str, &Iface),
        vrid: u8,
        family: AddressFamily,
        source: Option<Ipv6Addr>,
    ) -> Result<Iface, DriverError> {
        let links = self
            .links
            .as_ref()
            .ok_or_else(|| LinkError::NoSuchInterface(name.to_owned()))?;
        let mac = virtual_mac(vrid, family);
        let vmac = Vmac::create(
            links.handle(),
            name,
            parent.index,
            mac,
            family,
            source,
            self.firewall.as_deref().map(|f| (f, parent_name)),
        )
        .await?;
        let iface = Iface {
            index: vmac.ifindex,
            mac: Some(mac),
            running: true,
            kernel: true,
        };
        self.ifaces.insert(name.to_owned(), iface.clone());
        self.vmacs.push(vmac);
        Ok(iface)
    }

    /// Opens the raw socket for `key` unless a transport serves it already.
    fn transport(&mut self, key: Key) -> Result<(), DriverError> {
        if let Entry::Vacant(slot) = self.transports.entry(key) {
            let name = self
                .ifaces
                .iter()
                .find(|(_, i)| i.index == key.0)
                .map(|(n, _)| n.clone())
                .unwrap_or_default();
            let raw = Arc::new(RawTransport::open(&name, key.0, key.1)?);
            self.raws.insert(key, Arc::clone(&raw));
            slot.insert(raw);
        }
        Ok(())
    }

    /// Where `address` goes, and an announcer for that interface when it is a kernel one.
    async fn place(
        &mut self,
        instance: &Instance,
        address: IpAddr,
        prefix_len: u8,
        default_dev: &Iface,
    ) -> Result<Vip, DriverError> {
        let placement = instance.placements.iter().find(|p| p.address == address);
        let dev = match placement.and_then(|p| p.dev.as_ref()) {
            // With a virtual MAC, the instance's own interface means the macvlan.
            Some(dev) if instance.vmac.is_some() && *dev == instance.interface => {
                default_dev.clone()
            }
            Some(dev) => self.resolve(dev).await?,
            None => default_dev.clone(),
        };
        if let (true, Some(mac), Some(links), Entry::Vacant(slot)) = (
            dev.kernel,
            dev.mac,
            self.links.as_ref(),
            self.announcers.entry(dev.index),
        ) {
            let link_local = links.link_local_v6(dev.index).await.ok();
            let socket = PacketSocket::open(dev.index)?;
            slot.insert(Announcer {
                socket,
                mac,
                link_local,
            });
        }
        Ok(Vip {
            ifindex: dev.index,
            addr: address,
            prefix_len,
            label: placement.and_then(|p| p.label.clone()),
            scope: placement.map_or(VipScope::Global, |p| p.scope),
            accept: instance.config.accept_mode,
        })
    }

    /// Removes the virtual MACs and firewall tables created before a failure.
    async fn abandon(self) {
        if let Some(firewall) = &self.firewall
            && let Err(e) = firewall.close().await
        {
            tracing::warn!(error = %e, "cannot remove the firewall tables");
        }
        if let Some(links) = &self.links {
            for vmac in &self.vmacs {
                if let Err(e) = vmac.remove(links.handle()).await {
                    tracing::warn!(vmac = %vmac.name, error = %e, "cannot remove the virtual mac interface");
                }
            }
        }
    }
}

/// The address a router on `ifname` should use as its primary address: the first IPv4
/// address, or the first IPv6 link-local address (RFC 9568 §5.1.2.1).
pub async fn primary_address(ifname: &str, family: Family) -> Result<IpAddr, LinkError> {
    let links = Links::new()?;
    let iface = links.by_name(ifname).await?;
    match family {
        Family::V4 => links.primary_v4(iface.index, &[]).await.map(IpAddr::V4),
        Family::V6 => links.link_local_v6(iface.index).await.map(IpAddr::V6),
    }
}
