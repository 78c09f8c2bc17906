//! A process-default rustls provider, when the program installed one, wins over the
//! provider of our feature: this test binary installs one that offers no cipher suite,
//! so building a client fails with a typed error instead of using *ring*.
#![allow(clippy::unwrap_used)]

use healthcheck::ConfigError;
use healthcheck::checkers::{TlsClient, Verify};
use rustls::crypto::CryptoProvider;

#[test]
fn the_installed_default_provider_is_used_and_its_failure_is_typed() {
    let crippled = CryptoProvider {
        cipher_suites: Vec::new(),
        ..rustls::crypto::ring::default_provider()
    };
    crippled.install_default().unwrap();
    match TlsClient::new(Verify::Skip) {
        Err(err @ ConfigError::Tls(_)) => {
            assert!(
                err.to_string().starts_with("tls client configuration: "),
                "{err}"
            );
            assert!(std::error::Error::source(&err).is_some());
        }
        other => panic!("expected a tls configuration error, got {other:?}"),
    }
}
