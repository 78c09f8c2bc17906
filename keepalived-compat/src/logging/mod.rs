//! The daemon's log: one `tracing` subscriber for the daemon and the libraries under it, so
//! that their warnings are seen where keepalived's lines would be.
//!
//! Where lines go follows keepalived 2.2.7 (`lib/logger.c`): to syslog unless `-G`
//! (facility `-S`, default `daemon`, ident `Keepalived`), to stderr as well with `-l`, and to
//! a file as well with `-g`. An error that reaches none of them (no `-l`, no syslog daemon
//! listening) is written to stderr, so that a failing start is never silent.
//!
//! The daemon's own lines are logged at INFO and above; the libraries' at WARN and above, at
//! INFO with `-D` and everything from DEBUG with `-DD`.

mod line;
mod syslog;
mod time;

#[cfg(feature = "vrrp")]
pub(crate) use time::civil_from_days;

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use nix::libc;
use tracing::level_filters::LevelFilter;
use tracing::{Event, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

use crate::cli::Options;

pub(crate) use syslog::Facility;
use syslog::{Severity, Syslog};

/// Where the log goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Settings {
    /// Every line to stderr too.
    pub(crate) console: bool,
    /// Every line to this file too.
    pub(crate) file: Option<PathBuf>,
    /// Lines to syslog, with this facility.
    pub(crate) syslog: Option<Facility>,
    /// keepalived's `-D` count: how much of the libraries' logging is shown.
    pub(crate) detail: u8,
}

impl Settings {
    /// What the command line asks for a running daemon.
    pub(crate) fn of(options: &Options) -> Self {
        Self {
            console: options.log_console,
            file: options.log_file.as_deref().map(file_name),
            syslog: options.syslog.then_some(options.log_facility),
            detail: options.log_detail,
        }
    }

    /// stderr only: `-t` (keepalived does not syslog when testing a configuration) and the
    /// one-shot commands.
    pub(crate) fn console_only(options: &Options) -> Self {
        Self {
            console: true,
            file: None,
            syslog: None,
            detail: options.log_detail,
        }
    }
}

/// keepalived's log file name: a relative name is taken in its temporary directory
/// (`$TMPDIR` when absolute, else `/tmp`).
fn file_name(name: &Path) -> PathBuf {
    if name.is_absolute() {
        return name.to_owned();
    }
    let tmp = match std::env::var_os("TMPDIR") {
        Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
        _ => PathBuf::from("/tmp"),
    };
    tmp.join(name)
}

/// The log could not be set up.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LogError {
    /// Another subscriber was installed first.
    #[error("cannot install the log: {0}")]
    Install(#[from] tracing::subscriber::SetGlobalDefaultError),
}

/// Installs the process's subscriber. A log file that cannot be opened is reported through
/// the other destinations, and logging goes on without it.
pub(crate) fn install(settings: &Settings) -> Result<(), LogError> {
    let (file, file_error) = match &settings.file {
        Some(path) => match open_log_file(path) {
            Ok(f) => (Some(Mutex::new(f)), None),
            Err(e) => (None, Some((path, e))),
        },
        None => (None, None),
    };
    let sinks = Sinks {
        console: settings.console,
        file,
        syslog: settings
            .syslog
            .map(|facility| Mutex::new(Syslog::new(Path::new(syslog::DEV_LOG), facility))),
    };
    let libraries = match settings.detail {
        0 => LevelFilter::WARN,
        1 => LevelFilter::INFO,
        _ => LevelFilter::DEBUG,
    };
    let ours = if settings.detail >= 2 {
        LevelFilter::DEBUG
    } else {
        LevelFilter::INFO
    };
    let filter = Targets::new()
        .with_target(line::OURS, ours)
        .with_default(libraries);
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry().with(sinks.with_filter(filter)),
    )?;
    if let Some((path, e)) = file_error {
        tracing::warn!("cannot open log file {}: {e}", path.display());
    }
    Ok(())
}

/// Opens the log file as keepalived's `fopen_safe` appends: no symbolic link followed,
/// created 0644.
fn open_log_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// The destinations, behind the filter.
struct Sinks {
    console: bool,
    file: Option<Mutex<File>>,
    syslog: Option<Mutex<Syslog>>,
}

/// A destination's lock; a writer that panicked left nothing half-done that matters.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<S: Subscriber> Layer<S> for Sinks {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let line = line::Line::of(event);
        let stamped = || {
            format!(
                "{} keepalived-compat: {}\n",
                time::stamp(SystemTime::now()),
                line.text
            )
        };
        let syslogged = self
            .syslog
            .as_ref()
            .is_some_and(|s| lock(s).send(line.severity, &line.text).is_ok());
        if let Some(file) = &self.file {
            // A full disk costs log lines, not the daemon.
            let _ = lock(file).write_all(stamped().as_bytes());
        }
        let unheard = line.severity == Severity::Error && !syslogged && self.file.is_none();
        if self.console || unheard {
            let _ = io::stderr().lock().write_all(stamped().as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn relative_log_files_go_to_the_temporary_directory() {
        assert_eq!(
            file_name(Path::new("/var/log/k.log")),
            Path::new("/var/log/k.log")
        );
        let relative = file_name(Path::new("keepalived.log"));
        assert!(relative.is_absolute() && relative.ends_with("keepalived.log"));
    }

    #[test]
    fn settings_follow_the_command_line() {
        let o = Options::parse(["-l", "-S", "local3", "-D"].map(str::to_owned)).unwrap();
        let s = Settings::of(&o);
        assert!(s.console && s.file.is_none());
        assert_eq!((s.syslog, s.detail), (Facility::local(3), 1));
        let o = Options::parse(["-G", "-g/k.log"].map(str::to_owned)).unwrap();
        let s = Settings::of(&o);
        assert_eq!((s.console, s.syslog), (false, None));
        assert_eq!(s.file.as_deref(), Some(Path::new("/k.log")));
    }
}
