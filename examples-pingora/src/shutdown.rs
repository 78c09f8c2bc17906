//! SIGTERM / SIGINT: hand the VIP over, drain, then let pingora stop.

use crate::proxy::InFlight;
use crate::{Fatal, INSTANCE, VrrpSlot};
use async_trait::async_trait;
use pingora::server::{ShutdownSignal, ShutdownSignalWatch};
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};
use tokio::time::{Instant, sleep};

/// Pingora's shutdown trigger (`RunArgs::shutdown_signal`), replacing its default one.
///
/// Pingora's listeners keep accepting until this returns, so the VIP is handed over first,
/// as the `vip-proxy` example does: this node drops to priority 1 and keeps the VIP, and
/// keeps serving, until the peer has taken over ([`vrrp_net::driver::Handle::hand_over`]);
/// then VRRP stops, the connections the kernel completed before the VIP left are taken
/// (20 ms), and in-flight requests drain under `drain_timeout`. Only then is pingora told
/// to stop ([`ShutdownSignal::GracefulTerminate`]; run it with a zero grace period). SIGINT is
/// treated as SIGTERM; a [`Fatal`] error stops at once ([`ShutdownSignal::FastShutdown`]).
/// Pingora's SIGQUIT (hot upgrade) is not used.
pub struct HandOverOnSignal {
    vrrp: VrrpSlot,
    advert_interval: Duration,
    drain_timeout: Duration,
    in_flight: InFlight,
    fatal: Arc<Fatal>,
}

impl HandOverOnSignal {
    /// The trigger for the VRRP instance in `vrrp` (advertising every `advert_interval`),
    /// waiting at most `drain_timeout` for `in_flight` to reach zero.
    pub fn new(
        vrrp: VrrpSlot,
        advert_interval: Duration,
        drain_timeout: Duration,
        in_flight: InFlight,
        fatal: Arc<Fatal>,
    ) -> Self {
        Self {
            vrrp,
            advert_interval,
            drain_timeout,
            in_flight,
            fatal,
        }
    }

    async fn hand_over(&self) {
        let Some(vrrp) = self.vrrp.get() else {
            return; // VRRP never started: nothing to give away.
        };
        // The peer takes over a Master_Down_Interval (< 4 intervals) after our last
        // full-priority advert.
        let timeout = self.advert_interval * 4 + Duration::from_millis(200);
        match vrrp.hand_over(INSTANCE, timeout).await {
            Ok(true) => tracing::info!("vip handed over"),
            Ok(false) => tracing::info!("not master or no peer took over: releasing the vip"),
            Err(e) => tracing::warn!("vrrp hand over: {e}"),
        }
        if let Err(e) = vrrp.shutdown().await {
            tracing::warn!("vrrp shutdown: {e}");
        }
    }

    async fn drain(&self) {
        // Connections the kernel completed before the VIP left are still queued: take them.
        sleep(Duration::from_millis(20)).await;
        let deadline = Instant::now() + self.drain_timeout;
        tracing::info!("draining {} requests", self.in_flight.count());
        while self.in_flight.count() > 0 {
            if Instant::now() >= deadline {
                tracing::warn!(
                    "drain deadline passed with {} requests in flight",
                    self.in_flight.count()
                );
                return;
            }
            sleep(Duration::from_millis(5)).await;
        }
    }
}

#[async_trait]
impl ShutdownSignalWatch for HandOverOnSignal {
    async fn recv(&self) -> ShutdownSignal {
        let (mut term, mut int) = match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(term), Ok(int)) => (term, int),
            (Err(e), _) | (_, Err(e)) => {
                self.fatal.raise(format!("signal handlers: {e}"));
                return ShutdownSignal::FastShutdown;
            }
        };
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: handing the vip over"),
            _ = int.recv() => tracing::info!("SIGINT: handing the vip over"),
            () = self.fatal.raised() => return ShutdownSignal::FastShutdown,
        }
        self.hand_over().await;
        self.drain().await;
        ShutdownSignal::GracefulTerminate
    }
}
