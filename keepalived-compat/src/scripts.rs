//! `vrrp_script`: run each script every `interval`, kill it after `timeout`, and report
//! its state after `rise` successes / `fall` failures in a row.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use healthcheck::process::{Exit, Program};
use tokio::task::JoinHandle;
use vrrp_core::TrackState;
use vrrp_net::DriverError;
use vrrp_net::driver::Handle;

use keepalived_conf::{KeepalivedConf, VrrpScript};

/// Consecutive results needed to change state (keepalived's rise / fall).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Threshold {
    rise: u32,
    fall: u32,
    /// `None` until the first result (keepalived's `SCRIPT_INIT_STATE_INIT`).
    state: Option<TrackState>,
    streak: u32,
}

impl Threshold {
    /// Not reported yet: as keepalived 2.2.7 (`vrrp_scheduler.c`, a script in its init state
    /// starts at `rise - 1`, and a failure in that state counts at once), the first result
    /// decides, whichever it is; after it, `rise` successes / `fall` failures in a row.
    pub(crate) fn new(rise: u32, fall: u32) -> Self {
        Self {
            rise: rise.max(1),
            fall: fall.max(1),
            state: None,
            streak: 0,
        }
    }

    /// Records one result; returns the new state when it changed (always for the first).
    pub(crate) fn record(&mut self, ok: bool) -> Option<TrackState> {
        let (against, needed, next) = match self.state {
            None => {
                let first = if ok { TrackState::Up } else { TrackState::Down };
                self.state = Some(first);
                return Some(first);
            }
            Some(TrackState::Up) => (!ok, self.fall, TrackState::Down),
            Some(TrackState::Down) => (ok, self.rise, TrackState::Up),
        };
        if !against {
            self.streak = 0;
            return None;
        }
        self.streak += 1;
        if self.streak < needed {
            return None;
        }
        self.streak = 0;
        self.state = Some(next);
        Some(next)
    }
}

/// The state an instance gives a tracked script of weight `weight` until the script's first
/// result, as keepalived 2.2.7 holds it (`vrrp_track.c`): no effect on the priority (a
/// positive weight is added only once the script succeeded, a negative one only once it
/// failed), and with weight 0 the instance waits in FAULT (`num_script_init`).
pub(crate) fn unreported(weight: i32) -> TrackState {
    if weight < 0 {
        TrackState::Up
    } else {
        TrackState::Down
    }
}

/// The last state of each running script that has reported, by script name: an instance
/// added while it runs (by a reload) starts with it, not held as at a cold start.
static REPORTED: Mutex<Option<HashMap<String, TrackState>>> = Mutex::new(None);

fn set_reported(script: &str, state: Option<TrackState>) {
    let mut reported = REPORTED.lock().unwrap_or_else(PoisonError::into_inner);
    let map = reported.get_or_insert_with(HashMap::new);
    match state {
        Some(s) => map.insert(script.to_owned(), s),
        None => map.remove(script),
    };
}

/// Whether `instance` starts held in FAULT by a weight-0 script that has not reported yet
/// (keepalived's `num_script_init`): that FAULT is not notified, as keepalived 2.2.7 does not
/// notify it (`vrrp_scheduler.c`: FAULT at init is notified only for a failed script).
pub(crate) fn held_unreported(
    conf: &KeepalivedConf,
    instance: &keepalived_conf::VrrpInstance,
) -> bool {
    instance.track_scripts.iter().any(|t| {
        let weight = t.weight.unwrap_or_else(|| {
            conf.scripts
                .iter()
                .find(|s| s.name == t.name)
                .map_or(0, |s| s.weight)
        });
        weight == 0
            && REPORTED
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .as_ref()
                .is_none_or(|m| !m.contains_key(&t.name))
    })
}

/// The state an instance tracking `script` (with `weight`, `reverse`d or not) starts with:
/// the script's last result if it has reported, else [`unreported`].
pub(crate) fn initial_state(script: &str, weight: i32, reverse: bool) -> TrackState {
    let reported = REPORTED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .as_ref()
        .and_then(|m| m.get(script).copied());
    match reported {
        Some(TrackState::Up) if reverse => TrackState::Down,
        Some(TrackState::Down) if reverse => TrackState::Up,
        Some(state) => state,
        None => unreported(weight),
    }
}

/// The name under which instances that track `script` reversed (`weight W reverse`) know
/// it: they are told the opposite state (see `mapping`). A space cannot be in a name read
/// from keepalived.conf, so it never collides.
pub(crate) fn reversed_name(script: &str) -> String {
    format!("{script} reverse")
}

/// How instances track a script: plainly, reversed, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Trackers {
    plain: bool,
    reversed: bool,
}

impl Trackers {
    fn of(conf: &KeepalivedConf, script: &VrrpScript) -> Self {
        let mut t = Trackers::default();
        for tracked in conf.instances.iter().flat_map(|i| &i.track_scripts) {
            if tracked.name == script.name {
                if tracked.reverse.unwrap_or(script.weight_reverse) {
                    t.reversed = true;
                } else {
                    t.plain = true;
                }
            }
        }
        t
    }

    /// The (name, state) pairs to tell the driver for a script in `state`.
    fn reports(self, name: &str, state: TrackState) -> Vec<(String, TrackState)> {
        let mut out = Vec::new();
        if self.plain {
            out.push((name.to_owned(), state));
        }
        if self.reversed {
            let opposite = match state {
                TrackState::Up => TrackState::Down,
                TrackState::Down => TrackState::Up,
            };
            out.push((reversed_name(name), opposite));
        }
        out
    }
}

/// Runs the script once, as its user, in its own process group, killed with its group at
/// `timeout`; true on exit status 0.
async fn run_once(script: &VrrpScript) -> bool {
    let Some((program, args)) = script.script.split_first() else {
        return false;
    };
    let Some(user) = crate::security::run_as(script.user.as_ref()) else {
        tracing::warn!("vrrp_script {}: no user to run it as", script.name);
        return false;
    };
    let run = Program::new(program, args)
        .run_as(user)
        .run(tokio::time::Instant::now() + script.timeout)
        .await;
    match run.exit {
        Exit::Status(status) => status.success(),
        Exit::TimedOut => false,
        Exit::Spawn(e) | Exit::Wait(e) => {
            tracing::warn!("vrrp_script {}: cannot run {program}: {e}", script.name);
            false
        }
        _ => false,
    }
}

/// Runs `script` forever, recording its state in `state` and reporting changes through
/// `handle`; ends when the driver has stopped.
async fn watch(
    script: VrrpScript,
    trackers: Trackers,
    handle: Handle,
    state: Arc<Mutex<Option<TrackState>>>,
) {
    let mut threshold = Threshold::new(script.rise, script.fall);
    let mut ticker = tokio::time::interval(script.interval.max(Duration::from_millis(10)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let ok = run_once(&script).await;
        if let Some(next) = threshold.record(ok) {
            tracing::info!("vrrp_script {} is now {:?}", script.name, next);
            *state.lock().unwrap_or_else(PoisonError::into_inner) = Some(next);
            set_reported(&script.name, Some(next));
            for (name, told) in trackers.reports(&script.name, next) {
                match handle.set_track_state(&name, told) {
                    // No instance tracks it at the moment (a reload is under way): the
                    // state is kept and told again by `Scripts::sync`.
                    Ok(()) | Err(DriverError::UnknownTrack(_)) => {}
                    Err(_) => return,
                }
            }
        }
    }
}

/// One running `vrrp_script`.
struct Watcher {
    script: VrrpScript,
    trackers: Trackers,
    /// `None` until the script's first result.
    state: Arc<Mutex<Option<TrackState>>>,
    task: JoinHandle<()>,
}

/// The `vrrp_script` watchers: one per script some instance tracks. A reload keeps the
/// watchers of unchanged scripts (and their rise/fall state), stops those of removed or
/// changed scripts and starts the new ones.
#[derive(Default)]
pub(crate) struct Scripts {
    running: HashMap<String, Watcher>,
}

impl Scripts {
    /// Makes the watchers those of `conf`; returns the names started and stopped. Then tells
    /// `handle` every script currently down, so instances added since learn it (an instance
    /// already told ignores the repeat).
    pub(crate) fn sync(
        &mut self,
        conf: &KeepalivedConf,
        handle: &Handle,
    ) -> (Vec<String>, Vec<String>) {
        let used: Vec<&VrrpScript> = conf
            .scripts
            .iter()
            .filter(|s| {
                conf.instances
                    .iter()
                    .any(|i| i.track_scripts.iter().any(|t| t.name == s.name))
            })
            .collect();
        let mut stopped = Vec::new();
        self.running.retain(|name, w| {
            let keep = used
                .iter()
                .any(|s| **s == w.script && Trackers::of(conf, s) == w.trackers);
            if !keep {
                w.task.abort();
                set_reported(name, None);
                stopped.push(name.clone());
            }
            keep
        });
        let mut started = Vec::new();
        for script in used {
            if self.running.contains_key(&script.name) {
                continue;
            }
            let state = Arc::new(Mutex::new(None));
            let trackers = Trackers::of(conf, script);
            let task = tokio::spawn(watch(
                script.clone(),
                trackers,
                handle.clone(),
                Arc::clone(&state),
            ));
            self.running.insert(
                script.name.clone(),
                Watcher {
                    script: script.clone(),
                    trackers,
                    state,
                    task,
                },
            );
            started.push(script.name.clone());
        }
        for (name, w) in &self.running {
            // A script that has not reported yet leaves its instances as they start
            // (`unreported`); one that has is told to all of them again, so instances added
            // since learn it (an instance already told ignores the repeat). If an
            // instance's add failed, nobody is told: fine.
            let Some(state) = *w.state.lock().unwrap_or_else(PoisonError::into_inner) else {
                continue;
            };
            for (name, told) in w.trackers.reports(name, state) {
                let _ = handle.set_track_state(&name, told);
            }
        }
        started.sort();
        stopped.sort();
        (started, stopped)
    }
}

impl Drop for Scripts {
    fn drop(&mut self) {
        // Aborting a watcher drops its running script, which kills the script's process
        // group (tokio reaps the child).
        for (name, w) in &self.running {
            w.task.abort();
            set_reported(name, None);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reversed_trackers_are_told_the_opposite_state() {
        let conf = keepalived_conf::parse_str(
            "k.conf",
            "vrrp_script chk {\n script /bin/true\n weight 10 reverse\n}\n\
             vrrp_instance A {\ninterface eth0\nvirtual_router_id 7\n\
             virtual_ipaddress {\n192.0.2.7\n}\ntrack_script {\nchk\n}\n}\n\
             vrrp_instance B {\ninterface eth0\nvirtual_router_id 8\n\
             virtual_ipaddress {\n192.0.2.8\n}\ntrack_script {\nchk weight 5 noreverse\n}\n}\n",
        )
        .unwrap();
        let t = Trackers::of(&conf, &conf.scripts[0]);
        assert_eq!(
            t.reports("chk", TrackState::Up),
            [
                ("chk".to_owned(), TrackState::Up),
                ("chk reverse".to_owned(), TrackState::Down)
            ]
        );
    }

    #[test]
    fn the_first_result_decides_then_fall_and_rise_count_consecutive_results() {
        let mut t = Threshold::new(2, 3);
        assert_eq!(t.record(true), Some(TrackState::Up));
        let mut first_failure = Threshold::new(2, 3);
        assert_eq!(first_failure.record(false), Some(TrackState::Down));
        assert_eq!(t.record(false), None);
        assert_eq!(t.record(true), None); // streak broken
        assert_eq!(t.record(false), None);
        assert_eq!(t.record(false), None);
        assert_eq!(t.record(false), Some(TrackState::Down));
        assert_eq!(t.record(true), None);
        assert_eq!(t.record(true), Some(TrackState::Up));
    }
}
