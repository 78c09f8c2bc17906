//! An AF_PACKET socket that sends whole Ethernet frames out of one interface.

use std::io;
use std::net::IpAddr;
use std::os::fd::AsRawFd;

use nix::sys::socket::{LinkAddr, MsgFlags, SockaddrLike, sendto};
use socket2::{Domain, Socket, Type};

use crate::error::AnnounceError;

/// ETH_P_ALL in network byte order is not needed: a send-only socket uses protocol 0, so it
/// receives nothing.
const SEND_ONLY_PROTOCOL: i32 = 0;

/// Sends prebuilt Ethernet frames out of one interface.
#[derive(Debug)]
pub struct PacketSocket {
    socket: Socket,
    ifindex: u32,
    to: LinkAddr,
}

impl PacketSocket {
    /// Opens a send-only `AF_PACKET`/`SOCK_RAW` socket for interface `ifindex`.
    pub fn open(ifindex: u32) -> Result<Self, AnnounceError> {
        let open_err = |source| AnnounceError::Open { ifindex, source };
        let socket = Socket::new(Domain::PACKET, Type::RAW, Some(SEND_ONLY_PROTOCOL.into()))
            .map_err(open_err)?;
        socket.set_nonblocking(true).map_err(open_err)?;
        let to = link_addr(ifindex).map_err(open_err)?;
        Ok(Self {
            socket,
            ifindex,
            to,
        })
    }

    /// The interface frames leave by.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// Sends one frame (announcing `addr`, for error messages).
    pub fn send(&self, frame: &[u8], addr: IpAddr) -> Result<(), AnnounceError> {
        let fd = self.socket.as_raw_fd();
        match sendto(fd, frame, &self.to, MsgFlags::MSG_DONTWAIT) {
            Ok(n) if n == frame.len() => Ok(()),
            Ok(_) => Err(AnnounceError::Send {
                addr,
                source: io::Error::from(io::ErrorKind::WriteZero),
            }),
            Err(e) => Err(AnnounceError::Send {
                addr,
                source: e.into(),
            }),
        }
    }
}

fn link_addr(ifindex: u32) -> io::Result<LinkAddr> {
    let ifindex =
        libc::c_int::try_from(ifindex).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let sll = libc::sockaddr_ll {
        sll_family: libc::AF_PACKET as libc::c_ushort,
        sll_protocol: 0,
        sll_ifindex: ifindex,
        sll_hatype: 0,
        sll_pkttype: 0,
        sll_halen: 0,
        sll_addr: [0; 8],
    };
    let len = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    // SAFETY: `sll` is a fully initialised `sockaddr_ll` that lives across the call, and `len`
    // is its exact size; `from_raw` only copies it (nix offers no safe constructor).
    unsafe { LinkAddr::from_raw((&raw const sll).cast::<libc::sockaddr>(), Some(len)) }
        .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))
}
