//! The in-process backend set: what a Rust proxy embeds to route only to healthy
//! backends.

use crate::{Change, Event, Health, TargetId};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::watch;

/// A healthy backend and its current weight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backend {
    /// The target's name.
    pub name: Arc<str>,
    /// Where to send traffic.
    pub addr: SocketAddr,
    /// Relative share of new connections; 0 means "up, but send nothing new"
    /// (IPVS semantics, e.g. after `misc_dynamic` exit status 2).
    pub weight: u32,
}

/// Creates a connected writer (fed with events) and reader handle (cloned into the
/// proxy's workers).
pub fn backend_set() -> (BackendSetWriter, BackendSet) {
    let (tx, rx) = watch::channel(Arc::from(Vec::new()));
    let writer = BackendSetWriter {
        tx,
        up: BTreeMap::new(),
    };
    (writer, BackendSet { rx })
}

/// The writing half: apply every [`Event`] of a scheduler to it.
#[derive(Debug)]
pub struct BackendSetWriter {
    tx: watch::Sender<Arc<[Backend]>>,
    up: BTreeMap<TargetId, Backend>,
}

impl BackendSetWriter {
    /// Applies one event; readers are notified only when the healthy set or a
    /// weight actually changed. Returns whether it did.
    ///
    /// A target joins when it is up (an added target joins in its initial health) and
    /// leaves when it goes down or is removed ([`Change::Removed`]).
    pub fn handle_event(&mut self, event: &Event) -> bool {
        let changed = match (event.change, event.health) {
            (Change::Removed, _) | (_, Health::Down) => self.up.remove(&event.target).is_some(),
            (_, Health::Up) => {
                let backend = Backend {
                    name: event.name.clone(),
                    addr: event.addr,
                    weight: event.weight,
                };
                self.up.insert(event.target, backend.clone()) != Some(backend)
            }
        };
        if changed {
            let snapshot: Arc<[Backend]> = self.up.values().cloned().collect();
            self.tx.send_replace(snapshot);
        }
        changed
    }
}

/// The reading half: a cheap, cloneable view of the healthy backends.
#[derive(Debug, Clone)]
pub struct BackendSet {
    rx: watch::Receiver<Arc<[Backend]>>,
}

impl BackendSet {
    /// The healthy backends now, ordered by target id. Holding the returned `Arc`
    /// never blocks the writer.
    pub fn current(&self) -> Arc<[Backend]> {
        self.rx.borrow().clone()
    }

    /// Waits for the next change and returns the new set; `None` once the writer is
    /// gone.
    pub async fn changed(&mut self) -> Option<Arc<[Backend]>> {
        self.rx.changed().await.ok()?;
        Some(self.rx.borrow_and_update().clone())
    }

    /// Picks a healthy backend in proportion to the weights, using `key` (a random
    /// number, or a hash of the client for stickiness); `None` when no backend has
    /// weight.
    pub fn pick(&self, key: u64) -> Option<Backend> {
        let set = self.current();
        let total: u64 = set.iter().map(|b| u64::from(b.weight)).sum();
        if total == 0 {
            return None;
        }
        let mut point = key % total;
        for backend in set.iter() {
            let w = u64::from(backend.weight);
            if point < w {
                return Some(backend.clone());
            }
            point -= w;
        }
        None
    }
}
