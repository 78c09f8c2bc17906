//! Why a route or rule could not be installed or removed.

use std::io;

use crate::error::NetlinkError;

/// A failure of [`super::NetlinkRoutes`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RouteError {
    /// The netlink socket could not be opened.
    #[error("cannot open a netlink socket")]
    Io(#[source] io::Error),
    /// The route mixes address families (destination, gateway, source).
    #[error("route {route}: {what} is not of the destination's family")]
    MixedFamilies {
        /// The route, `ip route`'s form.
        route: String,
        /// The address at fault (`gateway`, `src`, `from`).
        what: &'static str,
    },
    /// The rule's addresses are not of its family.
    #[error("rule {rule}: addresses are not of the rule's family")]
    RuleFamily {
        /// The rule, `ip rule`'s form.
        rule: String,
    },
    /// The kernel refused to add the route.
    #[error("cannot add route {route}")]
    AddRoute {
        /// The route, `ip route`'s form.
        route: String,
        /// What the kernel said.
        #[source]
        source: NetlinkError,
    },
    /// The kernel refused to remove the route.
    #[error("cannot remove route {route}")]
    RemoveRoute {
        /// The route, `ip route`'s form.
        route: String,
        /// What the kernel said.
        #[source]
        source: NetlinkError,
    },
    /// The kernel refused to add the rule.
    #[error("cannot add rule {rule}")]
    AddRule {
        /// The rule, `ip rule`'s form.
        rule: String,
        /// What the kernel said.
        #[source]
        source: NetlinkError,
    },
    /// The kernel refused to remove the rule.
    #[error("cannot remove rule {rule}")]
    RemoveRule {
        /// The rule, `ip rule`'s form.
        rule: String,
        /// What the kernel said.
        #[source]
        source: NetlinkError,
    },
}
