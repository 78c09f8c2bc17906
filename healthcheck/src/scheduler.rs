//! Runs the probes of many targets on the current tokio runtime.

use crate::core::{Core, Shared, validate};
use crate::probe::Verdict;
use crate::{ConfigError, Control, Event, Health, Target, TargetId};
use std::collections::HashSet;
use std::sync::Arc;
use tokio::runtime::Handle;
use tokio::sync::mpsc;

/// Collects targets, then starts one lightweight task per check.
///
/// No thread is created per check: all probes are futures on the caller's runtime.
/// A semaphore bounds how many probe attempts are in flight at once, and every
/// check starts at a random phase within its schedule's `warmup` and keeps that
/// phase, so ten thousand targets on a one-second interval arrive as a steady
/// stream, not as bursts.
#[derive(Debug)]
pub struct Scheduler {
    targets: Vec<(Target, bool)>,
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
        self.targets.push((target, false));
        Ok(TargetId(self.targets.len() - 1))
    }

    /// Makes an added target start suspended: its [`Change::Added`](crate::Change::Added)
    /// event comes as for any target, but nothing probes it until
    /// [`Control::resume`]. Returns `false` for an id this scheduler did not give.
    pub fn suspend(&mut self, id: TargetId) -> bool {
        match self.targets.get_mut(id.0) {
            Some((_, suspended)) => {
                *suspended = true;
                true
            }
            None => false,
        }
    }

    /// Spawns the probe tasks on the current runtime (call it from within a tokio
    /// runtime: [`ConfigError::NoRuntime`] otherwise). Dropping the returned [`Running`],
    /// or its [`Events`] half, stops every probe.
    pub fn start(self) -> Result<Running, ConfigError> {
        if self.max_in_flight == 0 {
            return Err(ConfigError::MaxInFlight(0));
        }
        let runtime = Handle::try_current().map_err(|_| ConfigError::NoRuntime)?;
        let (tx, rx) = mpsc::channel(1024);
        let mut core = Core::new(tx, self.max_in_flight, self.seed, runtime);
        for (target, suspended) in self.targets {
            core.add(target, suspended)?;
        }
        let shared = Arc::new(Shared::new(core));
        Ok(Running {
            control: Control::new(shared.clone()),
            events: Events { shared, rx },
        })
    }
}

/// The running probes: a [`Control`] handle and the [`Events`] stream in one value, for a
/// program that changes its targets from the task that reads the events. Split it with
/// [`Running::into_parts`] to change them from elsewhere.
///
/// Probe verdicts queue up (bounded) until [`Running::next_event`] consumes them, so
/// the embedder must keep polling it; a stalled consumer stalls the probes rather
/// than growing memory. Dropping it stops every probe.
#[derive(Debug)]
pub struct Running {
    control: Control,
    events: Events,
}

impl Running {
    /// A handle that changes the targets from any task (cloneable, answered at once).
    pub fn control(&self) -> Control {
        self.control.clone()
    }

    /// The control handle and the event stream, to be used by different tasks.
    pub fn into_parts(self) -> (Control, Events) {
        (self.control, self.events)
    }

    /// Starts probing one more target; its [`Change::Added`](crate::Change::Added) event
    /// is queued. Ids keep counting up and are never reused. See [`Control::add`].
    pub fn add(&mut self, target: Target) -> Result<TargetId, ConfigError> {
        let id = self.events.shared.lock().add(target, false);
        self.events.shared.queued.notify_one();
        id
    }

    /// Stops probing a target and queues its [`Change::Removed`](crate::Change::Removed)
    /// event, so sinks drop it. Returns `false` for an unknown or already removed id. See
    /// [`Control::remove`].
    pub fn remove(&mut self, id: TargetId) -> bool {
        self.control.remove(id).is_ok()
    }

    /// Probes every check of a target now, without waiting for its next slot (its
    /// phase is kept); e.g. when a `FileWatch` (feature `file`) reports a change. Returns
    /// `false` for an unknown or removed id.
    pub fn recheck(&self, id: TargetId) -> bool {
        self.control.recheck(id).is_ok()
    }

    /// The id of the live target called `name`.
    pub fn id(&self, name: &str) -> Option<TargetId> {
        self.control.id(name)
    }

    /// The next change, in order; see [`Events::next_event`].
    pub async fn next_event(&mut self) -> Event {
        self.events.next_event().await
    }

    /// The current health and effective weight of a live target, as of the last event
    /// queued.
    pub fn state(&self, target: TargetId) -> Option<(Health, u32)> {
        self.control.state(target)
    }
}

/// The ordered event stream of a running scheduler. Dropping it stops every probe (its
/// [`Control`] handles then answer [`ControlError::Stopped`](crate::ControlError::Stopped)).
#[derive(Debug)]
pub struct Events {
    shared: Arc<Shared>,
    rx: mpsc::Receiver<Verdict>,
}

impl Events {
    /// The next change, in order. Each target's first event ([`Change::Added`]) states its
    /// initial health (reason [`Reason::Initial`]); its last, if removed, is a
    /// [`Change::Removed`]. Waits while nothing changes. Cancel-safe: usable in
    /// `tokio::select!` without losing events.
    ///
    /// [`Change::Added`]: crate::Change::Added
    /// [`Change::Removed`]: crate::Change::Removed
    /// [`Reason::Initial`]: crate::Reason::Initial
    pub async fn next_event(&mut self) -> Event {
        loop {
            if let Some(event) = self.shared.lock().pop() {
                return event;
            }
            // Every event, from a verdict or from a control operation, goes through the
            // one queue, so they leave in the order of their sequence numbers.
            tokio::select! {
                verdict = self.rx.recv() => {
                    // The book keeps a sender: `None` cannot happen.
                    if let Some(v) = verdict {
                        self.shared.lock().verdict(v);
                    }
                }
                () = self.shared.queued.notified() => {}
            }
        }
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        self.shared.lock().stop();
    }
}
