//! Trust anchors for [`super::Verify::Roots`], in our own type.

use crate::ConfigError;
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::sync::Arc;

/// The certificates a server's chain must lead to.
///
/// Built from DER or PEM bytes (a CA bundle file read by the caller); the TLS library
/// holding them is an implementation detail.
#[derive(Debug, Clone)]
pub struct RootCerts {
    store: RootCertStore,
}

impl RootCerts {
    /// No trust anchors yet.
    pub fn new() -> Self {
        RootCerts {
            store: RootCertStore::empty(),
        }
    }

    /// Adds one DER-encoded X.509 certificate.
    pub fn add_der(&mut self, der: &[u8]) -> Result<(), ConfigError> {
        self.store
            .add(CertificateDer::from(der.to_vec()))
            .map_err(|e| ConfigError::RootCertificate(e.into()))
    }

    /// Adds every `CERTIFICATE` section of a PEM bundle and returns how many; a bundle
    /// without one, or with a malformed section or certificate, is an error.
    pub fn add_pem(&mut self, pem: &[u8]) -> Result<usize, ConfigError> {
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| ConfigError::RootCertificate(e.into()))?;
            self.store
                .add(cert)
                .map_err(|e| ConfigError::RootCertificate(e.into()))?;
            added += 1;
        }
        if added == 0 {
            return Err(ConfigError::RootCertificate(
                "no CERTIFICATE section in the PEM input".into(),
            ));
        }
        Ok(added)
    }

    /// How many trust anchors are held.
    pub fn len(&self) -> usize {
        self.store.len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.store.is_empty()
    }

    pub(super) fn into_store(self) -> Arc<RootCertStore> {
        Arc::new(self.store)
    }
}

impl Default for RootCerts {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_rejected_with_context() {
        let mut roots = RootCerts::new();
        let err = roots
            .add_der(b"not a certificate")
            .err()
            .map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|e| e.starts_with("root certificate rejected: ")),
            "{err:?}"
        );
        let err = roots.add_pem(b"no pem here").err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("root certificate rejected: no CERTIFICATE section in the PEM input")
        );
        assert!(roots.is_empty());
    }
}
