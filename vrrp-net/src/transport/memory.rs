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
    /// `None` once detached: the transport's `recv` then ends with `Closed`.
    tx: Option<mpsc::UnboundedSender<Received>>,
}

/// A gratuitous ARP / unsolicited NA that a driver sent on a [`MemoryLan`] port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Announcement {
    /// The sending port's interface index.
    pub ifindex: u32,
    /// The announced address.
    pub address: IpAddr,
}

/// Deterministic packet loss: xorshift64* from a seed, one draw per delivered copy.
#[derive(Debug, Clone, Copy)]
struct Loss {
    per_mille: u16,
    state: u64,
}

impl Loss {
    fn drop_next(&mut self) -> bool {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        let draw = self.state.wrapping_mul(0x2545_f491_4f6c_dd1d) % 1000;
        draw < u64::from(self.per_mille)
    }
}

#[derive(Debug, Default)]
struct Segment {
    ports: Vec<Port>,
    /// Interfaces down: they neither send nor receive (a pulled cable without carrier loss
    /// reported to the driver).
    down: Vec<u32>,
    /// One side of a partition; packets cross only between ports on the same side.
    partition: Option<Vec<u32>>,
    loss: Option<Loss>,
    announcements: Vec<Announcement>,
}

impl Segment {
    fn connected(&self, a: u32, b: u32) -> bool {
        let side = |i: u32| self.partition.as_ref().is_some_and(|p| p.contains(&i));
        !self.down.contains(&a) && !self.down.contains(&b) && side(a) == side(b)
    }
}

/// A shared segment: packets sent to the VRRP group reach every other port of the same family,
/// packets sent to a unicast address reach the ports that own it.
///
/// Faults are injected per interface index (the `ifindex` given at [`MemoryLan::attach`], so an
/// IPv4 and an IPv6 port with the same index go down together): [`MemoryLan::set_link`],
/// [`MemoryLan::partition`] / [`MemoryLan::heal`], seeded [`MemoryLan::set_loss`] and
/// [`MemoryLan::detach`]. Announcements sent on the segment are recorded
/// ([`MemoryLan::announcements`]).
#[derive(Debug, Clone, Default)]
pub struct MemoryLan {
    segment: Arc<Mutex<Segment>>,
}

impl MemoryLan {
    /// An empty segment.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Segment> {
        self.segment.lock().unwrap_or_else(PoisonError::into_inner)
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
            let mut segment = self.lock();
            segment.ports.push(Port {
                ifindex,
                family,
                addrs,
                tx: Some(tx),
            });
            segment.ports.len() - 1
        };
        MemoryTransport {
            lan: self.clone(),
            id,
            ifindex,
            family,
            rx: AsyncMutex::new(rx),
        }
    }

    /// Takes interface `ifindex` down (`false`) or up (`true`): while down its ports neither
    /// send nor receive.
    pub fn set_link(&self, ifindex: u32, up: bool) {
        let mut segment = self.lock();
        segment.down.retain(|i| *i != ifindex);
        if !up {
            segment.down.push(ifindex);
        }
    }

    /// Splits the segment in two: the interfaces in `side` hear only each other, the rest
    /// only each other. Replaces an earlier partition.
    pub fn partition(&self, side: &[u32]) {
        self.lock().partition = Some(side.to_vec());
    }

    /// Ends a partition.
    pub fn heal(&self) {
        self.lock().partition = None;
    }

    /// Drops each delivered copy with probability `per_mille` / 1000 (capped at 1000), drawn
    /// from a generator seeded with `seed`, so a run is repeatable; 0 ends the loss.
    pub fn set_loss(&self, per_mille: u16, seed: u64) {
        self.lock().loss = (per_mille > 0).then_some(Loss {
            per_mille: per_mille.min(1000),
            state: seed | 1,
        });
    }

    /// Removes interface `ifindex`'s ports for good (a crashed host): they stop receiving,
    /// their `recv` ends with [`TransportError::Closed`], and what they send is lost.
    pub fn detach(&self, ifindex: u32) {
        for port in self
            .lock()
            .ports
            .iter_mut()
            .filter(|p| p.ifindex == ifindex)
        {
            port.tx = None;
        }
    }

    /// Every announcement sent on the segment so far, in order.
    pub fn announcements(&self) -> Vec<Announcement> {
        self.lock().announcements.clone()
    }

    /// Delivers `packet` as if it came from the wire to every port of its family that would
    /// accept it (the group, or the port owning `packet.dst`). Link state, partitions and
    /// loss do not apply to it.
    pub fn deliver(&self, packet: &Received) {
        self.deliver_from(None, packet);
    }

    fn deliver_from(&self, from: Option<usize>, packet: &Received) {
        let mut segment = self.lock();
        let sender = match from {
            Some(id) => match segment.ports.get(id) {
                Some(p) if p.tx.is_some() && !segment.down.contains(&p.ifindex) => Some(p.ifindex),
                // A detached or downed port sends into the void.
                _ => return,
            },
            None => None,
        };
        let family = AddressFamily::of(packet.dst);
        let targets: Vec<usize> = segment
            .ports
            .iter()
            .enumerate()
            .filter(|(id, port)| {
                Some(*id) != from
                    && port.family == family
                    && (family.vrrp_group() == packet.dst || port.addrs.contains(&packet.dst))
                    && sender.is_none_or(|s| segment.connected(s, port.ifindex))
            })
            .map(|(id, _)| id)
            .collect();
        for id in targets {
            if sender.is_some() && segment.loss.as_mut().is_some_and(Loss::drop_next) {
                continue;
            }
            let port = &segment.ports[id];
            if let Some(tx) = &port.tx {
                let mut copy = packet.clone();
                copy.ifindex = port.ifindex;
                // A closed receiver is a dropped transport: nothing to deliver to.
                let _ = tx.send(copy);
            }
        }
    }

    fn announce(&self, ifindex: u32, address: IpAddr) {
        let mut segment = self.lock();
        if !segment.down.contains(&ifindex) {
            segment
                .announcements
                .push(Announcement { ifindex, address });
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
        self.lan.deliver_from(Some(self.id), &packet);
        Ok(())
    }

    fn announce(&self, address: IpAddr) {
        self.lan.announce(self.ifindex, address);
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

    #[tokio::test]
    async fn link_down_partition_loss_and_detach() {
        let lan = MemoryLan::new();
        let a = lan.attach(1, AddressFamily::Inet, vec![v4(1)]);
        let b = lan.attach(2, AddressFamily::Inet, vec![v4(2)]);
        let group = AddressFamily::Inet.vrrp_group();
        let heard = |t: &MemoryTransport| t.rx.try_lock().map(|mut rx| rx.try_recv().is_ok());
        lan.set_link(2, false);
        a.send(v4(1), group, b"x").await.unwrap();
        assert_eq!(heard(&b).ok(), Some(false), "a downed port received");
        lan.set_link(2, true);
        lan.partition(&[1]);
        a.send(v4(1), group, b"x").await.unwrap();
        assert_eq!(heard(&b).ok(), Some(false), "crossed a partition");
        lan.heal();
        a.send(v4(1), group, b"x").await.unwrap();
        assert_eq!(heard(&b).ok(), Some(true));
        // Half loss, seeded: the same seed drops the same packets.
        lan.set_loss(500, 7);
        let mut first = Vec::new();
        for _ in 0..64 {
            a.send(v4(1), group, b"x").await.unwrap();
            first.push(heard(&b).ok() == Some(true));
        }
        lan.set_loss(500, 7);
        let mut second = Vec::new();
        for _ in 0..64 {
            a.send(v4(1), group, b"x").await.unwrap();
            second.push(heard(&b).ok() == Some(true));
        }
        assert_eq!(first, second);
        let delivered = first.iter().filter(|d| **d).count();
        assert!((16..=48).contains(&delivered), "{delivered} of 64");
        lan.set_loss(0, 0);
        lan.detach(2);
        a.send(v4(1), group, b"x").await.unwrap();
        assert!(matches!(b.recv().await, Err(TransportError::Closed)));
    }

    #[tokio::test]
    async fn announcements_are_recorded_unless_the_link_is_down() {
        let lan = MemoryLan::new();
        let a = lan.attach(1, AddressFamily::Inet, vec![v4(1)]);
        a.announce(v4(100));
        lan.set_link(1, false);
        a.announce(v4(101));
        assert_eq!(
            lan.announcements(),
            [Announcement {
                ifindex: 1,
                address: v4(100)
            }]
        );
    }
}
