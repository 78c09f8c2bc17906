//! The healthy backends as a lock-free snapshot for a proxy's request path: a weighted pick
//! in one atomic load, with "anyone but this one" for retries.

use super::{Backend, BackendSet};
use arc_swap::ArcSwap;
use std::net::SocketAddr;
use std::sync::Arc;

/// The healthy backends with their cumulative weights, replaced as a whole.
#[derive(Debug, Default)]
struct Snapshot {
    backends: Arc<[Backend]>,
    /// `cumulative[i]` is the sum of the weights of `backends[..=i]`.
    cumulative: Vec<u64>,
}

impl Snapshot {
    fn new(backends: Arc<[Backend]>) -> Self {
        let cumulative = backends
            .iter()
            .scan(0u64, |sum, b| {
                *sum += u64::from(b.weight);
                Some(*sum)
            })
            .collect();
        Snapshot {
            backends,
            cumulative,
        }
    }

    fn total(&self) -> u64 {
        self.cumulative.last().copied().unwrap_or(0)
    }
}

/// What the request path reads: one atomic load per pick, no lock; the health checker's
/// [`BackendSet`] is copied in by a task whenever it changes ([`Picker::follow`]).
///
/// ```
/// use std::net::SocketAddr;
/// use std::sync::Arc;
/// use healthcheck::sink::{Backend, Picker};
///
/// let picker = Picker::default();
/// let backend = |last: u8, weight| Backend {
///     name: Arc::from(format!("b{last}")),
///     addr: SocketAddr::from(([192, 0, 2, last], 80)),
///     weight,
/// };
/// picker.replace(Arc::from(vec![backend(21, 1), backend(22, 3)]));
/// let first = picker.pick(7, None).expect("a healthy backend");
/// // A retry never goes back to the backend that just failed.
/// let retry = picker.pick(7, Some(first)).expect("another one");
/// assert_ne!(first, retry);
/// ```
#[derive(Debug, Default)]
pub struct Picker {
    snapshot: ArcSwap<Snapshot>,
}

impl Picker {
    /// A pool that follows `set` from now on (spawns the copying task on the current
    /// runtime; it ends when the set's writer is gone).
    pub fn follow(mut set: BackendSet) -> Arc<Picker> {
        let pool = Arc::new(Picker::default());
        pool.replace(set.current());
        let weak = Arc::downgrade(&pool);
        tokio::spawn(async move {
            while let Some(backends) = set.changed().await {
                let Some(pool) = weak.upgrade() else { return };
                pool.replace(backends);
            }
        });
        pool
    }

    /// Installs a new healthy set.
    pub fn replace(&self, backends: Arc<[Backend]>) {
        self.snapshot.store(Arc::new(Snapshot::new(backends)));
    }

    /// Whether some backend may receive new requests (healthy with a weight).
    pub fn serving(&self) -> bool {
        self.snapshot.load().total() > 0
    }

    /// A healthy backend chosen in proportion to the weights by `key` (a random number),
    /// leaving out `except` (the backend a retry moves away from); `None` if none is left.
    pub fn pick(&self, key: u64, except: Option<SocketAddr>) -> Option<SocketAddr> {
        let snap = self.snapshot.load();
        let skip = except.and_then(|a| snap.backends.iter().position(|b| b.addr == a));
        let skipped = skip.map_or(0, |i| u64::from(snap.backends[i].weight));
        let total = snap.total() - skipped;
        if total == 0 {
            return None;
        }
        let mut point = key % total;
        if let Some(i) = skip {
            // Map the point over the hole left by the skipped backend.
            let start = snap.cumulative[i] - skipped;
            if point >= start {
                point += skipped;
            }
        }
        let index = snap.cumulative.partition_point(|&c| c <= point);
        snap.backends.get(index).map(|b| b.addr)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn backend(last: u8, weight: u32) -> Backend {
        Backend {
            name: Arc::from(format!("b{last}")),
            addr: SocketAddr::from(([192, 0, 2, last], 80)),
            weight,
        }
    }

    fn counts(pool: &Picker, except: Option<SocketAddr>) -> [u32; 3] {
        let mut n = [0; 3];
        for key in 0..600 {
            if let Some(a) = pool.pick(key, except) {
                let SocketAddr::V4(v4) = a else { panic!() };
                n[usize::from(v4.ip().octets()[3]) - 21] += 1;
            }
        }
        n
    }

    #[test]
    fn picks_in_proportion_to_the_weights() {
        let pool = Picker::default();
        pool.replace(Arc::from(vec![
            backend(21, 1),
            backend(22, 2),
            backend(23, 3),
        ]));
        assert_eq!(counts(&pool, None), [100, 200, 300]);
    }

    #[test]
    fn a_retry_never_picks_the_failed_backend() {
        let pool = Picker::default();
        pool.replace(Arc::from(vec![
            backend(21, 1),
            backend(22, 2),
            backend(23, 3),
        ]));
        let failed = SocketAddr::from(([192, 0, 2, 22], 80));
        assert_eq!(counts(&pool, Some(failed)), [150, 0, 450]);
    }

    #[test]
    fn zero_weights_and_empty_sets_serve_nothing() {
        let pool = Picker::default();
        assert!(!pool.serving());
        assert_eq!(pool.pick(7, None), None);
        pool.replace(Arc::from(vec![backend(21, 0), backend(22, 1)]));
        assert!(pool.serving());
        assert_eq!(counts(&pool, None), [0, 600, 0]);
        let only = SocketAddr::from(([192, 0, 2, 22], 80));
        assert_eq!(pool.pick(7, Some(only)), None);
    }
}
