//! TLS client settings for HTTPS probes (keepalived's `SSL_GET`).

use crate::{ConfigError, Reason};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::io;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// How the server's certificate is judged.
#[derive(Debug, Clone)]
pub enum Verify {
    /// Verify the chain against these roots and the server name (WebPKI rules).
    Roots(Arc<RootCertStore>),
    /// Accept any certificate (keepalived's behaviour without an `SSL` block). The
    /// handshake signatures are still checked, so the peer holds the key of the
    /// certificate it presented.
    Skip,
}

/// A TLS client configuration for one HTTPS check, built once.
#[derive(Debug, Clone)]
pub struct TlsClient {
    config: Arc<ClientConfig>,
    server_name: Option<ServerName<'static>>,
}

impl TlsClient {
    /// A client using the *ring* provider, TLS 1.2 and 1.3, ALPN `http/1.1`.
    pub fn new(verify: Verify) -> Result<Self, ConfigError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?;
        let mut config = match verify {
            Verify::Roots(roots) => builder.with_root_certificates(roots).with_no_client_auth(),
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

    pub(crate) fn name(&self) -> Option<&ServerName<'static>> {
        self.server_name.as_ref()
    }

    /// Runs the handshake over `tcp`.
    pub(crate) async fn handshake(
        &self,
        name: ServerName<'static>,
        tcp: TcpStream,
    ) -> Result<TlsStream<TcpStream>, Reason> {
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

/// Accepts every certificate but still verifies handshake signatures.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
