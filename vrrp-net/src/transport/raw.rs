//! The kernel transport: a raw IP socket for protocol 112 per interface and family.

use std::io::{self, IoSlice, IoSliceMut};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
use std::os::fd::AsRawFd;

use async_trait::async_trait;
use nix::sys::socket::{
    ControlMessage, ControlMessageOwned, MsgFlags, SockaddrIn, SockaddrIn6, SockaddrStorage,
    recvmsg, sendmsg, setsockopt, sockopt,
};
use socket2::{Domain, InterfaceIndexOrAddress, Protocol, Socket, Type};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use super::{
    AddressFamily, IPPROTO_VRRP, Received, Transport, VRRP_GROUP_V4, VRRP_GROUP_V6, VRRP_TTL,
};
use crate::error::TransportError;

/// Large enough for the biggest advertisement (255 IPv6 addresses) plus an IPv4 header.
const RECV_BUFFER: usize = 8192;

/// A raw socket for IP protocol 112, bound to one interface, member of the VRRP group there.
///
/// Outgoing packets carry TTL / hop limit 255 and take their source address and interface
/// from `IP_PKTINFO` / `IPV6_PKTINFO`, so one socket serves every VRID with its own source.
/// Incoming packets report TTL / hop limit (`IP_RECVTTL` / `IPV6_RECVHOPLIMIT`), destination
/// and interface (`IP_PKTINFO` / `IPV6_RECVPKTINFO`) from ancillary data.
#[derive(Debug)]
pub struct RawTransport {
    fd: AsyncFd<Socket>,
    ifindex: u32,
    family: AddressFamily,
}

impl RawTransport {
    /// Opens the socket on `ifname` (index `ifindex`) for `family` and joins the VRRP group.
    ///
    /// Must be called inside a tokio runtime.
    pub fn open(ifname: &str, ifindex: u32, family: AddressFamily) -> Result<Self, TransportError> {
        let open_err = |source| TransportError::Open {
            ifname: ifname.to_owned(),
            source,
        };
        let socket = Self::configure(ifname, ifindex, family).map_err(open_err)?;
        // SAFETY: `socket` owns a valid file descriptor, and nothing closes or replaces it
        // while the `AsyncFd` holds it (the socket is only reachable through the `AsyncFd`).
        let fd = unsafe {
            AsyncFd::register_with_interest(socket, Interest::READABLE | Interest::WRITABLE)
        }
        .map_err(|e| open_err(io::Error::from(e)))?;
        Ok(Self {
            fd,
            ifindex,
            family,
        })
    }

    fn configure(ifname: &str, ifindex: u32, family: AddressFamily) -> io::Result<Socket> {
        let protocol = Some(Protocol::from(i32::from(IPPROTO_VRRP)));
        let socket = match family {
            AddressFamily::Inet => Socket::new(Domain::IPV4, Type::RAW, protocol)?,
            AddressFamily::Inet6 => Socket::new(Domain::IPV6, Type::RAW, protocol)?,
        };
        socket.set_nonblocking(true)?;
        socket.bind_device(Some(ifname.as_bytes()))?;
        match family {
            AddressFamily::Inet => {
                socket.set_ttl_v4(u32::from(VRRP_TTL))?;
                socket.set_multicast_ttl_v4(u32::from(VRRP_TTL))?;
                socket.set_multicast_loop_v4(false)?;
                socket.set_multicast_all_v4(false)?;
                socket.join_multicast_v4_n(
                    &VRRP_GROUP_V4,
                    &InterfaceIndexOrAddress::Index(ifindex),
                )?;
                setsockopt(&socket, sockopt::Ipv4PacketInfo, &true).map_err(io::Error::from)?;
                setsockopt(&socket, sockopt::Ipv4RecvTtl, &true).map_err(io::Error::from)?;
            }
            AddressFamily::Inet6 => {
                socket.set_unicast_hops_v6(u32::from(VRRP_TTL))?;
                socket.set_multicast_hops_v6(u32::from(VRRP_TTL))?;
                socket.set_multicast_loop_v6(false)?;
                socket.set_multicast_all_v6(false)?;
                socket.set_multicast_if_v6(ifindex)?;
                socket.join_multicast_v6(&VRRP_GROUP_V6, ifindex)?;
                setsockopt(&socket, sockopt::Ipv6RecvPacketInfo, &true).map_err(io::Error::from)?;
                setsockopt(&socket, sockopt::Ipv6RecvHopLimit, &true).map_err(io::Error::from)?;
            }
        }
        Ok(socket)
    }

    /// Also joins `group` on this interface (keepalived's `vrrp_mcast_group4/6`); joining a
    /// group twice is not an error.
    pub fn join(&self, group: IpAddr) -> Result<(), TransportError> {
        let socket = self.fd.get_ref();
        let joined = match group {
            IpAddr::V4(g) => {
                socket.join_multicast_v4_n(&g, &InterfaceIndexOrAddress::Index(self.ifindex))
            }
            IpAddr::V6(g) => socket.join_multicast_v6(&g, self.ifindex),
        };
        match joined {
            Err(e) if e.raw_os_error() != Some(libc::EADDRINUSE) => Err(TransportError::Open {
                ifname: format!("index {} (group {group})", self.ifindex),
                source: e,
            }),
            _ => Ok(()),
        }
    }

    /// Sends one packet; `ttl` overrides the socket's 255 for this packet (`IP_TTL` /
    /// `IPV6_HOPLIMIT` ancillary data).
    fn send_now(&self, src: IpAddr, dst: IpAddr, payload: &[u8], ttl: u8) -> io::Result<()> {
        let ttl = libc::c_int::from(ttl);
        let fd = self.fd.get_ref().as_raw_fd();
        let iov = [IoSlice::new(payload)];
        let sent = match (src, dst) {
            (IpAddr::V4(src), IpAddr::V4(dst)) => {
                let info = libc::in_pktinfo {
                    ipi_ifindex: self.ifindex as libc::c_int,
                    ipi_spec_dst: libc::in_addr {
                        s_addr: u32::from(src).to_be(),
                    },
                    ipi_addr: libc::in_addr { s_addr: 0 },
                };
                let to = SockaddrIn::from(SocketAddrV4::new(dst, 0));
                let cmsg = [
                    ControlMessage::Ipv4PacketInfo(&info),
                    ControlMessage::Ipv4Ttl(&ttl),
                ];
                sendmsg(fd, &iov, &cmsg, MsgFlags::MSG_DONTWAIT, Some(&to))?
            }
            (IpAddr::V6(src), IpAddr::V6(dst)) => {
                let info = libc::in6_pktinfo {
                    ipi6_addr: libc::in6_addr {
                        s6_addr: src.octets(),
                    },
                    ipi6_ifindex: self.ifindex,
                };
                let scope = if needs_scope(dst) { self.ifindex } else { 0 };
                let to = SockaddrIn6::from(SocketAddrV6::new(dst, 0, 0, scope));
                let cmsg = [
                    ControlMessage::Ipv6PacketInfo(&info),
                    ControlMessage::Ipv6HopLimit(&ttl),
                ];
                sendmsg(fd, &iov, &cmsg, MsgFlags::MSG_DONTWAIT, Some(&to))?
            }
            _ => return Err(io::Error::from(io::ErrorKind::InvalidInput)),
        };
        if sent == payload.len() {
            Ok(())
        } else {
            Err(io::Error::new(io::ErrorKind::WriteZero, "short send"))
        }
    }

    fn recv_now(&self, buf: &mut [u8]) -> io::Result<Received> {
        let fd = self.fd.get_ref().as_raw_fd();
        let mut cmsg = nix::cmsg_space!(
            libc::in6_pktinfo,
            libc::c_int,
            libc::in_pktinfo,
            libc::c_int
        );
        let mut iov = [IoSliceMut::new(buf)];
        let msg =
            recvmsg::<SockaddrStorage>(fd, &mut iov, Some(&mut cmsg), MsgFlags::MSG_DONTWAIT)?;
        let len = msg.bytes;
        let from = msg.address;
        let mut ttl = None;
        let mut dst = None;
        let mut ifindex = self.ifindex;
        for c in msg.cmsgs().map_err(io::Error::from)? {
            match c {
                ControlMessageOwned::Ipv4Ttl(t) => ttl = u8::try_from(t).ok(),
                ControlMessageOwned::Ipv6HopLimit(h) => ttl = u8::try_from(h).ok(),
                ControlMessageOwned::Ipv4PacketInfo(info) => {
                    dst = Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                        info.ipi_addr.s_addr,
                    ))));
                    ifindex = u32::try_from(info.ipi_ifindex).unwrap_or(ifindex);
                }
                ControlMessageOwned::Ipv6PacketInfo(info) => {
                    dst = Some(IpAddr::V6(Ipv6Addr::from(info.ipi6_addr.s6_addr)));
                    ifindex = info.ipi6_ifindex;
                }
                _ => {}
            }
        }
        let malformed = |what| io::Error::new(io::ErrorKind::InvalidData, what);
        let src = match from {
            Some(a) if a.as_sockaddr_in().is_some() => {
                a.as_sockaddr_in().map(|s| IpAddr::V4(s.ip()))
            }
            Some(a) => a.as_sockaddr_in6().map(|s| IpAddr::V6(s.ip())),
            None => None,
        }
        .ok_or_else(|| malformed("no source address"))?;
        let data = &buf[..len];
        // An IPv4 raw socket delivers the IP header; IPv6 never does.
        let payload = match self.family {
            AddressFamily::Inet => {
                let ihl = data.first().map(|b| usize::from(b & 0x0f) * 4).unwrap_or(0);
                if ihl < 20 || data.len() < ihl {
                    return Err(malformed("truncated ipv4 header"));
                }
                if ttl.is_none() {
                    ttl = data.get(8).copied();
                }
                data[ihl..].to_vec()
            }
            AddressFamily::Inet6 => data.to_vec(),
        };
        Ok(Received {
            ifindex,
            src,
            dst: dst.ok_or_else(|| malformed("no destination in ancillary data"))?,
            ttl: ttl.ok_or_else(|| malformed("no ttl in ancillary data"))?,
            payload,
        })
    }
}

fn needs_scope(addr: Ipv6Addr) -> bool {
    addr.is_multicast() || addr.is_unicast_link_local()
}

#[async_trait]
impl Transport for RawTransport {
    fn ifindex(&self) -> u32 {
        self.ifindex
    }

    fn family(&self) -> AddressFamily {
        self.family
    }

    async fn send(&self, src: IpAddr, dst: IpAddr, payload: &[u8]) -> Result<(), TransportError> {
        self.send_with_ttl(src, dst, payload, VRRP_TTL).await
    }

    async fn send_with_ttl(
        &self,
        src: IpAddr,
        dst: IpAddr,
        payload: &[u8],
        ttl: u8,
    ) -> Result<(), TransportError> {
        super::check_family(src, dst)?;
        loop {
            let mut guard = self
                .fd
                .writable()
                .await
                .map_err(|source| TransportError::Send { dst, source })?;
            match guard.try_io(|_| self.send_now(src, dst, payload, ttl)) {
                Ok(result) => return result.map_err(|source| TransportError::Send { dst, source }),
                Err(_would_block) => continue,
            }
        }
    }

    async fn recv(&self) -> Result<Received, TransportError> {
        let mut buf = vec![0u8; RECV_BUFFER];
        loop {
            let mut guard = self
                .fd
                .readable()
                .await
                .map_err(|source| TransportError::Receive {
                    ifindex: self.ifindex,
                    source,
                })?;
            match guard.try_io(|_| self.recv_now(&mut buf)) {
                Ok(Ok(received)) => return Ok(received),
                // A malformed datagram is dropped here; the next one may be fine.
                Ok(Err(e)) if e.kind() == io::ErrorKind::InvalidData => {
                    tracing::debug!(ifindex = self.ifindex, error = %e, "dropped a malformed datagram");
                }
                Ok(Err(source)) => {
                    return Err(TransportError::Receive {
                        ifindex: self.ifindex,
                        source,
                    });
                }
                Err(_would_block) => continue,
            }
        }
    }
}
