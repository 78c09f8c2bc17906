//! The static part: `static_ipaddress`, `static_routes`, `static_rules`, kept installed for
//! the daemon's life. A static address someone else removes is put back unless it is
//! `no_track` (keepalived's `reinstate_static_address`).

use std::sync::Arc;

use keepalived_conf::{KeepalivedConf, RouteSpec, VipSpec};
use tokio::task::JoinHandle;
use vrrp_net::link::Links;
use vrrp_net::route::{NetlinkRoutes, Route, Rule};
use vrrp_net::vip::{NetlinkVips, Vip, VipBackend, VipNotice, VipScope};

use super::{chain, convert};

/// keepalived's default interface for a static address without `dev`.
const DEFAULT_INTERFACE: &str = "eth0";

/// The route of `spec` with its `dev` looked up; `None` (logged) if that fails.
pub(super) async fn route_of(spec: &RouteSpec, links: &Links) -> Option<Route> {
    let oif = match &spec.dev {
        Some(dev) => match links.by_name(dev).await {
            Ok(iface) => Some(iface.index),
            Err(e) => {
                tracing::warn!("{}: route: interface {dev}: {}", spec.loc, chain(&e));
                return None;
            }
        },
        None => None,
    };
    match convert::route(spec, oif) {
        Ok(route) => Some(route),
        Err(e) => {
            tracing::warn!("{e}");
            None
        }
    }
}

async fn address_of(spec: &VipSpec, links: &Links) -> Option<Vip> {
    let dev = spec.dev.as_deref().unwrap_or(DEFAULT_INTERFACE);
    let index = match links.by_name(dev).await {
        Ok(iface) => iface.index,
        Err(e) => {
            tracing::warn!(
                "{}: static address: interface {dev}: {}",
                spec.loc,
                chain(&e)
            );
            return None;
        }
    };
    let mut vip = Vip::new(index, spec.addr, spec.prefix_len)
        .scope(
            spec.scope
                .as_deref()
                .and_then(VipScope::from_name)
                .unwrap_or_default(),
        )
        .options(convert::vip_options(spec));
    vip.label = spec.label.clone();
    Some(vip)
}

/// The installed static entries and the watch on the addresses.
pub(super) struct Statics {
    vips: Arc<NetlinkVips>,
    watcher: JoinHandle<()>,
    addresses: Vec<Vip>,
    routes: Vec<Route>,
    rules: Vec<Rule>,
}

impl Statics {
    /// Opens the address backend and starts watching for removals.
    pub(super) fn new() -> Result<Self, vrrp_net::error::VipError> {
        let vips = Arc::new(NetlinkVips::new()?);
        let mut notices = vips.take_notices();
        let backend = Arc::clone(&vips);
        let watcher = tokio::spawn(async move {
            let Some(rx) = notices.as_mut() else { return };
            while let Some(notice) = rx.recv().await {
                let VipNotice::RemovedExternally(vip) = notice else {
                    continue;
                };
                if vip.options.no_track {
                    tracing::info!("no_track static address {vip} removed by someone else");
                    continue;
                }
                tracing::info!("Restoring deleted static address {vip}");
                if let Err(e) = backend.add(&vip).await {
                    tracing::warn!("{}", chain(&e));
                }
            }
        });
        Ok(Self {
            vips,
            watcher,
            addresses: Vec::new(),
            routes: Vec::new(),
            rules: Vec::new(),
        })
    }

    /// Makes the installed static entries `conf`'s: removes those no longer configured
    /// (rules, routes, addresses), then installs the missing ones (addresses, routes,
    /// rules).
    pub(super) async fn apply(
        &mut self,
        conf: &KeepalivedConf,
        routes: &NetlinkRoutes,
        links: &Links,
    ) {
        let mut addresses = Vec::new();
        for spec in &conf.static_addresses {
            addresses.extend(address_of(spec, links).await);
        }
        let mut wanted_routes = Vec::new();
        for spec in &conf.static_routes {
            wanted_routes.extend(route_of(spec, links).await);
        }
        let rules: Vec<Rule> = conf.static_rules.iter().map(convert::rule).collect();
        for rule in self.rules.iter().filter(|r| !rules.contains(r)) {
            if let Err(e) = routes.remove_rule(rule).await {
                tracing::warn!("static rule: {}", chain(&e));
            }
        }
        for route in self.routes.iter().filter(|r| !wanted_routes.contains(r)) {
            if let Err(e) = routes.remove_route(route).await {
                tracing::warn!("static route: {}", chain(&e));
            }
        }
        for vip in self.addresses.iter().filter(|v| !addresses.contains(v)) {
            if let Err(e) = self.vips.remove(vip).await {
                tracing::warn!("static address: {}", chain(&e));
            }
        }
        self.addresses.retain(|v| addresses.contains(v));
        self.routes.retain(|r| wanted_routes.contains(r));
        self.rules.retain(|r| rules.contains(r));
        for vip in addresses {
            if self.addresses.contains(&vip) {
                continue;
            }
            match self.vips.add(&vip).await {
                Ok(()) => self.addresses.push(vip),
                Err(e) => tracing::warn!("static address: {}", chain(&e)),
            }
        }
        for route in wanted_routes {
            if self.routes.contains(&route) {
                continue;
            }
            match routes.add_route(&route).await {
                Ok(()) => self.routes.push(route),
                Err(e) => tracing::warn!("static route: {}", chain(&e)),
            }
        }
        for rule in rules {
            if self.rules.contains(&rule) {
                continue;
            }
            match routes.add_rule(&rule).await {
                Ok(()) => self.rules.push(rule),
                Err(e) => tracing::warn!("static rule: {}", chain(&e)),
            }
        }
    }

    /// Removes every static entry installed: rules, routes, then addresses.
    pub(super) async fn clear(&mut self, routes: &NetlinkRoutes) {
        self.watcher.abort();
        for rule in self.rules.drain(..).rev() {
            if let Err(e) = routes.remove_rule(&rule).await {
                tracing::warn!("static rule: {}", chain(&e));
            }
        }
        for route in self.routes.drain(..).rev() {
            if let Err(e) = routes.remove_route(&route).await {
                tracing::warn!("static route: {}", chain(&e));
            }
        }
        for vip in self.addresses.drain(..).rev() {
            if let Err(e) = self.vips.remove(&vip).await {
                tracing::warn!("static address: {}", chain(&e));
            }
        }
    }
}

impl Drop for Statics {
    fn drop(&mut self) {
        self.watcher.abort();
    }
}
