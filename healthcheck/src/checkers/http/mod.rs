//! keepalived's `HTTP_GET` and `SSL_GET`: fetch URLs and judge status, digest, body.

mod url;

pub use url::{DEFAULT_MAX_BODY, Url};

use super::connect::connect;
#[cfg(feature = "tls")]
use super::tls::TlsClient;
use crate::{Check, ConfigError, Outcome, Reason};
use async_trait::async_trait;
use http::header::{CONNECTION, HOST, USER_AGENT};
use http::{Method, Request, Version};
use http_body_util::{BodyExt, Empty};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1;
use hyper::rt::{Read, Write};
use hyper_util::rt::TokioIo;
use md5::{Digest, Md5};
use std::error::Error as _;
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use tokio::time::Instant;

/// GETs every URL on its own connection; up when all of them pass.
#[derive(Debug, Clone)]
pub struct HttpCheck {
    connect: SocketAddr,
    bind: Option<SocketAddr>,
    urls: Vec<Url>,
    virtualhost: Option<String>,
    version: Version,
    #[cfg(feature = "tls")]
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
            #[cfg(feature = "tls")]
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

    /// Speaks HTTPS with `tls` (keepalived's `SSL_GET`; feature `tls`).
    #[cfg(feature = "tls")]
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
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.tls {
            let stream = tls
                .handshake(self.virtualhost.as_deref(), self.connect.ip(), tcp)
                .await?;
            return self.exchange(TokioIo::new(stream), url).await;
        }
        self.exchange(TokioIo::new(tcp), url).await
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
        if !url.accepts(status) {
            return Err(Reason::Status(status));
        }
        if !url.reads_body() {
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
            if url.keeps_body() {
                kept.extend_from_slice(&data);
            }
        }
        if let Some(expected) = url.digest {
            let actual = md5.finalize();
            if actual.as_slice() != expected {
                return Err(Reason::DigestMismatch {
                    actual: url::to_hex(&actual),
                });
            }
        }
        url.match_body(&kept)
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
