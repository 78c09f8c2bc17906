//! keepalived's `DNS_CHECK`: one query over UDP, answered with the same id, QR set and
//! RCODE 0.

use super::RecordType;
use crate::{Check, ConfigError, Outcome, Reason};
use async_trait::async_trait;
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::Name;
use std::net::SocketAddr;
use tokio::net::UdpSocket;
use tokio::time::Instant;

/// Largest response read (EDNS-sized; longer datagrams are truncated and fail to parse).
const MAX_RESPONSE: usize = 4096;

/// Queries a DNS server.
#[derive(Debug, Clone)]
pub struct DnsCheck {
    server: SocketAddr,
    bind: Option<SocketAddr>,
    name: Name,
    qtype: hickory_proto::rr::RecordType,
}

impl DnsCheck {
    /// Asks `server` for `qtype` records of `name` (keepalived's defaults: `SOA` of `.`).
    pub fn new(server: SocketAddr, name: &str, qtype: RecordType) -> Result<Self, ConfigError> {
        let parsed = Name::from_ascii(name).map_err(|_| ConfigError::DnsName(name.to_owned()))?;
        let check = DnsCheck {
            server,
            bind: None,
            name: parsed,
            qtype: hickory_proto::rr::RecordType::from(qtype.code()),
        };
        check
            .query(0)
            .map_err(|_| ConfigError::DnsEncode(name.to_owned()))?;
        Ok(check)
    }

    /// Sends from `bind`.
    pub fn bind(mut self, bind: SocketAddr) -> Self {
        self.bind = Some(bind);
        self
    }

    /// The query message; the error is the DNS library's, kept private.
    fn query(&self, id: u16) -> Result<Vec<u8>, hickory_proto::ProtoError> {
        let mut message = Message::new(id, MessageType::Query, OpCode::Query);
        message.metadata.recursion_desired = true;
        message.add_query(Query::query(self.name.clone(), self.qtype));
        message.to_vec()
    }

    async fn exchange(&self) -> Result<(), Reason> {
        let local = self.bind.unwrap_or(match self.server {
            SocketAddr::V4(_) => SocketAddr::from(([0, 0, 0, 0], 0)),
            SocketAddr::V6(_) => SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, 0)),
        });
        let socket = UdpSocket::bind(local).await?;
        // Connected: only the server's datagrams are delivered, and ICMP errors
        // surface as ECONNREFUSED.
        socket.connect(self.server).await?;
        let id = fastrand::u16(..);
        let query = self.query(id).map_err(|_| Reason::DnsMalformed)?;
        socket.send(&query).await?;
        let mut buf = vec![0u8; MAX_RESPONSE];
        let n = socket.recv(&mut buf).await?;
        judge(&buf[..n], id)
    }
}

/// Applies the three rules to one response datagram.
fn judge(datagram: &[u8], id: u16) -> Result<(), Reason> {
    let message = Message::from_vec(datagram).map_err(|_| Reason::DnsMalformed)?;
    let meta = &message.metadata;
    if meta.id != id {
        return Err(Reason::DnsId {
            expected: id,
            got: meta.id,
        });
    }
    if meta.message_type != MessageType::Response {
        return Err(Reason::DnsNotResponse);
    }
    if meta.response_code != ResponseCode::NoError {
        return Err(Reason::DnsRcode(u16::from(meta.response_code)));
    }
    Ok(())
}

#[async_trait]
impl Check for DnsCheck {
    async fn check(&self, _deadline: Instant) -> Outcome {
        match self.exchange().await {
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
    fn malformed_and_truncated_datagrams_are_rejected() {
        assert_eq!(judge(&[], 1), Err(Reason::DnsMalformed));
        assert_eq!(
            judge(&[0x12, 0x34, 0x80], 0x1234),
            Err(Reason::DnsMalformed)
        );
    }

    #[test]
    fn bad_names_are_rejected_by_value() {
        let long = "a".repeat(300);
        let err = DnsCheck::new("127.0.0.1:53".parse().unwrap(), &long, RecordType::A);
        assert_eq!(
            err.unwrap_err().to_string(),
            format!("dns query name {long:?} is invalid")
        );
    }

    proptest::proptest! {
        #[test]
        fn any_datagram_gives_a_verdict_without_panicking(data in proptest::collection::vec(proptest::num::u8::ANY, 0..600), id in proptest::num::u16::ANY) {
            let _ = judge(&data, id);
        }
    }
}
