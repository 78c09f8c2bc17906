//! The probe loop of one check of one target: a lightweight task on the runtime.

use crate::{Check, Outcome, Reason, Schedule, TargetId};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, Semaphore, mpsc};
use tokio::time::{Instant, sleep, sleep_until, timeout_at};

/// One probe round's verdict, sent from a check task to the event stream.
#[derive(Debug)]
pub(crate) struct Verdict {
    pub(crate) target: TargetId,
    /// Which set of probe tasks of the target sent it: verdicts of tasks stopped by a
    /// replacement are dropped.
    pub(crate) generation: u64,
    pub(crate) check: usize,
    pub(crate) outcome: Outcome,
}

/// A uniformly random offset in `[0, warmup)`.
pub(crate) fn jitter(rng: &mut fastrand::Rng, warmup: Duration) -> Duration {
    let nanos = u64::try_from(warmup.as_nanos()).unwrap_or(u64::MAX);
    if nanos == 0 {
        Duration::ZERO
    } else {
        Duration::from_nanos(rng.u64(..nanos))
    }
}

/// The probes of one check of one target.
pub(crate) struct ProbeLoop {
    pub(crate) target: TargetId,
    pub(crate) generation: u64,
    pub(crate) index: usize,
    pub(crate) check: Arc<dyn Check>,
    pub(crate) schedule: Schedule,
    pub(crate) permits: Arc<Semaphore>,
    pub(crate) tx: mpsc::Sender<Verdict>,
    /// Signalled by a recheck: probe now.
    pub(crate) wake: Arc<Notify>,
}

impl ProbeLoop {
    pub(crate) async fn run(self, first: Instant) {
        let mut next = first;
        loop {
            tokio::select! {
                () = sleep_until(next) => {}
                () = self.wake.notified() => {}
            }
            let outcome = self.round().await;
            let verdict = Verdict {
                target: self.target,
                generation: self.generation,
                check: self.index,
                outcome,
            };
            if self.tx.send(verdict).await.is_err() {
                return; // the event stream was dropped
            }
            // Keep the phase: move to the first slot after now, which skips slots
            // missed by an overrun instead of catching up in a burst, and leaves the
            // slot alone after an early probe asked for by a recheck.
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
