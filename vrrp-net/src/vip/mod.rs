//! Virtual IP addresses: installing and removing them, and noticing when someone else removes
//! one of ours.

use std::fmt;
use std::net::IpAddr;

use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::error::VipError;

mod netlink;
mod no_accept;
mod options;
#[cfg(feature = "test-util")]
mod recording;

pub use netlink::NetlinkVips;
pub(crate) use netlink::netlink_address_message;
pub use no_accept::NoAcceptVips;
pub use options::VipOptions;
#[cfg(feature = "test-util")]
pub use recording::{RecordingVips, VipCall};

/// The scope of an address (`ip addr add ... scope SCOPE`, `rtm_scope` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum VipScope {
    /// `global` (RT_SCOPE_UNIVERSE, 0).
    #[default]
    Global,
    /// `site` (RT_SCOPE_SITE, 200).
    Site,
    /// `link` (RT_SCOPE_LINK, 253).
    Link,
    /// `host` (RT_SCOPE_HOST, 254).
    Host,
    /// `nowhere` (RT_SCOPE_NOWHERE, 255).
    Nowhere,
}

impl VipScope {
    /// Parses `ip`'s scope names and numbers.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "global" | "0" => Some(Self::Global),
            "site" | "200" => Some(Self::Site),
            "link" | "253" => Some(Self::Link),
            "host" | "254" => Some(Self::Host),
            "nowhere" | "255" => Some(Self::Nowhere),
            _ => None,
        }
    }
}

/// One virtual address as installed on an interface.
///
/// Built with [`Vip::new`] and the chainable setters; the fields stay readable.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Vip {
    /// Index of the interface carrying the address.
    pub ifindex: u32,
    /// The address.
    pub addr: IpAddr,
    /// Its prefix length.
    pub prefix_len: u8,
    /// An IPv4 label (`eth0:vip`), at most 15 bytes.
    pub label: Option<String>,
    /// The address scope.
    pub scope: VipScope,
    /// Accept_Mode of the router owning it (RFC 9568 §6.1): `false` asks a firewalled
    /// backend ([`NoAcceptVips`]) to drop traffic addressed to it while it is installed.
    pub accept: bool,
    /// keepalived's per-address options (broadcast, peer, flags, lifetime, tracking).
    pub options: VipOptions,
}

impl Vip {
    /// A global-scope address without a label.
    pub fn new(ifindex: u32, addr: IpAddr, prefix_len: u8) -> Self {
        Self {
            ifindex,
            addr,
            prefix_len,
            label: None,
            scope: VipScope::Global,
            accept: true,
            options: VipOptions::default(),
        }
    }

    /// With IPv4 label `label`.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// With scope `scope`.
    pub fn scope(mut self, scope: VipScope) -> Self {
        self.scope = scope;
        self
    }

    /// With Accept_Mode `accept` (the `accept` field).
    pub fn accept(mut self, accept: bool) -> Self {
        self.accept = accept;
        self
    }

    /// With the per-address options `options`.
    pub fn options(mut self, options: VipOptions) -> Self {
        self.options = options;
        self
    }

    /// Whether `other` is the same kernel address (interface, address and prefix length).
    pub fn same_address(&self, other: &Self) -> bool {
        self.ifindex == other.ifindex
            && self.addr == other.addr
            && self.prefix_len == other.prefix_len
    }
}

impl fmt::Display for Vip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{} on ifindex {}",
            self.addr, self.prefix_len, self.ifindex
        )
    }
}

/// Something that happened to an address behind the backend's back.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VipNotice {
    /// An address this backend installed was removed by someone else.
    RemovedExternally(Vip),
}

/// Installs and removes virtual addresses.
///
/// Both operations are idempotent: adding an address that is present, or removing one that is
/// absent, succeeds.
#[async_trait]
pub trait VipBackend: Send + Sync {
    /// Installs `vip` (IPv6 without duplicate address detection).
    async fn add(&self, vip: &Vip) -> Result<(), VipError>;

    /// Removes `vip`.
    async fn remove(&self, vip: &Vip) -> Result<(), VipError>;

    /// The stream of [`VipNotice`]s; the first call takes it, later calls return `None`.
    fn take_notices(&self) -> Option<mpsc::UnboundedReceiver<VipNotice>>;
}
