//! [`NetlinkRoutes`]: routes and rules in and out of the kernel over one rtnetlink socket.

use rtnetlink::Handle;
use tokio::task::JoinHandle;

use super::message::{Op, route_message, rule_message};
use super::{Route, RouteError, Rule};
use crate::error::NetlinkError;

/// The errnos that mean "already there" when adding.
const PRESENT: &[i32] = &[libc::EEXIST];
/// The errnos that mean "already gone" when removing (no such route or rule, or its
/// interface is gone with it).
const ABSENT: &[i32] = &[libc::ESRCH, libc::ENOENT, libc::ENODEV];

fn is_errno(error: &rtnetlink::Error, errnos: &[i32]) -> bool {
    matches!(error, rtnetlink::Error::NetlinkError(m) if errnos.contains(&-m.raw_code()))
}

/// Installs and removes [`Route`]s and [`Rule`]s; both are idempotent (adding what is
/// present, or removing what is absent, succeeds).
#[derive(Debug)]
pub struct NetlinkRoutes {
    handle: Handle,
    task: JoinHandle<()>,
}

impl NetlinkRoutes {
    /// Opens the request socket. Must be called inside a tokio runtime.
    pub fn new() -> Result<Self, RouteError> {
        let (conn, handle, _) = rtnetlink::new_connection().map_err(RouteError::Io)?;
        let task = tokio::spawn(conn);
        Ok(Self { handle, task })
    }

    /// Installs `route`.
    pub async fn add_route(&self, route: &Route) -> Result<(), RouteError> {
        let msg = route_message(route, Op::Add)?;
        match self.handle.route().add(msg).execute().await {
            Ok(()) => Ok(()),
            Err(e) if is_errno(&e, PRESENT) => Ok(()),
            Err(e) => Err(RouteError::AddRoute {
                route: route.to_string(),
                source: NetlinkError::from(e),
            }),
        }
    }

    /// Removes `route`.
    pub async fn remove_route(&self, route: &Route) -> Result<(), RouteError> {
        let msg = route_message(route, Op::Delete)?;
        match self.handle.route().del(msg).execute().await {
            Ok(()) => Ok(()),
            Err(e) if is_errno(&e, ABSENT) => Ok(()),
            Err(e) => Err(RouteError::RemoveRoute {
                route: route.to_string(),
                source: NetlinkError::from(e),
            }),
        }
    }

    /// Installs `rule`.
    pub async fn add_rule(&self, rule: &Rule) -> Result<(), RouteError> {
        let msg = rule_message(rule)?;
        let mut request = self.handle.rule().add();
        *request.message_mut() = msg;
        match request.execute().await {
            Ok(()) => Ok(()),
            Err(e) if is_errno(&e, PRESENT) => Ok(()),
            Err(e) => Err(RouteError::AddRule {
                rule: rule.to_string(),
                source: NetlinkError::from(e),
            }),
        }
    }

    /// Removes `rule`.
    pub async fn remove_rule(&self, rule: &Rule) -> Result<(), RouteError> {
        let msg = rule_message(rule)?;
        match self.handle.rule().del(msg).execute().await {
            Ok(()) => Ok(()),
            Err(e) if is_errno(&e, ABSENT) => Ok(()),
            Err(e) => Err(RouteError::RemoveRule {
                rule: rule.to_string(),
                source: NetlinkError::from(e),
            }),
        }
    }
}

impl Drop for NetlinkRoutes {
    fn drop(&mut self) {
        self.task.abort();
    }
}
