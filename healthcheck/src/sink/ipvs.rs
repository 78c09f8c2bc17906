//! [`PoolBackend`] for one IPVS virtual service through `ipvs-sys`.

use super::{Dest, PoolBackend};
use async_trait::async_trait;
use ipvs_sys::{DesiredService, Destination, Error, ForwardMethod, IpvsHandle, Service};
use std::collections::HashMap;
use std::net::SocketAddr;

/// One IPVS virtual service and its destinations, managed through a netlink handle.
///
/// The pool owns the service: [`PoolBackend::sync`] (run by `PoolSink::startup` and
/// `PoolSink::resync`) creates it when it is missing, restores its settings and makes its
/// destinations exactly the pool's, through [`IpvsHandle::apply_service`]; other services
/// are never touched. Adding a destination that already exists updates it instead, and
/// removing one that is already gone succeeds, so single operations converge too.
#[derive(Debug, Clone)]
pub struct IpvsPool {
    handle: IpvsHandle,
    service: Service,
    forward: ForwardMethod,
    templates: HashMap<SocketAddr, Destination>,
}

impl IpvsPool {
    /// Manages `service` (created at the first sync if missing), forwarding to its
    /// destinations with `forward` (keepalived's `lb_kind`).
    pub fn new(handle: IpvsHandle, service: Service, forward: ForwardMethod) -> Self {
        IpvsPool {
            handle,
            service,
            forward,
            templates: HashMap::new(),
        }
    }

    /// Gives destinations settings of their own (keepalived's per-real-server
    /// `lvs_method`, `uthreshold`, `lthreshold`), keyed by address: a destination with a
    /// template is its template with the pool's weight; one without is forwarded with the
    /// pool's method and has no thresholds. Reaches the kernel at the next sync.
    pub fn set_templates(&mut self, templates: impl IntoIterator<Item = Destination>) {
        self.templates = templates.into_iter().map(|d| (d.addr, d)).collect();
    }

    /// [`IpvsPool::set_templates`], chained.
    pub fn with_templates(mut self, templates: impl IntoIterator<Item = Destination>) -> Self {
        self.set_templates(templates);
        self
    }

    /// The managed service's configuration.
    pub fn service(&self) -> &Service {
        &self.service
    }

    /// The forwarding method of the destinations.
    pub fn forward(&self) -> ForwardMethod {
        self.forward
    }

    /// Takes new service settings (scheduler, persistence, flags...) for the same key, and
    /// a new forwarding method; both reach the kernel at the next sync (`PoolSink::resync`),
    /// as an update of the service and of the destinations that differ. A different key is
    /// another service: build another pool for it.
    pub fn reconfigure(&mut self, service: Service, forward: ForwardMethod) {
        self.service = service;
        self.forward = forward;
    }

    /// What a sync to `dests` makes the kernel hold, handed to
    /// [`IpvsHandle::apply_service`], which sends only the difference from the kernel's
    /// copy ([`ipvs_sys::plan_service`]).
    pub fn desired(&self, dests: &[Dest]) -> DesiredService {
        DesiredService {
            service: self.service.clone(),
            destinations: dests.iter().map(|d| self.destination(*d)).collect(),
        }
    }

    /// Deletes the service and its destinations (a graceful stop); succeeds if it is
    /// already gone.
    pub async fn delete_service(&self) -> Result<(), Error> {
        match self.handle.delete_service(&self.service.key).await {
            Err(Error::NoSuchService(_)) => Ok(()),
            other => other,
        }
    }

    fn destination(&self, dest: Dest) -> Destination {
        match self.templates.get(&dest.addr) {
            Some(template) => template.weight(dest.weight),
            None => destination(self.forward, dest),
        }
    }
}

fn destination(forward: ForwardMethod, dest: Dest) -> Destination {
    Destination::new(dest.addr)
        .forward(forward)
        .weight(dest.weight)
}

#[cfg(test)]
fn desired(service: &Service, forward: ForwardMethod, dests: &[Dest]) -> DesiredService {
    DesiredService {
        service: service.clone(),
        destinations: dests.iter().map(|d| destination(forward, *d)).collect(),
    }
}

#[async_trait]
impl PoolBackend for IpvsPool {
    type Error = Error;

    async fn add_dest(&mut self, dest: Dest) -> Result<(), Error> {
        let key = self.service.key;
        let d = self.destination(dest);
        match self.handle.add_destination(&key, &d).await {
            Err(Error::DestinationExists { .. }) => self.handle.update_destination(&key, &d).await,
            other => other,
        }
    }

    async fn set_weight(&mut self, dest: Dest) -> Result<(), Error> {
        let d = self.destination(dest);
        self.handle.update_destination(&self.service.key, &d).await
    }

    async fn remove_dest(&mut self, addr: SocketAddr) -> Result<(), Error> {
        match self
            .handle
            .delete_destination(&self.service.key, addr)
            .await
        {
            Err(Error::NoSuchDestination { .. }) => Ok(()),
            other => other,
        }
    }

    async fn sync(&mut self, dests: &[Dest]) -> Result<(), Error> {
        self.handle
            .apply_service(&self.desired(dests))
            .await
            .map(drop)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::Health;
    use crate::sink::{Pool, PoolConfig, PoolOp};
    use ipvs_sys::{Command, Scheduler, ServiceKey, plan_service};

    fn rs(n: u8) -> SocketAddr {
        SocketAddr::from(([192, 0, 2, n], 80))
    }

    /// A reload (one real server added, one removed, one re-weighted) reaches the kernel
    /// as exactly those three commands: the staying destination is not recreated.
    #[test]
    fn a_reload_changes_only_the_destinations_that_differ() {
        let key = ServiceKey::tcp(SocketAddr::from(([192, 0, 2, 10], 80)));
        let service = Service::new(key, Scheduler::WeightedRoundRobin);
        let forward = ForwardMethod::Masquerade;
        let reals = [(21, 1), (22, 1), (23, 1)].map(|(n, w)| (Dest::new(rs(n), w), Health::Up));
        let mut pool = Pool::new(PoolConfig::default(), reals).unwrap();
        pool.startup();
        let before = desired(&service, forward, &pool.desired());
        let kernel = (&service, before.destinations.as_slice());

        let mut ops = pool.remove_real(rs(21));
        ops.extend(pool.set_real(Dest::new(rs(23), 5), Health::Up).unwrap());
        ops.extend(pool.set_real(Dest::new(rs(24), 1), Health::Down).unwrap());
        ops.extend(pool.set_real(Dest::new(rs(25), 2), Health::Up).unwrap());
        assert_eq!(
            ops,
            [
                PoolOp::Remove(rs(21)),
                PoolOp::SetWeight(Dest::new(rs(23), 5)),
                PoolOp::Add(Dest::new(rs(25), 2)),
            ],
            "rs24 joins down: not in the table"
        );
        let after = desired(&service, forward, &pool.desired());
        let commands = plan_service(Some(kernel), &after);
        assert_eq!(
            commands,
            [
                Command::DeleteDestination(key, rs(21)),
                Command::UpdateDestination(key, destination(forward, Dest::new(rs(23), 5))),
                Command::AddDestination(key, destination(forward, Dest::new(rs(25), 2))),
            ]
        );
    }
}
