//! Helpers for the embedder's tests (feature `test-util`): values that only the
//! scheduler creates in production.

use crate::{Change, Event, Health, TargetId};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::time::Instant;

/// An [`Event`] as the scheduler would emit it, for feeding a sink under test:
/// a [`Change::Health`] with sequence number 0, now, no reason. Adjust the public fields as
/// needed (e.g. `change` to [`Change::Removed`]).
///
/// ```
/// use healthcheck::sink::backend_set;
/// use healthcheck::{Health, Reason, TargetId, test_util};
///
/// let addr = "192.0.2.21:80".parse()?;
/// let mut down = test_util::event(TargetId(0), "rs21", addr, Health::Down, 1);
/// down.reason = Some(Reason::Refused);
/// let (mut writer, set) = backend_set();
/// assert!(writer.handle_event(&test_util::event(TargetId(0), "rs21", addr, Health::Up, 1)));
/// assert!(writer.handle_event(&down));
/// assert!(set.current().is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn event(target: TargetId, name: &str, addr: SocketAddr, health: Health, weight: u32) -> Event {
    Event {
        seq: 0,
        at: Instant::now(),
        target,
        name: Arc::from(name),
        addr,
        change: Change::Health,
        health,
        weight,
        reason: None,
    }
}
