//! Pingora service discovery over `healthcheck`'s healthy backend set.

use async_trait::async_trait;
use healthcheck::sink::BackendSet;
use pingora::lb::Backend;
use pingora::lb::discovery::ServiceDiscovery;
use pingora::protocols::l4::socket::SocketAddr;
use std::collections::{BTreeSet, HashMap};

/// The backends `healthcheck` currently finds healthy, with their weights, as pingora
/// [`Backend`]s. A backend up with weight 0 ("send nothing new", IPVS semantics) is left
/// out, as is every backend that is down: pingora's own health check is not used.
///
/// Discovery reads a snapshot (one `Arc` clone), so calling it often is cheap; the
/// [`crate::health::HealthService`] calls the load balancer's `update` on every change.
#[derive(Debug, Clone)]
pub struct HealthyBackends {
    set: BackendSet,
}

impl HealthyBackends {
    /// Discovery over `set`, the reading half of [`healthcheck::sink::backend_set`].
    pub fn new(set: BackendSet) -> Self {
        Self { set }
    }

    /// The current healthy backends as pingora sees them.
    pub fn current(&self) -> BTreeSet<Backend> {
        self.set
            .current()
            .iter()
            .filter(|b| b.weight > 0)
            .map(|b| Backend {
                addr: SocketAddr::Inet(b.addr),
                // u32 -> usize never truncates on the 32/64-bit targets pingora supports.
                weight: usize::try_from(b.weight).unwrap_or(usize::MAX),
                ext: Default::default(),
            })
            .collect()
    }
}

#[async_trait]
impl ServiceDiscovery for HealthyBackends {
    async fn discover(&self) -> pingora::Result<(BTreeSet<Backend>, HashMap<u64, bool>)> {
        // Every backend returned is enabled: the set holds only healthy ones.
        Ok((self.current(), HashMap::new()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use healthcheck::sink::backend_set;
    use healthcheck::{Health, TargetId, test_util};

    #[test]
    fn only_healthy_weighted_backends_are_discovered() {
        let (mut writer, set) = backend_set();
        let discovery = HealthyBackends::new(set);
        assert!(discovery.current().is_empty());
        let event = |id: usize, port: u16, health: Health, weight: u32| {
            let addr = std::net::SocketAddr::from(([192, 0, 2, 21], port));
            test_util::event(TargetId(id), &format!("b{id}"), addr, health, weight)
        };
        writer.handle_event(&event(0, 8080, Health::Up, 2));
        writer.handle_event(&event(1, 8081, Health::Up, 0));
        writer.handle_event(&event(2, 8082, Health::Down, 1));
        let found: Vec<_> = discovery
            .current()
            .into_iter()
            .map(|b| (b.addr.to_string(), b.weight))
            .collect();
        assert_eq!(found, [("192.0.2.21:8080".to_owned(), 2)]);
    }
}
