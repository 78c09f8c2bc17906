//! Runs the probes of many targets on the current tokio runtime.

use crate::aggregate::Aggregate;
use crate::{Check, ConfigError, Event, Health, Outcome, Reason, Schedule, Target, TargetId};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, Semaphore, mpsc};
use tokio::task::AbortHandle;
use tokio::time::{Instant, sleep, sleep_until, timeout_at};

/// Collects targets, then starts one lightweight task per check.
///
/// No thread is created per check: all probes are futures on the caller's runtime.
/// A semaphore bounds how many probe attempts are in flight at once, and every
/// check starts at a random phase within its schedule's `warmup` and keeps that
/// phase, so ten thousand targets on a one-second interval arrive as a steady
/// stream, not as bursts.
#[derive(Debug)]
pub struct Scheduler {
    targets: Vec<Target>,
    names: HashSet<String>,
    max_in_flight: usize,
    seed: u64,
}

impl Default for Scheduler {
    fn default() -> Self {
        Self::new()
    }
}

impl Scheduler {
    /// An empty scheduler allowing 1024 probes in flight.
    pub fn new() -> Self {
        Scheduler {
            targets: Vec::new(),
            names: HashSet::new(),
            max_in_flight: 1024,
            seed: fastrand::u64(..),
        }
    }

    /// Bounds the number of probe attempts running at the same time.
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = n;
        self
    }

    /// Seeds the warmup jitter (for reproducible tests).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Adds a target after validating it; the error names the offending field. Ids
    /// are given in order from 0.
    pub fn add(&mut self, target: Target) -> Result<TargetId, ConfigError> {
        validate(&target)?;
        if !self.names.insert(target.name.clone()) {
            return Err(ConfigError::DuplicateTarget(target.name));
        }
        self.targets.push(target);
        Ok(TargetId(self.targets.len() - 1))
    }

    /// Spawns the probe tasks on the current runtime (call it from within a tokio
    /// runtime). Dropping the returned [`Running`] stops every probe.
    pub fn start(self) -> Result<Running, ConfigError> {
        if self.max_in_flight == 0 {
            return Err(ConfigError::MaxInFlight(0));
        }
        let (tx, rx) = mpsc::channel(1024);
        let mut running = Running {
            aggregate: Aggregate::default(),
            rx,
            tx,
            pending: VecDeque::new(),
            probes: Vec::new(),
            names: HashMap::new(),
            permits: Arc::new(Semaphore::new(self.max_in_flight)),
            rng: fastrand::Rng::with_seed(self.seed),
        };
        for target in self.targets {
            running.add(target)?;
        }
        Ok(running)
    }
}

fn validate(target: &Target) -> Result<(), ConfigError> {
    target.schedule.validate()?;
    if target.checks.is_empty() {
        return Err(ConfigError::NoChecks(target.name.clone()));
    }
    Ok(())
}

/// A uniformly random offset in `[0, warmup)`.
fn jitter(rng: &mut fastrand::Rng, warmup: Duration) -> Duration {
    let nanos = u64::try_from(warmup.as_nanos()).unwrap_or(u64::MAX);
    if nanos == 0 {
        Duration::ZERO
    } else {
        Duration::from_nanos(rng.u64(..nanos))
    }
}

/// One probe round's verdict, sent from a check task to [`Running`].
#[derive(Debug)]
struct Verdict {
    target: TargetId,
    check: usize,
    outcome: Outcome,
}

/// The probes of one check of one target.
struct ProbeLoop {
    target: TargetId,
    index: usize,
    check: Arc<dyn Check>,
    schedule: Schedule,
    permits: Arc<Semaphore>,
    tx: mpsc::Sender<Verdict>,
    /// Signalled by [`Running::recheck`]: probe now.
    wake: Arc<Notify>,
}

impl ProbeLoop {
    async fn run(self, first: Instant) {
        let mut next = first;
        loop {
            tokio::select! {
                () = sleep_until(next) => {}
                () = self.wake.notified() => {}
            }
            let outcome = self.round().await;
            let verdict = Verdict {
                target: self.target,
                check: self.index,
                outcome,
            };
            if self.tx.send(verdict).await.is_err() {
                return; // Running was dropped
            }
            // Keep the phase: move to the first slot after now, which skips slots
            // missed by an overrun instead of catching up in a burst, and leaves the
            // slot alone after an early probe asked for by `recheck`.
            let now = Instant::now();
            if next <= now {
                let behind = (now - next).as_nanos() / self.schedule.interval.as_nanos() + 1;
                next += self.schedule.interval * u32::try_from(behind).unwrap_or(u32::MAX);
            }
        }
    }

    /// One round: the first attempt plus up to `retries` more after failures.
    async fn round(&self) -> Outcome {
        let mut attempt = 0;
        loop {
            let outcome = self.attempt().await;
            if outcome.is_up() || attempt >= self.schedule.retries {
                return outcome;
            }
            attempt += 1;
            sleep(self.schedule.delay_before_retry).await;
        }
    }

    /// One probe under a concurrency permit and a hard deadline.
    async fn attempt(&self) -> Outcome {
        let Ok(_permit) = self.permits.acquire().await else {
            return Outcome::Down(Reason::Timeout); // the semaphore is never closed
        };
        let deadline = Instant::now() + self.schedule.timeout;
        timeout_at(deadline, self.check.check(deadline))
            .await
            .unwrap_or(Outcome::Down(Reason::Timeout))
    }
}

/// The running probes; yields ordered [`Event`]s. Targets can be added and removed
/// while it runs (a proxy's backends changing).
///
/// Probe verdicts queue up (bounded) until [`Running::next_event`] consumes them, so
/// the embedder must keep polling it; a stalled consumer stalls the probes rather
/// than growing memory. Dropping it stops every probe.
#[derive(Debug)]
pub struct Running {
    aggregate: Aggregate,
    rx: mpsc::Receiver<Verdict>,
    tx: mpsc::Sender<Verdict>,
    pending: VecDeque<Event>,
    /// Probe tasks per target id (empty once removed), with their wake-up signals.
    probes: Vec<Vec<(AbortHandle, Arc<Notify>)>>,
    names: HashMap<String, TargetId>,
    permits: Arc<Semaphore>,
    rng: fastrand::Rng,
}

impl Running {
    /// Starts probing one more target; its initial event is queued. Ids keep
    /// counting up and are never reused.
    pub fn add(&mut self, target: Target) -> Result<TargetId, ConfigError> {
        validate(&target)?;
        if self.names.contains_key(&target.name) {
            return Err(ConfigError::DuplicateTarget(target.name));
        }
        let id = self.aggregate.push(&target);
        let start = Instant::now();
        let mut handles = Vec::with_capacity(target.checks.len());
        for (index, check) in target.checks.iter().enumerate() {
            let phase = jitter(&mut self.rng, target.schedule.warmup);
            let wake = Arc::new(Notify::new());
            let probe = ProbeLoop {
                target: id,
                index,
                check: check.clone(),
                schedule: target.schedule.clone(),
                permits: self.permits.clone(),
                tx: self.tx.clone(),
                wake: wake.clone(),
            };
            let handle = tokio::spawn(probe.run(start + phase)).abort_handle();
            handles.push((handle, wake));
        }
        self.probes.push(handles);
        self.names.insert(target.name, id);
        if let Some(event) = self.aggregate.initial_event(start, id) {
            self.pending.push_back(event);
        }
        Ok(id)
    }

    /// Stops probing a target and queues its last event (down, [`Reason::Removed`]),
    /// so sinks drop it. Returns `false` for an unknown or already removed id.
    pub fn remove(&mut self, id: TargetId) -> bool {
        let Some(handles) = self.probes.get_mut(id.0) else {
            return false;
        };
        for (handle, _) in handles.drain(..) {
            handle.abort();
        }
        let Some(event) = self.aggregate.remove(Instant::now(), id) else {
            return false;
        };
        self.names.remove(&*event.name);
        self.pending.push_back(event);
        true
    }

    /// Probes every check of a target now, without waiting for its next slot (its
    /// phase is kept); e.g. when a `FileWatch` (feature `file`) reports a change. Returns
    /// `false` for an unknown or removed id.
    pub fn recheck(&self, id: TargetId) -> bool {
        match self.probes.get(id.0) {
            Some(handles) if !handles.is_empty() => {
                for (_, wake) in handles {
                    wake.notify_one();
                }
                true
            }
            _ => false,
        }
    }

    /// The id of the live target called `name`.
    pub fn id(&self, name: &str) -> Option<TargetId> {
        self.names.get(name).copied()
    }

    /// The next change, in order. Each target's first event states its initial
    /// health (reason [`Reason::Initial`]); its last, if removed, has reason
    /// [`Reason::Removed`]. Waits while nothing changes.
    pub async fn next_event(&mut self) -> Event {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return event;
            }
            // `self.tx` keeps the channel open: `None` cannot happen.
            let Some(v) = self.rx.recv().await else {
                continue;
            };
            let now = Instant::now();
            if let Some(event) = self
                .aggregate
                .handle_outcome(now, v.target, v.check, v.outcome)
            {
                return event;
            }
        }
    }

    /// The current health and effective weight of a live target, as of the last
    /// event returned.
    pub fn state(&self, target: TargetId) -> Option<(Health, u32)> {
        self.aggregate.state(target)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        for (handle, _) in self.probes.iter().flatten() {
            handle.abort();
        }
    }
}
