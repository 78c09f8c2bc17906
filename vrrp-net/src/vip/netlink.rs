//! The kernel backend: rtnetlink RTM_NEWADDR / RTM_DELADDR, with an RTNLGRP_*_IFADDR monitor
//! that reports our addresses being removed by someone else.

use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use futures::StreamExt;
use netlink_packet_core::NetlinkPayload;
use netlink_packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage, AddressScope, CacheInfo,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use rtnetlink::{Handle, MulticastGroup};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{Vip, VipBackend, VipNotice, VipScope};
use crate::error::VipError;

/// Longest interface label the kernel accepts (IFNAMSIZ - 1).
const LABEL_MAX: usize = 15;

/// A lifetime of "forever" in IFA_CACHEINFO.
const INFINITY_LIFE_TIME: u32 = u32::MAX;

#[derive(Debug, Default)]
struct Owned {
    vips: Vec<Vip>,
}

/// Virtual addresses through rtnetlink.
///
/// Remembers what it installed; an RTM_DELADDR for one of those that this backend did not
/// ask for becomes a [`VipNotice::RemovedExternally`]. [`NetlinkVips::remove_all`] removes
/// everything still installed (call it on shutdown).
#[derive(Debug)]
pub struct NetlinkVips {
    handle: Handle,
    owned: Arc<Mutex<Owned>>,
    notices: Mutex<Option<mpsc::UnboundedReceiver<VipNotice>>>,
    tasks: Vec<JoinHandle<()>>,
}

impl NetlinkVips {
    /// Opens the request and monitor sockets. Must be called inside a tokio runtime.
    pub fn new() -> Result<Self, VipError> {
        let (conn, handle, _) = rtnetlink::new_connection().map_err(VipError::Io)?;
        let request_task = tokio::spawn(conn);
        let groups = [MulticastGroup::Ipv4Ifaddr, MulticastGroup::Ipv6Ifaddr];
        let (mconn, _mhandle, mut messages) =
            rtnetlink::new_multicast_connection(&groups).map_err(VipError::Io)?;
        let monitor_conn = tokio::spawn(mconn);
        let owned = Arc::new(Mutex::new(Owned::default()));
        let (tx, rx) = mpsc::unbounded_channel();
        let watched = Arc::clone(&owned);
        let monitor = tokio::spawn(async move {
            while let Some((message, _)) = messages.next().await {
                let NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelAddress(msg)) =
                    message.payload
                else {
                    continue;
                };
                let Some((ifindex, addr, prefix_len)) = identity(&msg) else {
                    continue;
                };
                let removed = {
                    let mut owned = watched.lock().unwrap_or_else(PoisonError::into_inner);
                    let probe = Vip::new(ifindex, addr, prefix_len);
                    let found = owned.vips.iter().position(|v| v.same_address(&probe));
                    found.map(|i| owned.vips.remove(i))
                };
                if let Some(vip) = removed
                    && tx.send(VipNotice::RemovedExternally(vip)).is_err()
                {
                    break;
                }
            }
        });
        Ok(Self {
            handle,
            owned,
            notices: Mutex::new(Some(rx)),
            tasks: vec![request_task, monitor_conn, monitor],
        })
    }

    /// Removes every address this backend installed and still owns.
    pub async fn remove_all(&self) -> Result<(), VipError> {
        let vips = self
            .owned
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .vips
            .clone();
        let mut first_error = None;
        for vip in vips {
            if let Err(e) = self.remove(&vip).await {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    fn forget(&self, vip: &Vip) {
        let mut owned = self.owned.lock().unwrap_or_else(PoisonError::into_inner);
        owned.vips.retain(|v| !v.same_address(vip));
    }
}

impl Drop for NetlinkVips {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// The rtnetlink address message naming `vip` (the RTM_DELADDR body: family, prefix length,
/// scope, interface, IFA_LOCAL, IFA_ADDRESS (the peer, if any) and the IPv4 label), shared
/// with the crash supervisor's will.
pub(crate) fn netlink_address_message(vip: &Vip) -> Result<AddressMessage, VipError> {
    let mut msg = AddressMessage::default();
    msg.header.family = match vip.addr {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    };
    msg.header.prefix_len = vip.prefix_len;
    msg.header.index = vip.ifindex;
    msg.header.scope = match vip.scope {
        VipScope::Global => AddressScope::Universe,
        VipScope::Site => AddressScope::Site,
        VipScope::Link => AddressScope::Link,
        VipScope::Host => AddressScope::Host,
        VipScope::Nowhere => AddressScope::Nowhere,
    };
    msg.attributes.push(AddressAttribute::Local(vip.addr));
    let address = vip.options.peer.unwrap_or(vip.addr);
    if address.is_ipv4() != vip.addr.is_ipv4() {
        return Err(VipError::BadPeer {
            addr: vip.addr,
            peer: address,
        });
    }
    msg.attributes.push(AddressAttribute::Address(address));
    if let Some(label) = &vip.label {
        if label.is_empty() || label.len() > LABEL_MAX || label.contains('\0') {
            return Err(VipError::BadLabel(label.clone()));
        }
        if vip.addr.is_ipv4() {
            msg.attributes.push(AddressAttribute::Label(label.clone()));
        }
    }
    Ok(msg)
}

/// The RTM_NEWADDR body of `vip`: [`netlink_address_message`] plus the broadcast address,
/// the IFA_F_* flags and the IPv6 preferred lifetime, as keepalived 2.2.7 sends them (no
/// IFA_BROADCAST unless given; IFA_F_NODAD on IPv6 unless duplicate address detection is
/// asked for; IFA_CACHEINFO only for an IPv6 lifetime other than forever).
pub(crate) fn netlink_add_message(vip: &Vip) -> Result<AddressMessage, VipError> {
    let mut msg = netlink_address_message(vip)?;
    let options = &vip.options;
    if let (IpAddr::V4(_), Some(brd)) = (vip.addr, options.broadcast) {
        msg.attributes.push(AddressAttribute::Broadcast(brd));
    }
    let mut flags = AddressFlags::empty();
    if vip.addr.is_ipv6() && !options.dad {
        // A VIP must answer at once, and a split brain must not leave it "dadfailed".
        flags |= AddressFlags::Nodad;
    }
    for (on, flag) in [
        (options.noprefixroute, AddressFlags::Noprefixroute),
        (options.home, AddressFlags::Homeaddress),
        (options.mngtmpaddr, AddressFlags::Managetempaddr),
        (options.autojoin, AddressFlags::Mcautojoin),
    ] {
        if on {
            flags |= flag;
        }
    }
    if !flags.is_empty() {
        // The header keeps the low 8 bits for kernels that ignore IFA_FLAGS.
        let low = u8::try_from(flags.bits() & 0xff).unwrap_or(0);
        msg.header.flags = AddressHeaderFlags::from_bits_retain(low);
        msg.attributes.push(AddressAttribute::Flags(flags));
    }
    if let (IpAddr::V6(_), Some(preferred)) = (vip.addr, options.preferred_lft) {
        let mut info = CacheInfo::default();
        info.ifa_preferred = preferred;
        info.ifa_valid = INFINITY_LIFE_TIME;
        msg.attributes.push(AddressAttribute::CacheInfo(info));
    }
    Ok(msg)
}

fn identity(msg: &AddressMessage) -> Option<(u32, IpAddr, u8)> {
    let addr = crate::link::message_address(msg)?;
    Some((msg.header.index, addr, msg.header.prefix_len))
}

fn is_errno(error: &rtnetlink::Error, errnos: &[i32]) -> bool {
    matches!(error, rtnetlink::Error::NetlinkError(m) if errnos.contains(&-m.raw_code()))
}

#[async_trait]
impl VipBackend for NetlinkVips {
    async fn add(&self, vip: &Vip) -> Result<(), VipError> {
        let msg = netlink_add_message(vip)?;
        let mut request = self
            .handle
            .address()
            .add(vip.ifindex, vip.addr, vip.prefix_len);
        *request.message_mut() = msg;
        {
            let mut owned = self.owned.lock().unwrap_or_else(PoisonError::into_inner);
            if !owned.vips.iter().any(|v| v.same_address(vip)) {
                owned.vips.push(vip.clone());
            }
        }
        match request.execute().await {
            Ok(()) => Ok(()),
            Err(e) if is_errno(&e, &[libc::EEXIST]) => Ok(()),
            Err(source) => {
                self.forget(vip);
                Err(VipError::Add {
                    addr: vip.addr,
                    prefix_len: vip.prefix_len,
                    ifindex: vip.ifindex,
                    source: source.into(),
                })
            }
        }
    }

    async fn remove(&self, vip: &Vip) -> Result<(), VipError> {
        // Forget first, so the monitor does not take our own removal for an external one.
        self.forget(vip);
        let msg = netlink_address_message(vip)?;
        match self.handle.address().del(msg).execute().await {
            Ok(()) => Ok(()),
            Err(e) if is_errno(&e, &[libc::EADDRNOTAVAIL, libc::ENOENT, libc::ENODEV]) => Ok(()),
            Err(source) => Err(VipError::Remove {
                addr: vip.addr,
                prefix_len: vip.prefix_len,
                ifindex: vip.ifindex,
                source: source.into(),
            }),
        }
    }

    fn take_notices(&self) -> Option<mpsc::UnboundedReceiver<VipNotice>> {
        self.notices
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

#[cfg(test)]
#[path = "netlink_tests.rs"]
mod tests;
