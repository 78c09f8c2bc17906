//! The daemon's pid files: written as keepalived 2.2.7 writes them, and locked for the
//! daemon's life so that a second daemon with the same file refuses to start.
//!
//! keepalived (`core/pidfile.c`) opens its pid file `O_NOFOLLOW | O_CREAT`, mode 0644, and
//! decides that a daemon runs when the file names a live process (`kill(pid, 0)`), removing
//! a file whose process is gone. It takes no lock, so two daemons starting together both
//! win, and a pid reused by an unrelated process blocks it. Here each file is held under an
//! exclusive `flock` from start to exit: a second daemon finds it locked and refuses (exit
//! status [`ALREADY_RUNNING`]) without writing anything, and a file left by a daemon that
//! was killed is unlocked, so it is taken over. keepalived's own rule is kept for the files
//! of a keepalived that does not lock: a live process named `keepalived...` in an unlocked
//! file is a running daemon too.
//!
//! A new file is made under a temporary name, locked, written, and then linked (or renamed,
//! over a stale one) into place, so a reader never sees it empty. At a graceful exit the
//! file is removed while still locked, and only if it is still this daemon's.

use std::fs::{File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use nix::libc;

/// The exit status of a daemon that refuses to start because another one holds its pid file
/// (keepalived 2.2.7 logs `daemon is already running` and exits 0).
pub(crate) const ALREADY_RUNNING: u8 = 3;

/// How many times a file that changes under us (removed, replaced) is tried again.
const ATTEMPTS: usize = 8;

/// Why a pid file could not be taken.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PidFileError {
    /// Another daemon holds the file's lock.
    #[error("daemon is already running: {} is locked by {}", .path.display(), holder(*.pid))]
    Locked {
        /// The pid file.
        path: PathBuf,
        /// The pid it names, if it names one.
        pid: Option<u32>,
    },
    /// An unlocked file names a live keepalived (one that does not lock its pid file).
    #[error("daemon is already running: {} names pid {pid}, a running {name}", .path.display())]
    Keepalived {
        /// The pid file.
        path: PathBuf,
        /// The pid it names.
        pid: u32,
        /// That process's name.
        name: String,
    },
    /// The path is a symbolic link, which is never followed.
    #[error("{}: is a symbolic link, not followed", .path.display())]
    Symlink {
        /// The pid file.
        path: PathBuf,
    },
    /// The path is not a regular file.
    #[error("{}: not a regular file", .path.display())]
    NotRegular {
        /// The pid file.
        path: PathBuf,
    },
    /// A system call failed.
    #[error("{}: cannot {action}: {source}", .path.display())]
    Io {
        /// The pid file.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// Why it failed.
        source: io::Error,
    },
}

impl PidFileError {
    /// Whether this means that another daemon runs.
    pub(crate) fn is_running(&self) -> bool {
        matches!(self, Self::Locked { .. } | Self::Keepalived { .. })
    }
}

/// `pid N`, or that the file names none.
fn holder(pid: Option<u32>) -> String {
    pid.map_or_else(
        || "a process (no pid in the file yet)".to_owned(),
        |p| format!("pid {p}"),
    )
}

/// An [`PidFileError::Io`] maker for `path`.
fn io_error<'p>(
    path: &'p Path,
    action: &'static str,
) -> impl FnOnce(io::Error) -> PidFileError + 'p {
    move |source| PidFileError::Io {
        path: path.to_owned(),
        action,
        source,
    }
}

/// The pid files of a running daemon, locked; removed when dropped.
#[derive(Debug)]
pub(crate) struct PidFiles(Vec<PidFile>);

impl PidFiles {
    /// Writes this process's pid to each of `paths` and locks them. On `Err` nothing is
    /// left: files already taken are removed again, files of another daemon are untouched.
    pub(crate) fn acquire(paths: &[PathBuf]) -> Result<Self, PidFileError> {
        let mut held = Vec::with_capacity(paths.len());
        for path in paths {
            held.push(PidFile::acquire(path, std::process::id())?);
        }
        Ok(Self(held))
    }

    /// Removes the files (at a graceful exit), the last taken first.
    pub(crate) fn release(self) {
        for file in self.0.into_iter().rev() {
            drop(file);
        }
    }
}

/// Whether a daemon holds `path`, without creating or changing it: what a daemon about to
/// detach checks, so that the refusal is seen by whoever started it.
pub(crate) fn check(path: &Path) -> Result<(), PidFileError> {
    let file = match open(path, OpenOptions::new().read(true)) {
        Ok(f) => f,
        Err(PidFileError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let pid = read_pid(&file);
    match Flock::lock(file, FlockArg::LockSharedNonblock) {
        Ok(_) => {}
        Err((_, Errno::EWOULDBLOCK)) => {
            return Err(PidFileError::Locked {
                path: path.to_owned(),
                pid,
            });
        }
        Err((_, e)) => return Err(io_error(path, "lock")(e.into())),
    }
    match pid.and_then(keepalived_named) {
        Some((pid, name)) => Err(PidFileError::Keepalived {
            path: path.to_owned(),
            pid,
            name,
        }),
        None => Ok(()),
    }
}

/// One pid file, written and locked.
#[derive(Debug)]
struct PidFile {
    path: PathBuf,
    file: Flock<File>,
}

impl PidFile {
    /// Takes `path` for process `pid`.
    fn acquire(path: &Path, pid: u32) -> Result<Self, PidFileError> {
        for _ in 0..ATTEMPTS {
            let existing = match open(path, OpenOptions::new().read(true).write(true)) {
                Ok(f) => f,
                Err(PidFileError::Io { source, .. })
                    if source.kind() == io::ErrorKind::NotFound =>
                {
                    match create(path, pid, Place::New)? {
                        Some(file) => return Ok(file),
                        // Another daemon made it first: look at it again.
                        None => continue,
                    }
                }
                Err(e) => return Err(e),
            };
            let stale = match Flock::lock(existing, FlockArg::LockExclusiveNonblock) {
                Ok(locked) => locked,
                Err((file, Errno::EWOULDBLOCK)) => {
                    return Err(PidFileError::Locked {
                        path: path.to_owned(),
                        pid: read_pid(&file),
                    });
                }
                Err((_, e)) => return Err(io_error(path, "lock")(e.into())),
            };
            // Removed or replaced between our open and our lock: start over.
            if !names(path, &stale) {
                continue;
            }
            let old = read_pid(&stale);
            if let Some((pid, name)) = old.and_then(keepalived_named) {
                return Err(PidFileError::Keepalived {
                    path: path.to_owned(),
                    pid,
                    name,
                });
            }
            // Unlocked and naming no live keepalived: a killed daemon's. Replaced while
            // its lock is held, so nobody else can take it meanwhile.
            let taken = create(path, pid, Place::Replace)?;
            match old {
                Some(old) => tracing::info!(
                    "{}: pid {old} no longer runs: stale pid file replaced",
                    path.display()
                ),
                None => tracing::info!("{}: no pid in it: pid file replaced", path.display()),
            }
            drop(stale);
            if let Some(file) = taken {
                return Ok(file);
            }
        }
        Err(io_error(path, "take")(io::Error::other(
            "it keeps changing under us",
        )))
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        // Only our own file: never one that somebody replaced meanwhile.
        if names(&self.path, &self.file)
            && let Err(e) = std::fs::remove_file(&self.path)
            && e.kind() != io::ErrorKind::NotFound
        {
            tracing::warn!("cannot remove pid file {}: {e}", self.path.display());
        }
    }
}

/// Where a new pid file goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// There is no file: linked into place, failing if one appeared meanwhile.
    New,
    /// Over a stale file whose lock we hold.
    Replace,
}

/// Makes the pid file of `pid` at `path`: a temporary file in the same directory, locked
/// and written, then put in place. `Ok(None)` when another file appeared at `path` first.
fn create(path: &Path, pid: u32, place: Place) -> Result<Option<PidFile>, PidFileError> {
    let name = path
        .file_name()
        .ok_or_else(|| io_error(path, "create")(io::Error::other("no file name")))?;
    let temp = path.with_file_name(format!(".{}.{pid}.new", name.to_string_lossy()));
    // A leftover of an earlier daemon with the same pid; `O_EXCL` below refuses anything
    // still there, including a planted symbolic link.
    let _ = std::fs::remove_file(&temp);
    let file = open(
        &temp,
        OpenOptions::new().read(true).write(true).create_new(true),
    )?;
    let placed = lock_and_write(&temp, file, pid).and_then(|file| {
        let put = match place {
            Place::New => std::fs::hard_link(&temp, path),
            Place::Replace => std::fs::rename(&temp, path),
        };
        match put {
            Ok(()) => Ok(Some(file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(None),
            Err(e) => Err(io_error(path, "put the pid file in place")(e)),
        }
    });
    if place == Place::New || placed.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    Ok(placed?.map(|file| PidFile {
        path: path.to_owned(),
        file,
    }))
}

/// Sets keepalived's mode (0644, whatever the umask), locks and writes `pid`.
fn lock_and_write(path: &Path, file: File, pid: u32) -> Result<Flock<File>, PidFileError> {
    file.set_permissions(Permissions::from_mode(0o644))
        .map_err(io_error(path, "set the mode of"))?;
    let file = Flock::lock(file, FlockArg::LockExclusiveNonblock)
        .map_err(|(_, e)| io_error(path, "lock")(e.into()))?;
    (&*file)
        .write_all(format!("{pid}\n").as_bytes())
        .map_err(io_error(path, "write"))?;
    Ok(file)
}

/// Opens `path` as `options` say, never through a symbolic link, and checks that it is a
/// regular file.
fn open(path: &Path, options: &mut OpenOptions) -> Result<File, PidFileError> {
    let file = options
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => PidFileError::Symlink {
                path: path.to_owned(),
            },
            Some(libc::EISDIR) => PidFileError::NotRegular {
                path: path.to_owned(),
            },
            _ => io_error(path, "open")(e),
        })?;
    let meta = file.metadata().map_err(io_error(path, "stat"))?;
    if !meta.is_file() {
        return Err(PidFileError::NotRegular {
            path: path.to_owned(),
        });
    }
    Ok(file)
}

/// Whether `path` is (still) the file `file` has open.
fn names(path: &Path, file: &File) -> bool {
    match (std::fs::symlink_metadata(path), file.metadata()) {
        (Ok(at_path), Ok(open)) => at_path.dev() == open.dev() && at_path.ino() == open.ino(),
        _ => false,
    }
}

/// The pid a pid file names, if it names one.
fn read_pid(file: &File) -> Option<u32> {
    let mut buf = [0u8; 32];
    let n = file.read_at(&mut buf, 0).ok()?;
    std::str::from_utf8(&buf[..n]).ok()?.trim().parse().ok()
}

/// `pid` and its name if it is a live process named like keepalived (`keepalived`, or this
/// daemon's `keepalived-compat`), other than this one.
fn keepalived_named(pid: u32) -> Option<(u32, String)> {
    if pid == std::process::id() {
        return None;
    }
    let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    let name = name.trim();
    name.starts_with("keepalived")
        .then(|| (pid, name.to_owned()))
}

#[cfg(test)]
mod tests;
