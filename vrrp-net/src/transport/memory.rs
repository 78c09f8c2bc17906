//! An in-memory LAN for tests: every transport attached to it sees the others' multicasts.

use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use tokio::sync::{Mutex as AsyncMutex, mpsc};

use super::{AddressFamily, Received, Transport, VRRP_TTL};
use crate::error::TransportError;

#[derive(Debug)]
struct Port {
    ifindex: u32,
    family: AddressFamily,
    addrs: Vec<IpAddr>,
    tx: mpsc::UnboundedSender<Received>,
}

/// A shared segment: packets sent to the VRRP group reach every other port of the same family,
/// packets sent to a unicast address reach the ports that own it.
#[derive(Debug, Clone, Default)]
pub struct MemoryLan {
    ports: Arc<Mutex<Vec<Port>>>,
}

impl MemoryLan {
    /// An empty segment.
    pub fn new() -> Self {
        Self::default()
    }

    /// Attaches a port owning `addrs`, seen by receivers as interface `ifindex`.
    pub fn attach(
        &self,
        ifindex: u32,
        family: AddressFamily,
        addrs: Vec<IpAddr>,
    ) -> MemoryTransport {
        let (tx, rx) = mpsc::unbounded_channel();
        let id = {
            let mut ports = self.ports.lock().unwrap_or_else(PoisonError::into_inner);
            ports.push(Port {
                ifindex,
                family,
                addrs,
                tx,
            });
            ports.len() - 1
        };
        MemoryTransport {
            lan: self.clone(),
            id,
            ifindex,
            family,
            rx: AsyncMutex::new(rx),
        }
    }

    /// Delivers `packet` as if it came from the wire to every port of its family that would
    /// accept it (the group, or the port owning `packet.dst`), except `from`.
    pub fn deliver(&self, packet: &Received) {
        self.deliver_from(usize::MAX, packet);
    }

    fn deliver_from(&self, from: usize, packet: &Received) {
        let ports = self.ports.lock().unwrap_or_else(PoisonError::into_inner);
        let family = AddressFamily::of(packet.dst);
        for (id, port) in ports.iter().enumerate() {
            let wanted = family.vrrp_group() == packet.dst || port.addrs.contains(&packet.dst);
            if id != from && port.family == family && wanted {
                let mut copy = packet.clone();
                copy.ifindex = port.ifindex;
                // A closed receiver is a dropped transport: nothing to deliver to.
                let _ = port.tx.send(copy);
            }
        }
    }
}

/// One port of a [`MemoryLan`].
#[derive(Debug)]
pub struct MemoryTransport {
    lan: MemoryLan,
    id: usize,
    ifindex: u32,
    family: AddressFamily,
    rx: AsyncMutex<mpsc::UnboundedReceiver<Received>>,
}

#[async_trait]
impl Transport for MemoryTransport {
    fn ifindex(&self) -> u32 {
        self.ifindex
    }

    fn family(&self) -> AddressFamily {
        self.family
    }

    async fn send(&self, src: IpAddr, dst: IpAddr, payload: &[u8]) -> Result<(), TransportError> {
        self.send_with_ttl(src, dst, payload, VRRP_TTL).await
    }

    /// The receivers see `ttl` as the packet's TTL / hop limit (one hop, never decremented).
    async fn send_with_ttl(
        &self,
        src: IpAddr,
        dst: IpAddr,
        payload: &[u8],
        ttl: u8,
    ) -> Result<(), TransportError> {
        super::check_family(src, dst)?;
        let packet = Received {
            ifindex: self.ifindex,
            src,
            dst,
            ttl,
            payload: payload.to_vec(),
        };
        self.lan.deliver_from(self.id, &packet);
        Ok(())
    }

    async fn recv(&self) -> Result<Received, TransportError> {
        self.rx
            .lock()
            .await
            .recv()
            .await
            .ok_or(TransportError::Closed)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::net::Ipv4Addr;

    fn v4(last: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
    }

    #[tokio::test]
    async fn multicast_reaches_the_others_but_not_the_sender() {
        let lan = MemoryLan::new();
        let a = lan.attach(1, AddressFamily::Inet, vec![v4(1)]);
        let b = lan.attach(2, AddressFamily::Inet, vec![v4(2)]);
        a.send(v4(1), AddressFamily::Inet.vrrp_group(), b"hello")
            .await
            .unwrap();
        let got = b.recv().await.unwrap();
        assert_eq!(
            (got.src, got.ttl, got.ifindex, &got.payload[..]),
            (v4(1), 255, 2, &b"hello"[..])
        );
        assert!(a.rx.lock().await.try_recv().is_err());
    }

    #[tokio::test]
    async fn unicast_reaches_only_the_owner() {
        let lan = MemoryLan::new();
        let a = lan.attach(1, AddressFamily::Inet, vec![v4(1)]);
        let b = lan.attach(2, AddressFamily::Inet, vec![v4(2)]);
        let c = lan.attach(3, AddressFamily::Inet, vec![v4(3)]);
        a.send(v4(1), v4(3), b"x").await.unwrap();
        assert_eq!(c.recv().await.unwrap().dst, v4(3));
        assert!(b.rx.lock().await.try_recv().is_err());
    }

    #[tokio::test]
    async fn mixed_families_are_refused() {
        let lan = MemoryLan::new();
        let a = lan.attach(1, AddressFamily::Inet, vec![v4(1)]);
        let err = a
            .send(v4(1), AddressFamily::Inet6.vrrp_group(), b"x")
            .await
            .unwrap_err();
        assert!(matches!(err, TransportError::FamilyMismatch { .. }));
    }
}
