//! What the driver needs about one instance beyond the core's [`RouterConfig`].

use std::net::IpAddr;

use vrrp_core::RouterConfig;

use crate::vip::VipScope;

/// Where and how one virtual address is installed (keepalived's `dev`, `label`, `scope`).
#[derive(Debug, Clone, PartialEq, Eq)]
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
}

/// One VRRP instance: a core router plus where it lives on the network.
#[derive(Debug, Clone)]
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
}
