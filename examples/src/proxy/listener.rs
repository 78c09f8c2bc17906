//! A listener on an address this host may not hold yet.

use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::SocketAddr;
use tokio::net::TcpListener;

/// Binds `addr` with `IP_FREEBIND` / `IPV6_FREEBIND`, so the proxy listens on its VIP
/// before VRRP installs it: taking the VIP over is then only the address and a
/// gratuitous ARP, never a bind racing the first clients.
pub fn bind_freebind(addr: SocketAddr, backlog: i32) -> io::Result<TcpListener> {
    let domain = Domain::for_address(addr);
    let socket = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    match addr {
        SocketAddr::V4(_) => socket.set_freebind_v4(true)?,
        SocketAddr::V6(_) => {
            socket.set_only_v6(true)?;
            socket.set_freebind_v6(true)?;
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
        // 192.0.2.0/24 (TEST-NET-1) is on no interface of a test machine.
        let listener = bind_freebind("192.0.2.254:0".parse().unwrap(), 16).unwrap();
        assert_eq!(
            listener.local_addr().unwrap().ip().to_string(),
            "192.0.2.254"
        );
    }
}
