//! TCP connection set-up shared by the TCP, HTTP and SMTP checkers.

use std::io;
use std::net::SocketAddr;
use tokio::net::{TcpSocket, TcpStream};

/// Connects to `addr`, from `bind` when given (keepalived's `bindto`/`bind_port`).
pub(crate) async fn connect(addr: SocketAddr, bind: Option<SocketAddr>) -> io::Result<TcpStream> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    if let Some(bind) = bind {
        socket.bind(bind)?;
    }
    socket.connect(addr).await
}
