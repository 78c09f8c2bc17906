//! `vrrp_script`: run each script every `interval`, kill it after `timeout`, and report
//! its state after `rise` successes / `fall` failures in a row.

use std::time::Duration;

use tokio::process::Command;
use vrrp_core::TrackState;
use vrrp_net::driver::Handle;

use keepalived_conf::VrrpScript;

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

/// Runs `script` forever, reporting state changes through `handle`.
pub(super) async fn watch(script: VrrpScript, handle: Handle) {
    let mut threshold = Threshold::new(script.rise, script.fall);
    let mut ticker = tokio::time::interval(script.interval.max(Duration::from_millis(10)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let ok = run_once(&script).await;
        if let Some(state) = threshold.record(ok) {
            eprintln!(
                "keepalived-compat: vrrp_script {} is now {:?}",
                script.name, state
            );
            if handle.set_track_state(&script.name, state).is_err() {
                return;
            }
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
