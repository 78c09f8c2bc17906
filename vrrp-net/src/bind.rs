//! Listening on a VIP before owning it.
//!
//! A server that wants to serve a virtual address from the instant VRRP installs it must
//! already be listening on it; but a plain `bind` to an address the host does not hold fails
//! with `EADDRNOTAVAIL`. Three ways out, from the most to the least contained:
//!
//! - [`bind_tcp`] / [`bind_tokio_tcp`] set `IP_FREEBIND` / `IPV6_FREEBIND` on the one socket,
//!   so it binds now and receives as soon as the address appears. With
//!   [`VipBind::transparent`] it is also `IP_TRANSPARENT` / `IPV6_TRANSPARENT` (needs
//!   `CAP_NET_ADMIN`), which accepted connections inherit: after a handover has removed the
//!   VIP, their packets can still leave from it, so responses in flight are not lost.
//! - For a server that binds its own sockets (nginx, a library you do not control), the
//!   sysctls `net.ipv4.ip_nonlocal_bind=1` and `net.ipv6.ip_nonlocal_bind=1` allow every
//!   socket of the network namespace to bind non-local addresses.
//! - Or bind the wildcard address and filter on the local address of each connection.

use std::io;
use std::net::SocketAddr;

use socket2::{Domain, Protocol, Socket, Type};

/// How [`bind_tcp`] binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct VipBind {
    /// Listen backlog.
    pub backlog: i32,
    /// Also set `IP_TRANSPARENT` / `IPV6_TRANSPARENT` (needs `CAP_NET_ADMIN`).
    pub transparent: bool,
}

impl Default for VipBind {
    fn default() -> Self {
        Self {
            backlog: 1024,
            transparent: false,
        }
    }
}

impl VipBind {
    /// Freebind with a backlog of 1024, not transparent.
    pub fn new() -> Self {
        Self::default()
    }

    /// The listen backlog.
    pub fn backlog(mut self, backlog: i32) -> Self {
        self.backlog = backlog;
        self
    }

    /// Whether accepted connections may keep sending from the VIP after it is removed.
    pub fn transparent(mut self, on: bool) -> Self {
        self.transparent = on;
        self
    }
}

/// A non-blocking std TCP listener on `addr`, which this host need not hold yet (see the
/// module docs). An IPv6 listener is IPv6-only.
pub fn bind_tcp(addr: SocketAddr, options: VipBind) -> io::Result<std::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    match addr {
        SocketAddr::V4(_) => {
            socket.set_freebind_v4(true)?;
            if options.transparent {
                socket.set_ip_transparent_v4(true)?;
            }
        }
        SocketAddr::V6(_) => {
            socket.set_only_v6(true)?;
            socket.set_freebind_v6(true)?;
            if options.transparent {
                socket.set_ip_transparent_v6(true)?;
            }
        }
    }
    socket.bind(&addr.into())?;
    socket.listen(options.backlog)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// [`bind_tcp`] as a tokio listener. Must be called inside a tokio runtime.
pub fn bind_tokio_tcp(addr: SocketAddr, options: VipBind) -> io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::from_std(bind_tcp(addr, options)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn binds_an_address_the_host_does_not_hold() {
        // 192.0.2.0/24 (TEST-NET-1) is on no interface of a test machine; IP_FREEBIND needs
        // no privilege.
        let addr = SocketAddr::from(([192, 0, 2, 254], 0));
        let listener = bind_tokio_tcp(addr, VipBind::new().backlog(16));
        let local = listener.and_then(|l| l.local_addr());
        assert_eq!(local.map(|a| a.ip()).ok(), Some(addr.ip()));
    }

    #[tokio::test]
    async fn transparent_needs_cap_net_admin() {
        if !testbed::privileged::require("transparent_needs_cap_net_admin", &[]) {
            return;
        }
        let addr = SocketAddr::from(([192, 0, 2, 253], 0));
        let listener = bind_tokio_tcp(addr, VipBind::new().transparent(true));
        assert!(listener.is_ok(), "{listener:?}");
    }
}
