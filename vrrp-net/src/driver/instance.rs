//! What the driver needs about one instance beyond the core's [`RouterConfig`].

use std::net::IpAddr;

use vrrp_core::RouterConfig;

use crate::vip::{VipOptions, VipScope};

/// Where and how one virtual address is installed (keepalived's `dev`, `label`, `scope`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VipPlacement {
    /// The address (as listed in the router's configuration).
    pub address: IpAddr,
    /// The interface to put it on (default: the virtual MAC interface if any, else the
    /// instance's interface). With a virtual MAC, naming the instance's interface also means
    /// the virtual MAC interface, as in keepalived.
    pub dev: Option<String>,
    /// IPv4 label.
    pub label: Option<String>,
    /// Scope.
    pub scope: VipScope,
    /// keepalived's per-address options (broadcast, peer, flags, lifetime, `no_track`).
    pub options: VipOptions,
}

impl VipPlacement {
    /// `address` on the default interface, no label, global scope.
    pub fn new(address: IpAddr) -> Self {
        Self {
            address,
            dev: None,
            label: None,
            scope: VipScope::Global,
            options: VipOptions::default(),
        }
    }

    /// On interface `dev`.
    pub fn dev(mut self, dev: impl Into<String>) -> Self {
        self.dev = Some(dev.into());
        self
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

    /// With the per-address options `options`.
    pub fn options(mut self, options: VipOptions) -> Self {
        self.options = options;
        self
    }
}

/// One VRRP instance: a core router plus where it lives on the network.
///
/// Built with [`Instance::new`] and the chainable setters below; the fields stay readable.
/// Two instances are equal when every field is: an update with an equal instance is a no-op.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Instance {
    /// The core configuration; its `name` names the instance in events and handle calls.
    pub config: RouterConfig,
    /// The interface adverts are sent and received on.
    pub interface: String,
    /// Unicast peers; empty for multicast.
    pub unicast_peers: Vec<IpAddr>,
    /// TTL / hop limit of adverts to unicast peers (keepalived's `unicast_ttl`); `None`: 255
    /// (RFC 9568 §5.1.1.3, §5.1.2.3). Multicast adverts always carry 255.
    pub unicast_ttl: Option<u8>,
    /// The multicast group, if not the standard 224.0.0.18 / ff02::12.
    pub group: Option<IpAddr>,
    /// Per-address placement; addresses without one go on the default interface.
    pub placements: Vec<VipPlacement>,
    /// Interfaces whose link state feeds the tracked objects of the same name in
    /// `config.track` (keepalived's `track_interface`).
    pub track_interfaces: Vec<String>,
    /// Create a virtual MAC macvlan with this name and send adverts and place VIPs on it.
    pub vmac: Option<String>,
}

impl Instance {
    /// An instance on `interface` with default placement, multicast, no tracking, no vmac.
    pub fn new(config: RouterConfig, interface: impl Into<String>) -> Self {
        Self {
            config,
            interface: interface.into(),
            unicast_peers: Vec::new(),
            unicast_ttl: None,
            group: None,
            placements: Vec::new(),
            track_interfaces: Vec::new(),
            vmac: None,
        }
    }

    /// The instance's name (from its configuration).
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// Sends to these unicast peers instead of the multicast group; the router's
    /// configuration is marked unicast from them when the driver is built, so the peers are
    /// given once.
    pub fn unicast_peers(mut self, peers: impl IntoIterator<Item = IpAddr>) -> Self {
        self.unicast_peers = peers.into_iter().collect();
        self
    }

    /// keepalived's `unicast_ttl`: TTL / hop limit of the adverts sent to unicast peers.
    pub fn unicast_ttl(mut self, ttl: u8) -> Self {
        self.unicast_ttl = Some(ttl);
        self
    }

    /// Sends to and joins `group` instead of 224.0.0.18 / ff02::12.
    pub fn multicast_group(mut self, group: IpAddr) -> Self {
        self.group = Some(group);
        self
    }

    /// Places one of the router's addresses.
    pub fn placement(mut self, placement: VipPlacement) -> Self {
        self.placements.push(placement);
        self
    }

    /// Feeds the link state of interface `name` to the tracked object of the same name.
    pub fn track_interface(mut self, name: impl Into<String>) -> Self {
        self.track_interfaces.push(name.into());
        self
    }

    /// Creates a virtual MAC macvlan named `name` and runs the instance on it.
    pub fn vmac(mut self, name: impl Into<String>) -> Self {
        self.vmac = Some(name.into());
        self
    }
}
