//! Errors of this crate: configuration rejected before anything runs.
//!
//! No type of a dependency appears here: failures reported by the TLS library are
//! carried as boxed sources, so its upgrades never change this API.

use std::time::Duration;

/// The underlying failure of a library this crate uses, kept opaque.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A configuration value was rejected; nothing was started or changed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `interval` must be longer than zero.
    #[error("interval {0:?} must be longer than zero")]
    Interval(Duration),
    /// `timeout` must be longer than zero.
    #[error("timeout {0:?} must be longer than zero")]
    Timeout(Duration),
    /// `rise` must be at least 1.
    #[error("rise {0} must be at least 1")]
    Rise(u32),
    /// `fall` must be at least 1.
    #[error("fall {0} must be at least 1")]
    Fall(u32),
    /// A target must carry at least one check.
    #[error("target {0:?} has no checks")]
    NoChecks(String),
    /// Two targets share a name.
    #[error("target name {0:?} is used twice")]
    DuplicateTarget(String),
    /// The scheduler was started outside a tokio runtime.
    #[error("the scheduler must be started inside a tokio runtime")]
    NoRuntime,
    /// `max_in_flight` must be at least 1.
    #[error("max_in_flight {0} must be at least 1")]
    MaxInFlight(usize),
    /// An HTTP check needs at least one URL.
    #[error("http check of {0} has no urls")]
    NoUrls(std::net::SocketAddr),
    /// A URL path is not a valid request target.
    #[error("url path {0:?} is not a valid request target")]
    UrlPath(String),
    /// An expected MD5 digest is not 32 hexadecimal digits.
    #[error("digest {0:?} is not 32 hexadecimal digits")]
    Digest(String),
    /// A status-code range is empty or outside 100..=599.
    #[error("status range {0}-{1} is empty or outside 100-599")]
    StatusRange(u16, u16),
    /// An HTTP virtual host is empty or not a valid `Host` header value.
    #[error("http virtualhost {0:?} is not a valid host header value")]
    VirtualHost(String),
    /// A TLS server name is neither a DNS name nor an IP address.
    #[error("tls server name {0:?} is invalid")]
    ServerName(String),
    /// The TLS client configuration could not be built (e.g. the crypto provider
    /// offers none of the protocol versions).
    #[error("tls client configuration: {0}")]
    Tls(#[source] BoxError),
    /// No rustls crypto provider: none is installed as the process default and
    /// neither the `tls-ring` nor the `tls-aws-lc-rs` feature is enabled.
    #[error(
        "no tls crypto provider: install a process-default rustls provider or enable \
         feature `tls-ring` or `tls-aws-lc-rs`"
    )]
    NoCryptoProvider,
    /// A trust anchor could not be parsed or added.
    #[error("root certificate rejected: {0}")]
    RootCertificate(#[source] BoxError),
    /// A DNS query name is invalid.
    #[error("dns query name {0:?} is invalid")]
    DnsName(String),
    /// A DNS query could not be encoded.
    #[error("dns query for {0:?} cannot be encoded")]
    DnsEncode(String),
    /// An SMTP HELO name contains characters that would break the command line.
    #[error("smtp helo name {0:?} contains whitespace or control characters")]
    HeloName(String),
    /// The UDP reply length bounds are inverted.
    #[error("udp reply length bounds {0}..={1} are inverted")]
    ReplyLength(usize, usize),
    /// A pool's sorry server is also one of its real servers.
    #[error("sorry server {0} is also a real server")]
    SorryIsReal(std::net::SocketAddr),
    /// A pool lists the same real server twice.
    #[error("real server {0} is listed twice")]
    DuplicateReal(std::net::SocketAddr),
}
