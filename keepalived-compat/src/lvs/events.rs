//! Scheduler events to keepalived's notifications, in event order: `RS ... UP|DOWN` for a
//! real server's health change (with its `notify_up/down` script), then `VS ... UP|DOWN`
//! when the virtual server's quorum changes (with `quorum_up/down`).

use std::collections::HashMap;

use healthcheck::sink::{Pool, PoolOp};
use healthcheck::{Change, Event, Health, Reason, Scheduler, TargetId};
use keepalived_conf::ScriptCommand;

use super::LvsError;
use super::plan::ServicePlan;

/// One notification: the FIFO line (without its newline) and the script to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Notice {
    /// `RS [192.0.2.21]:tcp:80 [192.0.2.15]:tcp:80 DOWN`.
    pub(crate) line: String,
    /// The `notify_*` / `quorum_*` command and its user, if configured.
    pub(crate) script: Option<ScriptCommand>,
}

/// One virtual server as it runs.
pub(super) struct Service {
    /// Its configuration (the real servers' targets as given to the scheduler).
    pub(super) plan: ServicePlan,
    /// Its pool model.
    pub(super) pool: Pool,
    /// The last notified health of each real server, in plan order.
    pub(super) health: Vec<Health>,
    /// The scheduler's id of each real server's target, in plan order.
    pub(super) ids: Vec<Option<TargetId>>,
}

/// The pool model of a plan, refused like a parse error.
pub(super) fn pool(plan: &ServicePlan) -> Result<Pool, LvsError> {
    Pool::new(
        plan.pool.clone(),
        plan.reals.iter().map(|r| (r.dest, r.initial)),
    )
    .map_err(|e| LvsError::new(&plan.loc, "virtual_server", e.to_string()))
}

/// The virtual servers' pools and the state needed to notify changes once.
pub(crate) struct Lvs {
    pub(super) services: Vec<Service>,
    pub(super) targets: HashMap<TargetId, (usize, usize)>,
}

impl Lvs {
    /// Builds the pools and gives every real server's target to a new [`Scheduler`].
    pub(crate) fn new(plans: Vec<ServicePlan>) -> Result<(Self, Scheduler), LvsError> {
        let mut scheduler = Scheduler::new();
        let mut services = Vec::new();
        for plan in plans {
            let mut ids = Vec::new();
            for real in &plan.reals {
                let id = match &real.target {
                    Some(target) => Some(
                        scheduler
                            .add(target.clone())
                            .map_err(|e| LvsError::new(&real.loc, "real_server", e.to_string()))?,
                    ),
                    None => None,
                };
                ids.push(id);
            }
            services.push(Service {
                health: plan.reals.iter().map(|r| r.initial).collect(),
                pool: pool(&plan)?,
                plan,
                ids,
            });
        }
        let mut lvs = Lvs {
            services,
            targets: HashMap::new(),
        };
        lvs.index();
        Ok((lvs, scheduler))
    }

    /// Rebuilds the target index from the services.
    pub(super) fn index(&mut self) {
        self.targets = self
            .services
            .iter()
            .enumerate()
            .flat_map(|(s, service)| {
                service
                    .ids
                    .iter()
                    .enumerate()
                    .filter_map(move |(r, id)| id.map(|id| (id, (s, r))))
            })
            .collect();
    }

    /// The pool model of service `s`, which the kernel's copies follow.
    #[cfg(feature = "ipvs")]
    pub(crate) fn pool(&self, s: usize) -> Option<&Pool> {
        self.services.get(s).map(|service| &service.pool)
    }

    /// The notifications of building the tables from empty (a quorum that is not there).
    pub(crate) fn startup(&mut self) -> Vec<Notice> {
        let mut out = Vec::new();
        for s in &mut self.services {
            let ops = s.pool.startup();
            quorum_notices(&s.plan, &ops, &mut out);
        }
        out
    }

    /// The service a target belongs to (for the IPVS sinks).
    #[cfg(any(feature = "ipvs", test))]
    pub(crate) fn service_of(&self, target: TargetId) -> Option<usize> {
        self.targets.get(&target).map(|&(s, _)| s)
    }

    /// Applies one scheduler event and returns its notifications, in order.
    pub(crate) fn handle_event(&mut self, event: &Event) -> Vec<Notice> {
        let mut out = Vec::new();
        let Some(&(s, r)) = self.targets.get(&event.target) else {
            return out;
        };
        let Some(service) = self.services.get_mut(s) else {
            return out;
        };
        let ops = service.pool.handle_event(event);
        let changed = service.health.get_mut(r).filter(|h| {
            **h != event.health
                && event.reason != Some(Reason::Initial)
                && event.change != Change::Removed
        });
        if let (Some(h), Some(real)) = (changed, service.plan.reals.get(r)) {
            *h = event.health;
            let (word, script) = match event.health {
                Health::Up => ("UP", &real.notify_up),
                Health::Down => ("DOWN", &real.notify_down),
            };
            out.push(Notice {
                line: format!("RS {} {} {word}", real.label, service.plan.label),
                script: script.clone(),
            });
        }
        quorum_notices(&service.plan, &ops, &mut out);
        out
    }
}

pub(super) fn quorum_notices(plan: &ServicePlan, ops: &[PoolOp], out: &mut Vec<Notice>) {
    for op in ops {
        let (word, script) = match op {
            PoolOp::QuorumUp { .. } => ("UP", &plan.quorum_up),
            PoolOp::QuorumDown { .. } => ("DOWN", &plan.quorum_down),
            _ => continue,
        };
        out.push(Notice {
            line: format!("VS {} {word}", plan.label),
            script: script.clone(),
        });
    }
}
