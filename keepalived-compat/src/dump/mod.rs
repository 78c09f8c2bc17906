//! keepalived 2.2.7's VRRP dumps: SIGUSR1 writes `keepalived.data`, SIGUSR2 (and
//! SIGSTATS_CLEAR) `keepalived.stats`, SIGJSON `keepalived.json`, in keepalived's temporary
//! directory ([`dump_dir`]).
//!
//! The static part comes from the configuration as the daemon mapped it (the core
//! `RouterConfig`, after `vrrp_strict`'s adjustments), the live part from the running driver
//! ([`Handle::status`]) and from the events the daemon saw (the time of the last transition,
//! masterships released). Each file is written to a fresh temporary name and renamed over
//! the old one, as keepalived's `fopen_safe` does, so a reader never sees half a dump.

mod counters;
mod json;
mod text;

use std::collections::HashMap;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use keepalived_conf::{GlobalDefs, KeepalivedConf, VrrpInstance, VrrpScript};
use vrrp_core::{RouterConfig, State};
use vrrp_net::driver::{Event, Handle, InstanceStatus};

pub(crate) use counters::Counters;

/// Which dump a signal asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// SIGUSR1: `keepalived.data`.
    Data,
    /// SIGUSR2 / SIGSTATS_CLEAR: `keepalived.stats`, then the counters zeroed if `clear`.
    Stats {
        /// SIGSTATS_CLEAR.
        clear: bool,
    },
    /// SIGJSON: `keepalived.json`.
    Json,
}

impl Kind {
    /// The file name keepalived 2.2.7 uses.
    fn file_name(self) -> &'static str {
        match self {
            Kind::Data => "keepalived.data",
            Kind::Stats { .. } => "keepalived.stats",
            Kind::Json => "keepalived.json",
        }
    }
}

/// keepalived's directory for dumps: `$TMPDIR` when it is an absolute path, else `/tmp`
/// (keepalived's `set_tmp_dir`, with the default `--with-tmp-dir`).
pub(crate) fn dump_dir() -> PathBuf {
    match std::env::var_os("TMPDIR") {
        Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
        _ => PathBuf::from("/tmp"),
    }
}

/// One instance as configured: what the dumps report that does not change while it runs.
pub(crate) struct Configured {
    /// The `vrrp_instance` block.
    pub(crate) conf: VrrpInstance,
    /// Its core configuration, as the driver runs it.
    pub(crate) config: RouterConfig,
    /// The virtual MAC interface (`use_vmac`), if any.
    pub(crate) vmac: Option<String>,
    /// The sync group it belongs to, if any.
    pub(crate) sync_group: Option<String>,
}

/// What the daemon learnt of one instance from the driver's events.
#[derive(Debug, Clone, Copy)]
struct History {
    last_transition: SystemTime,
    release_master: u64,
    /// The counters at the last SIGSTATS_CLEAR: the dumps report what was counted since.
    baseline: Counters,
}

/// One instance at the time of a dump.
pub(crate) struct View<'a> {
    /// Its configuration.
    pub(crate) configured: &'a Configured,
    /// State, effective priority and counters now.
    pub(crate) status: InstanceStatus,
    /// When it last changed state (keepalived's `last_transition`).
    pub(crate) last_transition: SystemTime,
    /// Its counters since the start or the last SIGSTATS_CLEAR.
    pub(crate) counters: Counters,
}

impl View<'_> {
    /// The interface it sends on: the virtual MAC interface if it has one (keepalived's
    /// `ifp`).
    pub(crate) fn ifp_name(&self) -> &str {
        self.configured
            .vmac
            .as_deref()
            .unwrap_or(&self.configured.conf.interface)
    }

    /// Whether its addresses are installed (keepalived's `vipset`): only a master has them.
    pub(crate) fn vips_set(&self) -> bool {
        self.status.state == State::Master
    }
}

/// The dumps of a running daemon.
pub(crate) struct Dumps {
    global: GlobalDefs,
    scripts: Vec<VrrpScript>,
    instances: Vec<Configured>,
    history: HashMap<String, History>,
    dir: PathBuf,
}

impl Dumps {
    /// The dumps of `instances` (in configuration order), started now.
    pub(crate) fn new(conf: &KeepalivedConf, instances: Vec<Configured>) -> Self {
        let started = SystemTime::now();
        let history = instances
            .iter()
            .map(|i| {
                let h = History {
                    last_transition: started,
                    release_master: 0,
                    baseline: Counters::default(),
                };
                (i.conf.name.clone(), h)
            })
            .collect();
        Self {
            global: conf.global.clone(),
            scripts: conf.scripts.clone(),
            instances,
            history,
            dir: dump_dir(),
        }
    }

    /// Takes a reloaded configuration: instances that stay keep their history (last
    /// transition, masterships released, cleared counters), new ones start now.
    pub(crate) fn reload(&mut self, conf: &KeepalivedConf, instances: Vec<Configured>) {
        let now = SystemTime::now();
        let names: std::collections::HashSet<&str> =
            instances.iter().map(|i| i.conf.name.as_str()).collect();
        self.history.retain(|name, _| names.contains(name.as_str()));
        for i in &instances {
            self.history.entry(i.conf.name.clone()).or_insert(History {
                last_transition: now,
                release_master: 0,
                baseline: Counters::default(),
            });
        }
        self.global = conf.global.clone();
        self.scripts = conf.scripts.clone();
        self.instances = instances;
    }

    /// Records what the dumps report of `event`.
    pub(crate) fn on_event(&mut self, event: &Event) {
        if let Event::StateChanged {
            instance, from, to, ..
        } = event
            && let Some(h) = self.history.get_mut(instance)
        {
            h.last_transition = SystemTime::now();
            if *from == State::Master && *to != State::Master {
                h.release_master += 1;
            }
        }
    }

    /// Writes the dump `kind` asks for with the driver's current state and returns its path.
    pub(crate) async fn write(&mut self, kind: Kind, handle: &Handle) -> io::Result<PathBuf> {
        let mut statuses = Vec::with_capacity(self.instances.len());
        for i in &self.instances {
            let status = handle.status(&i.conf.name).await.map_err(|e| {
                io::Error::other(format!("vrrp_instance {}: no status: {e}", i.conf.name))
            })?;
            statuses.push(status);
        }
        let mut views = Vec::with_capacity(statuses.len());
        for (configured, status) in self.instances.iter().zip(statuses) {
            let h = self
                .history
                .get(&configured.conf.name)
                .copied()
                .unwrap_or(History {
                    last_transition: SystemTime::now(),
                    release_master: 0,
                    baseline: Counters::default(),
                });
            let counters = Counters::of(&status, h.release_master).since(&h.baseline);
            views.push(View {
                configured,
                status,
                last_transition: h.last_transition,
                counters,
            });
        }
        let body = match kind {
            Kind::Data => text::data(&self.global, &self.scripts, &views).into_bytes(),
            Kind::Stats { .. } => text::stats(&views).into_bytes(),
            Kind::Json => json::render(&self.global, &self.scripts, &views)?,
        };
        let path = self.dir.join(kind.file_name());
        write_replacing(&path, &body)?;
        if kind == (Kind::Stats { clear: true }) {
            let now: Vec<(String, Counters)> = views
                .iter()
                .map(|v| {
                    let h = self.history.get(&v.configured.conf.name);
                    let release = h.map_or(0, |h| h.release_master);
                    (
                        v.configured.conf.name.clone(),
                        Counters::of(&v.status, release),
                    )
                })
                .collect();
            for (name, counters) in now {
                if let Some(h) = self.history.get_mut(&name) {
                    h.baseline = counters;
                }
            }
        }
        Ok(path)
    }
}

/// Writes `body` to a new file next to `path` (mode 0600: keepalived's default umask 0177)
/// and renames it to `path`.
fn write_replacing(path: &Path, body: &[u8]) -> io::Result<()> {
    let context = |what: &str, e: io::Error| {
        io::Error::new(e.kind(), format!("{what} {}: {e}", path.display()))
    };
    let mut attempt = 0u32;
    let (tmp, mut file) = loop {
        let mut name = path.as_os_str().to_owned();
        name.push(format!(".{}.{attempt}", std::process::id()));
        let tmp = PathBuf::from(name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
        {
            Ok(f) => break (tmp, f),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 100 => attempt += 1,
            Err(e) => return Err(context("cannot create a temporary file for", e)),
        }
    };
    let written = file.write_all(body).and_then(|()| file.sync_all());
    drop(file);
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
        // The temporary file is ours and useless now; failing to remove it changes nothing.
        let _ = std::fs::remove_file(&tmp);
        return Err(context("cannot write", e));
    }
    Ok(())
}

/// A command line as keepalived prints it (`cmd_str`): each word in single quotes, the
/// program's path resolved (keepalived resolves symbolic links).
pub(crate) fn command_line(argv: &[String]) -> String {
    argv.iter()
        .enumerate()
        .map(|(k, word)| {
            let word = if k == 0 && word.contains('/') {
                std::fs::canonicalize(word)
                    .map_or_else(|_| word.clone(), |p| p.display().to_string())
            } else {
                word.clone()
            };
            format!("'{word}'")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// keepalived's state numbers (`VRRP_STATE_*`).
pub(crate) fn state_number(state: State) -> u8 {
    match state {
        State::Initialize => 0,
        State::Backup => 1,
        State::Master => 2,
        State::Fault => 3,
    }
}

/// keepalived's state names (`get_state_str`).
pub(crate) fn state_name(state: State) -> &'static str {
    match state {
        State::Initialize => "INIT",
        State::Backup => "BACKUP",
        State::Master => "MASTER",
        State::Fault => "FAULT",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn files_are_replaced_whole() {
        let dir = std::env::temp_dir().join(format!("kc-dump-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("keepalived.json");
        write_replacing(&path, b"one").unwrap();
        write_replacing(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let mode = std::fs::metadata(&path).unwrap().permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o600
        );
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn command_lines_are_quoted_word_by_word() {
        let argv = ["/nonexistent/notify".to_owned(), "a b".to_owned()];
        assert_eq!(command_line(&argv), "'/nonexistent/notify' 'a b'");
    }
}
