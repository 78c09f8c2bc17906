//! keepalived's `HTTP_GET` and `SSL_GET`: fetch URLs and judge status, digest, body.

use super::connect::connect;
use super::tls::TlsClient;
use crate::{Check, ConfigError, Outcome, Reason};
use async_trait::async_trait;
use http::header::{CONNECTION, HOST, USER_AGENT};
use http::{Method, Request, Uri, Version};
use http_body_util::{BodyExt, Empty};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1;
use hyper::rt::{Read, Write};
use hyper_util::rt::TokioIo;
use md5::{Digest, Md5};
use rustls::pki_types::ServerName;
use std::error::Error as _;
use std::io;
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::pin::pin;
use tokio::time::Instant;

/// The default bound on a body read for a digest or a regex: 1 MiB.
pub const DEFAULT_MAX_BODY: usize = 1 << 20;

/// One URL of an HTTP check and what its response must look like.
#[derive(Debug, Clone)]
pub struct Url {
    path: String,
    status: Vec<RangeInclusive<u16>>,
    digest: Option<[u8; 16]>,
    regex: Option<regex::bytes::Regex>,
}

impl Url {
    /// `path` is the request target (`/health`, `/status?full`), expected to answer
    /// with a status in 200-299.
    pub fn new(path: &str) -> Result<Self, ConfigError> {
        let valid = path.starts_with('/') && path.parse::<Uri>().is_ok();
        if !valid {
            return Err(ConfigError::UrlPath(path.to_owned()));
        }
        Ok(Url {
            path: path.to_owned(),
            status: vec![200..=299],
            digest: None,
            regex: None,
        })
    }

    /// Replaces the accepted status codes (keepalived's `status_code`).
    pub fn status(
        mut self,
        ranges: impl IntoIterator<Item = RangeInclusive<u16>>,
    ) -> Result<Self, ConfigError> {
        self.status.clear();
        for r in ranges {
            if r.is_empty() || *r.start() < 100 || *r.end() > 599 {
                return Err(ConfigError::StatusRange(*r.start(), *r.end()));
            }
            self.status.push(r);
        }
        Ok(self)
    }

    /// Requires the MD5 of the body to equal `hex` (32 hexadecimal digits, as printed
    /// by keepalived's `genhash`). The digest covers the body after transfer decoding
    /// (a chunked body is hashed without its chunk framing), up to the read bound.
    pub fn digest(mut self, hex: &str) -> Result<Self, ConfigError> {
        self.digest = Some(parse_digest(hex).ok_or_else(|| ConfigError::Digest(hex.to_owned()))?);
        Ok(self)
    }

    /// Requires the body to match `regex` (keepalived's `regex`).
    pub fn regex(mut self, regex: regex::bytes::Regex) -> Self {
        self.regex = Some(regex);
        self
    }
}

fn parse_digest(hex: &str) -> Option<[u8; 16]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 32 || !bytes.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let s = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// GETs every URL on its own connection; up when all of them pass.
#[derive(Debug, Clone)]
pub struct HttpCheck {
    connect: SocketAddr,
    bind: Option<SocketAddr>,
    urls: Vec<Url>,
    virtualhost: Option<String>,
    version: Version,
    tls: Option<TlsClient>,
    max_body: usize,
}

impl HttpCheck {
    /// Plain HTTP/1.1 to `connect`.
    pub fn new(connect: SocketAddr, urls: Vec<Url>) -> Result<Self, ConfigError> {
        if urls.is_empty() {
            return Err(ConfigError::NoUrls(connect));
        }
        Ok(HttpCheck {
            connect,
            bind: None,
            urls,
            virtualhost: None,
            version: Version::HTTP_11,
            tls: None,
            max_body: DEFAULT_MAX_BODY,
        })
    }

    /// Sends `Host: name` (keepalived's `virtualhost`); also the default TLS SNI.
    pub fn virtualhost(mut self, name: &str) -> Result<Self, ConfigError> {
        if name.is_empty() || http::HeaderValue::from_str(name).is_err() {
            return Err(ConfigError::VirtualHost(name.to_owned()));
        }
        self.virtualhost = Some(name.to_owned());
        Ok(self)
    }

    /// Originates connections from `bind`.
    pub fn bind(mut self, bind: SocketAddr) -> Self {
        self.bind = Some(bind);
        self
    }

    /// Sends HTTP/1.0 requests instead of HTTP/1.1.
    pub fn http10(mut self) -> Self {
        self.version = Version::HTTP_10;
        self
    }

    /// Speaks HTTPS with `tls` (keepalived's `SSL_GET`).
    pub fn tls(mut self, tls: TlsClient) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Bounds the body read for digests and regexes (default [`DEFAULT_MAX_BODY`]);
    /// a longer body fails the check.
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    fn host(&self) -> String {
        match &self.virtualhost {
            Some(h) => h.clone(),
            None => self.connect.to_string(),
        }
    }

    async fn fetch(&self, url: &Url) -> Result<(), Reason> {
        let tcp = connect(self.connect, self.bind).await?;
        match &self.tls {
            None => self.exchange(TokioIo::new(tcp), url).await,
            Some(tls) => {
                let name = match (tls.name(), &self.virtualhost) {
                    (Some(n), _) => n.clone(),
                    (None, Some(h)) => ServerName::try_from(h.clone())
                        .map_err(|_| Reason::Tls(format!("invalid server name {h:?}")))?,
                    (None, None) => ServerName::IpAddress(self.connect.ip().into()),
                };
                let stream = tls.handshake(name, tcp).await?;
                self.exchange(TokioIo::new(stream), url).await
            }
        }
    }

    /// One request/response on an established connection. The connection future is
    /// driven here, not spawned, so cancelling the probe closes the socket.
    async fn exchange<I>(&self, io: I, url: &Url) -> Result<(), Reason>
    where
        I: Read + Write + Unpin + Send + 'static,
    {
        let (mut sender, conn) = http1::handshake::<_, Empty<Bytes>>(io)
            .await
            .map_err(|e| hyper_reason(&e))?;
        let request = Request::builder()
            .method(Method::GET)
            .uri(url.path.as_str())
            .version(self.version)
            .header(HOST, self.host())
            .header(USER_AGENT, "keepalived-rs-healthcheck")
            .header(CONNECTION, "close")
            .body(Empty::new())
            .map_err(|_| Reason::Http)?;
        let work = async {
            let response = sender
                .send_request(request)
                .await
                .map_err(|e| hyper_reason(&e))?;
            self.judge(url, response).await
        };
        let mut work = pin!(work);
        let mut conn = pin!(conn);
        let mut conn_done = false;
        loop {
            tokio::select! {
                biased;
                result = &mut work => return result,
                ended = &mut conn, if !conn_done => {
                    conn_done = true;
                    ended.map_err(|e| hyper_reason(&e))?;
                }
            }
        }
    }

    async fn judge(&self, url: &Url, response: http::Response<Incoming>) -> Result<(), Reason> {
        let status = response.status().as_u16();
        if !url.status.iter().any(|r| r.contains(&status)) {
            return Err(Reason::Status(status));
        }
        if url.digest.is_none() && url.regex.is_none() {
            return Ok(());
        }
        let mut body = response.into_body();
        let mut md5 = Md5::new();
        let mut kept = Vec::new();
        let mut total = 0usize;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| hyper_reason(&e))?;
            let Ok(data) = frame.into_data() else {
                continue; // trailers
            };
            total = total.saturating_add(data.len());
            if total > self.max_body {
                return Err(Reason::BodyTooLarge(self.max_body));
            }
            if url.digest.is_some() {
                md5.update(&data);
            }
            if url.regex.is_some() {
                kept.extend_from_slice(&data);
            }
        }
        if let Some(expected) = url.digest {
            let actual = md5.finalize();
            if actual.as_slice() != expected {
                return Err(Reason::DigestMismatch {
                    actual: to_hex(&actual),
                });
            }
        }
        if let Some(regex) = &url.regex
            && !regex.is_match(&kept)
        {
            return Err(Reason::BodyMismatch(regex.as_str().to_owned()));
        }
        Ok(())
    }
}

/// Classifies a hyper error: socket errors by kind, truncation as a closed
/// connection, anything else as a malformed response.
fn hyper_reason(err: &hyper::Error) -> Reason {
    let mut source = err.source();
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            return Reason::from_io(io);
        }
        source = e.source();
    }
    if err.is_incomplete_message() || err.is_canceled() || err.is_closed() {
        Reason::Closed
    } else {
        Reason::Http
    }
}

#[async_trait]
impl Check for HttpCheck {
    async fn check(&self, _deadline: Instant) -> Outcome {
        for url in &self.urls {
            if let Err(reason) = self.fetch(url).await {
                return Outcome::Down(reason);
            }
        }
        Outcome::UP
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn digest_parses_genhash_output_and_rejects_garbage() {
        let d = parse_digest("9e107d9d372bb6826bd81d3542a419d6");
        assert_eq!(
            d.map(|d| to_hex(&d)).as_deref(),
            Some("9e107d9d372bb6826bd81d3542a419d6")
        );
        assert!(parse_digest("9e107d9d372bb6826bd81d3542a419d").is_none());
        assert!(parse_digest("zz107d9d372bb6826bd81d3542a419d6").is_none());
        assert!(parse_digest("+e107d9d372bb6826bd81d3542a419d6").is_none());
    }

    #[test]
    fn url_config_errors_name_the_value() {
        assert_eq!(
            Url::new("health").err().map(|e| e.to_string()).as_deref(),
            Some("url path \"health\" is not a valid request target")
        );
        #[allow(clippy::reversed_empty_ranges)]
        let bad = Url::new("/").and_then(|u| u.status([300..=200]));
        assert_eq!(
            bad.err().map(|e| e.to_string()).as_deref(),
            Some("status range 300-200 is empty or outside 100-599")
        );
    }
}
