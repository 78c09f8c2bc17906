//! `lvs_sync_daemon`: the kernel's IPVS connection sync daemons, as keepalived 2.2.7 runs
//! them. Tied to a VRRP instance, the backup daemon runs from the start and the master
//! daemon replaces it while the instance is MASTER (`vrrp.c`: `ipvs_syncd_master` /
//! `ipvs_syncd_backup`), the sync id defaulting to the instance's VRID; without an instance
//! both run all the time with sync id 0 (`check_daemon.c`). Whatever a crashed run left is
//! stopped first; both are stopped when the daemon stops. The daemons themselves are
//! `ipvs_sys::sync_daemons`, which lvs-director uses too.
//!
//! Without the `ipvs` feature, or with `--no-ipvs`, there is no kernel table to sync and the
//! keyword is reported instead.

use keepalived_conf::KeepalivedConf;
#[cfg(feature = "ipvs")]
use keepalived_conf::LvsSyncDaemon;
#[cfg(feature = "vrrp")]
use vrrp_net::driver::Event;

use crate::cli::Options;

/// The running sync daemons, if `lvs_sync_daemon` asked for some.
#[derive(Debug, Default)]
pub(crate) struct Syncd {
    #[cfg(feature = "ipvs")]
    running: Option<Running>,
}

#[cfg(feature = "ipvs")]
#[derive(Debug)]
struct Running {
    daemons: ipvs_sys::sync_daemons::SyncDaemons,
    spec: LvsSyncDaemon,
    /// Whether the followed instance is MASTER now.
    master: bool,
}

impl Syncd {
    /// Starts the daemons `conf` asks for (the backup one when they follow an instance, which
    /// starts out of MASTER). A failure is logged and leaves none running: VRRP and the
    /// checkers go on, as keepalived's do.
    pub(crate) async fn start(options: &Options, conf: &KeepalivedConf) -> Syncd {
        let Some(spec) = &conf.global.lvs_sync_daemon else {
            return Syncd::default();
        };
        #[cfg(feature = "ipvs")]
        if !options.no_ipvs {
            return Syncd {
                running: Running::start(spec, conf, false).await,
            };
        }
        let _ = options;
        tracing::warn!(
            "{}: lvs_sync_daemon: no IPVS table here (--no-ipvs, or built without the ipvs \
             feature): no connection sync",
            spec.loc
        );
        Syncd::default()
    }

    /// Follows a VRRP event: the followed instance entering or leaving MASTER swaps the
    /// daemons.
    #[cfg(feature = "vrrp")]
    pub(crate) async fn on_event(&mut self, event: &Event) {
        #[cfg(feature = "ipvs")]
        if let (Some(running), Event::StateChanged { instance, to, .. }) =
            (self.running.as_mut(), event)
            && running.spec.instance.as_deref() == Some(instance.as_str())
        {
            running.master = *to == vrrp_core::State::Master;
            running.follow().await;
        }
        let _ = event;
    }

    /// Takes a reloaded `conf`: unchanged settings keep the running daemons; changed ones
    /// stop them and start the new ones (in the followed instance's current state).
    pub(crate) async fn reload(&mut self, options: &Options, conf: &KeepalivedConf) {
        #[cfg(feature = "ipvs")]
        {
            let unchanged = match (&self.running, &conf.global.lvs_sync_daemon) {
                (Some(r), Some(spec)) => same(&r.spec, spec),
                (None, None) => true,
                _ => false,
            };
            if unchanged {
                return;
            }
            let master = self.running.as_ref().is_some_and(|r| r.master);
            self.stop().await;
            if let Some(spec) = &conf.global.lvs_sync_daemon
                && !options.no_ipvs
            {
                self.running = Running::start(spec, conf, master).await;
            }
        }
        let _ = (options, conf);
    }

    /// Stops the daemons.
    pub(crate) async fn stop(&mut self) {
        #[cfg(feature = "ipvs")]
        if let Some(mut running) = self.running.take()
            && let Err(e) = running.daemons.stop().await
        {
            tracing::error!("lvs_sync_daemon: {}", crate::daemon::chain(&e));
        }
    }
}

/// The same daemons (the location aside).
#[cfg(feature = "ipvs")]
fn same(a: &LvsSyncDaemon, b: &LvsSyncDaemon) -> bool {
    let key = |d: &LvsSyncDaemon| {
        (
            d.interface.clone(),
            d.instance.clone(),
            d.sync_id,
            d.max_len,
            d.port,
            d.ttl,
            d.group,
        )
    };
    key(a) == key(b)
}

#[cfg(feature = "ipvs")]
impl Running {
    async fn start(spec: &LvsSyncDaemon, conf: &KeepalivedConf, master: bool) -> Option<Running> {
        use ipvs_sys::sync_daemons::{Roles, SyncConfig, SyncDaemons};
        let vrid = spec
            .instance
            .as_ref()
            .and_then(|name| conf.instances.iter().find(|i| &i.name == name))
            .map(|i| i.vrid);
        let sync_id = spec.sync_id.or(vrid).unwrap_or(0);
        let config = SyncConfig::new(spec.interface.clone(), sync_id)
            .max_len(spec.max_len)
            .group(spec.group)
            .port(spec.port)
            .ttl(spec.ttl);
        let roles = match spec.instance {
            Some(_) => Roles::following(master),
            None => Roles::BOTH,
        };
        let ipvs = match ipvs_sys::IpvsHandle::new().await {
            Ok(h) => h,
            Err(e) => {
                tracing::error!("lvs_sync_daemon: ipvs: {e}");
                return None;
            }
        };
        match SyncDaemons::start(ipvs, config, roles).await {
            Ok(daemons) => {
                tracing::info!(
                    "lvs_sync_daemon: {roles} sync daemon on {} (syncid {sync_id})",
                    spec.interface
                );
                Some(Running {
                    daemons,
                    spec: spec.clone(),
                    master,
                })
            }
            Err(e) => {
                tracing::error!("lvs_sync_daemon: {}", crate::daemon::chain(&e));
                None
            }
        }
    }

    /// Makes the daemons those of the instance's state; a failure is logged (the next
    /// transition tries again).
    #[cfg(feature = "vrrp")]
    async fn follow(&mut self) {
        let roles = ipvs_sys::sync_daemons::Roles::following(self.master);
        match self.daemons.set_roles(roles).await {
            Ok(true) => tracing::info!("lvs_sync_daemon: now {roles}"),
            Ok(false) => {}
            Err(e) => tracing::error!("lvs_sync_daemon: {}", crate::daemon::chain(&e)),
        }
    }
}
