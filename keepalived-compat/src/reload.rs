//! From a keepalived.conf to the VRRP driver's instances, at start and on SIGHUP.
//!
//! keepalived's reload matches old and new instances by name and keeps the state of those
//! whose interface, family and VRID did not change. Here a reload is a diff applied through
//! [`vrrp_net::driver::Handle::reconcile`]: unchanged instances are not touched at all (no
//! transition, no advert out of turn, no address removed and put back), changed ones are
//! updated in place, and only what cannot change in place is restarted. A configuration
//! that does not read or validate is refused before anything changes.

use std::fmt::Write as _;

use keepalived_conf::KeepalivedConf;
use std::collections::HashMap;
use std::net::IpAddr;

use vrrp_core::Family;
use vrrp_net::LinkError;
use vrrp_net::driver::{Desired, Handle, Reconciled};
use vrrp_net::link::Links;

use crate::cli::Options;
use crate::daemon::log;
use crate::dump::Configured;
use crate::mapping::{self, instance};
use crate::notify::Notifier;
use crate::scripts::Scripts;

/// An instance whose interface (or its address) is missing: in FAULT until it appears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Waiting {
    /// The instance.
    pub(crate) name: String,
    /// Its base priority, for the FAULT notification.
    pub(crate) priority: u8,
    /// What is missing, as keepalived words it.
    pub(crate) reason: String,
}

/// The driver's view of a configuration.
pub(crate) struct Plan {
    /// Every instance and sync group that can run now.
    pub(crate) desired: Desired,
    /// Instances left out until their interface (or address) appears.
    pub(crate) waiting: Vec<Waiting>,
    /// The static data of each instance, for the dumps.
    pub(crate) configured: Vec<Configured>,
    /// Whether some instance needs the firewall (no_accept, use_vmac).
    pub(crate) needs_firewall: bool,
}

/// Maps every `vrrp_instance` and `vrrp_sync_group` of `conf`, logging what `vrrp_strict`
/// adjusted as keepalived does. `Err` names the instance and what is wrong.
pub(crate) async fn plan(options: &Options, conf: &KeepalivedConf) -> Result<Plan, String> {
    let mut desired = Desired::new();
    let mut waiting = Vec::new();
    let mut configured = Vec::with_capacity(conf.instances.len());
    let mut needs_firewall = false;
    // One netlink connection and one lookup per interface and family, whatever the number
    // of instances (a reload of hundreds of instances on one interface is one lookup).
    let mut primaries = Primaries::default();
    for i in &conf.instances {
        let primary = match mapping::configured_source(i) {
            Some(a) => a,
            None => match primaries.get(&i.interface, mapping::family(i)).await {
                Ok(a) => a,
                // keepalived 2.2.7 with `dynamic_interfaces`: the instance is in FAULT until
                // the interface (and an address on it) appears; here without the keyword.
                Err(e @ (LinkError::NoSuchInterface(_) | LinkError::NoAddress { .. })) => {
                    waiting.push(Waiting {
                        name: i.name.clone(),
                        priority: i.priority,
                        reason: format!("interface {}: {e}", i.interface),
                    });
                    continue;
                }
                Err(e) => {
                    return Err(format!(
                        "{}: vrrp_instance {}: interface {}: {e}",
                        i.loc, i.name, i.interface
                    ));
                }
            },
        };
        let (inst, adjusted) = instance(conf, i, primary).map_err(|e| e.to_string())?;
        for a in adjusted {
            log(options, &format!("({}) {a}", i.name));
        }
        needs_firewall |= !inst.config.accept_mode || inst.vmac.is_some();
        configured.push(Configured {
            conf: i.clone(),
            config: inst.config.clone(),
            vmac: inst.vmac.clone(),
            sync_group: conf
                .sync_groups
                .iter()
                .find(|g| g.members.contains(&i.name))
                .map(|g| g.name.clone()),
        });
        desired = desired.instance(inst);
    }
    for g in &conf.sync_groups {
        // A group waits whole: its members move together, so none runs without the others.
        if g.members
            .iter()
            .any(|m| waiting.iter().any(|w| w.name == *m))
        {
            let members: Vec<String> = g.members.clone();
            desired
                .instances
                .retain(|i| !members.iter().any(|m| m == i.name()));
            for i in conf.instances.iter().filter(|i| members.contains(&i.name)) {
                if !waiting.iter().any(|w| w.name == i.name) {
                    waiting.push(Waiting {
                        name: i.name.clone(),
                        priority: i.priority,
                        reason: format!("sync group {} waits for a member's interface", g.name),
                    });
                }
            }
            continue;
        }
        desired = desired.sync_group(g.name.clone(), g.members.clone());
    }
    configured.retain(|c| !waiting.iter().any(|w| w.name == c.conf.name));
    Ok(Plan {
        desired,
        waiting,
        configured,
        needs_firewall,
    })
}

/// Primary addresses by interface and family, looked up once each over one connection.
#[derive(Default)]
struct Primaries {
    links: Option<Links>,
    found: HashMap<(String, Family), IpAddr>,
}

impl Primaries {
    async fn get(&mut self, ifname: &str, family: Family) -> Result<IpAddr, LinkError> {
        let key = (ifname.to_owned(), family);
        if let Some(a) = self.found.get(&key) {
            return Ok(*a);
        }
        let links = match &self.links {
            Some(l) => l,
            None => self.links.insert(Links::new()?),
        };
        let found = links.primary_address(ifname, family).await?;
        self.found.insert(key, found);
        Ok(found)
    }
}

/// What a running daemon's VRRP side keeps between reloads.
pub(crate) struct Running {
    pub(crate) handle: Handle,
    pub(crate) scripts: Scripts,
    /// The `vrrp_track_process` monitor (kept: its socket may be in another namespace).
    pub(crate) processes: crate::track_process::Processes,
    /// The `track_file` watchers.
    pub(crate) files: crate::track_file::Files,
    pub(crate) notifier: Notifier,
    /// Whether the driver was built with the firewall (it cannot be added later).
    pub(crate) firewall: bool,
    /// The configuration in force.
    pub(crate) conf: KeepalivedConf,
    /// Its instances waiting for their interface.
    pub(crate) waiting: Vec<Waiting>,
}

impl Running {
    /// Re-reads the configuration and applies the difference. On `Err` (the file does not
    /// read, an instance does not validate, an interface is missing) nothing changed and the
    /// running configuration stays in force, as with keepalived.
    pub(crate) async fn reload(&mut self, options: &Options) -> Result<Reloaded, String> {
        let conf = crate::daemon::load(options)?;
        self.apply(options, conf).await
    }

    /// Plans the configuration in force again, if some instance waits for its interface:
    /// when what waits changed (an interface appeared, or vanished), applies the new plan.
    pub(crate) async fn retry(&mut self, options: &Options) -> Option<Result<Reloaded, String>> {
        if self.waiting.is_empty() {
            return None;
        }
        let planned = match plan(options, &self.conf).await {
            Ok(p) if p.waiting == self.waiting => return None,
            Ok(p) => p,
            Err(e) => return Some(Err(e)),
        };
        Some(self.apply_plan(options, self.conf.clone(), planned).await)
    }

    /// Applies `conf`; see [`Running::reload`].
    async fn apply(&mut self, options: &Options, conf: KeepalivedConf) -> Result<Reloaded, String> {
        let plan = plan(options, &conf).await?;
        self.apply_plan(options, conf, plan).await
    }

    /// Applies `conf`, already planned as `plan`.
    async fn apply_plan(
        &mut self,
        options: &Options,
        conf: KeepalivedConf,
        mut plan: Plan,
    ) -> Result<Reloaded, String> {
        crate::track_file::initialise(&conf, true);
        crate::tracking::prepare(
            &conf,
            &mut plan.desired.instances,
            &self.processes.states(),
            &crate::track_file::values(&conf),
        );
        if plan.needs_firewall && !self.firewall {
            log(
                options,
                "Warning - no_accept or use_vmac added by the reload: the firewall tables are \
                 only created at start, restart to enforce them",
            );
        }
        let done: Reconciled = self
            .handle
            .reconcile(plan.desired)
            .await
            .map_err(|e| format!("reload refused, running configuration kept: {e}"))?;
        let (started, stopped) = self.scripts.sync(&conf, &self.handle);
        self.processes.sync(&conf, &self.handle);
        self.files.sync(&conf, &self.handle).await;
        if let Err(e) = self.notifier.reload(&conf) {
            log(options, &format!("notify fifo: {e}"));
        }
        let mut line = format!("VRRP reloaded: {done}");
        if !started.is_empty() || !stopped.is_empty() {
            let _ = write!(
                line,
                "; scripts started [{}], stopped [{}]",
                started.join(", "),
                stopped.join(", ")
            );
        }
        for (name, e) in &done.failed {
            log(options, &format!("({name}) reload failed: {e}"));
        }
        let newly_waiting: Vec<Waiting> = plan
            .waiting
            .iter()
            .filter(|w| !self.waiting.iter().any(|o| o.name == w.name))
            .cloned()
            .collect();
        self.waiting = plan.waiting;
        self.conf = conf.clone();
        Ok(Reloaded {
            conf,
            configured: plan.configured,
            summary: line,
            newly_waiting,
        })
    }
}

/// A reload that was applied.
pub(crate) struct Reloaded {
    /// The configuration now in force.
    pub(crate) conf: KeepalivedConf,
    /// Its instances' static data, for the dumps.
    pub(crate) configured: Vec<Configured>,
    /// One line: what was added, removed, updated, left alone, and what failed.
    pub(crate) summary: String,
    /// Instances that now wait for their interface and did not before (to be notified
    /// FAULT).
    pub(crate) newly_waiting: Vec<Waiting>,
}
