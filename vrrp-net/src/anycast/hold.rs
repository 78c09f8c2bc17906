//! The drain hold: a withdrawn address keeps answering locally while the routers converge.
//!
//! Removing an address both withdraws its connected route (what the BGP speaker announces)
//! and ends local delivery, so the connections the routers still send during their ~100 ms
//! of convergence would be dropped. A `local` route for the address in table `local`
//! (metric 1, next to the kernel's own route for the address) keeps local delivery without
//! the address: routing daemons do not redistribute table `local`, so the route is gone from
//! BGP while the node still answers. It is removed when the drain time ends.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use async_trait::async_trait;
use netlink_packet_route::route::{RouteMessage, RouteProtocol, RouteScope, RouteType};
use rtnetlink::{Handle, RouteMessageBuilder};
use tokio::task::JoinHandle;

use super::error::HoldError;
use crate::error::NetlinkError;
use crate::vip::Vip;

/// The kernel's `local` table (RT_TABLE_LOCAL).
const TABLE_LOCAL: u32 = 255;
/// Below the kernel's own local route (metric 0), so the two never collide.
const METRIC: u32 = 1;

/// Keeps local delivery of a withdrawn address (see the module documentation).
///
/// Both operations are idempotent: holding a held address, or releasing one that is not
/// held, succeeds.
#[async_trait]
pub trait Hold: Send + Sync {
    /// Keeps `vip.addr` delivered locally on `vip.ifindex` without the address.
    async fn hold(&self, vip: &Vip) -> Result<(), HoldError>;

    /// Ends what [`Hold::hold`] did.
    async fn release(&self, vip: &Vip) -> Result<(), HoldError>;
}

/// [`Hold`] through a `local ADDR dev IF table local metric 1 proto static` route
/// (`ip route show table local` lists it).
#[derive(Debug)]
pub struct LocalRoutes {
    handle: Handle,
    task: JoinHandle<()>,
}

impl LocalRoutes {
    /// Opens a netlink connection. Must be called inside a tokio runtime.
    pub fn new() -> Result<Self, crate::error::VipError> {
        let (conn, handle, _) = rtnetlink::new_connection().map_err(crate::error::VipError::Io)?;
        Ok(Self {
            handle,
            task: tokio::spawn(conn),
        })
    }

    fn message(vip: &Vip) -> RouteMessage {
        match vip.addr {
            IpAddr::V4(a) => local_route(
                RouteMessageBuilder::<Ipv4Addr>::new().destination_prefix(a, 32),
                vip.ifindex,
            ),
            IpAddr::V6(a) => local_route(
                RouteMessageBuilder::<Ipv6Addr>::new().destination_prefix(a, 128),
                vip.ifindex,
            ),
        }
    }

    fn error(action: &'static str, vip: &Vip, source: rtnetlink::Error) -> HoldError {
        HoldError::Route {
            action,
            addr: vip.addr,
            ifindex: vip.ifindex,
            source: NetlinkError::from(source),
        }
    }
}

impl Drop for LocalRoutes {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `builder` (a destination already set) as the hold's route through `ifindex`.
fn local_route<T>(builder: RouteMessageBuilder<T>, ifindex: u32) -> RouteMessage {
    builder
        .output_interface(ifindex)
        .table_id(TABLE_LOCAL)
        .priority(METRIC)
        .kind(RouteType::Local)
        .scope(RouteScope::Host)
        .protocol(RouteProtocol::Static)
        .build()
}

fn is_errno(error: &rtnetlink::Error, errnos: &[i32]) -> bool {
    matches!(error, rtnetlink::Error::NetlinkError(m) if errnos.contains(&-m.raw_code()))
}

#[async_trait]
impl Hold for LocalRoutes {
    async fn hold(&self, vip: &Vip) -> Result<(), HoldError> {
        let request = self.handle.route().add(Self::message(vip)).replace();
        request
            .execute()
            .await
            .map_err(|e| Self::error("add", vip, e))
    }

    async fn release(&self, vip: &Vip) -> Result<(), HoldError> {
        match self.handle.route().del(Self::message(vip)).execute().await {
            Ok(()) => Ok(()),
            Err(e) if is_errno(&e, &[libc::ESRCH, libc::ENOENT, libc::ENODEV]) => Ok(()),
            Err(e) => Err(Self::error("remove", vip, e)),
        }
    }
}
