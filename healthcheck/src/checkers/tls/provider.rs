//! Which rustls crypto provider a [`super::TlsClient`] uses: never forced on the program.

use crate::ConfigError;
use rustls::crypto::CryptoProvider;
use std::sync::Arc;

/// The process-default provider if the program installed one, else the provider of
/// our `tls-aws-lc-rs` or `tls-ring` feature (aws-lc-rs when both are on, as in
/// rustls), else [`ConfigError::NoCryptoProvider`].
///
/// Nothing is installed: a program that later calls `CryptoProvider::install_default`
/// (or links a library that does) keeps working, and clients built after that use it.
pub(super) fn provider() -> Result<Arc<CryptoProvider>, ConfigError> {
    match CryptoProvider::get_default() {
        Some(installed) => Ok(installed.clone()),
        None => fallback().ok_or(ConfigError::NoCryptoProvider),
    }
}

#[cfg(feature = "tls-aws-lc-rs")]
fn fallback() -> Option<Arc<CryptoProvider>> {
    Some(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
}

#[cfg(all(feature = "tls-ring", not(feature = "tls-aws-lc-rs")))]
fn fallback() -> Option<Arc<CryptoProvider>> {
    Some(Arc::new(rustls::crypto::ring::default_provider()))
}

#[cfg(not(any(feature = "tls-ring", feature = "tls-aws-lc-rs")))]
fn fallback() -> Option<Arc<CryptoProvider>> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without a provider feature and with nothing installed (unit tests never install
    /// one), building a client is a typed error, not a panic.
    #[cfg(not(any(feature = "tls-ring", feature = "tls-aws-lc-rs")))]
    #[test]
    fn no_provider_is_a_typed_error() {
        let err = provider().err();
        assert!(
            matches!(err, Some(ConfigError::NoCryptoProvider)),
            "{err:?}"
        );
        let err = crate::checkers::TlsClient::new(crate::checkers::Verify::Skip).err();
        assert!(
            matches!(err, Some(ConfigError::NoCryptoProvider)),
            "{err:?}"
        );
    }

    /// With a provider feature, the fallback is used and nothing gets installed.
    #[cfg(any(feature = "tls-ring", feature = "tls-aws-lc-rs"))]
    #[test]
    fn fallback_is_used_without_installing_it() {
        assert!(provider().is_ok());
        assert!(CryptoProvider::get_default().is_none());
    }
}
