//! Routes and policy-routing rules over rtnetlink: typed [`Route`]s and [`Rule`]s, their
//! netlink messages, and [`NetlinkRoutes`] to install and remove them.
//!
//! This is what keepalived's `virtual_routes` / `virtual_rules` (installed while an instance
//! is master) and `static_routes` / `static_rules` (installed for the daemon's life) need,
//! usable by any program: installing what is present and removing what is absent both
//! succeed, so callers may repeat themselves.
//!
//! ```no_run
//! # async fn demo() -> Result<(), vrrp_net::route::RouteError> {
//! use vrrp_net::route::{NetlinkRoutes, Route, Rule, RuleAction};
//! let routes = NetlinkRoutes::new()?;
//! let route = Route::new("198.51.100.0".parse().unwrap(), 24)
//!     .gateway("192.0.2.1".parse().unwrap())
//!     .table(100);
//! routes.add_route(&route).await?;
//! let rule = Rule::new(vrrp_net::vrrp_core::Family::V4, 100, RuleAction::Table(100))
//!     .from("192.0.2.0".parse().unwrap(), 24);
//! routes.add_rule(&rule).await?;
//! # Ok(()) }
//! ```

mod error;
mod message;
mod netlink;
mod rule;
mod spec;

pub use error::RouteError;
pub use netlink::NetlinkRoutes;
pub use rule::{Rule, RuleAction};
pub use spec::{Route, RouteKind};

/// `rtm_protocol` / `FRA_PROTOCOL` of what keepalived installs (RTPROT_KEEPALIVED).
pub const PROTOCOL_KEEPALIVED: u8 = 18;

/// The main routing table (RT_TABLE_MAIN).
pub const TABLE_MAIN: u32 = 254;
