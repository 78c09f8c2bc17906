//! The VRRP driver as a pingora background service.

use crate::{Fatal, VrrpSlot};
use async_trait::async_trait;
use futures::StreamExt;
use pingora::server::ShutdownWatch;
use pingora::services::ServiceReadyNotifier;
use pingora::services::background::BackgroundService;
use std::sync::{Arc, Mutex};
use vrrp_net::driver::{Driver, Instance};

/// Runs the `vrrp-net` driver for one instance inside pingora's runtime.
///
/// The driver's sockets are registered with the runtime that builds them, so the driver is
/// built here, in the service's own runtime, not in `main`. Once built, its
/// [`Handle`](vrrp_net::driver::Handle) is published in the [`VrrpSlot`] and the service
/// reports ready, which starts the services depending on it (the health checks). A driver
/// that cannot be built or stops with an error raises [`Fatal`]. The VIP is released by
/// [`crate::shutdown::HandOverOnSignal`] before pingora's shutdown reaches this service;
/// if it is still running then (a fast shutdown), it is shut down here.
pub struct VrrpService {
    instance: Mutex<Option<Instance>>,
    slot: VrrpSlot,
    fatal: Arc<Fatal>,
}

impl VrrpService {
    /// A service for `instance`, publishing its handle in `slot`.
    pub fn new(instance: Instance, slot: VrrpSlot, fatal: Arc<Fatal>) -> Self {
        Self {
            instance: Mutex::new(Some(instance)),
            slot,
            fatal,
        }
    }
}

#[async_trait]
impl BackgroundService for VrrpService {
    async fn start_with_ready_notifier(
        &self,
        mut shutdown: ShutdownWatch,
        ready: ServiceReadyNotifier,
    ) {
        let instance = self.instance.lock().ok().and_then(|mut i| i.take());
        let Some(instance) = instance else {
            self.fatal.raise("vrrp service started twice");
            return;
        };
        let built = Driver::builder().instance(instance).build().await;
        let (driver, handle, mut events) = match built {
            Ok(parts) => parts,
            Err(e) => {
                self.fatal.raise(format!("vrrp driver: {e}"));
                return;
            }
        };
        let _ = self.slot.set(handle.clone());
        ready.notify_ready();
        let mut run = tokio::spawn(driver.run());
        let mut driver_done = false;
        loop {
            tokio::select! {
                event = events.next() => match event {
                    Some(event) => tracing::info!("vrrp {event}"),
                    None => break,
                },
                result = &mut run, if !driver_done => {
                    driver_done = true;
                    match result {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => self.fatal.raise(format!("vrrp driver stopped: {e}")),
                        Err(e) => self.fatal.raise(format!("vrrp driver task: {e}")),
                    }
                }
                changed = shutdown.changed() => {
                    if changed.is_err() || *shutdown.borrow() {
                        // Already stopped after a hand-over: `Stopped` errors, harmlessly.
                        let _ = handle.shutdown().await;
                        return;
                    }
                }
            }
        }
    }
}
