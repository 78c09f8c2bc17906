//! What ties instances to the system: resolved interfaces, sockets, per-interface demuxes,
//! announcers, link watches, virtual MACs and the firewall. Built up by
//! [`super::DriverBuilder::build`] and kept by the running driver, so instances added later
//! are wired the same way and removed ones release what only they used.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;

use tokio::sync::watch;
use vrrp_core::{Demux, RouterConfig, VirtualRouter};

use super::instance::Instance;
use super::view::InstanceView;
use super::{Announcer, Key, LinkUse, Slot};
use crate::announce::{MacAddress, PacketSocket};
use crate::error::{DriverError, LinkError};
use crate::firewall::Nftables;
use crate::link::Links;
use crate::transport::{AddressFamily, RawTransport, Transport, VRRP_TTL};
use crate::vip::{Vip, VipScope};
use crate::vmac::{Vmac, virtual_mac};

/// One resolved interface.
#[derive(Debug, Clone)]
pub(super) struct Iface {
    pub(super) name: String,
    pub(super) index: u32,
    pub(super) mac: Option<MacAddress>,
    pub(super) running: bool,
    /// Resolved through the kernel (so announcements and link monitoring apply).
    pub(super) kernel: bool,
}

/// The family of a core configuration, as the transports name it.
pub(super) fn family_of(f: vrrp_core::Family) -> AddressFamily {
    match f {
        vrrp_core::Family::V4 => AddressFamily::Inet,
        vrrp_core::Family::V6 => AddressFamily::Inet6,
    }
}

/// See the module docs.
#[derive(Default)]
pub(super) struct Wiring {
    pub(super) links: Option<Links>,
    /// Interfaces given with custom transports.
    pub(super) custom: HashMap<String, Iface>,
    /// Kernel interfaces looked up during the current build or change (see
    /// [`Wiring::forget_lookups`]).
    looked_up: HashMap<String, Iface>,
    pub(super) transports: HashMap<Key, Arc<dyn Transport>>,
    raws: HashMap<Key, Arc<RawTransport>>,
    pub(super) demuxes: HashMap<Key, Demux>,
    pub(super) announcers: HashMap<u32, Announcer>,
    pub(super) link_uses: HashMap<u32, Vec<(usize, LinkUse)>>,
    pub(super) vmacs: Vec<Vmac>,
    pub(super) firewall: Option<Arc<Nftables>>,
}

impl Wiring {
    /// Whether `key` is a kernel interface's raw socket (not a custom transport).
    pub(super) fn is_kernel(&self, key: Key) -> bool {
        self.raws.contains_key(&key)
    }

    /// Wires one instance under `slot`: its interfaces, virtual MAC, sockets, demux entry,
    /// VIPs and link watches. On error, [`Wiring::release`] undoes what was done.
    pub(super) async fn add(
        &mut self,
        slot: usize,
        instance: &Instance,
        router: VirtualRouter,
    ) -> Result<Slot, DriverError> {
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
        let rx_dev = if instance.unicast_peers.is_empty() {
            &default_dev
        } else {
            &iface
        };
        // With a virtual MAC, multicast adverts are received on the macvlan as keepalived does:
        // a frame whose source is the shared virtual MAC (another router of this VRID) is
        // delivered by the macvlan driver to our macvlan only, never to the parent. Unicast
        // adverts are addressed to the parent's own MAC and arrive there.
        let rx_key = (rx_dev.index, family);
        self.transport(rx_key, &rx_dev.name)?;
        self.transport(tx_key, &default_dev.name)?;
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
        let vips = self
            .place_all(instance, router.config(), &default_dev)
            .await?;
        if iface.kernel {
            self.link_uses
                .entry(iface.index)
                .or_default()
                .push((slot, LinkUse::Own));
        }
        let tracked_down = self.track_links(slot, instance).await?;
        let (view, _) = watch::channel(InstanceView::new(&router));
        Ok(Slot {
            router,
            instance: instance.clone(),
            default_dev,
            own_link: iface.kernel.then_some((iface.index, iface.running)),
            tracked_down,
            rx_key,
            tx_key,
            dsts: destinations(instance, family),
            ttl: ttl(instance),
            vips,
            retiring: HashMap::new(),
            group: None,
            io_retry_at: None,
            view,
        })
    }

    /// The placed VIP of every address (virtual and excluded) of `config`.
    pub(super) async fn place_all(
        &mut self,
        instance: &Instance,
        config: &RouterConfig,
        default_dev: &Iface,
    ) -> Result<HashMap<IpAddr, Vip>, DriverError> {
        let mut vips = HashMap::new();
        for va in config
            .virtual_addresses
            .iter()
            .chain(&config.excluded_addresses)
        {
            let vip = self
                .place(instance, va.address, va.prefix_len, default_dev)
                .await?;
            vips.insert(va.address, vip);
        }
        Ok(vips)
    }

    /// Registers the interfaces `instance` tracks under `slot` (replacing earlier ones);
    /// returns those found down, whose state the router must be told.
    pub(super) async fn track_links(
        &mut self,
        slot: usize,
        instance: &Instance,
    ) -> Result<Vec<String>, DriverError> {
        let mut resolved = Vec::with_capacity(instance.track_interfaces.len());
        for name in &instance.track_interfaces {
            resolved.push((name.clone(), self.resolve(name).await?));
        }
        for uses in self.link_uses.values_mut() {
            uses.retain(|(s, what)| *s != slot || matches!(what, LinkUse::Own));
        }
        let mut down = Vec::new();
        for (name, tracked) in resolved {
            if !tracked.running {
                down.push(name.clone());
            }
            self.link_uses
                .entry(tracked.index)
                .or_default()
                .push((slot, LinkUse::Track(name)));
        }
        Ok(down)
    }

    /// Releases what `slot` (running `instance`, VRID `vrid`) holds: its demux entry, link
    /// watches and virtual MAC (when `remove_vmac`). Sockets stay open for whoever comes next; an error removing
    /// the virtual MAC is returned after everything else was released.
    pub(super) async fn release(
        &mut self,
        slot: usize,
        instance: &Instance,
        vrid: u8,
        remove_vmac: bool,
    ) -> Result<(), DriverError> {
        for demux in self.demuxes.values_mut() {
            if demux.slot_of(vrid) == Some(slot) {
                demux.unregister(vrid);
            }
        }
        for uses in self.link_uses.values_mut() {
            uses.retain(|(s, _)| *s != slot);
        }
        self.link_uses.retain(|_, uses| !uses.is_empty());
        let Some(name) = instance.vmac.as_ref().filter(|_| remove_vmac) else {
            return Ok(());
        };
        let Some(at) = self.vmacs.iter().position(|v| v.name == *name) else {
            return Ok(());
        };
        let vmac = self.vmacs.remove(at);
        self.announcers.remove(&vmac.ifindex);
        self.custom.remove(name);
        self.looked_up.remove(name);
        match &self.links {
            Some(links) => vmac.remove(links.handle()).await.map_err(Into::into),
            None => Ok(()),
        }
    }

    /// Drops the raw sockets, empty demuxes and announcer of interface `index` (deleted);
    /// returns the keys whose sockets were dropped. Custom transports stay.
    pub(super) fn forget_index(&mut self, index: u32) -> Vec<Key> {
        let keys: Vec<Key> = self.raws.keys().filter(|k| k.0 == index).copied().collect();
        for key in &keys {
            self.raws.remove(key);
            self.transports.remove(key);
        }
        self.demuxes.retain(|k, d| k.0 != index || !d.is_empty());
        self.announcers.remove(&index);
        keys
    }

    /// The interface named `name`: a custom transport's, or the kernel's, looked up once per
    /// build or change (so a link state or index is never older than the change).
    pub(super) async fn resolve(&mut self, name: &str) -> Result<Iface, DriverError> {
        if let Some(i) = self.custom.get(name) {
            return Ok(i.clone());
        }
        let links = self
            .links
            .as_ref()
            .ok_or_else(|| LinkError::NoSuchInterface(name.to_owned()))?;
        if let Some(i) = self.looked_up.get(name) {
            return Ok(i.clone());
        }
        let found = links.by_name(name).await?;
        let iface = Iface {
            name: name.to_owned(),
            index: found.index,
            mac: <MacAddress>::try_from(found.mac.as_slice()).ok(),
            running: found.running,
            kernel: true,
        };
        self.looked_up.insert(name.to_owned(), iface.clone());
        Ok(iface)
    }

    /// Forgets the kernel lookups: called before each change of the running driver, so one
    /// build or reconcile looks each interface up once, and the next sees it afresh.
    pub(super) fn forget_lookups(&mut self) {
        self.looked_up.clear();
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
            name: name.to_owned(),
            index: vmac.ifindex,
            mac: Some(mac),
            running: true,
            kernel: true,
        };
        self.vmacs.push(vmac);
        Ok(iface)
    }

    /// Opens the raw socket for `key` on interface `name` unless a transport serves it already.
    fn transport(&mut self, key: Key, name: &str) -> Result<(), DriverError> {
        if let Entry::Vacant(slot) = self.transports.entry(key) {
            let raw = Arc::new(RawTransport::open(name, key.0, key.1)?);
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
        let mut vip = Vip::new(dev.index, address, prefix_len)
            .scope(placement.map_or(VipScope::Global, |p| p.scope))
            .accept(instance.config.accept_mode)
            .options(placement.map(|p| p.options).unwrap_or_default());
        vip.label = placement.and_then(|p| p.label.clone());
        Ok(vip)
    }

    /// Removes the virtual MACs and firewall tables; the first error is returned after
    /// everything was tried.
    pub(super) async fn close(&mut self) -> Result<(), DriverError> {
        let mut first_error: Option<DriverError> = None;
        if let Some(links) = &self.links {
            for vmac in self.vmacs.drain(..) {
                if let Err(e) = vmac.remove(links.handle()).await {
                    tracing::warn!(vmac = %vmac.name, error = %e, "cannot remove the virtual mac interface");
                    first_error.get_or_insert(e.into());
                }
            }
        }
        if let Some(firewall) = &self.firewall
            && let Err(e) = firewall.close().await
        {
            tracing::warn!(error = %e, "cannot remove the firewall tables");
            first_error.get_or_insert(e.into());
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// Where `instance`'s adverts go: its unicast peers, or its multicast group.
pub(super) fn destinations(instance: &Instance, family: AddressFamily) -> Vec<IpAddr> {
    if instance.unicast_peers.is_empty() {
        vec![instance.group.unwrap_or_else(|| family.vrrp_group())]
    } else {
        instance.unicast_peers.clone()
    }
}

/// The TTL / hop limit of `instance`'s adverts: 255 unless unicast with `unicast_ttl`.
pub(super) fn ttl(instance: &Instance) -> u8 {
    match instance.unicast_peers.is_empty() {
        true => VRRP_TTL,
        false => instance.unicast_ttl.unwrap_or(VRRP_TTL),
    }
}
