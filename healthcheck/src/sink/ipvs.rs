//! [`PoolBackend`] for one IPVS virtual service through `ipvs-sys`.

use super::{Dest, PoolBackend};
use async_trait::async_trait;
use ipvs_sys::{DesiredService, Destination, Error, ForwardMethod, IpvsHandle, Service};
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
}

impl IpvsPool {
    /// Manages `service` (created at the first sync if missing), forwarding to its
    /// destinations with `forward` (keepalived's `lb_kind`).
    pub fn new(handle: IpvsHandle, service: Service, forward: ForwardMethod) -> Self {
        IpvsPool {
            handle,
            service,
            forward,
        }
    }

    /// The managed service's configuration.
    pub fn service(&self) -> &Service {
        &self.service
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
        Destination::new(dest.addr)
            .forward(self.forward)
            .weight(dest.weight)
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
        let desired = DesiredService {
            service: self.service.clone(),
            destinations: dests.iter().map(|d| self.destination(*d)).collect(),
        };
        self.handle.apply_service(&desired).await.map(drop)
    }
}
