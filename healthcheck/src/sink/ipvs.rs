//! [`PoolBackend`] for one IPVS virtual service through `ipvs-sys`.

use super::{Dest, PoolBackend};
use async_trait::async_trait;
use ipvs_sys::{Destination, Error, ForwardMethod, IpvsHandle, ServiceKey};
use std::net::SocketAddr;

/// The destinations of one IPVS service, managed through a netlink handle.
///
/// Adding a destination that already exists (left over from a previous run) updates
/// it instead, and removing one that is already gone succeeds, so a restarted
/// checker converges on an existing table.
#[derive(Debug, Clone)]
pub struct IpvsPool {
    handle: IpvsHandle,
    service: ServiceKey,
    forward: ForwardMethod,
}

impl IpvsPool {
    /// Manages the destinations of `service` (which must exist), forwarding with
    /// `forward` (keepalived's `lb_kind`).
    pub fn new(handle: IpvsHandle, service: ServiceKey, forward: ForwardMethod) -> Self {
        IpvsPool {
            handle,
            service,
            forward,
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
        let d = self.destination(dest);
        match self.handle.add_destination(&self.service, &d).await {
            Err(Error::DestinationExists { .. }) => {
                self.handle.update_destination(&self.service, &d).await
            }
            other => other,
        }
    }

    async fn set_weight(&mut self, dest: Dest) -> Result<(), Error> {
        let d = self.destination(dest);
        self.handle.update_destination(&self.service, &d).await
    }

    async fn remove_dest(&mut self, addr: SocketAddr) -> Result<(), Error> {
        match self.handle.delete_destination(&self.service, addr).await {
            Err(Error::NoSuchDestination { .. }) => Ok(()),
            other => other,
        }
    }
}
