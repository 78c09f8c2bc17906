//! Turning instances into a running [`Driver`]: resolving interfaces, opening sockets,
//! registering routers with their interface's demux.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::net::IpAddr;
use std::sync::Arc;

use tokio::sync::mpsc;
use vrrp_core::group::SyncGroup;
use vrrp_core::{Demux, Family, VirtualRouter};

use super::event::Events;
use super::handle::Handle;
use super::instance::Instance;
use super::{Announcer, Driver, Group, Key, LinkUse, Slot};
use crate::announce::{MacAddress, PacketSocket};
use crate::error::{DriverError, LinkError};
use crate::link::{Links, link_changes};
use crate::transport::{AddressFamily, RawTransport, Transport};
use crate::vip::{NetlinkVips, Vip, VipBackend, VipScope};
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
    /// runtime; the returned driver does nothing until [`Driver::run`] is awaited.
    pub async fn build(self) -> Result<(Driver, Handle, Events), DriverError> {
        let mut routers = Vec::with_capacity(self.instances.len());
        for instance in &self.instances {
            if routers
                .iter()
                .any(|(i, _): &(&Instance, VirtualRouter)| i.name() == instance.name())
            {
                return Err(DriverError::DuplicateInstance(instance.name().to_owned()));
            }
            let router = VirtualRouter::new(instance.config.clone()).map_err(|source| {
                DriverError::Config {
                    instance: instance.name().to_owned(),
                    source,
                }
            })?;
            routers.push((instance, router));
        }

        let needs_kernel = self.instances.iter().any(|i| {
            !self.transports.contains_key(&i.interface)
                || i.vmac.is_some()
                || !i.track_interfaces.is_empty()
                || i.placements.iter().any(|p| {
                    p.dev
                        .as_ref()
                        .is_some_and(|d| !self.transports.contains_key(d))
                })
        });
        let links = if needs_kernel {
            Some(Links::new()?)
        } else {
            None
        };
        let mut ifaces: HashMap<String, Iface> = HashMap::new();
        for (name, ts) in &self.transports {
            if let Some(t) = ts.first() {
                ifaces.insert(
                    name.clone(),
                    Iface {
                        index: t.ifindex(),
                        mac: None,
                        running: true,
                        kernel: false,
                    },
                );
            }
        }
        let mut transports: HashMap<Key, Arc<dyn Transport>> = HashMap::new();
        for ts in self.transports.values() {
            for t in ts {
                transports.insert((t.ifindex(), t.family()), Arc::clone(t));
            }
        }
        let vips: Arc<dyn VipBackend> = match self.vips {
            Some(v) => v,
            None => Arc::new(NetlinkVips::new()?),
        };

        let mut vmacs = Vec::new();
        let mut slots = Vec::with_capacity(routers.len());
        let mut link_uses: HashMap<u32, Vec<(usize, LinkUse)>> = HashMap::new();
        let mut demuxes: HashMap<Key, Demux> = HashMap::new();
        let mut announcers: HashMap<u32, Announcer> = HashMap::new();
        let mut checksum_dsts = HashMap::new();
        let mut raws: HashMap<Key, Arc<RawTransport>> = HashMap::new();
        for (slot, (instance, router)) in routers.into_iter().enumerate() {
            let config = router.config();
            let family = family_of(config.family);
            let iface = resolve(&mut ifaces, links.as_ref(), &instance.interface).await?;
            let rx_key = (iface.index, family);
            let mut tx_key = rx_key;
            let mut default_dev = iface.clone();
            if let (Some(name), Some(links)) = (&instance.vmac, links.as_ref()) {
                let mac = virtual_mac(config.vrid.get(), family);
                let vmac = Vmac::create(links.handle(), name, iface.index, mac, family).await?;
                let vif = Iface {
                    index: vmac.ifindex,
                    mac: Some(mac),
                    running: true,
                    kernel: true,
                };
                ifaces.insert(name.clone(), vif.clone());
                tx_key = (vmac.ifindex, family);
                default_dev = vif;
                vmacs.push(vmac);
            }
            for key in [rx_key, tx_key] {
                if let Entry::Vacant(slot) = transports.entry(key) {
                    let name = ifaces
                        .iter()
                        .find(|(_, i)| i.index == key.0)
                        .map(|(n, _)| n.clone())
                        .unwrap_or_default();
                    let raw = Arc::new(RawTransport::open(&name, key.0, key.1)?);
                    raws.insert(key, Arc::clone(&raw));
                    slot.insert(raw);
                }
            }
            if let (Some(group), Some(raw)) = (instance.group, raws.get(&rx_key)) {
                raw.join(group)?;
            }
            let demux = demuxes
                .entry(rx_key)
                .or_insert_with(|| Demux::new(config.family));
            demux
                .register(config.vrid.get(), slot, router.rx_policy())
                .map_err(|source| DriverError::Config {
                    instance: instance.name().to_owned(),
                    source,
                })?;

            let mut placed = HashMap::new();
            for va in config
                .virtual_addresses
                .iter()
                .chain(&config.excluded_addresses)
            {
                let placement = instance.placements.iter().find(|p| p.address == va.address);
                let dev = match placement.and_then(|p| p.dev.as_ref()) {
                    // With a virtual MAC, the instance's own interface means the macvlan.
                    Some(dev) if instance.vmac.is_some() && *dev == instance.interface => {
                        default_dev.clone()
                    }
                    Some(dev) => resolve(&mut ifaces, links.as_ref(), dev).await?,
                    None => default_dev.clone(),
                };
                let vip = Vip {
                    ifindex: dev.index,
                    addr: va.address,
                    prefix_len: va.prefix_len,
                    label: placement.and_then(|p| p.label.clone()),
                    scope: placement.map_or(VipScope::Global, |p| p.scope),
                };
                if let (true, Some(mac), Some(links), Entry::Vacant(slot)) = (
                    dev.kernel,
                    dev.mac,
                    links.as_ref(),
                    announcers.entry(dev.index),
                ) {
                    let link_local = links.link_local_v6(dev.index).await.ok();
                    let socket = PacketSocket::open(dev.index)?;
                    slot.insert(Announcer {
                        socket,
                        mac,
                        link_local,
                    });
                }
                placed.insert(va.address, vip);
            }

            if iface.kernel {
                link_uses
                    .entry(iface.index)
                    .or_default()
                    .push((slot, LinkUse::Own));
            }
            for name in &instance.track_interfaces {
                let tracked = resolve(&mut ifaces, links.as_ref(), name).await?;
                link_uses
                    .entry(tracked.index)
                    .or_default()
                    .push((slot, LinkUse::Track(name.clone())));
            }
            let dsts: Vec<IpAddr> = if instance.unicast_peers.is_empty() {
                vec![instance.group.unwrap_or_else(|| family.vrrp_group())]
            } else {
                instance.unicast_peers.clone()
            };
            if let Some(dst) = instance.checksum_dst {
                checksum_dsts.insert((rx_key, config.vrid.get()), dst);
            }
            slots.push(Slot {
                checksum_dst: instance.checksum_dst,
                router,
                rx_key,
                tx_key,
                dsts,
                vips: placed,
                group: None,
                io_retry_at: None,
            });
        }

        let mut groups = Vec::new();
        for (name, members) in self.groups {
            let mut indexes = Vec::new();
            for m in &members {
                let slot = self
                    .instances
                    .iter()
                    .position(|i| i.name() == m)
                    .ok_or(DriverError::UnknownInstance(m.clone()))?;
                slots[slot].group = Some((groups.len(), indexes.len()));
                indexes.push(slot);
            }
            groups.push(Group {
                group: SyncGroup::new(name, indexes.len()),
                members: indexes,
            });
        }

        let initial_links: Vec<(u32, bool)> = link_uses
            .keys()
            .filter_map(|index| {
                ifaces
                    .values()
                    .find(|i| i.index == *index)
                    .map(|i| (*index, i.running))
            })
            .collect();
        let link_stream: Option<super::LinkStream> = if link_uses.is_empty() {
            None
        } else {
            Some(Box::pin(link_changes()?))
        };

        let (rx_tx, rx) = mpsc::channel(RX_QUEUE);
        let mut rx_tasks = Vec::new();
        for (key, transport) in &transports {
            if !demuxes.contains_key(key) {
                continue;
            }
            let (key, transport, tx) = (*key, Arc::clone(transport), rx_tx.clone());
            rx_tasks.push(tokio::spawn(super::receive_loop(key, transport, tx)));
        }
        let (cmd_tx, commands) = mpsc::unbounded_channel();
        let (ev_tx, ev_rx) = mpsc::unbounded_channel();
        let vip_notices = vips.take_notices();
        let driver = Driver {
            slots,
            demuxes,
            transports,
            rx_tasks,
            rx,
            vips,
            vip_notices,
            announcers,
            link_stream,
            link_uses,
            initial_links,
            groups,
            commands,
            events: ev_tx,
            vmacs,
            links,
            checksum_dsts,
            dirty: Vec::new(),
            alarm: super::alarm::Alarm::new().map_err(DriverError::Timer)?,
            buf: vec![0; super::TX_BUFFER],
        };
        Ok((driver, Handle { tx: cmd_tx }, Events { rx: ev_rx }))
    }
}

async fn resolve(
    ifaces: &mut HashMap<String, Iface>,
    links: Option<&Links>,
    name: &str,
) -> Result<Iface, DriverError> {
    if let Some(i) = ifaces.get(name) {
        return Ok(i.clone());
    }
    let links = links.ok_or_else(|| LinkError::NoSuchInterface(name.to_owned()))?;
    let found = links.by_name(name).await?;
    let mac = <MacAddress>::try_from(found.mac.as_slice()).ok();
    let iface = Iface {
        index: found.index,
        mac,
        running: found.running,
        kernel: true,
    };
    ifaces.insert(name.to_owned(), iface.clone());
    Ok(iface)
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
