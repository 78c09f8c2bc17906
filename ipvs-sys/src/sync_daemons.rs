//! IPVS connection synchronisation for a director: which kernel sync daemons run, and when.
//!
//! A sync daemon is a pair of kernel threads per network namespace: the *master* multicasts
//! the state of the connections this director schedules, the *backup* creates the
//! connections other directors announce, so that a flow whose packets move to this
//! director keeps its real server (and its established TCP state) instead of being refused.
//!
//! - **VRRP** (one active director, keepalived's `lvs_sync_daemon IF INSTANCE`): the daemon
//!   follows the instance, [`Roles::following`]: master daemon in MASTER state, backup
//!   daemon otherwise. keepalived 2.2.7 starts the backup daemon with the instance, swaps to
//!   the master daemon on becoming master (stopping the backup first), back on leaving
//!   master, and stops the running one at shutdown; the sync id defaults to the VRID.
//! - **Anycast** (every director active): [`Roles::BOTH`], all the time: each director
//!   sends its own connections and learns everyone else's, on the same sync id (keepalived's
//!   `lvs_sync_daemon` without an instance does the same).
//!
//! The daemons are kernel threads and outlive a crashed director: [`SyncDaemons::start`]
//! stops whatever it finds first, as keepalived's checker process does at start.

use std::fmt;
use std::net::IpAddr;

use crate::{DaemonState, Error, IpvsHandle, SyncDaemon};

/// The sync daemons' settings: keepalived's `lvs_sync_daemon` (`id`, `maxlen`, `port`, `ttl`,
/// `group`), ipvsadm's `--start-daemon` options. Unset values take the kernel's defaults
/// (group 224.0.0.81, port 8848, TTL 1, the interface's MTU).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncConfig {
    /// Interface the sync messages leave and arrive on (ipvsadm's `--mcast-interface`).
    pub interface: String,
    /// Sync id: a backup takes only messages with its own id (or any, with id 0).
    pub sync_id: u8,
    /// Largest sync message payload (`--sync-maxlen`).
    pub max_len: Option<u16>,
    /// Multicast group (`--mcast-group`), IPv4 or IPv6.
    pub group: Option<IpAddr>,
    /// UDP port (`--mcast-port`).
    pub port: Option<u16>,
    /// Multicast TTL (`--mcast-ttl`).
    pub ttl: Option<u8>,
}

impl SyncConfig {
    /// Daemons on `interface` with `sync_id` and the kernel's defaults for the rest.
    pub fn new(interface: impl Into<String>, sync_id: u8) -> Self {
        SyncConfig {
            interface: interface.into(),
            sync_id,
            max_len: None,
            group: None,
            port: None,
            ttl: None,
        }
    }

    /// Sets the largest message payload.
    pub fn max_len(mut self, max_len: Option<u16>) -> Self {
        self.max_len = max_len;
        self
    }

    /// Sets the multicast group.
    pub fn group(mut self, group: Option<IpAddr>) -> Self {
        self.group = group;
        self
    }

    /// Sets the UDP port.
    pub fn port(mut self, port: Option<u16>) -> Self {
        self.port = port;
        self
    }

    /// Sets the multicast TTL.
    pub fn ttl(mut self, ttl: Option<u8>) -> Self {
        self.ttl = ttl;
        self
    }

    /// The daemon of `state` as ipvs-sys starts it.
    pub fn daemon(&self, state: DaemonState) -> SyncDaemon {
        let mut daemon = SyncDaemon::new(state, self.interface.clone(), u32::from(self.sync_id));
        daemon.max_len = self.max_len.unwrap_or(0);
        daemon.group = self.group;
        daemon.port = self.port.unwrap_or(0);
        daemon.ttl = self.ttl.unwrap_or(0);
        daemon
    }
}

/// Which sync daemons run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Roles {
    /// The master daemon (sends this director's connections).
    pub master: bool,
    /// The backup daemon (learns the other directors' connections).
    pub backup: bool,
}

impl Roles {
    /// No daemon.
    pub const NONE: Roles = Roles {
        master: false,
        backup: false,
    };
    /// The master daemon only.
    pub const MASTER: Roles = Roles {
        master: true,
        backup: false,
    };
    /// The backup daemon only.
    pub const BACKUP: Roles = Roles {
        master: false,
        backup: true,
    };
    /// Both: an active-active (anycast) director.
    pub const BOTH: Roles = Roles {
        master: true,
        backup: true,
    };

    /// keepalived's rule for a sync daemon tied to a VRRP instance: the master daemon while
    /// the instance is MASTER (`master`), the backup daemon in every other state (including
    /// INIT and FAULT).
    pub fn following(master: bool) -> Roles {
        if master { Roles::MASTER } else { Roles::BACKUP }
    }

    fn has(self, state: DaemonState) -> bool {
        match state {
            DaemonState::Master => self.master,
            DaemonState::Backup => self.backup,
        }
    }

    fn with(self, state: DaemonState, on: bool) -> Roles {
        match state {
            DaemonState::Master => Roles { master: on, ..self },
            DaemonState::Backup => Roles { backup: on, ..self },
        }
    }
}

/// `master+backup`, `master`, `backup` or `none`.
impl fmt::Display for Roles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match (self.master, self.backup) {
            (true, true) => "master+backup",
            (true, false) => "master",
            (false, true) => "backup",
            (false, false) => "none",
        })
    }
}

/// One daemon command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Stop the daemon of this state.
    Stop(DaemonState),
    /// Start the daemon of this state.
    Start(DaemonState),
}

/// The commands that take the running daemons `from` to `to`: the stops first, then the
/// starts (keepalived's order: a director becoming master stops its backup daemon, then
/// starts the master one), each list master before backup.
pub fn plan(from: Roles, to: Roles) -> Vec<Step> {
    let states = [DaemonState::Master, DaemonState::Backup];
    let stops = states
        .into_iter()
        .filter(|&s| from.has(s) && !to.has(s))
        .map(Step::Stop);
    let starts = states
        .into_iter()
        .filter(|&s| !from.has(s) && to.has(s))
        .map(Step::Start);
    stops.chain(starts).collect()
}

/// Why a sync daemon could not be started or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// The kernel refused to start a daemon.
    #[error("cannot start the {state} sync daemon on {interface} (syncid {sync_id})")]
    Start {
        /// Which daemon.
        state: DaemonState,
        /// Its interface.
        interface: String,
        /// Its sync id.
        sync_id: u8,
        /// The kernel's answer.
        #[source]
        source: Error,
    },
    /// The kernel refused to stop a daemon.
    #[error("cannot stop the {state} sync daemon")]
    Stop {
        /// Which daemon.
        state: DaemonState,
        /// The kernel's answer.
        #[source]
        source: Error,
    },
    /// The settings are invalid (an interface name too long for the kernel).
    #[error("bad sync daemon settings")]
    Invalid(#[source] Error),
}

/// The sync daemons of this director's network namespace, driven through ipvs-sys.
#[derive(Debug)]
pub struct SyncDaemons {
    ipvs: IpvsHandle,
    config: SyncConfig,
    running: Roles,
}

impl SyncDaemons {
    /// Stops any daemon already running in the namespace (a crashed director leaves its
    /// kernel threads behind), then starts `roles`.
    pub async fn start(
        ipvs: IpvsHandle,
        config: SyncConfig,
        roles: Roles,
    ) -> Result<SyncDaemons, SyncError> {
        config
            .daemon(DaemonState::Master)
            .validate()
            .map_err(SyncError::Invalid)?;
        let mut daemons = SyncDaemons {
            ipvs,
            config,
            // What may be running: stopping an absent daemon is not an error.
            running: Roles::BOTH,
        };
        daemons.set_roles(Roles::NONE).await?;
        daemons.set_roles(roles).await?;
        Ok(daemons)
    }

    /// The daemons running now.
    pub fn roles(&self) -> Roles {
        self.running
    }

    /// The settings.
    pub fn config(&self) -> &SyncConfig {
        &self.config
    }

    /// Makes `roles` the running daemons (see [`plan`]); returns whether anything changed.
    /// On an error the daemons done so far stay as they are, and [`SyncDaemons::roles`]
    /// tells which run.
    pub async fn set_roles(&mut self, roles: Roles) -> Result<bool, SyncError> {
        let steps = plan(self.running, roles);
        for &step in &steps {
            match step {
                Step::Stop(state) => match self.ipvs.stop_daemon(state).await {
                    Ok(()) | Err(Error::NoSuchDaemon(_)) => {}
                    Err(source) => return Err(SyncError::Stop { state, source }),
                },
                Step::Start(state) => {
                    self.ipvs
                        .start_daemon(&self.config.daemon(state))
                        .await
                        .map_err(|source| SyncError::Start {
                            state,
                            interface: self.config.interface.clone(),
                            sync_id: self.config.sync_id,
                            source,
                        })?;
                }
            }
            self.running = match step {
                Step::Stop(state) => self.running.with(state, false),
                Step::Start(state) => self.running.with(state, true),
            };
        }
        Ok(!steps.is_empty())
    }

    /// Stops every daemon this director runs.
    pub async fn stop(&mut self) -> Result<(), SyncError> {
        self.set_roles(Roles::NONE).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DaemonState::{Backup, Master};

    #[test]
    fn vrrp_master_runs_the_master_daemon_every_other_state_the_backup() {
        assert_eq!(Roles::following(true), Roles::MASTER);
        assert_eq!(Roles::following(false), Roles::BACKUP);
    }

    /// keepalived's `ipvs_syncd_master` / `ipvs_syncd_backup`: stop the other one first.
    #[test]
    fn a_vrrp_transition_stops_the_old_daemon_before_starting_the_new_one() {
        assert_eq!(
            plan(Roles::BACKUP, Roles::MASTER),
            [Step::Stop(Backup), Step::Start(Master)]
        );
        assert_eq!(
            plan(Roles::MASTER, Roles::BACKUP),
            [Step::Stop(Master), Step::Start(Backup)]
        );
    }

    #[test]
    fn anycast_starts_and_stops_both_and_no_change_sends_nothing() {
        assert_eq!(
            plan(Roles::NONE, Roles::BOTH),
            [Step::Start(Master), Step::Start(Backup)]
        );
        assert_eq!(
            plan(Roles::BOTH, Roles::NONE),
            [Step::Stop(Master), Step::Stop(Backup)]
        );
        assert_eq!(plan(Roles::BOTH, Roles::MASTER), [Step::Stop(Backup)]);
        for roles in [Roles::NONE, Roles::MASTER, Roles::BACKUP, Roles::BOTH] {
            assert!(plan(roles, roles).is_empty(), "{roles}");
        }
    }

    #[test]
    fn unset_settings_are_the_kernels_defaults() {
        let config = SyncConfig::new("eth1", 7);
        let daemon = config.daemon(Master);
        assert_eq!(daemon, SyncDaemon::new(Master, "eth1", 7));

        let config = config
            .max_len(Some(1400))
            // MCAST-TEST-NET (RFC 5771)
            .group(Some(IpAddr::from([233, 252, 0, 1])))
            .port(Some(8850))
            .ttl(Some(2));
        let daemon = config.daemon(Backup);
        assert_eq!(daemon.state, Backup);
        assert_eq!(
            (daemon.max_len, daemon.port, daemon.ttl),
            (1400, 8850, 2),
            "{daemon:?}"
        );
        assert_eq!(daemon.group, Some(IpAddr::from([233, 252, 0, 1])));
    }

    #[test]
    fn roles_read_like_ipvsadm_states() {
        let shown: Vec<String> = [Roles::BOTH, Roles::MASTER, Roles::BACKUP, Roles::NONE]
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(shown, ["master+backup", "master", "backup", "none"]);
    }
}
