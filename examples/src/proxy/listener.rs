//! A listener on an address this host may not hold yet.

use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::SocketAddr;
use tokio::net::TcpListener;

/// Binds `addr` with `IP_FREEBIND` / `IPV6_FREEBIND`, so the proxy listens on its VIP
/// before VRRP installs it: taking the VIP over is then only the address and a
/// gratuitous ARP, never a bind racing the first clients.
///
/// The socket is also `IP_TRANSPARENT` / `IPV6_TRANSPARENT` (needs `CAP_NET_ADMIN`), which
/// accepted connections inherit: once VRRP has removed the VIP on a handover, the kernel
/// would otherwise refuse to route their packets from an address that is no longer local,
/// and a response in flight would never leave.
pub fn bind_freebind(addr: SocketAddr, backlog: i32) -> io::Result<TcpListener> {
    let domain = Domain::for_address(addr);
    let socket = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    match addr {
        SocketAddr::V4(_) => {
            socket.set_freebind_v4(true)?;
            socket.set_ip_transparent_v4(true)?;
        }
        SocketAddr::V6(_) => {
            socket.set_only_v6(true)?;
            socket.set_freebind_v6(true)?;
            socket.set_ip_transparent_v6(true)?;
        }
    }
    socket.bind(&addr.into())?;
    socket.listen(backlog)?;
    socket.set_nonblocking(true)?;
    TcpListener::from_std(socket.into())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn binds_an_address_the_host_does_not_hold() {
        // IP_TRANSPARENT needs CAP_NET_ADMIN.
        if !testbed::privileged::require("binds_an_address_the_host_does_not_hold", &[]) {
            return;
        }
        // 192.0.2.0/24 (TEST-NET-1) is on no interface of a test machine.
        let listener = bind_freebind("192.0.2.254:0".parse().unwrap(), 16).unwrap();
        assert_eq!(
            listener.local_addr().unwrap().ip().to_string(),
            "192.0.2.254"
        );
    }
}
