//! Changing the targets of a running scheduler from any task: [`Control`].

use crate::core::{Core, Shared};
use crate::{ConfigError, Health, Target, TargetId};
use std::sync::Arc;

/// A cloneable handle that changes the targets of a running scheduler while its
/// [`crate::Events`] stream is read elsewhere (a reload task, an admin API, service
/// discovery).
///
/// Every operation is applied before it returns: the probe tasks are started or stopped
/// and the events it causes are queued, in order, on the event stream. It never waits for
/// the stream to be read, so the task reading events may use it too. Once the event
/// stream is dropped every probe is stopped and each operation fails with
/// [`ControlError::Stopped`].
///
/// | operation | events |
/// |---|---|
/// | [`Control::add`] | [`Change::Added`](crate::Change::Added) at the schedule's `initial` health |
/// | [`Control::remove`] | [`Change::Removed`](crate::Change::Removed) (never a fake "down") |
/// | [`Control::replace`] | [`Change::Replaced`](crate::Change::Replaced), or `Removed` then `Added` for a new address; none when nothing changed |
/// | [`Control::recheck`] | those of the extra probe round, if it changes anything (none while suspended) |
/// | [`Control::suspend`] | none: the probes stop, the target keeps its health, streaks and weight |
/// | [`Control::resume`] | none: the probes start again (a new phase within `warmup`); their verdicts bring the next events |
/// | [`Control::add_suspended`] | [`Change::Added`](crate::Change::Added), like `add`, but nothing probes it until it is resumed |
///
/// A suspended target stays suspended through [`Control::replace`] (which changes what it
/// will probe when resumed) and ignores [`Control::recheck`]; verdicts of probes that were
/// in flight when it was suspended are dropped. keepalived's `ha_suspend` is built on it.
#[derive(Debug, Clone)]
pub struct Control {
    shared: Arc<Shared>,
}

/// How [`Control::replace`] treated a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Replaced {
    /// Same address, checks, schedule and weight: nothing was touched.
    Unchanged,
    /// Same address and checks: the target kept its health, every check's rise/fall
    /// streak and its dynamic weights. A new schedule restarted the probe tasks (a new
    /// phase within the new `warmup`; the new rise/fall count from the next verdict on),
    /// a new configured weight changed the effective weight.
    Kept,
    /// New checks or a new address: the target started over at the new schedule's
    /// `initial` health, like a new target, under the same name and id.
    Restarted,
}

/// Why a [`Control`] operation was refused; nothing was changed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ControlError {
    /// No live target has this id (never added, or removed).
    #[error("no live target with id {}", .0.0)]
    UnknownTarget(TargetId),
    /// No live target has this name.
    #[error("no live target named {0:?}")]
    UnknownName(String),
    /// A live target already has this name.
    #[error("target name {0:?} is used twice")]
    DuplicateName(String),
    /// The target's configuration is invalid; the source names the field.
    #[error("target {name:?}: {source}")]
    Invalid {
        /// The target's name.
        name: String,
        /// What is wrong.
        #[source]
        source: ConfigError,
    },
    /// The scheduler stopped: its event stream was dropped.
    #[error("the scheduler stopped: its event stream was dropped")]
    Stopped,
}

impl ControlError {
    fn config(name: &str, e: ConfigError) -> Self {
        match e {
            ConfigError::DuplicateTarget(name) => ControlError::DuplicateName(name),
            source => ControlError::Invalid {
                name: name.to_owned(),
                source,
            },
        }
    }
}

impl Control {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Control { shared }
    }

    /// Starts probing one more target; queues its [`Change::Added`](crate::Change::Added)
    /// event, at its schedule's `initial` health. Ids keep counting up and are never
    /// reused.
    pub fn add(&self, target: Target) -> Result<TargetId, ControlError> {
        let name = target.name.clone();
        self.apply(|core| core.add(target, false))?
            .map_err(|e| ControlError::config(&name, e))
    }

    /// Like [`Control::add`], but the target starts suspended: its
    /// [`Change::Added`](crate::Change::Added) event is queued at the schedule's `initial`
    /// health and nothing probes it until [`Control::resume`].
    pub fn add_suspended(&self, target: Target) -> Result<TargetId, ControlError> {
        let name = target.name.clone();
        self.apply(|core| core.add(target, true))?
            .map_err(|e| ControlError::config(&name, e))
    }

    /// Stops probing a target without forgetting it: its health, every check's rise/fall
    /// streak and its weights stay as they are, and no event is queued. Verdicts of probes
    /// in flight are dropped. Returns whether it was probing (`false`: already suspended).
    pub fn suspend(&self, id: TargetId) -> Result<bool, ControlError> {
        self.apply(|core| core.suspend(id))?
            .ok_or(ControlError::UnknownTarget(id))
    }

    /// Starts probing a suspended target again, each check at a new random phase within
    /// its schedule's `warmup`; the streaks go on from where they were. Returns whether it
    /// was suspended (`false`: it was probing, nothing changed).
    pub fn resume(&self, id: TargetId) -> Result<bool, ControlError> {
        self.apply(|core| core.resume(id))?
            .ok_or(ControlError::UnknownTarget(id))
    }

    /// Whether a live target is suspended; `None` for an unknown or removed id.
    pub fn is_suspended(&self, id: TargetId) -> Option<bool> {
        self.shared.lock().is_suspended(id)
    }

    /// Stops probing a target and queues its [`Change::Removed`](crate::Change::Removed)
    /// event, so sinks drop it. Its name is free again at once.
    pub fn remove(&self, id: TargetId) -> Result<(), ControlError> {
        self.apply(|core| core.remove(id))?
            .then_some(())
            .ok_or(ControlError::UnknownTarget(id))
    }

    /// Replaces the live target of the same name (same id) with `target`: a new address,
    /// weight, schedule and/or checks.
    ///
    /// Checks are compared by identity: pass the same `Arc<dyn Check>` values (e.g. a clone
    /// of the old target's `checks`) to keep them. With the same address and checks the
    /// target keeps its health, its rise/fall streaks and dynamic weights
    /// ([`Replaced::Kept`]); otherwise it starts over ([`Replaced::Restarted`]). The
    /// returned value says which, and the queued events carry the result.
    pub fn replace(&self, target: Target) -> Result<(TargetId, Replaced), ControlError> {
        let name = target.name.clone();
        self.apply(|core| core.replace(target))?
            .map_err(|e| ControlError::config(&name, e))?
            .ok_or(ControlError::UnknownName(name))
    }

    /// Probes every check of a target now, without waiting for its next slot (its phase is
    /// kept); e.g. when a `FileWatch` (feature `file`) reports a change.
    pub fn recheck(&self, id: TargetId) -> Result<(), ControlError> {
        let core = self.shared.lock();
        if core.stopped {
            return Err(ControlError::Stopped);
        }
        core.recheck(id)
            .then_some(())
            .ok_or(ControlError::UnknownTarget(id))
    }

    /// The id of the live target called `name`.
    pub fn id(&self, name: &str) -> Option<TargetId> {
        self.shared.lock().id(name)
    }

    /// The health and effective weight of a live target, as of the last event queued
    /// (which the event stream may not have delivered yet).
    pub fn state(&self, target: TargetId) -> Option<(Health, u32)> {
        self.shared.lock().state(target)
    }

    /// Runs `f` on the book unless stopped, then wakes the event stream for the events it
    /// queued.
    fn apply<T>(&self, f: impl FnOnce(&mut Core) -> T) -> Result<T, ControlError> {
        let mut core = self.shared.lock();
        if core.stopped {
            return Err(ControlError::Stopped);
        }
        let out = f(&mut core);
        drop(core);
        self.shared.queued.notify_one();
        Ok(out)
    }
}
