//! keepalived's notifications: `notify_master/backup/fault/stop` scripts, the generic `notify`
//! script (TYPE NAME STATE PRIORITY), and FIFO lines `INSTANCE "VI_1" MASTER 100`, in event
//! order, for instances and sync groups.

#[cfg(feature = "vrrp")]
use std::collections::HashMap;
#[cfg(feature = "vrrp")]
use std::io;

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
}

#[cfg(feature = "vrrp")]
impl Notifier {
    /// Reads the notification settings of `conf` and opens its FIFOs (inside a tokio runtime).
    pub(crate) fn new(conf: &KeepalivedConf) -> io::Result<Self> {
        let mut fifos = Vec::new();
        for path in [&conf.global.notify_fifo, &conf.global.vrrp_notify_fifo]
            .into_iter()
            .flatten()
        {
            fifos.push(Fifo::open(path)?);
        }
        Ok(Self::with_fifos(conf, fifos))
    }

    /// Takes the notification settings of a reloaded `conf`: FIFOs that stay keep their open
    /// descriptor and queue (a reader sees no gap), new ones are opened, dropped ones closed;
    /// sync groups that stay keep their last notified state. On error nothing changed.
    pub(crate) fn reload(&mut self, conf: &KeepalivedConf) -> io::Result<()> {
        let mut fifos = Vec::new();
        for path in [&conf.global.notify_fifo, &conf.global.vrrp_notify_fifo]
            .into_iter()
            .flatten()
        {
            match self.fifos.iter().position(|f| f.path() == path.as_path()) {
                Some(_) => {}
                None => fifos.push(Fifo::open(path)?),
            }
        }
        let mut kept: Vec<Fifo> = std::mem::take(&mut self.fifos)
            .into_iter()
            .filter(|f| {
                [&conf.global.notify_fifo, &conf.global.vrrp_notify_fifo]
                    .into_iter()
                    .flatten()
                    .any(|p| p.as_path() == f.path())
            })
            .collect();
        kept.extend(fifos);
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
        }
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
            to,
            reason,
            priority,
            ..
        } = event
        else {
            return;
        };
        let Some(state) = state_name(*to, *reason) else {
            return;
        };
        self.notify("INSTANCE", instance, state, priority.get());
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
        "MASTER" => &notify.master,
        "BACKUP" => &notify.backup,
        "FAULT" => &notify.fault,
        "STOP" => &notify.stop,
        _ => &None,
    };
    if let Some(argv) = specific {
        spawn(argv, &[]);
    }
    if let Some(argv) = &notify.any {
        spawn(argv, &[kind, name, state, &priority.to_string()]);
    }
}

pub(super) fn spawn(argv: &[String], extra: &[&str]) {
    let Some((program, args)) = argv.split_first() else {
        return;
    };
    // keepalived does not wait for notify scripts; tokio reaps the child in the background.
    match tokio::process::Command::new(program)
        .args(args)
        .args(extra)
        .spawn()
    {
        Ok(_child) => {}
        Err(e) => eprintln!("keepalived-compat: cannot run {program}: {e}"),
    }
}
