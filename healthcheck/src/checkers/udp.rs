//! keepalived's `UDP_CHECK`: send a datagram; ICMP port unreachable means down, and a
//! reply may be required to match a pattern and length bounds.

use crate::{Check, ConfigError, Outcome, Reason};
use async_trait::async_trait;
use std::net::{Ipv6Addr, SocketAddr};
use tokio::net::UdpSocket;
use tokio::time::{Instant, timeout_at};

/// Bytes with per-nibble wildcards, written in keepalived's free hex format:
/// `"Ab12f 3 456"` is `AB 12 0F 03 45 06`; in a reply pattern `x` ignores a nibble.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HexPattern {
    /// (value, mask) per byte; a mask bit 0 ignores that bit.
    bytes: Vec<(u8, u8)>,
}

impl HexPattern {
    /// Parses the free hex format; `wildcards` allows `x`/`X` nibbles.
    pub fn parse(text: &str, wildcards: bool) -> Option<Self> {
        let mut bytes = Vec::new();
        for group in text.split_whitespace() {
            let nibbles: Vec<(u8, u8)> = group
                .chars()
                .map(|c| match c {
                    'x' | 'X' if wildcards => Some((0, 0)),
                    _ => c.to_digit(16).map(|d| (d as u8, 0xf)),
                })
                .collect::<Option<_>>()?;
            for pair in nibbles.chunks(2) {
                let (hv, hm, lv, lm) = match pair {
                    [(hv, hm), (lv, lm)] => (*hv, *hm, *lv, *lm),
                    [(lv, lm)] => (0, 0xf, *lv, *lm),
                    _ => return None,
                };
                bytes.push(((hv << 4) | lv, (hm << 4) | lm));
            }
        }
        Some(HexPattern { bytes })
    }

    /// The plain bytes (wildcard nibbles as 0).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.bytes.iter().map(|(v, _)| *v).collect()
    }

    /// keepalived's rule: the reply matches up to the shorter of the two lengths.
    pub fn matches(&self, data: &[u8]) -> bool {
        self.bytes
            .iter()
            .zip(data)
            .all(|((v, m), d)| d & m == v & m)
    }
}

/// What a reply must look like when one is required.
#[derive(Debug, Clone)]
pub struct ReplyRule {
    pattern: Option<HexPattern>,
    min_len: usize,
    max_len: usize,
}

impl ReplyRule {
    /// Any reply of `min_len..=max_len` bytes (keepalived's defaults: 0 and 255).
    pub fn new(min_len: usize, max_len: usize) -> Result<Self, ConfigError> {
        if min_len > max_len {
            return Err(ConfigError::ReplyLength(min_len, max_len));
        }
        Ok(ReplyRule {
            pattern: None,
            min_len,
            max_len,
        })
    }

    /// The reply must also match `pattern`.
    pub fn pattern(mut self, pattern: HexPattern) -> Self {
        self.pattern = Some(pattern);
        self
    }
}

/// Sends one datagram and judges what comes back.
#[derive(Debug, Clone)]
pub struct UdpCheck {
    connect: SocketAddr,
    bind: Option<SocketAddr>,
    payload: Vec<u8>,
    reply: Option<ReplyRule>,
}

impl UdpCheck {
    /// Sends `payload` to `connect`. Without [`UdpCheck::require_reply`] the check
    /// passes unless an ICMP error arrives before the deadline, so each probe lasts
    /// until its deadline.
    pub fn new(connect: SocketAddr, payload: Vec<u8>) -> Self {
        UdpCheck {
            connect,
            bind: None,
            payload,
            reply: None,
        }
    }

    /// Sends from `bind`.
    pub fn bind(mut self, bind: SocketAddr) -> Self {
        self.bind = Some(bind);
        self
    }

    /// A reply satisfying `rule` is needed to pass.
    pub fn require_reply(mut self, rule: ReplyRule) -> Self {
        self.reply = Some(rule);
        self
    }

    async fn exchange(&self, deadline: Instant) -> Result<(), Reason> {
        let local = self.bind.unwrap_or(match self.connect {
            SocketAddr::V4(_) => SocketAddr::from(([0, 0, 0, 0], 0)),
            SocketAddr::V6(_) => SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0)),
        });
        let socket = UdpSocket::bind(local).await?;
        // Connected, so ICMP port unreachable is reported as ECONNREFUSED.
        socket.connect(self.connect).await?;
        socket.send(&self.payload).await?;
        // One byte more than any accepted length, to detect oversized replies.
        let limit = self.reply.as_ref().map_or(0, |r| r.max_len) + 1;
        let mut buf = vec![0u8; limit.clamp(1, 65536)];
        let received = timeout_at(deadline, socket.recv(&mut buf)).await;
        match (received, &self.reply) {
            (Ok(Err(e)), _) => Err(Reason::from_io(&e)),
            (Err(_elapsed), None) => Ok(()),
            (Err(_elapsed), Some(_)) => Err(Reason::Timeout),
            (Ok(Ok(_)), None) => Ok(()),
            (Ok(Ok(n)), Some(rule)) => {
                if n < rule.min_len || n > rule.max_len {
                    return Err(Reason::ReplyLength(n));
                }
                match &rule.pattern {
                    Some(p) if !p.matches(&buf[..n]) => Err(Reason::ReplyMismatch),
                    _ => Ok(()),
                }
            }
        }
    }
}

#[async_trait]
impl Check for UdpCheck {
    async fn check(&self, deadline: Instant) -> Outcome {
        match self.exchange(deadline).await {
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
    fn free_hex_format_follows_keepalived_grouping() {
        let p = HexPattern::parse("Ab12f 3 456 546443123", false);
        assert_eq!(
            p.map(|p| p.to_bytes()),
            Some(vec![
                0xab, 0x12, 0x0f, 0x03, 0x45, 0x06, 0x54, 0x64, 0x43, 0x12, 0x03
            ])
        );
        assert_eq!(HexPattern::parse("1g", false), None);
        assert_eq!(HexPattern::parse("1x", false), None);
    }

    #[test]
    fn wildcard_nibbles_are_ignored_and_shorter_length_wins() {
        let p = HexPattern::parse("ab x1 ff", true).unwrap();
        assert!(p.matches(&[0xab, 0x71, 0xff, 0x00]));
        assert!(p.matches(&[0xab, 0x01]));
        assert!(!p.matches(&[0xab, 0x72]));
        assert!(!p.matches(&[0xac]));
    }

    proptest::proptest! {
        #[test]
        fn any_pattern_text_and_reply_are_handled(text in "[0-9a-fA-FxX ]{0,40}|\\PC{0,20}", reply in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            if let Some(p) = HexPattern::parse(&text, true) {
                let _ = p.matches(&reply);
                proptest::prop_assert!(p.matches(&[]));
            }
        }
    }
}
