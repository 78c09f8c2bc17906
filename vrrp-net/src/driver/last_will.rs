//! Keeping the crash supervisor's will current (see [`crate::supervisor`]).
//!
//! The will is each master's own graceful stop, computed by the protocol core: a copy of the
//! router is fed `Input::Shutdown` (RFC 9568 §6.4.3: send an advert with priority 0, remove
//! the addresses) and its outputs become records, adverts encoded for every destination the
//! real router sends to. It is rebuilt after every drain that changed a state, a priority,
//! an address or the configuration, so it is never more than one loop turn old.

use std::time::Instant;

use vrrp_core::{Input, Output, State};

use super::{Driver, Event, TX_BUFFER};
use crate::supervisor::{DEFAULT_CAPACITY, Supervisor, SupervisorExit, Will};

impl Driver {
    /// Builds the will of the current masters.
    pub(super) fn last_will(&self, now: Instant) -> Will {
        let mut will = Will::new();
        let mut buf = vec![0; TX_BUFFER];
        for s in self.slots.iter().flatten() {
            if s.router.state() != State::Master || !self.wiring.is_kernel(s.tx_key) {
                continue;
            }
            let mut stopping = s.router.clone();
            stopping.handle(now, Input::Shutdown);
            while let Some(output) = stopping.poll() {
                match output {
                    Output::Transmit(advert) => {
                        for &dst in &s.dsts {
                            if let Some(len) = advert.emit_into(dst, &mut buf) {
                                will.advert(s.tx_key.0, advert.source, dst, s.ttl, &buf[..len]);
                            }
                        }
                    }
                    Output::RemoveVips { addresses } if self.kernel_vips => {
                        for va in addresses.iter() {
                            if let Some(vip) = s.vips.get(&va.address) {
                                will.remove_address(vip);
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        will
    }

    /// Publishes the will if something it depends on changed since the last one.
    pub(super) fn refresh_will(&mut self, now: Instant) {
        if !std::mem::take(&mut self.will_stale) || self.supervisor.is_none() {
            return;
        }
        let will = self.last_will(now);
        if let Some(supervisor) = &mut self.supervisor
            && let Err(error) = supervisor.publish(&will)
        {
            tracing::warn!(%error, "the crash supervisor keeps its previous will");
        }
    }

    /// The supervisor process ended on its own: reported, and another one is started at
    /// `now + IO_RETRY` at the latest (see [`Driver::restart_supervisor`]).
    pub(super) fn supervisor_lost(&mut self, now: Instant, exit: SupervisorExit) {
        self.supervisor = None;
        tracing::warn!(%exit, "the crash supervisor is gone; starting another");
        self.emit(Event::SupervisorLost { exit });
        self.supervisor_retry_at = Some(now + super::IO_RETRY);
    }

    /// Starts a supervisor in place of a lost one, with the current will.
    pub(super) fn restart_supervisor(&mut self, now: Instant) {
        self.supervisor_retry_at = None;
        match Supervisor::spawn(DEFAULT_CAPACITY) {
            Ok(supervisor) => {
                let pid = supervisor.pid();
                self.supervisor = Some(supervisor);
                self.will_stale = true;
                self.refresh_will(now);
                self.emit(Event::SupervisorStarted { pid });
            }
            Err(error) => {
                tracing::warn!(%error, "cannot start a crash supervisor; trying again");
                self.supervisor_retry_at = Some(now + super::IO_RETRY);
            }
        }
    }
}

/// Waits for the supervisor (if any) to exit.
pub(super) async fn supervisor_exit(supervisor: &mut Option<Supervisor>) -> SupervisorExit {
    match supervisor {
        Some(s) => s.exited().await,
        None => std::future::pending().await,
    }
}
