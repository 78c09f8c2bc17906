//! Following an instance without owning the event stream: [`super::Handle::watch`] hands out
//! `tokio::sync::watch` receivers of an [`InstanceView`], as many as parts of a program want.

use std::net::IpAddr;

use vrrp_core::{Priority, State, VirtualRouter};

/// The observable state of one instance: what a watcher sees.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InstanceView {
    /// Current state.
    pub state: State,
    /// Effective priority.
    pub priority: Priority,
    /// The addresses this instance has installed now (empty unless master), in the order of
    /// installation.
    pub addresses: Vec<IpAddr>,
}

impl InstanceView {
    /// The view of a router that has installed nothing yet.
    pub(super) fn new(router: &VirtualRouter) -> Self {
        InstanceView {
            state: router.state(),
            priority: router.priority(),
            addresses: Vec::new(),
        }
    }
}
