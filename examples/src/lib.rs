//! Helpers shared by the example programs.

#[cfg(all(feature = "vrrp", feature = "health"))]
pub mod proxy;

#[cfg(all(feature = "vrrp", feature = "ipvs", feature = "health"))]
pub mod lvs;

/// Installs the programs' `tracing` subscriber: the libraries' warnings and errors (a VIP that
/// cannot be removed, a dropped advert's reason at `debug`) go to stderr. `RUST_LOG` chooses
/// what is shown (`warn` by default: the programs print their own events).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // A second call (tests calling main twice) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// The README's Rust snippets, compiled and run as doctests so that they stay true.
#[cfg(all(doctest, feature = "vrrp", feature = "ipvs", feature = "health"))]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// The crates' own READMEs (shown on the registry and docs.rs), compiled and run as doctests
/// too.
#[cfg(all(doctest, feature = "vrrp", feature = "ipvs", feature = "health"))]
pub mod crate_readmes {
    /// vrrp-core's README.
    #[doc = include_str!("../../vrrp-core/README.md")]
    pub struct VrrpCore;
    /// vrrp-net's README.
    #[doc = include_str!("../../vrrp-net/README.md")]
    pub struct VrrpNet;
    /// ipvs-sys's README.
    #[doc = include_str!("../../ipvs-sys/README.md")]
    pub struct IpvsSys;
    /// The healthcheck crate's README.
    #[doc = include_str!("../../healthcheck/README.md")]
    pub struct Healthcheck;
    /// keepalived-conf's README.
    #[doc = include_str!("../../keepalived-conf/README.md")]
    pub struct KeepalivedConf;
}
