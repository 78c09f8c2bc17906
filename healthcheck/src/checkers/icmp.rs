//! keepalived's `PING_CHECK`: ICMP or ICMPv6 echo, over an unprivileged datagram ICMP
//! socket when `net.ipv4.ping_group_range` allows it, a raw socket otherwise.

use crate::{Check, Outcome, Reason};
use async_trait::async_trait;
use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::{IpAddr, SocketAddr};
use tokio::net::UdpSocket;
use tokio::time::Instant;

/// ICMP Echo Request / Reply types (RFC 792, RFC 4443 §4).
const ECHO_REQUEST_V4: u8 = 8;
const ECHO_REPLY_V4: u8 = 0;
const ECHO_REQUEST_V6: u8 = 128;
const ECHO_REPLY_V6: u8 = 129;
/// Random token carried in the payload to recognise our own reply.
const TOKEN_LEN: usize = 16;

/// Sends one echo request and waits for the matching reply until the deadline.
#[derive(Debug, Clone)]
pub struct IcmpCheck {
    addr: IpAddr,
}

impl IcmpCheck {
    /// Pings `addr`.
    pub fn new(addr: IpAddr) -> Self {
        IcmpCheck { addr }
    }

    async fn ping(&self) -> Result<(), Reason> {
        let (socket, raw) = open(self.addr)?;
        let socket = UdpSocket::from_std(socket)?;
        let id = fastrand::u16(..);
        let seq = fastrand::u16(..);
        let mut token = [0u8; TOKEN_LEN];
        fastrand::fill(&mut token);
        let v4 = self.addr.is_ipv4();
        let request = echo_request(v4, id, seq, &token);
        socket.send(&request).await?;
        let mut buf = [0u8; 1500];
        loop {
            let n = socket.recv(&mut buf).await?;
            // Raw IPv4 sockets deliver the IP header; datagram sockets and IPv6 do not.
            let packet = if raw && v4 {
                strip_ipv4_header(&buf[..n])
            } else {
                Some(&buf[..n])
            };
            // Datagram sockets rewrite the identifier, so only raw sockets compare it.
            let want_id = raw.then_some(id);
            if packet.is_some_and(|p| is_our_reply(p, v4, want_id, seq, &token)) {
                return Ok(());
            }
        }
    }
}

/// A connected datagram ICMP socket if permitted, else a raw one; `true` when raw.
fn open(addr: IpAddr) -> Result<(std::net::UdpSocket, bool), Reason> {
    let (domain, protocol) = match addr {
        IpAddr::V4(_) => (Domain::IPV4, Protocol::ICMPV4),
        IpAddr::V6(_) => (Domain::IPV6, Protocol::ICMPV6),
    };
    let (socket, raw) = match Socket::new(domain, Type::DGRAM, Some(protocol)) {
        Ok(s) => (s, false),
        Err(e)
            if matches!(e.kind(), io::ErrorKind::PermissionDenied)
                || e.raw_os_error() == Some(13) =>
        {
            (Socket::new(domain, Type::RAW, Some(protocol))?, true)
        }
        Err(e) => return Err(Reason::from_io(&e)),
    };
    socket.set_nonblocking(true)?;
    socket.connect(&SocketAddr::new(addr, 0).into())?;
    Ok((socket.into(), raw))
}

fn echo_request(v4: bool, id: u16, seq: u16, token: &[u8]) -> Vec<u8> {
    let kind = if v4 { ECHO_REQUEST_V4 } else { ECHO_REQUEST_V6 };
    let mut p = vec![kind, 0, 0, 0];
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(token);
    if v4 {
        // ICMPv6 checksums are filled in by the kernel (RFC 3542 §3.1).
        let sum = checksum(&p);
        p[2..4].copy_from_slice(&sum.to_be_bytes());
    }
    p
}

/// The Internet checksum (RFC 1071).
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn strip_ipv4_header(packet: &[u8]) -> Option<&[u8]> {
    let ihl = usize::from(packet.first()? & 0x0f) * 4;
    packet.get(ihl..)
}

fn is_our_reply(p: &[u8], v4: bool, id: Option<u16>, seq: u16, token: &[u8]) -> bool {
    let kind = if v4 { ECHO_REPLY_V4 } else { ECHO_REPLY_V6 };
    p.len() >= 8 + TOKEN_LEN
        && p[0] == kind
        && p[1] == 0
        && id.is_none_or(|id| p[4..6] == id.to_be_bytes())
        && p[6..8] == seq.to_be_bytes()
        && &p[8..8 + TOKEN_LEN] == token
}

#[async_trait]
impl Check for IcmpCheck {
    async fn check(&self, _deadline: Instant) -> Outcome {
        match self.ping().await {
            Ok(()) => Outcome::UP,
            Err(reason) => Outcome::Down(reason),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn echo_request_checksum_verifies_to_zero() {
        let p = echo_request(true, 0x1234, 7, &[0xab; TOKEN_LEN]);
        assert_eq!(checksum(&p), 0);
        assert_eq!(p[0], ECHO_REQUEST_V4);
    }

    #[test]
    fn replies_are_matched_on_type_seq_and_token() {
        let token = [9u8; TOKEN_LEN];
        let mut reply = echo_request(true, 1, 2, &token);
        reply[0] = ECHO_REPLY_V4;
        assert!(is_our_reply(&reply, true, Some(1), 2, &token));
        assert!(!is_our_reply(&reply, true, Some(1), 3, &token));
        assert!(!is_our_reply(&reply, true, Some(9), 2, &token));
        assert!(is_our_reply(&reply, true, None, 2, &token));
        assert!(!is_our_reply(&reply[..10], true, None, 2, &token));
        assert_eq!(strip_ipv4_header(&[0x4f]), None);
    }

    proptest::proptest! {
        #[test]
        fn any_received_packet_is_judged_without_panicking(data in proptest::collection::vec(proptest::num::u8::ANY, 0..128), v4 in proptest::bool::ANY) {
            let token = [1u8; TOKEN_LEN];
            if let Some(p) = strip_ipv4_header(&data) {
                let _ = is_our_reply(p, v4, Some(1), 2, &token);
            }
            let _ = is_our_reply(&data, v4, None, 2, &token);
        }
    }
}
