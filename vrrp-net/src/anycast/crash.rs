//! The owner's crash supervisor ([`crate::supervisor`]): while the addresses are on the
//! interface its will removes them, so a process that dies without a graceful stop is
//! withdrawn by its node's BGP speaker at once, not at the next start.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::SupervisorError;
use crate::supervisor::{Supervisor, SupervisorExit, Will};
use crate::vip::Vip;

/// A lost supervisor is replaced after this long.
const RESPAWN: Duration = Duration::from_secs(1);
/// Room for a will: an RTM_DELADDR per address.
const CAPACITY: usize = 16 * 1024;

/// The supervisor, the will in force, and when to replace a lost supervisor.
pub(super) struct Crash {
    supervisor: Option<Supervisor>,
    will: Will,
    pub(super) respawn_at: Option<Instant>,
}

impl Crash {
    /// Starts a supervisor with an empty will.
    pub(super) fn start() -> Result<Self, SupervisorError> {
        Ok(Self {
            supervisor: Some(Supervisor::spawn(CAPACITY)?),
            will: Will::new(),
            respawn_at: None,
        })
    }

    /// From now on a death removes `placed` (empty: nothing happens on death).
    pub(super) fn bequeath(&mut self, placed: &[Vip]) -> Result<(), Arc<SupervisorError>> {
        let mut will = Will::new();
        for vip in placed {
            will.remove_address(vip);
        }
        self.will = will;
        match &mut self.supervisor {
            Some(s) => s.publish(&self.will).map_err(Arc::new),
            None => Ok(()),
        }
    }

    /// Resolves when the supervisor process exits (something killed it); never without one.
    pub(super) async fn lost(&mut self) -> SupervisorExit {
        match &mut self.supervisor {
            Some(s) => {
                let exit = s.exited().await;
                self.supervisor = None;
                self.respawn_at = Some(Instant::now() + RESPAWN);
                exit
            }
            None => std::future::pending().await,
        }
    }

    /// Starts a replacement carrying the will in force.
    pub(super) fn respawn(&mut self) -> Result<(), Arc<SupervisorError>> {
        self.respawn_at = None;
        let mut supervisor = Supervisor::spawn(CAPACITY).map_err(Arc::new)?;
        supervisor.publish(&self.will).map_err(Arc::new)?;
        self.supervisor = Some(supervisor);
        Ok(())
    }

    /// Graceful stop: the will is not carried out.
    pub(super) async fn retire(mut self) {
        if let Some(s) = self.supervisor.take() {
            s.retire().await;
        }
    }
}
