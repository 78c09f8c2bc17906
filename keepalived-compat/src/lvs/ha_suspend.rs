//! keepalived's `ha_suspend`: the checkers of a virtual server run only while its address
//! is on a local interface.
//!
//! keepalived 2.2.7 counts, per virtual server, the interfaces that carry its address; the
//! checkers of its real servers are suspended when the count drops to 0 and activated when
//! the address appears. A suspended checker does not probe and its real server keeps its
//! state. Here the local addresses are a set of (interface, address) pairs fed by
//! `vrrp_net::link::address_changes` (so a repeated notification counts once), the count is
//! taken from it, and the real servers' targets are suspended through the scheduler's
//! [`Control`]. The monitor needs vrrp-net (feature `vrrp`); without it every checker runs
//! and the plan warns that `ha_suspend` has no effect.

use std::collections::HashSet;
use std::net::IpAddr;

use healthcheck::{Control, Scheduler, TargetId};

use super::events::Lvs;
use super::plan::{HaSuspend, ServicePlan};

/// The local addresses the suspensions follow, and the rule.
#[derive(Debug, Default)]
pub(crate) struct Suspension {
    /// Whether the local addresses are followed; when not, every checker runs.
    following: bool,
    /// Every (interface index, address) of this host.
    present: HashSet<(u32, IpAddr)>,
}

/// keepalived's "service ... for VS ..." part of a checker's log line.
fn service(rs: &str, vs: &str) -> String {
    format!("healthchecker for service {rs} for VS {vs}")
}

impl Suspension {
    /// Follows `present`, the local addresses read at start (from then on kept up to date by
    /// [`Suspension::address`] / [`Suspension::resync`]).
    #[cfg(any(feature = "vrrp", test))]
    pub(crate) fn following(present: impl IntoIterator<Item = (u32, IpAddr)>) -> Self {
        Suspension {
            following: true,
            present: present.into_iter().collect(),
        }
    }

    /// Whether the addresses are followed.
    #[cfg(feature = "vrrp")]
    pub(crate) fn is_following(&self) -> bool {
        self.following
    }

    /// How many interfaces carry `addr`.
    fn count(&self, addr: IpAddr) -> usize {
        self.present.iter().filter(|(_, a)| *a == addr).count()
    }

    /// Whether the checkers of `plan` run now.
    pub(crate) fn active(&self, plan: &ServicePlan) -> bool {
        if !self.following {
            return true;
        }
        match plan.ha_suspend {
            HaSuspend::Off => true,
            HaSuspend::Address(addr) => self.count(addr) > 0,
            HaSuspend::Group => false,
        }
    }

    /// Every checker's starting line ("Activating" or "Deactivating healthchecker for
    /// service ... for VS ..."), in configuration order; the suspended ones are marked in
    /// `scheduler`, which has not started, so they never probe.
    pub(crate) fn startup(&self, lvs: &Lvs, scheduler: &mut Scheduler) -> Vec<String> {
        let mut lines = Vec::new();
        for (active, id, line) in self.register(lvs) {
            if !active {
                scheduler.suspend(id);
            }
            lines.push(line);
        }
        lines
    }

    /// After a reload: every checker's line as at start (keepalived registers its
    /// checkers again), and each target suspended or resumed to match.
    pub(crate) fn reloaded(&self, lvs: &Lvs, control: &Control) -> Vec<String> {
        let mut lines = Vec::new();
        for (active, id, line) in self.register(lvs) {
            set(control, id, active);
            lines.push(line);
        }
        lines
    }

    /// `(active, target, start line)` of every checker.
    fn register(&self, lvs: &Lvs) -> Vec<(bool, TargetId, String)> {
        let mut out = Vec::new();
        for s in &lvs.services {
            let active = self.active(&s.plan);
            let prefix = if active { "A" } else { "Dea" };
            for (real, id) in s.plan.reals.iter().zip(&s.ids) {
                if let Some(id) = *id {
                    let what = service(&real.label, &s.plan.label);
                    out.push((active, id, format!("{prefix}ctivating {what}")));
                }
            }
        }
        out
    }

    /// Applies one address change: `addr` added to (`present`) or removed from interface
    /// `ifindex`. Returns keepalived's line for each checker that changed.
    #[cfg(any(feature = "vrrp", test))]
    pub(crate) fn address(
        &mut self,
        ifindex: u32,
        addr: IpAddr,
        present: bool,
        lvs: &Lvs,
        control: &Control,
    ) -> Vec<String> {
        if present {
            self.present.insert((ifindex, addr));
        } else {
            self.present.remove(&(ifindex, addr));
        }
        self.apply(lvs, control, |plan| {
            plan.ha_suspend == HaSuspend::Address(addr)
        })
    }

    /// Replaces the local addresses with a fresh dump (after the monitor was reopened).
    /// Returns the line of each checker that changed.
    #[cfg(feature = "vrrp")]
    pub(crate) fn resync(
        &mut self,
        present: impl IntoIterator<Item = (u32, IpAddr)>,
        lvs: &Lvs,
        control: &Control,
    ) -> Vec<String> {
        self.following = true;
        self.present = present.into_iter().collect();
        self.apply(lvs, control, |plan| {
            matches!(plan.ha_suspend, HaSuspend::Address(_))
        })
    }

    /// Stops following the addresses (no virtual server has `ha_suspend` any more).
    #[cfg(feature = "vrrp")]
    pub(crate) fn stop_following(&mut self) {
        self.following = false;
        self.present.clear();
    }

    /// Suspends or resumes the checkers of the services `concerned` selects to match
    /// [`Suspension::active`]; the line of each that changed.
    #[cfg(any(feature = "vrrp", test))]
    fn apply(
        &self,
        lvs: &Lvs,
        control: &Control,
        concerned: impl Fn(&ServicePlan) -> bool,
    ) -> Vec<String> {
        let mut lines = Vec::new();
        for s in lvs.services.iter().filter(|s| concerned(&s.plan)) {
            let active = self.active(&s.plan);
            for (real, id) in s.plan.reals.iter().zip(&s.ids) {
                let Some(id) = *id else { continue };
                if set(control, id, active) {
                    let verb = if active { "Activating" } else { "Suspending" };
                    lines.push(format!("{verb} {}", service(&real.label, &s.plan.label)));
                }
            }
        }
        lines
    }
}

/// Resumes (`active`) or suspends a target; whether that changed it. A target the
/// scheduler no longer knows (the scheduler stopped) changes nothing.
fn set(control: &Control, id: TargetId, active: bool) -> bool {
    let changed = if active {
        control.resume(id)
    } else {
        control.suspend(id)
    };
    changed.unwrap_or(false)
}

/// Following the kernel's address changes (feature `vrrp`).
#[cfg(feature = "vrrp")]
pub(crate) mod monitor {
    use std::net::IpAddr;
    use std::pin::Pin;
    use std::time::Duration;

    use futures::{Stream, StreamExt};
    use vrrp_net::link::{AddressChange, Links, address_changes};

    use crate::daemon::chain;

    /// What the monitor saw.
    #[derive(Debug)]
    pub(crate) enum Update {
        /// One address added to or removed from one interface.
        Change {
            /// The interface index.
            ifindex: u32,
            /// The address.
            addr: IpAddr,
            /// Added (`true`) or removed.
            present: bool,
        },
        /// The monitor was reopened: every local address, afresh.
        Resync(Vec<(u32, IpAddr)>),
    }

    /// The subscription to the kernel's address changes.
    pub(crate) struct Monitor {
        changes: Pin<Box<dyn Stream<Item = AddressChange> + Send>>,
    }

    impl std::fmt::Debug for Monitor {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("Monitor")
        }
    }

    impl Monitor {
        /// Subscribes to the address changes, then reads every local address (in that
        /// order, so that no change falls between the two).
        pub(crate) async fn open() -> Result<(Self, Vec<(u32, IpAddr)>), String> {
            let what = |e: &dyn std::error::Error| {
                format!(
                    "ha_suspend: cannot follow the local addresses: {}",
                    chain(e)
                )
            };
            let changes = address_changes().map_err(|e| what(&e))?;
            let links = Links::new().map_err(|e| what(&e))?;
            let present = links
                .all_addresses()
                .await
                .map_err(|e| what(&e))?
                .into_iter()
                .map(|a| (a.ifindex, a.addr))
                .collect();
            Ok((
                Monitor {
                    changes: Box::pin(changes),
                },
                present,
            ))
        }

        /// The next update. When the kernel's socket fails the stream ends: the monitor
        /// is reopened (every second until it works) and the addresses read afresh.
        pub(crate) async fn next(&mut self) -> Update {
            if let Some(c) = self.changes.next().await {
                return Update::Change {
                    ifindex: c.ifindex,
                    addr: c.addr,
                    present: c.present,
                };
            }
            loop {
                tracing::warn!("ha_suspend: the address monitor stopped; reopening it");
                tokio::time::sleep(Duration::from_secs(1)).await;
                match Monitor::open().await {
                    Ok((fresh, present)) => {
                        *self = fresh;
                        return Update::Resync(present);
                    }
                    Err(e) => tracing::warn!("{e}"),
                }
            }
        }
    }

    /// The next update of `monitor`, or never without one (for `select!`).
    pub(crate) async fn next(monitor: &mut Option<Monitor>) -> Update {
        match monitor {
            Some(m) => m.next().await,
            None => std::future::pending().await,
        }
    }
}

#[cfg(feature = "vrrp")]
pub(crate) use monitor::Update;

/// What the address monitor saw: nothing in a build without it.
#[cfg(not(feature = "vrrp"))]
#[derive(Debug)]
pub(crate) enum Update {}

/// The suspensions and, when some virtual server has `ha_suspend` (and the build has
/// feature `vrrp`), the monitor of the local addresses that drives them.
#[derive(Debug)]
pub(crate) struct AddressWatch {
    suspension: Suspension,
    #[cfg(feature = "vrrp")]
    monitor: Option<monitor::Monitor>,
}

impl AddressWatch {
    /// Starts following the local addresses if one of `plans` has `ha_suspend`.
    pub(crate) async fn start(plans: &[ServicePlan]) -> Result<Self, String> {
        let mut watch = AddressWatch {
            suspension: Suspension::default(),
            #[cfg(feature = "vrrp")]
            monitor: None,
        };
        watch.reload(plans).await?;
        Ok(watch)
    }

    /// Before a reload to `plans`: opens the monitor if they need it and it is not open,
    /// closes it if they do not. An error changes nothing.
    pub(crate) async fn reload(&mut self, plans: &[ServicePlan]) -> Result<(), String> {
        let _needed = plans.iter().any(|p| p.ha_suspend != HaSuspend::Off);
        #[cfg(feature = "vrrp")]
        if !_needed {
            self.monitor = None;
            self.suspension.stop_following();
        } else if self.monitor.is_none() || !self.suspension.is_following() {
            let (monitor, present) = monitor::Monitor::open().await?;
            self.monitor = Some(monitor);
            self.suspension = Suspension::following(present);
        }
        Ok(())
    }

    /// See [`Suspension::active`].
    pub(crate) fn active(&self, plan: &ServicePlan) -> bool {
        self.suspension.active(plan)
    }

    /// See [`Suspension::startup`].
    pub(crate) fn startup(&self, lvs: &Lvs, scheduler: &mut Scheduler) -> Vec<String> {
        self.suspension.startup(lvs, scheduler)
    }

    /// See [`Suspension::reloaded`].
    pub(crate) fn reloaded(&self, lvs: &Lvs, control: &Control) -> Vec<String> {
        self.suspension.reloaded(lvs, control)
    }

    /// The next address update; never without a monitor. Cancel-safe.
    pub(crate) async fn next(&mut self) -> Update {
        #[cfg(feature = "vrrp")]
        return monitor::next(&mut self.monitor).await;
        #[cfg(not(feature = "vrrp"))]
        std::future::pending().await
    }

    /// Applies an update; the log line of each checker activated or suspended.
    pub(crate) fn apply(&mut self, update: Update, lvs: &Lvs, control: &Control) -> Vec<String> {
        #[cfg(not(feature = "vrrp"))]
        let _ = (lvs, control);
        match update {
            #[cfg(feature = "vrrp")]
            Update::Change {
                ifindex,
                addr,
                present,
            } => self
                .suspension
                .address(ifindex, addr, present, lvs, control),
            #[cfg(feature = "vrrp")]
            Update::Resync(present) => self.suspension.resync(present, lvs, control),
        }
    }
}
