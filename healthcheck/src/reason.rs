//! Why a probe failed: carried by every down transition.

use std::io;

/// The cause of a failed probe, or of a target's initial state.
///
/// Reasons are small, comparable values so that an event log can be asserted on and a
/// metrics label can be derived from them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Reason {
    /// The configured starting state (`alpha` starts down), before any probe ran.
    #[error("initial state")]
    Initial,
    /// The target was removed from the scheduler: the reason of its last event,
    /// a [`crate::Change::Removed`] (not a failed probe).
    #[error("removed")]
    Removed,
    /// No verdict before the probe's deadline.
    #[error("timeout")]
    Timeout,
    /// The peer refused the connection (TCP RST or ICMP port unreachable).
    #[error("connection refused")]
    Refused,
    /// The peer reset or closed the connection before the exchange completed.
    #[error("connection closed by peer")]
    Closed,
    /// No route to the host or network.
    #[error("unreachable")]
    Unreachable,
    /// Another socket error.
    #[error("i/o error: {0}")]
    Io(io::ErrorKind),
    /// The HTTP response carried an unexpected status code.
    #[error("status {0}")]
    Status(u16),
    /// The MD5 digest of the HTTP body differs from the expected one.
    #[error("digest mismatch: got {actual}")]
    DigestMismatch {
        /// The digest computed from the body, in lowercase hexadecimal.
        actual: String,
    },
    /// The HTTP body does not match the configured regular expression.
    #[error("body does not match {0:?}")]
    BodyMismatch(String),
    /// The HTTP body is longer than the read bound.
    #[error("body longer than {0} bytes")]
    BodyTooLarge(usize),
    /// The HTTP response could not be parsed.
    #[error("malformed http response")]
    Http,
    /// The TLS handshake failed (certificate, protocol version, alert...).
    #[error("tls: {0}")]
    Tls(String),
    /// An SMTP reply had an unexpected code.
    #[error("smtp {stage} reply {code}, expected {expected}")]
    SmtpReply {
        /// Which step of the dialogue: `banner`, `helo`.
        stage: &'static str,
        /// The expected reply code.
        expected: u16,
        /// The received reply code.
        code: u16,
    },
    /// An SMTP reply line was malformed or too long.
    #[error("malformed smtp reply")]
    SmtpMalformed,
    /// A DNS response was malformed.
    #[error("malformed dns response")]
    DnsMalformed,
    /// A DNS response carried another message id.
    #[error("dns id {got}, expected {expected}")]
    DnsId {
        /// The id of the query.
        expected: u16,
        /// The id of the response.
        got: u16,
    },
    /// A DNS message had QR clear (a query, not a response).
    #[error("dns message is not a response")]
    DnsNotResponse,
    /// A DNS response carried a non-zero RCODE.
    #[error("dns rcode {0}")]
    DnsRcode(u16),
    /// A UDP reply had a length outside the configured bounds.
    #[error("udp reply of {0} bytes is outside the length bounds")]
    ReplyLength(usize),
    /// A UDP reply did not match the configured pattern.
    #[error("udp reply does not match the pattern")]
    ReplyMismatch,
    /// The program exited with a failing status.
    #[error("exit status {0}")]
    Exit(i32),
    /// The program was killed by a signal.
    #[error("killed by signal {0}")]
    Signal(i32),
    /// The program could not be started.
    #[error("cannot run program: {0}")]
    Spawn(io::ErrorKind),
    /// A tracked file could not be read or does not hold an integer.
    #[error("tracked file: {0}")]
    File(String),
    /// A tracked file's weighted value is at or below the fault level (-254).
    #[error("tracked file value {0} is at or below -254")]
    FileValue(i64),
}

impl Reason {
    /// Classifies a socket error.
    pub fn from_io(err: &io::Error) -> Self {
        use io::ErrorKind as K;
        match err.kind() {
            K::ConnectionRefused => Reason::Refused,
            K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => {
                Reason::Closed
            }
            K::HostUnreachable | K::NetworkUnreachable => Reason::Unreachable,
            K::TimedOut => Reason::Timeout,
            kind => Reason::Io(kind),
        }
    }
}

impl From<io::Error> for Reason {
    fn from(err: io::Error) -> Self {
        Reason::from_io(&err)
    }
}
