//! The health checks as a pingora background service: they feed the healthy backend set,
//! the load balancer and the VRRP pool's track state.

use crate::{Fatal, POOL, VrrpSlot};
use async_trait::async_trait;
use healthcheck::sink::{BackendSet, BackendSetWriter};
use healthcheck::{Health, Scheduler};
use pingora::lb::LoadBalancer;
use pingora::lb::selection::RoundRobin;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use std::sync::{Arc, Mutex};
use vrrp_core::TrackState;

/// The load balancer of the proxy: weighted round robin over [`crate::discovery::HealthyBackends`].
pub type Balancer = LoadBalancer<RoundRobin>;

/// Runs `healthcheck`'s scheduler inside pingora's runtime.
///
/// On every change of the healthy set it runs the load balancer's discovery at once
/// (`LoadBalancer::update`), so a backend that fails its checks leaves the selection the
/// moment it falls; pingora's own periodic discovery is not used (updates of one load
/// balancer must not overlap, and this service is their only caller). When the set goes from
/// empty to non-empty or back, the pool's track state follows, which lowers or restores the
/// VRRP priority. It must start after [`crate::vrrp::VrrpService`] (a pingora dependency),
/// whose handle it reads.
pub struct HealthService {
    parts: Mutex<Option<(Scheduler, BackendSetWriter)>>,
    healthy: BackendSet,
    balancer: Arc<Balancer>,
    vrrp: VrrpSlot,
    fatal: Arc<Fatal>,
}

impl HealthService {
    /// A service running `scheduler`, writing to `writer` whose reader is `healthy` (the
    /// one `balancer`'s discovery reads).
    pub fn new(
        scheduler: Scheduler,
        (writer, healthy): (BackendSetWriter, BackendSet),
        balancer: Arc<Balancer>,
        vrrp: VrrpSlot,
        fatal: Arc<Fatal>,
    ) -> Self {
        Self {
            parts: Mutex::new(Some((scheduler, writer))),
            healthy,
            balancer,
            vrrp,
            fatal,
        }
    }

    async fn refresh(&self) {
        if let Err(e) = self.balancer.update().await {
            tracing::warn!("load balancer update: {e}");
        }
    }
}

#[async_trait]
impl BackgroundService for HealthService {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        let parts = self.parts.lock().ok().and_then(|mut p| p.take());
        let Some((scheduler, mut writer)) = parts else {
            self.fatal.raise("health service started twice");
            return;
        };
        let mut running = match scheduler.start() {
            Ok(running) => running,
            Err(e) => {
                self.fatal.raise(format!("health checks: {e}"));
                return;
            }
        };
        self.refresh().await;
        let mut pool_up = false;
        loop {
            let event = tokio::select! {
                event = running.next_event() => event,
                changed = shutdown.changed() => {
                    if changed.is_err() || *shutdown.borrow() {
                        return;
                    }
                    continue;
                }
            };
            if event.health == Health::Down {
                if let Some(reason) = &event.reason {
                    tracing::warn!("backend {} down: {reason}", event.name);
                }
            } else {
                tracing::info!("backend {} up, weight {}", event.name, event.weight);
            }
            if !writer.handle_event(&event) {
                continue;
            }
            self.refresh().await;
            let up = self.healthy.current().iter().any(|b| b.weight > 0);
            if up != pool_up {
                pool_up = up;
                let state = if up { TrackState::Up } else { TrackState::Down };
                tracing::info!("pool {state:?}");
                match self.vrrp.get() {
                    Some(vrrp) if vrrp.set_track_state(POOL, state).is_ok() => {}
                    // The driver stopped (a hand-over in progress): nothing left to track.
                    Some(_) => return,
                    None => self.fatal.raise("health checks started before vrrp"),
                }
            }
        }
    }
}
