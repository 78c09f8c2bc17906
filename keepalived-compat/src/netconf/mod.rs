//! keepalived's network configuration besides the VIPs: an instance's `virtual_routes` and
//! `virtual_rules` (installed when it has become master and installed its addresses,
//! removed when it leaves master), and the `static_ipaddress`, `static_routes` and
//! `static_rules` (installed at start whatever the state, removed at a graceful stop, a
//! reload removing those no longer configured), all through `vrrp_net`'s netlink modules.

mod convert;
mod statics;

use std::collections::{HashMap, HashSet};

use keepalived_conf::{KeepalivedConf, RouteSpec, RuleSpec};
use vrrp_core::State;
use vrrp_net::driver::Event;
use vrrp_net::link::Links;
use vrrp_net::route::{NetlinkRoutes, Route, Rule};

use crate::daemon::chain;

pub(crate) use convert::{tracked_devices, vip_options};

/// An instance's configured routes and rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Lines {
    routes: Vec<RouteSpec>,
    rules: Vec<RuleSpec>,
}

/// What is installed for one master instance.
#[derive(Debug, Default)]
struct Installed {
    routes: Vec<Route>,
    rules: Vec<Rule>,
}

/// The running network configuration.
pub(crate) struct NetConf {
    routes: NetlinkRoutes,
    links: Links,
    statics: statics::Statics,
    configured: HashMap<String, Lines>,
    masters: HashSet<String>,
    installed: HashMap<String, Installed>,
}

fn lines_of(conf: &KeepalivedConf) -> HashMap<String, Lines> {
    conf.instances
        .iter()
        .filter(|i| !i.routes.is_empty() || !i.rules.is_empty())
        .map(|i| {
            (
                i.name.clone(),
                Lines {
                    routes: i.routes.clone(),
                    rules: i.rules.clone(),
                },
            )
        })
        .collect()
}

impl NetConf {
    /// Opens the netlink sockets and installs `conf`'s static addresses, routes and rules
    /// (in that order, as keepalived does); what fails is logged, the rest goes on.
    pub(crate) async fn start(conf: &KeepalivedConf) -> Result<Self, String> {
        let routes = NetlinkRoutes::new().map_err(|e| format!("routes: {e}"))?;
        let links = Links::new().map_err(|e| format!("routes: {e}"))?;
        let statics = statics::Statics::new().map_err(|e| format!("static addresses: {e}"))?;
        let mut net = Self {
            routes,
            links,
            statics,
            configured: lines_of(conf),
            masters: HashSet::new(),
            installed: HashMap::new(),
        };
        net.statics.apply(conf, &net.routes, &net.links).await;
        Ok(net)
    }

    /// Follows the driver: a master that installed its addresses gets its routes then its
    /// rules; one leaving master loses its rules then its routes.
    pub(crate) async fn on_event(&mut self, event: &Event) {
        match event {
            Event::StateChanged {
                instance, from, to, ..
            } => {
                if *to == State::Master {
                    self.masters.insert(instance.clone());
                } else if *from == State::Master {
                    self.masters.remove(instance);
                    self.withdraw(instance).await;
                }
            }
            Event::AddressesInstalled { instance, .. } if self.masters.contains(instance) => {
                self.install(instance).await;
            }
            Event::InstanceRemoved { instance } => {
                self.masters.remove(instance);
                self.withdraw(instance).await;
            }
            _ => {}
        }
    }

    /// Installs what `instance` is configured with and does not have yet.
    async fn install(&mut self, instance: &str) {
        let Some(lines) = self.configured.get(instance).cloned() else {
            return;
        };
        let mut routes = Vec::new();
        for spec in &lines.routes {
            if let Some(route) = statics::route_of(spec, &self.links).await {
                routes.push(route);
            }
        }
        let installed = self.installed.entry(instance.to_owned()).or_default();
        for route in routes {
            if installed.routes.contains(&route) {
                continue;
            }
            match self.routes.add_route(&route).await {
                Ok(()) => installed.routes.push(route),
                Err(e) => tracing::warn!("({instance}) {}", chain(&e)),
            }
        }
        for rule in lines.rules.iter().map(convert::rule) {
            if installed.rules.contains(&rule) {
                continue;
            }
            match self.routes.add_rule(&rule).await {
                Ok(()) => installed.rules.push(rule),
                Err(e) => tracing::warn!("({instance}) {}", chain(&e)),
            }
        }
    }

    /// Removes what was installed for `instance`: rules first, then routes.
    async fn withdraw(&mut self, instance: &str) {
        let Some(installed) = self.installed.remove(instance) else {
            return;
        };
        for rule in installed.rules.iter().rev() {
            if let Err(e) = self.routes.remove_rule(rule).await {
                tracing::warn!("({instance}) {}", chain(&e));
            }
        }
        for route in installed.routes.iter().rev() {
            if let Err(e) = self.routes.remove_route(route).await {
                tracing::warn!("({instance}) {}", chain(&e));
            }
        }
    }

    /// Applies a reloaded configuration: the static part becomes `conf`'s (what is gone is
    /// removed), and masters whose routes or rules changed lose the old ones and get the
    /// new ones.
    pub(crate) async fn reload(&mut self, conf: &KeepalivedConf) {
        let configured = lines_of(conf);
        let changed: Vec<String> = self
            .masters
            .iter()
            .filter(|m| self.configured.get(*m) != configured.get(*m))
            .cloned()
            .collect();
        self.configured = configured;
        for instance in changed {
            self.withdraw(&instance).await;
            self.install(&instance).await;
        }
        self.statics.apply(conf, &self.routes, &self.links).await;
    }

    /// At a graceful stop: every instance's routes and rules, then the static rules,
    /// routes and addresses.
    pub(crate) async fn stop(&mut self) {
        let instances: Vec<String> = self.installed.keys().cloned().collect();
        for instance in instances {
            self.withdraw(&instance).await;
        }
        self.statics.clear(&self.routes).await;
    }
}
