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
use vrrp_net::driver::{Desired, Handle, Reconciled, primary_address};

use crate::cli::Options;
use crate::daemon::log;
use crate::dump::Configured;
use crate::mapping::{self, instance};
use crate::notify::Notifier;
use crate::scripts::Scripts;

/// The driver's view of a configuration.
pub(crate) struct Plan {
    /// Every instance and sync group.
    pub(crate) desired: Desired,
    /// The static data of each instance, for the dumps.
    pub(crate) configured: Vec<Configured>,
    /// Whether some instance needs the firewall (no_accept, use_vmac).
    pub(crate) needs_firewall: bool,
}

/// Maps every `vrrp_instance` and `vrrp_sync_group` of `conf`, logging what `vrrp_strict`
/// adjusted as keepalived does. `Err` names the instance and what is wrong.
pub(crate) async fn plan(options: &Options, conf: &KeepalivedConf) -> Result<Plan, String> {
    let mut desired = Desired::new();
    let mut configured = Vec::with_capacity(conf.instances.len());
    let mut needs_firewall = false;
    for i in &conf.instances {
        let primary = match mapping::configured_source(i) {
            Some(a) => a,
            None => primary_address(&i.interface, mapping::family(i))
                .await
                .map_err(|e| {
                    format!(
                        "{}: vrrp_instance {}: interface {}: {e}",
                        i.loc, i.name, i.interface
                    )
                })?,
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
        desired = desired.sync_group(g.name.clone(), g.members.clone());
    }
    Ok(Plan {
        desired,
        configured,
        needs_firewall,
    })
}

/// What a running daemon's VRRP side keeps between reloads.
pub(crate) struct Running {
    pub(crate) handle: Handle,
    pub(crate) scripts: Scripts,
    pub(crate) notifier: Notifier,
    /// Whether the driver was built with the firewall (it cannot be added later).
    pub(crate) firewall: bool,
}

impl Running {
    /// Re-reads the configuration and applies the difference. On `Err` (the file does not
    /// read, an instance does not validate, an interface is missing) nothing changed and the
    /// running configuration stays in force, as with keepalived.
    pub(crate) async fn reload(&mut self, options: &Options) -> Result<Reloaded, String> {
        let conf = crate::daemon::load(options)?;
        let plan = plan(options, &conf).await?;
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
        Ok(Reloaded {
            conf,
            configured: plan.configured,
            summary: line,
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
}
