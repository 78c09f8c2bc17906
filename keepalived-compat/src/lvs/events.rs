//! Scheduler events to keepalived's notifications, in event order: `RS ... UP|DOWN` for a
//! real server's health change (with its `notify_up/down` script), then `VS ... UP|DOWN`
//! when the virtual server's quorum changes (with `quorum_up/down`).

use std::collections::HashMap;

use healthcheck::sink::{Pool, PoolOp};
use healthcheck::{Event, Health, Reason, Scheduler, TargetId};

use super::LvsError;
use super::plan::ServicePlan;

/// One notification: the FIFO line (without its newline) and the script to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Notice {
    /// `RS [192.0.2.21]:tcp:80 [192.0.2.15]:tcp:80 DOWN`.
    pub(crate) line: String,
    /// The `notify_*` / `quorum_*` command line, if configured.
    pub(crate) script: Option<Vec<String>>,
}

struct Service {
    plan: ServicePlan,
    pool: Pool,
    health: Vec<Health>,
}

/// The virtual servers' pools and the state needed to notify changes once.
pub(crate) struct Lvs {
    services: Vec<Service>,
    targets: HashMap<TargetId, (usize, usize)>,
}

impl Lvs {
    /// Builds the pools and moves every real server's target into a new [`Scheduler`].
    pub(crate) fn new(mut plans: Vec<ServicePlan>) -> Result<(Self, Scheduler), LvsError> {
        let mut scheduler = Scheduler::new();
        let mut targets = HashMap::new();
        let mut services = Vec::new();
        for (s, plan) in plans.iter_mut().enumerate() {
            for (r, real) in plan.reals.iter_mut().enumerate() {
                if let Some(target) = real.target.take() {
                    let id = scheduler
                        .add(target)
                        .map_err(|e| LvsError::new(&real.loc, "real_server", e.to_string()))?;
                    targets.insert(id, (s, r));
                }
            }
        }
        for plan in plans {
            let pool = Pool::new(
                plan.pool.clone(),
                plan.reals.iter().map(|r| (r.dest, r.initial)),
            )
            .map_err(|e| LvsError::new(&plan.loc, "virtual_server", e.to_string()))?;
            services.push(Service {
                health: plan.reals.iter().map(|r| r.initial).collect(),
                plan,
                pool,
            });
        }
        Ok((Lvs { services, targets }, scheduler))
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
        let changed = service
            .health
            .get_mut(r)
            .filter(|h| **h != event.health && event.reason != Some(Reason::Initial));
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

fn quorum_notices(plan: &ServicePlan, ops: &[PoolOp], out: &mut Vec<Notice>) {
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
