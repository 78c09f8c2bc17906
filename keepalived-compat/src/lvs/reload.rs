//! A reload: the running virtual servers reconciled with a newly parsed configuration.
//!
//! keepalived 2.2.7's rules: a virtual server or real server gone from the file is removed
//! (its IPVS service or destination deleted, even with `inhibit_on_failure`); a new one
//! starts like at startup; one that stays keeps its IPVS destination (its connections) and
//! its checker state when its checkers did not change, and only a new weight is an edit.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;

use healthcheck::{Control, Health, Replaced, TargetId};

use super::LvsError;
use super::events::{Lvs, Notice, Service, pool, quorum_notices};
use super::plan::{RealPlan, ServicePlan};

/// What a reload changed, for the log: `Display` is one line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ReloadSummary {
    /// Virtual servers added, by keepalived's name (`[192.0.2.15]:tcp:80`).
    pub(crate) services_added: Vec<String>,
    /// Virtual servers removed.
    pub(crate) services_removed: Vec<String>,
    /// Real servers added to a staying virtual server: `RS of VS`.
    pub(crate) reals_added: Vec<String>,
    /// Real servers removed from a staying virtual server.
    pub(crate) reals_removed: Vec<String>,
    /// Real servers that stay with another weight or other checks, with what changed.
    pub(crate) reals_changed: Vec<String>,
}

impl ReloadSummary {
    /// Whether the reload changed nothing.
    pub(crate) fn is_empty(&self) -> bool {
        self.services_added.is_empty()
            && self.services_removed.is_empty()
            && self.reals_added.is_empty()
            && self.reals_removed.is_empty()
            && self.reals_changed.is_empty()
    }
}

impl fmt::Display for ReloadSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("reload: no virtual or real server changed");
        }
        f.write_str("reload:")?;
        let mut first = true;
        for (what, list) in [
            ("virtual server(s) added", &self.services_added),
            ("virtual server(s) removed", &self.services_removed),
            ("real server(s) added", &self.reals_added),
            ("real server(s) removed", &self.reals_removed),
            ("real server(s) changed", &self.reals_changed),
        ] {
            if list.is_empty() {
                continue;
            }
            let sep = if first { " " } else { "; " };
            first = false;
            write!(f, "{sep}{} {what}: {}", list.len(), list.join(", "))?;
        }
        Ok(())
    }
}

/// Where each service of the reloaded configuration came from.
pub(crate) type Origins = Vec<Option<usize>>;

impl Lvs {
    /// Reconciles the running services with `plans` (a newly parsed configuration):
    /// targets are added, removed or replaced through `control`, the pools changed in place.
    /// Returns what changed, the notifications to send (quorum changes), and for each new
    /// service the index of the old one it continues (for the kernel's tables).
    ///
    /// The new pools are checked before anything changes; a target the scheduler refuses
    /// afterwards (not expected: the plan built it) stops the reload half-way, reported.
    /// New targets of a service for which `suspended` answers `true` are added suspended
    /// (`ha_suspend` with its address absent); targets that stay keep their suspension.
    pub(crate) fn reload(
        &mut self,
        plans: Vec<ServicePlan>,
        control: &Control,
        suspended: &dyn Fn(&ServicePlan) -> bool,
    ) -> Result<(ReloadSummary, Vec<Notice>, Origins), LvsError> {
        for plan in &plans {
            pool(plan)?;
        }
        let labels: Vec<String> = self.services.iter().map(|s| s.plan.label.clone()).collect();
        let mut old: HashMap<String, Service> = std::mem::take(&mut self.services)
            .into_iter()
            .map(|s| (s.plan.label.clone(), s))
            .collect();
        let mut summary = ReloadSummary::default();
        let mut notices = Vec::new();
        let mut origins = Vec::new();
        let mut services = Vec::new();
        for plan in plans {
            let origin = labels.iter().position(|l| *l == plan.label);
            let suspend = suspended(&plan);
            let service = match old.remove(&plan.label) {
                Some(running) => {
                    update(running, plan, control, suspend, &mut summary, &mut notices)?
                }
                None => {
                    summary.services_added.push(plan.label.clone());
                    let mut pool = pool(&plan)?;
                    quorum_notices(&plan, &pool.startup(), &mut notices);
                    let ids = plan
                        .reals
                        .iter()
                        .map(|r| add(control, r, suspend))
                        .collect::<Result<_, _>>()?;
                    Service {
                        health: plan.reals.iter().map(|r| r.initial).collect(),
                        pool,
                        plan,
                        ids,
                    }
                }
            };
            origins.push(origin);
            services.push(service);
        }
        let mut gone: Vec<Service> = old.into_values().collect();
        gone.sort_by(|a, b| a.plan.label.cmp(&b.plan.label));
        for service in gone {
            summary.services_removed.push(service.plan.label.clone());
            for id in service.ids.into_iter().flatten() {
                remove(control, id, &service.plan.loc)?;
            }
        }
        self.services = services;
        self.index();
        Ok((summary, notices, origins))
    }
}

/// A staying virtual server: real servers matched by address.
fn update(
    mut running: Service,
    plan: ServicePlan,
    control: &Control,
    suspend: bool,
    summary: &mut ReloadSummary,
    notices: &mut Vec<Notice>,
) -> Result<Service, LvsError> {
    let vs = plan.label.clone();
    let mut old: HashMap<SocketAddr, (RealPlan, Option<TargetId>, Health)> = running
        .plan
        .reals
        .drain(..)
        .zip(running.ids.drain(..))
        .zip(running.health.drain(..))
        .map(|((real, id), health)| (real.dest.addr, (real, id, health)))
        .collect();
    let mut ops = Vec::new();
    let mut ids = Vec::new();
    let mut health = Vec::new();
    let mut plan = plan;
    for real in &mut plan.reals {
        let addr = real.dest.addr;
        let err =
            |e: healthcheck::ConfigError| LvsError::new(&real.loc, "real_server", e.to_string());
        let Some((was, id, last)) = old.remove(&addr) else {
            summary.reals_added.push(format!("{} of {vs}", real.label));
            ids.push(add(control, &*real, suspend)?);
            health.push(real.initial);
            ops.extend(
                running
                    .pool
                    .set_real(real.dest, real.initial)
                    .map_err(err)?,
            );
            continue;
        };
        let mut what = Vec::new();
        if was.dest.weight != real.dest.weight {
            what.push(format!(
                "weight {} -> {}",
                was.dest.weight, real.dest.weight
            ));
        }
        let (id, now) = match (id, &real.target) {
            (Some(_), Some(target)) => {
                let mut target = target.clone();
                let target_schedule = target.schedule.clone();
                if let Some(old) = &was.target
                    && was.checkers == real.checkers
                {
                    target.checks = old.checks.clone();
                }
                let (id, how) = control
                    .replace(target.clone())
                    .map_err(|e| LvsError::new(&real.loc, "real_server", e.to_string()))?;
                // What runs now: the next reload compares against these checks.
                real.target = Some(target);
                // The scheduler's `Replaced` event brings the pool the result.
                match how {
                    Replaced::Restarted => {
                        what.push("checks".to_owned());
                        (Some(id), real.initial)
                    }
                    _ => {
                        if was.target.as_ref().map(|t| &t.schedule) != Some(&target_schedule) {
                            what.push("timing".to_owned());
                        }
                        (Some(id), last)
                    }
                }
            }
            (Some(id), None) => {
                // No checker any more: always up, like at startup.
                remove(control, id, &real.loc)?;
                what.push("checks".to_owned());
                ops.extend(running.pool.set_real(real.dest, Health::Up).map_err(err)?);
                (None, Health::Up)
            }
            (None, Some(_)) => {
                what.push("checks".to_owned());
                ops.extend(
                    running
                        .pool
                        .set_real(real.dest, real.initial)
                        .map_err(err)?,
                );
                (add(control, &*real, suspend)?, real.initial)
            }
            (None, None) => {
                if was.dest.weight != real.dest.weight {
                    ops.extend(running.pool.set_real(real.dest, Health::Up).map_err(err)?);
                }
                (None, last)
            }
        };
        if !what.is_empty() {
            summary
                .reals_changed
                .push(format!("{} of {vs} ({})", real.label, what.join(", ")));
        }
        ids.push(id);
        health.push(now);
    }
    let mut gone: Vec<_> = old.into_values().collect();
    gone.sort_by_key(|(real, _, _)| real.dest.addr);
    for (real, id, _) in gone {
        summary
            .reals_removed
            .push(format!("{} of {vs}", real.label));
        if let Some(id) = id {
            remove(control, id, &real.loc)?;
        }
        ops.extend(running.pool.remove_real(real.dest.addr));
    }
    ops.extend(
        running
            .pool
            .reconfigure(plan.pool.clone())
            .map_err(|e| LvsError::new(&plan.loc, "virtual_server", e.to_string()))?,
    );
    quorum_notices(&plan, &ops, notices);
    Ok(Service {
        plan,
        pool: running.pool,
        health,
        ids,
    })
}

/// Starts a real server's checks, if it has any (suspended: added, not probed).
fn add(control: &Control, real: &RealPlan, suspend: bool) -> Result<Option<TargetId>, LvsError> {
    let Some(target) = &real.target else {
        return Ok(None);
    };
    let added = if suspend {
        control.add_suspended(target.clone())
    } else {
        control.add(target.clone())
    };
    added
        .map(Some)
        .map_err(|e| LvsError::new(&real.loc, "real_server", e.to_string()))
}

fn remove(
    control: &Control,
    id: TargetId,
    loc: &keepalived_conf::Location,
) -> Result<(), LvsError> {
    control
        .remove(id)
        .map_err(|e| LvsError::new(loc, "real_server", e.to_string()))
}
