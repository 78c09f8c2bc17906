//! Changing the running driver: instances added, removed and updated in place, and the
//! reconcile that turns a whole desired configuration into those steps (the library form of
//! keepalived's reload). What did not change is not touched: no transition, no advert, no
//! address removed and put back.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::IpAddr;
use std::time::Instant;

use vrrp_core::group::SyncGroup;
use vrrp_core::{State, VirtualRouter};

use super::instance::Instance;
use super::wiring::{destinations, family_of, ttl};
use super::{Driver, Event, Fault, Group};
use crate::error::DriverError;
use crate::vip::Vip;

/// What makes an instance the same virtual router on the same wire (keepalived's matching
/// rule on reload); a change of any of these is a remove + add.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Identity {
    /// The interface adverts are sent and received on.
    Interface,
    /// IPv4 or IPv6.
    Family,
    /// The VRID.
    Vrid,
    /// VRRPv2 or v3.
    Version,
    /// Unicast (peers given) or multicast.
    Transport,
    /// The multicast group.
    MulticastGroup,
    /// The virtual MAC interface.
    Vmac,
    /// Sync-group membership.
    SyncGroup,
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Identity::Interface => "interface",
            Identity::Family => "address family",
            Identity::Vrid => "virtual_router_id",
            Identity::Version => "version",
            Identity::Transport => "unicast/multicast",
            Identity::MulticastGroup => "multicast group",
            Identity::Vmac => "use_vmac",
            Identity::SyncGroup => "sync group",
        })
    }
}

/// What an update of one instance did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Update {
    /// The instance was given exactly as it runs: nothing was touched.
    Unchanged,
    /// Changed in place: state, timers and counters kept. A master installed `added` and
    /// removed `removed` (a backup only recorded them).
    InPlace {
        /// Addresses the update added.
        added: Vec<IpAddr>,
        /// Addresses the update removed.
        removed: Vec<IpAddr>,
    },
    /// Stopped gracefully and started again, because this changed.
    Replaced {
        /// The first identity field that differs.
        because: Identity,
    },
}

impl fmt::Display for Update {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Update::Unchanged => f.write_str("unchanged"),
            Update::InPlace { added, removed } => {
                write!(f, "in place")?;
                for a in added {
                    write!(f, " +{a}")?;
                }
                for a in removed {
                    write!(f, " -{a}")?;
                }
                Ok(())
            }
            Update::Replaced { because } => write!(f, "replaced ({because} changed)"),
        }
    }
}

/// The whole configuration a [`super::Handle::reconcile`] should make true.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Desired {
    /// Every instance that should run.
    pub instances: Vec<Instance>,
    /// Every sync group: name and member instance names.
    pub sync_groups: Vec<(String, Vec<String>)>,
}

impl Desired {
    /// Nothing: reconciling to it stops every instance.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an instance.
    pub fn instance(mut self, instance: Instance) -> Self {
        self.instances.push(instance);
        self
    }

    /// Adds a sync group of the named instances.
    pub fn sync_group(
        mut self,
        name: impl Into<String>,
        members: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.sync_groups
            .push((name.into(), members.into_iter().map(Into::into).collect()));
        self
    }
}

/// What a reconcile did, instance by instance.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Reconciled {
    /// Instances started.
    pub added: Vec<String>,
    /// Instances stopped and removed.
    pub removed: Vec<String>,
    /// Instances changed in place or replaced.
    pub updated: Vec<(String, Update)>,
    /// Instances left exactly as they were.
    pub unchanged: Vec<String>,
    /// Instances whose change failed while applying, and why (the others were applied).
    pub failed: Vec<(String, DriverError)>,
}

impl Reconciled {
    /// Whether nothing was added, removed or changed.
    pub fn is_noop(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.updated.is_empty()
            && self.failed.is_empty()
    }
}

/// `added [VI_3], removed [], updated [VI_1: in place +192.0.2.7], unchanged 2, failed []`.
impl fmt::Display for Reconciled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let updated: Vec<String> = self
            .updated
            .iter()
            .map(|(name, u)| format!("{name}: {u}"))
            .collect();
        let failed: Vec<String> = self
            .failed
            .iter()
            .map(|(name, e)| format!("{name}: {e}"))
            .collect();
        write!(
            f,
            "added [{}], removed [{}], updated [{}], unchanged {}, failed [{}]",
            self.added.join(", "),
            self.removed.join(", "),
            updated.join(", "),
            self.unchanged.len(),
            failed.join("; ")
        )
    }
}

/// The router of `instance`, validated; its configuration is marked unicast when it has
/// peers (the peers are given once, on the instance).
pub(super) fn router_for(instance: &Instance) -> Result<VirtualRouter, DriverError> {
    VirtualRouter::new(core_config(instance)).map_err(|source| DriverError::Config {
        instance: instance.name().to_owned(),
        source,
    })
}

fn core_config(instance: &Instance) -> vrrp_core::RouterConfig {
    let mut config = instance.config.clone();
    config.unicast |= !instance.unicast_peers.is_empty();
    config
}

/// The first identity field that differs between `old` and `new`.
fn identity_change(old: &Instance, new: &Instance) -> Option<Identity> {
    let (a, b) = (&old.config, &new.config);
    [
        (old.interface != new.interface, Identity::Interface),
        (a.family != b.family, Identity::Family),
        (a.vrid != b.vrid, Identity::Vrid),
        (a.version != b.version, Identity::Version),
        (
            old.unicast_peers.is_empty() != new.unicast_peers.is_empty(),
            Identity::Transport,
        ),
        (old.group != new.group, Identity::MulticastGroup),
        (old.vmac != new.vmac, Identity::Vmac),
        (a.sync_group != b.sync_group, Identity::SyncGroup),
    ]
    .into_iter()
    .find_map(|(differs, what)| differs.then_some(what))
}

impl Driver {
    /// Wires and starts `instance` in a free slot, as member `group` (group, member index)
    /// of a sync group or in none.
    pub(super) async fn add_instance(
        &mut self,
        now: Instant,
        instance: Instance,
        group: Option<(usize, usize)>,
    ) -> Result<(), DriverError> {
        self.add_with_link(now, instance, group, None).await
    }

    /// [`Driver::add_instance`], with the own interface's link state taken from `link`
    /// instead of the kernel's answer (the link event being handled: later events then
    /// apply in order).
    pub(super) async fn add_with_link(
        &mut self,
        now: Instant,
        instance: Instance,
        group: Option<(usize, usize)>,
        link: Option<bool>,
    ) -> Result<(), DriverError> {
        let name = instance.name().to_owned();
        if self.slot_named(&name).is_some() {
            return Err(DriverError::DuplicateInstance(name));
        }
        if group.is_none() && instance.config.sync_group {
            return Err(DriverError::SyncGroupMember(name));
        }
        let router = router_for(&instance)?;
        let vrid = router.config().vrid.get();
        let slot = self
            .slots
            .iter()
            .position(Option::is_none)
            .unwrap_or(self.slots.len());
        // A virtual MAC of that name that exists already is someone else's: never removed here.
        let foreign_vmac = instance
            .vmac
            .as_ref()
            .is_some_and(|n| self.wiring.vmacs.iter().any(|v| v.name == *n));
        let mut wired = match self.wiring.add(slot, &instance, router).await {
            Ok(s) => s,
            Err(e) => {
                if let Err(undo) = self
                    .wiring
                    .release(slot, &instance, vrid, !foreign_vmac)
                    .await
                {
                    tracing::warn!(instance = %name, error = %undo, "cannot undo a failed add");
                }
                return Err(e);
            }
        };
        wired.group = group;
        if let (Some(running), Some((_, own))) = (link, wired.own_link.as_mut()) {
            *own = running;
        }
        if slot == self.slots.len() {
            self.slots.push(Some(wired));
        } else {
            self.slots[slot] = Some(wired);
        }
        self.by_name.insert(name.clone(), slot);
        if let Some((g, m)) = group
            && let Some(member) = self.groups.get_mut(g).and_then(|g| g.members.get_mut(m))
        {
            *member = slot;
        }
        if let Err(e) = self.serve_new_wiring() {
            tracing::warn!(instance = %name, error = %e, "cannot watch the links of a new instance");
        }
        self.refresh_tracked();
        tracing::info!(instance = %name, "instance added");
        self.emit(Event::InstanceAdded { instance: name });
        self.start(now, slot);
        self.drain(now).await;
        Ok(())
    }

    /// Stops `name` gracefully (RFC 9568 §6.4.3 for a master: priority 0, addresses
    /// removed) and releases its slot; `in_group` allows removing a sync-group member.
    pub(super) async fn remove_instance(
        &mut self,
        now: Instant,
        name: &str,
        in_group: bool,
    ) -> Result<(), DriverError> {
        let slot = self
            .slot_named(name)
            .ok_or_else(|| DriverError::UnknownInstance(name.to_owned()))?;
        if !in_group && self.slot(slot).is_some_and(|s| s.group.is_some()) {
            return Err(DriverError::SyncGroupMember(name.to_owned()));
        }
        self.detach(now, slot, true).await
    }

    /// Takes `slot` out of the driver, after a graceful stop of its router when `shutdown`
    /// (without one, nothing is sent and no state change reported: for a router in Fault
    /// whose interface is gone).
    pub(super) async fn detach(
        &mut self,
        now: Instant,
        slot: usize,
        shutdown: bool,
    ) -> Result<(), DriverError> {
        if shutdown {
            self.feed(now, slot, vrrp_core::Input::Shutdown);
            self.drain(now).await;
        }
        let Some(gone) = self.slots.get_mut(slot).and_then(Option::take) else {
            return Err(DriverError::UnknownInstance(String::new()));
        };
        let name = gone.router.config().name.clone();
        self.by_name.remove(&name);
        let vrid = gone.router.config().vrid.get();
        let released = self.wiring.release(slot, &gone.instance, vrid, true).await;
        self.refresh_tracked();
        tracing::info!(instance = %name, "instance removed");
        self.emit(Event::InstanceRemoved { instance: name });
        released
    }

    /// Applies `new` to the instance of the same name: in place when its identity matches,
    /// else remove + add. On error nothing was changed (but for a replacement whose add
    /// failed: the instance is then gone, and the error says why).
    pub(super) async fn update_instance(
        &mut self,
        now: Instant,
        new: Instance,
    ) -> Result<Update, DriverError> {
        let name = new.name().to_owned();
        let slot = self
            .slot_named(&name)
            .ok_or_else(|| DriverError::UnknownInstance(name.clone()))?;
        let Some(s) = self.slot(slot) else {
            return Err(DriverError::UnknownInstance(name));
        };
        if s.instance == new {
            return Ok(Update::Unchanged);
        }
        if let Some(because) = identity_change(&s.instance, &new) {
            let group = s.group;
            router_for(&new)?;
            self.remove_instance(now, &name, true).await?;
            self.add_instance(now, new, group).await?;
            return Ok(Update::Replaced { because });
        }

        // Everything that can fail first, on copies: the running router is not touched
        // until the new configuration is known to be valid and placeable.
        let mut router = s.router.clone();
        let done = router
            .reconfigure(now, core_config(&new))
            .map_err(|source| DriverError::Config {
                instance: name.clone(),
                source,
            })?;
        let default_dev = s.default_dev.clone();
        let vips = self
            .wiring
            .place_all(&new, router.config(), &default_dev)
            .await?;
        let tracked_down = self.wiring.track_links(slot, &new).await?;

        let Some(s) = self.slot_mut(slot) else {
            return Err(DriverError::UnknownInstance(name));
        };
        let master = s.router.state() == State::Master;
        let removed: Vec<IpAddr> = done.removed.iter().map(|a| a.address).collect();
        let moved: Vec<(Vip, Vip)> = vips
            .iter()
            .filter(|(addr, _)| !removed.contains(addr))
            .filter_map(|(addr, vip)| {
                s.vips
                    .get(addr)
                    .filter(|old| *old != vip)
                    .map(|old| (old.clone(), vip.clone()))
            })
            .collect();
        s.retiring = removed
            .iter()
            .filter_map(|a| s.vips.get(a).map(|v| (*a, v.clone())))
            .collect::<HashMap<_, _>>();
        s.vips = vips;
        s.router = router;
        s.dsts = destinations(&new, family_of(new.config.family));
        s.ttl = ttl(&new);
        s.instance = new;
        let (rx_key, vrid, policy) = (s.rx_key, s.router.config().vrid.get(), s.router.rx_policy());
        if let Some(demux) = self.wiring.demuxes.get_mut(&rx_key) {
            demux.update(vrid, policy);
        }
        for tracked in &tracked_down {
            self.feed(
                now,
                slot,
                vrrp_core::Input::Track {
                    name: tracked,
                    state: vrrp_core::TrackState::Down,
                },
            );
        }
        self.dirty.push(slot);
        self.drain(now).await;
        if master {
            // Same address, other placement (interface, label, scope, Accept_Mode): the core
            // sees no change; the old placement goes, the new one comes.
            for (old, new) in moved {
                if let Err(error) = self.vips.remove(&old).await {
                    tracing::warn!(instance = %name, vip = %old, %error, "cannot remove a moved virtual address");
                }
                if let Err(error) = self.vips.add(&new).await {
                    self.fault(
                        now,
                        slot,
                        Fault::VipAdd {
                            vip: new,
                            error: std::sync::Arc::new(error),
                        },
                    );
                }
            }
            self.drain(now).await;
        }
        if let Some(s) = self.slot_mut(slot) {
            s.retiring.clear();
        }
        self.refresh_tracked();
        if let Err(e) = self.serve_new_wiring() {
            tracing::warn!(instance = %name, error = %e, "cannot watch the links of an instance");
        }
        Ok(Update::InPlace {
            added: done.added.iter().map(|a| a.address).collect(),
            removed,
        })
    }

    /// See [`super::Handle::reconcile`].
    pub(super) async fn reconcile(
        &mut self,
        now: Instant,
        desired: Desired,
    ) -> Result<Reconciled, DriverError> {
        // Validate the whole set before touching anything.
        let mut wanted: HashSet<&str> = HashSet::with_capacity(desired.instances.len());
        for instance in &desired.instances {
            if !wanted.insert(instance.name()) {
                return Err(DriverError::DuplicateInstance(instance.name().to_owned()));
            }
            router_for(instance)?;
        }
        for (_, members) in &desired.sync_groups {
            if let Some(m) = members.iter().find(|m| !wanted.contains(m.as_str())) {
                return Err(DriverError::UnknownInstance(m.clone()));
            }
        }

        // Sync groups whose membership changed are rebuilt with all their members.
        let changed = |specs: &[(String, Vec<String>)], others: &[(String, Vec<String>)]| {
            specs
                .iter()
                .filter(|spec| !others.contains(spec))
                .flat_map(|(_, members)| members.clone())
                .collect::<Vec<String>>()
        };
        let mut regrouped = changed(&self.group_specs, &desired.sync_groups);
        regrouped.extend(changed(&desired.sync_groups, &self.group_specs));

        let mut done = Reconciled::default();
        let running: Vec<String> = self
            .slots
            .iter()
            .flatten()
            .map(|s| s.router.config().name.clone())
            .collect();
        for name in &running {
            let wanted = wanted.contains(name.as_str());
            if wanted && !regrouped.contains(name) {
                continue;
            }
            match self.remove_instance(now, name, true).await {
                Ok(()) if !wanted => done.removed.push(name.clone()),
                Ok(()) => {}
                Err(e) => done.failed.push((name.clone(), e)),
            }
        }

        // Unchanged groups keep their coordinator; changed ones start afresh.
        let mut groups = Vec::with_capacity(desired.sync_groups.len());
        let mut old: Vec<Option<Group>> = std::mem::take(&mut self.groups)
            .into_iter()
            .map(Some)
            .collect();
        for spec in &desired.sync_groups {
            let kept = self
                .group_specs
                .iter()
                .position(|s| s == spec)
                .and_then(|at| old.get_mut(at).and_then(Option::take));
            groups.push(kept.unwrap_or_else(|| Group {
                group: SyncGroup::new(spec.0.clone(), spec.1.len()),
                members: vec![usize::MAX; spec.1.len()],
            }));
        }
        self.groups = groups;
        self.group_specs = desired.sync_groups.clone();
        for (g, (_, members)) in desired.sync_groups.iter().enumerate() {
            for (m, member) in members.iter().enumerate() {
                if let Some(slot) = self.slot_named(member) {
                    if let Some(s) = self.slot_mut(slot) {
                        s.group = Some((g, m));
                    }
                    self.groups[g].members[m] = slot;
                }
            }
        }

        for instance in desired.instances {
            let name = instance.name().to_owned();
            let membership = self
                .group_specs
                .iter()
                .enumerate()
                .find_map(|(g, (_, ms))| ms.iter().position(|m| *m == name).map(|m| (g, m)));
            if self.slot_named(&name).is_some() {
                match self.update_instance(now, instance).await {
                    Ok(Update::Unchanged) => done.unchanged.push(name),
                    Ok(update) => done.updated.push((name, update)),
                    Err(e) => done.failed.push((name, e)),
                }
            } else {
                let replaced = running.contains(&name);
                match self.add_instance(now, instance, membership).await {
                    Ok(()) if replaced => done.updated.push((
                        name,
                        Update::Replaced {
                            because: Identity::SyncGroup,
                        },
                    )),
                    Ok(()) => done.added.push(name),
                    Err(e) => done.failed.push((name, e)),
                }
            }
        }
        tracing::info!(%done, "reconciled");
        Ok(done)
    }
}
