//! Interfaces: names, indexes, hardware and primary addresses, link state changes, and the
//! host's local addresses with their changes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use futures::{Stream, StreamExt, TryStreamExt};
use netlink_packet_core::NetlinkPayload;
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::address::{AddressAttribute, AddressHeaderFlags, AddressMessage};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use rtnetlink::{Handle, MulticastGroup};
use tokio::task::JoinHandle;

use crate::error::LinkError;

/// What the driver needs to know about one interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// Kernel index.
    pub index: u32,
    /// Name.
    pub name: String,
    /// Hardware address (empty for interfaces without one).
    pub mac: Vec<u8>,
    /// Whether the link is up and running (`IFF_UP` and `IFF_RUNNING`).
    pub running: bool,
}

/// A link appeared, changed, or went away.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LinkChange {
    /// The interface index.
    pub ifindex: u32,
    /// The interface name (empty when the kernel did not say).
    pub name: String,
    /// Whether it is now up and running.
    pub running: bool,
    /// Whether the interface was deleted (RTM_DELLINK).
    pub removed: bool,
}

impl LinkChange {
    /// Interface `ifindex` is now up and running, or not.
    pub fn new(ifindex: u32, running: bool) -> Self {
        Self {
            ifindex,
            name: String::new(),
            running,
            removed: false,
        }
    }
}

/// One address on one interface of this host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct LocalAddress {
    /// The interface index.
    pub ifindex: u32,
    /// The address (IFA_LOCAL, else IFA_ADDRESS: the local end of a point-to-point link).
    pub addr: IpAddr,
    /// Its prefix length.
    pub prefix_len: u8,
}

/// An address was added to an interface (or changed there: the kernel reports flag and
/// lifetime updates as additions too), or removed from one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct AddressChange {
    /// The interface index.
    pub ifindex: u32,
    /// The address (IFA_LOCAL, else IFA_ADDRESS).
    pub addr: IpAddr,
    /// Its prefix length.
    pub prefix_len: u8,
    /// `true` for RTM_NEWADDR (the address is on the interface), `false` for RTM_DELADDR.
    pub present: bool,
}

impl AddressChange {
    /// `addr`/`prefix_len` on `ifindex` is now present, or not.
    pub fn new(ifindex: u32, addr: IpAddr, prefix_len: u8, present: bool) -> Self {
        Self {
            ifindex,
            addr,
            prefix_len,
            present,
        }
    }

    /// The change of one RTM_NEWADDR / RTM_DELADDR message; `None` for other messages and
    /// for an address message without an address.
    fn of(message: &RouteNetlinkMessage) -> Option<Self> {
        let (msg, present) = match message {
            RouteNetlinkMessage::NewAddress(msg) => (msg, true),
            RouteNetlinkMessage::DelAddress(msg) => (msg, false),
            _ => return None,
        };
        Some(Self::new(
            msg.header.index,
            message_address(msg)?,
            msg.header.prefix_len,
            present,
        ))
    }
}

/// The address an address message is about: IFA_LOCAL when present (on a point-to-point
/// link IFA_ADDRESS is the peer's), else IFA_ADDRESS.
pub(crate) fn message_address(msg: &AddressMessage) -> Option<IpAddr> {
    let attribute = |local: bool| {
        msg.attributes.iter().find_map(|a| match a {
            AddressAttribute::Local(a) if local => Some(*a),
            AddressAttribute::Address(a) if !local => Some(*a),
            _ => None,
        })
    };
    attribute(true).or_else(|| attribute(false))
}

/// Queries about interfaces over one rtnetlink connection.
#[derive(Debug)]
pub struct Links {
    handle: Handle,
    task: JoinHandle<()>,
}

impl Links {
    /// Opens the connection. Must be called inside a tokio runtime.
    pub fn new() -> Result<Self, LinkError> {
        let (conn, handle, _) = rtnetlink::new_connection().map_err(LinkError::Io)?;
        Ok(Self {
            handle,
            task: tokio::spawn(conn),
        })
    }

    /// The interface named `name`.
    pub async fn by_name(&self, name: &str) -> Result<Interface, LinkError> {
        let found = self
            .handle
            .link()
            .get()
            .match_name(name.to_owned())
            .execute()
            .try_next()
            .await;
        match found {
            Ok(Some(msg)) => Ok(interface(&msg)),
            Ok(None) => Err(LinkError::NoSuchInterface(name.to_owned())),
            Err(rtnetlink::Error::NetlinkError(e)) if -e.raw_code() == libc::ENODEV => {
                Err(LinkError::NoSuchInterface(name.to_owned()))
            }
            Err(source) => Err(LinkError::Netlink {
                what: format!("link {name}"),
                source: source.into(),
            }),
        }
    }

    /// The interface with index `index`.
    pub async fn by_index(&self, index: u32) -> Result<Interface, LinkError> {
        let found = self
            .handle
            .link()
            .get()
            .match_index(index)
            .execute()
            .try_next()
            .await;
        match found {
            Ok(Some(msg)) => Ok(interface(&msg)),
            Ok(None) => Err(LinkError::NoSuchIndex(index)),
            Err(rtnetlink::Error::NetlinkError(e)) if -e.raw_code() == libc::ENODEV => {
                Err(LinkError::NoSuchIndex(index))
            }
            Err(source) => Err(LinkError::Netlink {
                what: format!("link index {index}"),
                source: source.into(),
            }),
        }
    }

    /// The addresses on `ifindex` in kernel order (primary first), without secondaries'
    /// distinction for IPv6.
    pub async fn addresses(&self, ifindex: u32) -> Result<Vec<(IpAddr, u8, bool)>, LinkError> {
        let mut stream = self
            .handle
            .address()
            .get()
            .set_link_index_filter(ifindex)
            .execute();
        let mut out = Vec::new();
        while let Some(msg) = stream
            .try_next()
            .await
            .map_err(|source| LinkError::Netlink {
                what: format!("addresses of index {ifindex}"),
                source: source.into(),
            })?
        {
            if msg.header.index != ifindex {
                continue;
            }
            let secondary = msg.header.flags.contains(AddressHeaderFlags::Secondary);
            let addr = message_address(&msg);
            if let Some(addr) = addr {
                out.push((addr, msg.header.prefix_len, secondary));
            }
        }
        Ok(out)
    }

    /// Every address of every interface of this host (of the network namespace the
    /// connection was opened in), IPv4 and IPv6, in kernel order.
    pub async fn all_addresses(&self) -> Result<Vec<LocalAddress>, LinkError> {
        let mut stream = self.handle.address().get().execute();
        let mut out = Vec::new();
        while let Some(msg) = stream
            .try_next()
            .await
            .map_err(|source| LinkError::Netlink {
                what: "the addresses of every interface".to_owned(),
                source: source.into(),
            })?
        {
            if let Some(addr) = message_address(&msg) {
                out.push(LocalAddress {
                    ifindex: msg.header.index,
                    addr,
                    prefix_len: msg.header.prefix_len,
                });
            }
        }
        Ok(out)
    }

    /// The address a router on `ifname` should use as its primary address: the first IPv4
    /// address, or the first IPv6 link-local address (RFC 9568 §5.1.2.1).
    pub async fn primary_address(
        &self,
        ifname: &str,
        family: vrrp_core::Family,
    ) -> Result<IpAddr, LinkError> {
        let iface = self.by_name(ifname).await?;
        let named = |e: LinkError| match e {
            LinkError::NoAddress { what, .. } => LinkError::NoAddress {
                ifname: ifname.to_owned(),
                what,
            },
            other => other,
        };
        match family {
            vrrp_core::Family::V4 => self.primary_v4(iface.index, &[]).await.map(IpAddr::V4),
            vrrp_core::Family::V6 => self.link_local_v6(iface.index).await.map(IpAddr::V6),
        }
        .map_err(named)
    }

    /// The primary IPv4 address of `ifindex`, skipping `except` (our own VIPs).
    pub async fn primary_v4(&self, ifindex: u32, except: &[IpAddr]) -> Result<Ipv4Addr, LinkError> {
        self.addresses(ifindex)
            .await?
            .into_iter()
            .find_map(|(a, _, secondary)| match a {
                IpAddr::V4(v4) if !secondary && !except.contains(&a) => Some(v4),
                _ => None,
            })
            .ok_or_else(|| LinkError::NoAddress {
                ifname: format!("index {ifindex}"),
                what: "ipv4",
            })
    }

    /// The first IPv6 link-local address of `ifindex`.
    pub async fn link_local_v6(&self, ifindex: u32) -> Result<Ipv6Addr, LinkError> {
        self.addresses(ifindex)
            .await?
            .into_iter()
            .find_map(|(a, _, _)| match a {
                IpAddr::V6(v6) if v6.is_unicast_link_local() => Some(v6),
                _ => None,
            })
            .ok_or_else(|| LinkError::NoAddress {
                ifname: format!("index {ifindex}"),
                what: "ipv6 link-local",
            })
    }

    /// The rtnetlink handle, for callers that need more.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }
}

impl Drop for Links {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn interface(msg: &LinkMessage) -> Interface {
    let mut name = String::new();
    let mut mac = Vec::new();
    for attr in &msg.attributes {
        match attr {
            LinkAttribute::IfName(n) => name.clone_from(n),
            LinkAttribute::Address(a) => mac.clone_from(a),
            _ => {}
        }
    }
    Interface {
        index: msg.header.index,
        name,
        mac,
        running: running(msg),
    }
}

fn running(msg: &LinkMessage) -> bool {
    msg.header.flags.contains(LinkFlags::Up) && msg.header.flags.contains(LinkFlags::Running)
}

/// Link state changes of every interface (RTNLGRP_LINK), as a stream.
///
/// The stream ends when the monitor socket fails. Must be called inside a tokio runtime.
pub fn link_changes() -> Result<impl Stream<Item = LinkChange> + Send + Unpin + 'static, LinkError>
{
    let (conn, _handle, messages) =
        rtnetlink::new_multicast_connection(&[MulticastGroup::Link]).map_err(LinkError::Io)?;
    let task = tokio::spawn(conn);
    let guard = AbortOnDrop(task);
    Ok(Box::pin(messages.filter_map(move |(message, _)| {
        let _keep = &guard;
        let change = match message.payload {
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(msg)) => Some(LinkChange {
                ifindex: msg.header.index,
                name: interface(&msg).name,
                running: running(&msg),
                removed: false,
            }),
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelLink(msg)) => Some(LinkChange {
                ifindex: msg.header.index,
                name: interface(&msg).name,
                running: false,
                removed: true,
            }),
            _ => None,
        };
        futures::future::ready(change)
    })))
}

/// Addresses added to and removed from every interface (RTNLGRP_IPV4_IFADDR and
/// RTNLGRP_IPV6_IFADDR), as a stream.
///
/// Subscribe before reading the current addresses ([`Links::all_addresses`]) so that no
/// change falls between the two; a change may then be seen twice, and an added address
/// is reported again when its flags or lifetimes change, so keep a set rather than a
/// count. The stream ends when the monitor socket fails. Must be called inside a tokio
/// runtime.
pub fn address_changes()
-> Result<impl Stream<Item = AddressChange> + Send + Unpin + 'static, LinkError> {
    let (conn, _handle, messages) = rtnetlink::new_multicast_connection(&[
        MulticastGroup::Ipv4Ifaddr,
        MulticastGroup::Ipv6Ifaddr,
    ])
    .map_err(LinkError::Io)?;
    let task = tokio::spawn(conn);
    let guard = AbortOnDrop(task);
    Ok(Box::pin(messages.filter_map(move |(message, _)| {
        let _keep = &guard;
        let change = match &message.payload {
            NetlinkPayload::InnerMessage(inner) => AddressChange::of(inner),
            _ => None,
        };
        futures::future::ready(change)
    })))
}

struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn message(attributes: Vec<AddressAttribute>) -> AddressMessage {
        let mut msg = AddressMessage::default();
        msg.header.index = 7;
        msg.header.prefix_len = 24;
        msg.attributes = attributes;
        msg
    }

    #[test]
    fn the_local_attribute_wins_over_the_peer_address() {
        let local: IpAddr = "192.0.2.1".parse().unwrap();
        let peer: IpAddr = "192.0.2.2".parse().unwrap();
        let p2p = message(vec![
            AddressAttribute::Address(peer),
            AddressAttribute::Local(local),
        ]);
        assert_eq!(message_address(&p2p), Some(local));
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(
            message_address(&message(vec![AddressAttribute::Address(v6)])),
            Some(v6)
        );
        assert_eq!(message_address(&message(Vec::new())), None);
    }

    #[test]
    fn new_and_deleted_addresses_are_changes() {
        let addr: IpAddr = "198.51.100.9".parse().unwrap();
        let msg = message(vec![AddressAttribute::Local(addr)]);
        assert_eq!(
            AddressChange::of(&RouteNetlinkMessage::NewAddress(msg.clone())),
            Some(AddressChange::new(7, addr, 24, true))
        );
        assert_eq!(
            AddressChange::of(&RouteNetlinkMessage::DelAddress(msg)),
            Some(AddressChange::new(7, addr, 24, false))
        );
        assert_eq!(
            AddressChange::of(&RouteNetlinkMessage::DelAddress(message(Vec::new()))),
            None
        );
        assert_eq!(
            AddressChange::of(&RouteNetlinkMessage::NewLink(LinkMessage::default())),
            None
        );
    }
}
