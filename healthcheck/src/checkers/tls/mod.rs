//! TLS client settings for HTTPS probes (keepalived's `SSL_GET`).

mod provider;
mod roots;
mod verify;

pub use roots::RootCerts;

use crate::{ConfigError, Reason};
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use std::io;
use std::net::IpAddr;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use verify::AnyCertificate;

/// How the server's certificate is judged.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Verify {
    /// Verify the chain against these roots and the server name (WebPKI rules).
    Roots(RootCerts),
    /// Accept any certificate (keepalived's behaviour without an `SSL` block). The
    /// handshake signatures are still checked, so the peer holds the key of the
    /// certificate it presented.
    Skip,
}

/// A TLS client configuration for one HTTPS check, built once.
///
/// The rustls crypto provider is the process default when the program installed one,
/// else the one of the `tls-aws-lc-rs` / `tls-ring` feature; see the crate
/// documentation. Nothing is installed process-wide.
#[derive(Debug, Clone)]
pub struct TlsClient {
    config: Arc<ClientConfig>,
    server_name: Option<ServerName<'static>>,
}

impl TlsClient {
    /// A client for TLS 1.2 and 1.3 with ALPN `http/1.1`.
    ///
    /// Fails with [`ConfigError::NoCryptoProvider`] when no provider is installed and
    /// no provider feature is enabled, and with [`ConfigError::Tls`] when the provider
    /// cannot serve these protocol versions.
    pub fn new(verify: Verify) -> Result<Self, ConfigError> {
        let provider = provider::provider()?;
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| ConfigError::Tls(e.into()))?;
        let mut config = match verify {
            Verify::Roots(roots) => builder
                .with_root_certificates(roots.into_store())
                .with_no_client_auth(),
            Verify::Skip => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
                .with_no_client_auth(),
        };
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsClient {
            config: Arc::new(config),
            server_name: None,
        })
    }

    /// Sends `name` as SNI and verifies the certificate against it (default: the
    /// check's virtual host, else the connect address, which sends no SNI).
    pub fn server_name(mut self, name: &str) -> Result<Self, ConfigError> {
        let name = ServerName::try_from(name.to_owned())
            .map_err(|_| ConfigError::ServerName(name.to_owned()))?;
        self.server_name = Some(name);
        Ok(self)
    }

    /// Runs the handshake over `tcp`, naming the server by the configured name, else
    /// `virtualhost`, else the connect address `ip`.
    pub(crate) async fn handshake(
        &self,
        virtualhost: Option<&str>,
        ip: IpAddr,
        tcp: TcpStream,
    ) -> Result<TlsStream<TcpStream>, Reason> {
        let name = match (&self.server_name, virtualhost) {
            (Some(n), _) => n.clone(),
            (None, Some(h)) => ServerName::try_from(h.to_owned())
                .map_err(|_| Reason::Tls(format!("invalid server name {h:?}")))?,
            (None, None) => ServerName::IpAddress(ip.into()),
        };
        TlsConnector::from(self.config.clone())
            .connect(name, tcp)
            .await
            .map_err(|e| tls_reason(&e))
    }
}

/// A TLS failure keeps rustls' description; a socket failure is classified as usual.
fn tls_reason(err: &io::Error) -> Reason {
    match err
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
    {
        Some(tls) => Reason::Tls(tls.to_string()),
        None => Reason::from_io(err),
    }
}
