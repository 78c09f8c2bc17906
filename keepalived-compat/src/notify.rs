//! keepalived's notifications: `notify_master/backup/fault/stop` scripts, the generic `notify`
//! script (TYPE NAME STATE PRIORITY), and FIFO lines `INSTANCE "VI_1" MASTER 100`, in event
//! order, for instances and sync groups.

#[cfg(feature = "vrrp")]
use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use healthcheck::process::{Exit, Program, RunAs};
#[cfg(feature = "vrrp")]
use std::io;
use tokio::task::JoinSet;

#[cfg(feature = "vrrp")]
use crate::fifo::Fifo;

#[cfg(feature = "vrrp")]
use keepalived_conf::{KeepalivedConf, Notify};
#[cfg(feature = "vrrp")]
use vrrp_core::{Reason, State};
#[cfg(feature = "vrrp")]
use vrrp_net::driver::Event;

/// The state names keepalived uses in notifications.
#[cfg(feature = "vrrp")]
fn state_name(to: State, reason: Reason) -> Option<&'static str> {
    match (to, reason) {
        (State::Master, _) => Some("MASTER"),
        (State::Backup, _) => Some("BACKUP"),
        (State::Fault, _) => Some("FAULT"),
        (State::Initialize, Reason::Shutdown) => Some("STOP"),
        (State::Initialize, _) => None,
    }
}

#[cfg(feature = "vrrp")]
struct GroupWatch {
    name: String,
    members: Vec<String>,
    notify: Notify,
    state: Option<&'static str>,
}

/// Turns driver events into keepalived's notifications.
#[cfg(feature = "vrrp")]
pub(crate) struct Notifier {
    instances: HashMap<String, Notify>,
    member_states: HashMap<String, &'static str>,
    groups: Vec<GroupWatch>,
    fifos: Vec<Fifo>,
    /// Instances held in FAULT by weight-0 scripts that have not reported yet; cleared by
    /// the instance's first event.
    held: HashSet<String>,
}

/// Opens the VRRP part's FIFOs of `conf`: the global one and `vrrp_notify_fifo`.
#[cfg(feature = "vrrp")]
fn open_fifos(conf: &KeepalivedConf) -> io::Result<Vec<Fifo>> {
    [&conf.global.notify_fifo, &conf.global.vrrp_notify_fifo]
        .into_iter()
        .flatten()
        .map(Fifo::open)
        .collect()
}

#[cfg(feature = "vrrp")]
impl Notifier {
    /// Reads the notification settings of `conf` and opens its FIFOs (inside a tokio runtime).
    pub(crate) fn new(conf: &KeepalivedConf) -> io::Result<Self> {
        Ok(Self::with_fifos(conf, open_fifos(conf)?))
    }

    /// Takes the notification settings of a reloaded `conf`: FIFOs that stay keep their open
    /// descriptor, queue and reader script (a reader sees no gap), new ones are opened,
    /// dropped ones closed; sync groups that stay keep their last notified state. On error
    /// nothing changed.
    pub(crate) fn reload(&mut self, conf: &KeepalivedConf) -> io::Result<()> {
        // Opening a path that is open already shares it (see `Fifo::open`), so the FIFOs
        // that stay are the same ones; the old handles go when `self` is replaced.
        let kept = open_fifos(conf)?;
        let mut next = Self::with_fifos(conf, kept);
        for group in &mut next.groups {
            if let Some(old) = self.groups.iter().find(|g| g.name == group.name) {
                group.state = old.state;
            }
        }
        next.member_states = std::mem::take(&mut self.member_states);
        *self = next;
        Ok(())
    }

    fn with_fifos(conf: &KeepalivedConf, fifos: Vec<Fifo>) -> Self {
        Self {
            instances: conf
                .instances
                .iter()
                .map(|i| (i.name.clone(), i.notify.clone()))
                .collect(),
            member_states: HashMap::new(),
            groups: conf
                .sync_groups
                .iter()
                .map(|g| GroupWatch {
                    name: g.name.clone(),
                    members: g.members.clone(),
                    notify: g.notify.clone(),
                    state: None,
                })
                .collect(),
            fifos,
            held: conf
                .instances
                .iter()
                .filter(|i| crate::scripts::held_unreported(conf, i))
                .map(|i| i.name.clone())
                .collect(),
        }
    }

    /// Lets go of the FIFOs (closed, and unlinked if this daemon made them, once no other
    /// part writes to them), so their reader scripts see the end of their input.
    pub(crate) fn close_fifos(&mut self) {
        self.fifos.clear();
    }

    /// Each FIFO that dropped lines, with how many.
    pub(crate) fn drops(&self) -> Vec<(String, u64)> {
        self.fifos
            .iter()
            .filter(|f| f.dropped() > 0)
            .map(|f| (f.path().display().to_string(), f.dropped()))
            .collect()
    }

    /// Handles one event: FIFO line(s) first, then the scripts, for the instance and then for
    /// its sync group if the group's state changed.
    pub(crate) fn on_event(&mut self, event: &Event) {
        let Event::StateChanged {
            instance,
            from,
            to,
            reason,
            priority,
        } = event
        else {
            return;
        };
        // Held until its weight-0 scripts report (keepalived's init state): not a fault to
        // notify, as keepalived 2.2.7 does not notify it.
        if self.held.remove(instance) && *from == State::Initialize && *to == State::Fault {
            return;
        }
        let Some(state) = state_name(*to, *reason) else {
            return;
        };
        self.instance_state(instance, state, priority.get());
    }

    /// `instance` is in FAULT without having run: its interface (or address) is missing.
    pub(crate) fn fault(&mut self, instance: &str, priority: u8) {
        self.instance_state(instance, "FAULT", priority);
    }

    /// Notifies `instance`'s new `state`, then its sync group's if that changed.
    fn instance_state(&mut self, instance: &str, state: &'static str, priority: u8) {
        let instance = &instance.to_owned();
        self.notify("INSTANCE", instance, state, priority);
        self.member_states.insert(instance.clone(), state);
        let mut changed = Vec::new();
        for g in &mut self.groups {
            if !g.members.contains(instance) {
                continue;
            }
            let states: Vec<Option<&&str>> = g
                .members
                .iter()
                .map(|m| self.member_states.get(m))
                .collect();
            let group_state = if states.iter().any(|s| s == &Some(&"FAULT")) {
                "FAULT"
            } else if states.iter().all(|s| s == &Some(&"MASTER")) {
                "MASTER"
            } else if states.iter().all(|s| s == &Some(&"STOP")) {
                "STOP"
            } else {
                "BACKUP"
            };
            if g.state != Some(group_state) {
                g.state = Some(group_state);
                changed.push((g.name.clone(), g.notify.clone(), group_state));
            }
        }
        for (name, notify, state) in changed {
            self.write_fifos("GROUP", &name, state, 0);
            run_scripts(&notify, "GROUP", &name, state, 0);
        }
    }

    fn notify(&mut self, kind: &str, name: &str, state: &str, priority: u8) {
        self.write_fifos(kind, name, state, priority);
        if let Some(notify) = self.instances.get(name) {
            run_scripts(notify, kind, name, state, priority);
        }
    }

    fn write_fifos(&mut self, kind: &str, name: &str, state: &str, priority: u8) {
        let line = format!("{kind} \"{name}\" {state} {priority}\n");
        for fifo in &self.fifos {
            fifo.send(line.clone());
        }
    }
}

#[cfg(feature = "vrrp")]
fn run_scripts(notify: &Notify, kind: &str, name: &str, state: &str, priority: u8) {
    let specific = match state {
        "MASTER" => ("notify_master", &notify.master),
        "BACKUP" => ("notify_backup", &notify.backup),
        "FAULT" => ("notify_fault", &notify.fault),
        "STOP" => ("notify_stop", &notify.stop),
        _ => ("", &None),
    };
    if let (keyword, Some(argv)) = specific {
        let user = crate::security::run_as(notify.users.get(keyword));
        run(argv, &[], user);
    }
    if let Some(argv) = &notify.any {
        let user = crate::security::run_as(notify.users.get("notify"));
        run(argv, &[kind, name, state, &priority.to_string()], user);
    }
}

/// How long a notify script may run before its process group is killed. keepalived 2.2.7
/// sets none (its notify scripts only die with it, by `PR_SET_PDEATHSIG`); a deadline keeps
/// a hung script from living forever.
pub(crate) const NOTIFY_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a stopping daemon waits for notify scripts still running (`notify_stop`
/// among them) before killing their process groups.
pub(crate) const STOP_GRACE: Duration = Duration::from_secs(2);

/// The notify scripts still running, so a stopping daemon can wait for them.
static RUNNING: Mutex<Option<JoinSet<()>>> = Mutex::new(None);

/// Runs an LVS notify script (`notify_up`, `notify_down`, `quorum_up`, `quorum_down`) as
/// its user, else the default script user.
#[cfg(feature = "health")]
pub(super) fn spawn(script: &keepalived_conf::ScriptCommand) {
    run(
        &script.command,
        &[],
        crate::security::run_as(script.user.as_ref()),
    );
}

/// Starts a notify FIFO's reader (`notify_fifo_script`, its FIFO's path last in `argv`) as
/// `user`: no deadline, as keepalived runs it; it ends when it sees the FIFO close, or with
/// the daemon ([`finish`] kills its group after the grace).
pub(crate) fn spawn_reader(argv: &[String], user: Option<RunAs>) {
    start(argv, &[], user, None);
}

/// Runs `argv` + `extra` as `user` in the background: no shell, its own process group,
/// killed with its group after [`NOTIFY_TIMEOUT`], always reaped. keepalived does not wait
/// for notify scripts, and neither does the caller.
fn run(argv: &[String], extra: &[&str], user: Option<RunAs>) {
    start(argv, extra, user, Some(NOTIFY_TIMEOUT));
}

/// [`run`] with a deadline of `timeout` from now (`None`: until it exits or the daemon
/// stops).
fn start(argv: &[String], extra: &[&str], user: Option<RunAs>, timeout: Option<Duration>) {
    let Some((program, args)) = argv.split_first() else {
        return;
    };
    let Some(user) = user else {
        tracing::warn!("{program}: no user to run it as, not run");
        return;
    };
    let program = Program::new(
        program,
        args.iter().map(String::as_str).chain(extra.iter().copied()),
    )
    .run_as(user);
    let mut running = RUNNING.lock().unwrap_or_else(PoisonError::into_inner);
    let set = running.get_or_insert_with(JoinSet::new);
    // Reap the finished ones so the set does not grow.
    while set.try_join_next().is_some() {}
    // "Never" is a deadline far enough away not to overflow the clock.
    let limit = timeout.unwrap_or(Duration::from_secs(100 * 365 * 86_400));
    set.spawn(async move {
        let run = program.run(tokio::time::Instant::now() + limit).await;
        let path = program.program().display();
        match run.exit {
            Exit::Status(_) if timeout.is_none() => {
                tracing::info!("{path}: notify fifo script terminated")
            }
            Exit::Status(_) => {}
            Exit::TimedOut => tracing::warn!(
                "{path}: still running after {}s, killed",
                NOTIFY_TIMEOUT.as_secs()
            ),
            Exit::Spawn(e) | Exit::Wait(e) => {
                tracing::warn!("cannot run {path}: {e}")
            }
            _ => {}
        }
    });
}

/// Waits up to `grace` for the notify scripts still running, then kills their process
/// groups (and reaps them).
pub(crate) async fn finish(grace: Duration) {
    let taken = RUNNING
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    let Some(mut set) = taken else {
        return;
    };
    let all = async { while set.join_next().await.is_some() {} };
    if tokio::time::timeout(grace, all).await.is_err() {
        // Dropping a run kills its group; wait for the aborted tasks to be dropped.
        set.abort_all();
        while set.join_next().await.is_some() {}
    }
}
