//! The state a running scheduler's control handles and its event stream share: the health
//! book, the probe tasks of every target and the queue of events not yet delivered.

use crate::aggregate::Aggregate;
use crate::probe::{ProbeLoop, Verdict, jitter};
use crate::{ConfigError, Event, Health, Replaced, Target, TargetId};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::runtime::Handle;
use tokio::sync::{Notify, Semaphore, mpsc};
use tokio::task::AbortHandle;
use tokio::time::Instant;

/// What [`crate::Control`] and [`crate::Events`] hold.
#[derive(Debug)]
pub(crate) struct Shared {
    core: Mutex<Core>,
    /// Signalled when an event is queued outside the event stream (add, remove, replace).
    pub(crate) queued: Notify,
}

impl Shared {
    pub(crate) fn new(core: Core) -> Self {
        Shared {
            core: Mutex::new(core),
            queued: Notify::new(),
        }
    }

    /// The book. No code panics while holding it, so a poisoned lock is still consistent.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Core> {
        self.core.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The probe tasks of one live target and the configuration they run.
#[derive(Debug)]
struct Probes {
    target: Target,
    generation: u64,
    /// Empty while suspended.
    tasks: Vec<(AbortHandle, Arc<Notify>)>,
    /// Suspended: no probe task runs; health, streaks and weight are kept.
    suspended: bool,
}

impl Probes {
    fn abort(&mut self) {
        for (handle, _) in self.tasks.drain(..) {
            handle.abort();
        }
    }
}

/// The book itself.
#[derive(Debug)]
pub(crate) struct Core {
    aggregate: Aggregate,
    pending: VecDeque<Event>,
    /// Per target id; `None` once removed (ids are never reused).
    probes: Vec<Option<Probes>>,
    names: HashMap<String, TargetId>,
    permits: Arc<Semaphore>,
    rng: fastrand::Rng,
    tx: mpsc::Sender<Verdict>,
    runtime: Handle,
    /// The event stream was dropped: every probe is stopped.
    pub(crate) stopped: bool,
}

/// Checks a target before it runs; the error names the offending field.
pub(crate) fn validate(target: &Target) -> Result<(), ConfigError> {
    target.schedule.validate()?;
    if target.checks.is_empty() {
        return Err(ConfigError::NoChecks(target.name.clone()));
    }
    Ok(())
}

impl Core {
    pub(crate) fn new(
        tx: mpsc::Sender<Verdict>,
        max_in_flight: usize,
        seed: u64,
        runtime: Handle,
    ) -> Self {
        Core {
            aggregate: Aggregate::default(),
            pending: VecDeque::new(),
            probes: Vec::new(),
            names: HashMap::new(),
            permits: Arc::new(Semaphore::new(max_in_flight)),
            rng: fastrand::Rng::with_seed(seed),
            tx,
            runtime,
            stopped: false,
        }
    }

    /// Validates a target and starts probing it, unless `suspended`; queues its
    /// [`crate::Change::Added`].
    pub(crate) fn add(&mut self, target: Target, suspended: bool) -> Result<TargetId, ConfigError> {
        validate(&target)?;
        if self.names.contains_key(&target.name) {
            return Err(ConfigError::DuplicateTarget(target.name));
        }
        let id = self.aggregate.push(&target);
        let tasks = if suspended {
            Vec::new()
        } else {
            self.spawn(id, 0, &target)
        };
        self.names.insert(target.name.clone(), id);
        self.probes.push(Some(Probes {
            target,
            generation: 0,
            tasks,
            suspended,
        }));
        self.pending
            .extend(self.aggregate.initial_event(Instant::now(), id));
        Ok(id)
    }

    /// Stops probing a target and queues its [`crate::Change::Removed`]; `false` if it is
    /// unknown or already removed.
    pub(crate) fn remove(&mut self, id: TargetId) -> bool {
        let Some(mut probes) = self.probes.get_mut(id.0).and_then(Option::take) else {
            return false;
        };
        probes.abort();
        self.names.remove(&probes.target.name);
        self.pending
            .extend(self.aggregate.remove(Instant::now(), id));
        true
    }

    /// Replaces the live target of the same name; `Ok(None)` when there is none.
    pub(crate) fn replace(
        &mut self,
        target: Target,
    ) -> Result<Option<(TargetId, Replaced)>, ConfigError> {
        validate(&target)?;
        let Some(&id) = self.names.get(&target.name) else {
            return Ok(None);
        };
        let Some(old) = self.probes.get(id.0).and_then(Option::as_ref) else {
            return Ok(None);
        };
        let same_checks = old.target.checks.len() == target.checks.len()
            && old
                .target
                .checks
                .iter()
                .zip(&target.checks)
                .all(|(a, b)| Arc::ptr_eq(a, b));
        let kept = same_checks && old.target.addr == target.addr;
        let retimed = old.target.schedule != target.schedule;
        if kept && !retimed && old.target.weight == target.weight {
            return Ok(Some((id, Replaced::Unchanged)));
        }
        let suspended = old.suspended;
        // A suspended target has no tasks to restart: its next resume starts the new ones.
        let respawn = (!kept || retimed) && !suspended;
        // Verdicts still queued from the old tasks count when the checks are kept; those of
        // replaced checks are dropped.
        let generation = old.generation + u64::from(!kept);
        let now = Instant::now();
        let outcome = if kept {
            self.pending.extend(self.aggregate.retune(now, id, &target));
            Replaced::Kept
        } else {
            self.pending
                .extend(self.aggregate.restart(now, id, &target));
            Replaced::Restarted
        };
        let tasks = if respawn {
            self.spawn(id, generation, &target)
        } else {
            Vec::new()
        };
        if let Some(Some(probes)) = self.probes.get_mut(id.0) {
            if respawn {
                probes.abort();
                probes.tasks = tasks;
            }
            probes.generation = generation;
            probes.target = target;
        }
        Ok(Some((id, outcome)))
    }

    /// Stops a live target's probe tasks, keeping its health, streaks and weights; verdicts
    /// of probes in flight are dropped. `None` if it is unknown or removed, else whether it
    /// was running.
    pub(crate) fn suspend(&mut self, id: TargetId) -> Option<bool> {
        let probes = self.probes.get_mut(id.0)?.as_mut()?;
        if probes.suspended {
            return Some(false);
        }
        probes.abort();
        probes.suspended = true;
        probes.generation += 1;
        Some(true)
    }

    /// Starts a suspended target's probe tasks again, at a new phase within its warmup.
    /// `None` if it is unknown or removed, else whether it was suspended.
    pub(crate) fn resume(&mut self, id: TargetId) -> Option<bool> {
        let probes = self.probes.get(id.0)?.as_ref()?;
        if !probes.suspended {
            return Some(false);
        }
        let (generation, target) = (probes.generation, probes.target.clone());
        let tasks = self.spawn(id, generation, &target);
        let probes = self.probes.get_mut(id.0)?.as_mut()?;
        probes.tasks = tasks;
        probes.suspended = false;
        Some(true)
    }

    /// Whether a live target is suspended; `None` if it is unknown or removed.
    pub(crate) fn is_suspended(&self, id: TargetId) -> Option<bool> {
        Some(self.probes.get(id.0)?.as_ref()?.suspended)
    }

    /// Wakes every probe task of a live target (none while suspended); `false` if it is
    /// unknown or removed.
    pub(crate) fn recheck(&self, id: TargetId) -> bool {
        let Some(Some(probes)) = self.probes.get(id.0) else {
            return false;
        };
        for (_, wake) in &probes.tasks {
            wake.notify_one();
        }
        true
    }

    /// The id of the live target called `name`.
    pub(crate) fn id(&self, name: &str) -> Option<TargetId> {
        self.names.get(name).copied()
    }

    /// Health and effective weight of a live target, as of the last event queued.
    pub(crate) fn state(&self, id: TargetId) -> Option<(Health, u32)> {
        self.aggregate.state(id)
    }

    /// The next queued event.
    pub(crate) fn pop(&mut self) -> Option<Event> {
        self.pending.pop_front()
    }

    /// Books a probe verdict; queues the event it causes, if any. Verdicts of removed
    /// targets and of replaced probe tasks are dropped.
    pub(crate) fn verdict(&mut self, v: Verdict) {
        match self.probes.get(v.target.0) {
            Some(Some(p)) if p.generation == v.generation => {}
            _ => return,
        }
        let event = self
            .aggregate
            .handle_outcome(Instant::now(), v.target, v.check, v.outcome);
        self.pending.extend(event);
    }

    /// Stops every probe (the event stream is gone).
    pub(crate) fn stop(&mut self) {
        self.stopped = true;
        for probes in self.probes.iter_mut().flatten() {
            probes.abort();
        }
    }

    /// One task per check, each at its own random phase within the schedule's warmup.
    fn spawn(
        &mut self,
        id: TargetId,
        generation: u64,
        target: &Target,
    ) -> Vec<(AbortHandle, Arc<Notify>)> {
        let start = Instant::now();
        let mut tasks = Vec::with_capacity(target.checks.len());
        for (index, check) in target.checks.iter().enumerate() {
            let phase = jitter(&mut self.rng, target.schedule.warmup);
            let wake = Arc::new(Notify::new());
            let probe = ProbeLoop {
                target: id,
                generation,
                index,
                check: check.clone(),
                schedule: target.schedule.clone(),
                permits: self.permits.clone(),
                tx: self.tx.clone(),
                wake: wake.clone(),
            };
            let handle = self.runtime.spawn(probe.run(start + phase)).abort_handle();
            tasks.push((handle, wake));
        }
        tasks
    }
}
