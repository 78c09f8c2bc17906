//! `vrrp_script`: run each script every `interval`, kill it after `timeout`, and report
//! its state after `rise` successes / `fall` failures in a row.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::process::Command;
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
    state: TrackState,
    streak: u32,
}

impl Threshold {
    /// Starts `Up` (keepalived assumes a script succeeds until it has failed `fall` times).
    pub(crate) fn new(rise: u32, fall: u32) -> Self {
        Self {
            rise: rise.max(1),
            fall: fall.max(1),
            state: TrackState::Up,
            streak: 0,
        }
    }

    /// Records one result; returns the new state when it changed.
    pub(crate) fn record(&mut self, ok: bool) -> Option<TrackState> {
        let (against, needed, next) = match self.state {
            TrackState::Up => (!ok, self.fall, TrackState::Down),
            TrackState::Down => (ok, self.rise, TrackState::Up),
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
        self.state = next;
        Some(next)
    }
}

async fn run_once(script: &VrrpScript) -> bool {
    let Some((program, args)) = script.script.split_first() else {
        return false;
    };
    let child = Command::new(program).args(args).kill_on_drop(true).status();
    match tokio::time::timeout(script.timeout, child).await {
        Ok(Ok(status)) => status.success(),
        Ok(Err(e)) => {
            eprintln!(
                "keepalived-compat: vrrp_script {}: cannot run {program}: {e}",
                script.name
            );
            false
        }
        Err(_) => false,
    }
}

/// Runs `script` forever, recording its state in `state` and reporting changes through
/// `handle`; ends when the driver has stopped.
async fn watch(script: VrrpScript, handle: Handle, state: Arc<Mutex<TrackState>>) {
    let mut threshold = Threshold::new(script.rise, script.fall);
    let mut ticker = tokio::time::interval(script.interval.max(Duration::from_millis(10)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let ok = run_once(&script).await;
        if let Some(next) = threshold.record(ok) {
            eprintln!(
                "keepalived-compat: vrrp_script {} is now {:?}",
                script.name, next
            );
            *state.lock().unwrap_or_else(PoisonError::into_inner) = next;
            match handle.set_track_state(&script.name, next) {
                // No instance tracks it at the moment (a reload is under way): the state is
                // kept and told again by `Scripts::sync`.
                Ok(()) | Err(DriverError::UnknownTrack(_)) => {}
                Err(_) => return,
            }
        }
    }
}

/// One running `vrrp_script`.
struct Watcher {
    script: VrrpScript,
    state: Arc<Mutex<TrackState>>,
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
            let keep = used.iter().any(|s| **s == w.script);
            if !keep {
                w.task.abort();
                stopped.push(name.clone());
            }
            keep
        });
        let mut started = Vec::new();
        for script in used {
            if self.running.contains_key(&script.name) {
                continue;
            }
            let state = Arc::new(Mutex::new(TrackState::Up));
            let task = tokio::spawn(watch(script.clone(), handle.clone(), Arc::clone(&state)));
            self.running.insert(
                script.name.clone(),
                Watcher {
                    script: script.clone(),
                    state,
                    task,
                },
            );
            started.push(script.name.clone());
        }
        for (name, w) in &self.running {
            let state = *w.state.lock().unwrap_or_else(PoisonError::into_inner);
            if state == TrackState::Down {
                // An instance of `conf` tracks it; if its add failed, nobody is told: fine.
                let _ = handle.set_track_state(name, state);
            }
        }
        started.sort();
        stopped.sort();
        (started, stopped)
    }
}

impl Drop for Scripts {
    fn drop(&mut self) {
        for w in self.running.values() {
            w.task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fall_then_rise_count_consecutive_results() {
        let mut t = Threshold::new(2, 3);
        assert_eq!(t.record(false), None);
        assert_eq!(t.record(true), None); // streak broken
        assert_eq!(t.record(false), None);
        assert_eq!(t.record(false), None);
        assert_eq!(t.record(false), Some(TrackState::Down));
        assert_eq!(t.record(true), None);
        assert_eq!(t.record(true), Some(TrackState::Up));
    }
}
