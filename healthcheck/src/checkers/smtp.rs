//! keepalived's `SMTP_CHECK`: banner 220, `HELO` answered by 250, then `QUIT`.

use super::connect::connect;
use crate::{Check, ConfigError, Outcome, Reason};
use async_trait::async_trait;
use std::net::SocketAddr;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::time::Instant;

/// Longest reply line accepted (RFC 5321 §4.5.3.1.5 allows 512 octets).
const MAX_LINE: u64 = 512;
/// Most lines accepted in one multi-line reply.
const MAX_LINES: usize = 64;

/// Runs the SMTP greeting dialogue.
#[derive(Debug, Clone)]
pub struct SmtpCheck {
    connect: SocketAddr,
    bind: Option<SocketAddr>,
    helo_name: String,
}

impl SmtpCheck {
    /// Probes `connect`, introducing itself as `helo_name` (keepalived's `helo_name`).
    pub fn new(connect: SocketAddr, helo_name: &str) -> Result<Self, ConfigError> {
        let bad = helo_name.is_empty()
            || helo_name
                .chars()
                .any(|c| c.is_whitespace() || c.is_control());
        if bad {
            return Err(ConfigError::HeloName(helo_name.to_owned()));
        }
        Ok(SmtpCheck {
            connect,
            bind: None,
            helo_name: helo_name.to_owned(),
        })
    }

    /// Originates the connection from `bind`.
    pub fn bind(mut self, bind: SocketAddr) -> Self {
        self.bind = Some(bind);
        self
    }

    async fn dialogue(&self) -> Result<(), Reason> {
        let stream = connect(self.connect, self.bind).await?;
        let (rd, mut wr) = stream.into_split();
        let mut rd = BufReader::new(rd);
        expect(&mut rd, "banner", 220).await?;
        wr.write_all(format!("HELO {}\r\n", self.helo_name).as_bytes())
            .await?;
        expect(&mut rd, "helo", 250).await?;
        // QUIT is a courtesy; its reply does not affect the verdict.
        let _ = wr.write_all(b"QUIT\r\n").await;
        Ok(())
    }
}

/// Reads one (possibly multi-line) reply and compares its code.
async fn expect<R: AsyncRead + Unpin>(
    rd: &mut BufReader<R>,
    stage: &'static str,
    expected: u16,
) -> Result<(), Reason> {
    let code = read_reply(rd).await?;
    if code == expected {
        Ok(())
    } else {
        Err(Reason::SmtpReply {
            stage,
            expected,
            code,
        })
    }
}

/// Reads reply lines until one of the form `NNN<SP>...` (RFC 5321 §4.2.1), bounded in
/// line length and count.
async fn read_reply<R: AsyncRead + Unpin>(rd: &mut BufReader<R>) -> Result<u16, Reason> {
    let mut line = Vec::new();
    for _ in 0..MAX_LINES {
        line.clear();
        let n = (&mut *rd)
            .take(MAX_LINE)
            .read_until(b'\n', &mut line)
            .await?;
        if n == 0 {
            return Err(Reason::Closed);
        }
        if line.last() != Some(&b'\n') || line.len() < 4 {
            return Err(Reason::SmtpMalformed);
        }
        let code = std::str::from_utf8(&line[..3])
            .ok()
            .and_then(|s| s.parse::<u16>().ok())
            .filter(|c| (200..=599).contains(c))
            .ok_or(Reason::SmtpMalformed)?;
        match line[3] {
            b' ' | b'\r' | b'\n' => return Ok(code),
            b'-' => continue,
            _ => return Err(Reason::SmtpMalformed),
        }
    }
    Err(Reason::SmtpMalformed)
}

#[async_trait]
impl Check for SmtpCheck {
    async fn check(&self, _deadline: Instant) -> Outcome {
        match self.dialogue().await {
            Ok(()) => Outcome::UP,
            Err(reason) => Outcome::Down(reason),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    async fn parse(input: &[u8]) -> Result<u16, Reason> {
        read_reply(&mut BufReader::new(input)).await
    }

    #[tokio::test]
    async fn replies_parse_per_rfc5321() {
        assert_eq!(parse(b"220 mx ready\r\n").await, Ok(220));
        assert_eq!(parse(b"250-mx\r\n250-SIZE\r\n250 OK\r\n").await, Ok(250));
        assert_eq!(parse(b"250\r\n").await, Ok(250));
        assert_eq!(parse(b"2x0 no\r\n").await, Err(Reason::SmtpMalformed));
        assert_eq!(parse(b"220 no newline").await, Err(Reason::SmtpMalformed));
        assert_eq!(parse(b"").await, Err(Reason::Closed));
        let long = [b'2'; 2000];
        assert_eq!(parse(&long).await, Err(Reason::SmtpMalformed));
    }

    proptest::proptest! {
        #[test]
        fn any_server_bytes_give_a_verdict_without_panicking(input in proptest::collection::vec(proptest::num::u8::ANY, 0..2048)) {
            let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            let _ = rt.block_on(parse(&input));
        }
    }
}
