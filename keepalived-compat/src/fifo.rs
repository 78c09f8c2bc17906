//! keepalived's notify FIFOs, written so that nothing ever waits on them.
//!
//! A FIFO is created with mode 0644 when missing (and given to its owner: `notify_fifo PATH
//! USER [GROUP]`, else the default script user, as keepalived 2.2.7 does) and opened
//! `O_RDWR | O_NONBLOCK | O_NOFOLLOW`, as keepalived opens it: read-write so the open never
//! waits for a reader, no symlink followed. Its reader, `notify_fifo_script`, is started
//! once it is open, with the FIFO's path as last argument. Lines go through a bounded queue
//! to a writer task that waits for room in the pipe; when the queue is full (the reader is
//! gone or too slow) a line is dropped and counted instead of stalling the caller.
//!
//! The VRRP and LVS parts share the global `notify_fifo`: a path is opened once per process
//! (one descriptor, one queue, one reader script), however many parts write to it. When the
//! last user lets go, a FIFO the daemon created is unlinked first, then closed, as keepalived
//! does, so a reader that loops reopening it cannot find it again.

use std::fs::OpenOptions;
use std::io;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use keepalived_conf::NotifyFifo;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use nix::unistd::{Gid, Uid};
use tokio::io::AsyncWriteExt;
use tokio::net::unix::pipe;
use tokio::sync::mpsc;

/// Lines queued for one FIFO before new ones are dropped.
pub(crate) const QUEUE: usize = 1024;

/// The FIFOs open in this process, by path.
static OPEN: Mutex<Vec<(PathBuf, Weak<Shared>)>> = Mutex::new(Vec::new());

/// One open FIFO, shared by everyone writing to its path.
#[derive(Debug)]
struct Shared {
    path: PathBuf,
    tx: mpsc::Sender<String>,
    dropped: AtomicU64,
    /// Whether this daemon created it (and so unlinks it when done).
    created: bool,
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Unlinked before the descriptor closes (the sender drops after this).
        if self.created {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// One notify FIFO, as a part of the daemon writes to it.
#[derive(Debug, Clone)]
pub(crate) struct Fifo {
    shared: Arc<Shared>,
}

impl Fifo {
    /// Opens `spec`'s FIFO (creating it if it does not exist) and starts its writer task and
    /// its reader script; a path this process has open already is shared, and its reader is
    /// not started twice. Must be called inside a tokio runtime.
    pub(crate) fn open(spec: &NotifyFifo) -> io::Result<Self> {
        let mut open = OPEN.lock().unwrap_or_else(PoisonError::into_inner);
        open.retain(|(_, w)| w.strong_count() > 0);
        if let Some(shared) = open
            .iter()
            .find(|(p, _)| *p == spec.path)
            .and_then(|(_, w)| w.upgrade())
        {
            return Ok(Self { shared });
        }
        let shared = Arc::new(Self::create(spec)?);
        open.push((spec.path.clone(), Arc::downgrade(&shared)));
        if let Some(script) = &spec.script {
            let mut argv = script.command.clone();
            argv.push(spec.path.display().to_string());
            crate::notify::spawn_reader(&argv, crate::security::run_as(script.user.as_ref()));
        }
        Ok(Self { shared })
    }

    fn create(spec: &NotifyFifo) -> io::Result<Shared> {
        let path = spec.path.as_path();
        let with_path = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
        let mut created = false;
        match std::fs::symlink_metadata(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                nix::unistd::mkfifo(path, Mode::from_bits_truncate(0o644))
                    .map_err(|e| with_path(io::Error::from(e)))?;
                created = true;
                give_to_owner(spec);
            }
            Err(e) => return Err(with_path(e)),
            Ok(_) => {}
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags((OFlag::O_NONBLOCK | OFlag::O_NOFOLLOW).bits())
            .open(path)
            .and_then(|f| {
                if f.metadata()?.file_type().is_fifo() {
                    Ok(f)
                } else {
                    Err(io::Error::new(io::ErrorKind::InvalidInput, "not a fifo"))
                }
            });
        let file = match file {
            Ok(f) => f,
            Err(e) => {
                // keepalived removes a FIFO it made but could not open.
                if created {
                    let _ = std::fs::remove_file(path);
                }
                return Err(with_path(e));
            }
        };
        let mut sender = pipe::Sender::from_file(file).map_err(with_path)?;
        let (tx, mut rx) = mpsc::channel::<String>(QUEUE);
        let shown = path.display().to_string();
        tokio::spawn(async move {
            while let Some(line) = rx.recv().await {
                if let Err(e) = sender.write_all(line.as_bytes()).await {
                    tracing::warn!("cannot write to {shown}: {e}");
                }
            }
        });
        Ok(Shared {
            path: path.to_owned(),
            tx,
            dropped: AtomicU64::new(0),
            created,
        })
    }

    /// Queues `line` (with its newline); never waits. A full queue drops it and counts it.
    pub(crate) fn send(&self, line: String) {
        if self.shared.tx.try_send(line).is_err() {
            let n = self.shared.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n == 1 || n.is_multiple_of(1000) {
                tracing::warn!(
                    "{}: nobody reads the fifo, {n} line(s) dropped",
                    self.shared.path.display()
                );
            }
        }
    }

    /// The FIFO's path.
    pub(crate) fn path(&self) -> &Path {
        &self.shared.path
    }

    /// Lines dropped so far (by every part writing to this path).
    pub(crate) fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }
}

/// Gives a FIFO just made to its owner (`USER [GROUP]` after the path, else the default
/// script user) when that is not this process, as keepalived's `fifo_open` does; a failure
/// is logged and the FIFO stays ours.
fn give_to_owner(spec: &NotifyFifo) {
    let owner = match &spec.owner {
        Some(u) => match crate::security::resolve(u) {
            Ok(o) => Some(o),
            Err(e) => {
                tracing::warn!("Invalid user/group for fifo {}: {e}", spec.path.display());
                None
            }
        },
        None => crate::security::default_user(),
    };
    let Some(owner) = owner else { return };
    let (uid, gid) = (Uid::current().as_raw(), Gid::current().as_raw());
    if owner.uid == uid && owner.gid == gid {
        return;
    }
    let chown = nix::unistd::chown(
        &spec.path,
        (owner.uid != uid).then_some(Uid::from_raw(owner.uid)),
        (owner.gid != gid).then_some(Gid::from_raw(owner.gid)),
    );
    if let Err(e) = chown {
        tracing::warn!(
            "Failed to set uid:gid for fifo {}: {e}",
            spec.path.display()
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::io::Read;
    use std::time::{Duration, Instant};

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kc-fifo-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[tokio::test]
    async fn a_fifo_nobody_reads_never_blocks_and_counts_what_it_drops() {
        let dir = scratch("stall");
        let path = dir.join("notify");
        let fifo = Fifo::open(&spec(&path)).unwrap();
        let mode = std::fs::metadata(&path).unwrap();
        assert!(mode.file_type().is_fifo());
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
            0o644 & !umask()
        );
        // Far more than a pipe holds (64 KiB) plus the queue: the caller never waits.
        let line = format!("INSTANCE \"VI_1\" MASTER 100 {}\n", "x".repeat(200));
        let start = Instant::now();
        for _ in 0..(QUEUE * 4) {
            fifo.send(line.clone());
            tokio::task::yield_now().await;
        }
        assert!(start.elapsed() < Duration::from_secs(2));
        assert!(fifo.dropped() > 0, "nothing dropped");
        // A reader that comes back gets whole lines.
        let mut reader = OpenOptions::new()
            .read(true)
            .custom_flags(OFlag::O_NONBLOCK.bits())
            .open(&path)
            .unwrap();
        let mut buf = vec![0; 4096];
        let n = reader.read(&mut buf).unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("INSTANCE \"VI_1\" MASTER 100"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_symlink_or_a_regular_file_is_refused() {
        let dir = scratch("refuse");
        let target = dir.join("target");
        nix::unistd::mkfifo(&target, Mode::from_bits_truncate(0o644)).unwrap();
        let link = dir.join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(Fifo::open(&spec(&link)).is_err(), "followed a symlink");
        let plain = dir.join("plain");
        std::fs::write(&plain, b"").unwrap();
        let err = Fifo::open(&spec(&plain)).unwrap_err();
        assert!(err.to_string().contains("not a fifo"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn spec(path: &Path) -> NotifyFifo {
        NotifyFifo {
            path: path.to_owned(),
            owner: None,
            script: None,
        }
    }

    #[tokio::test]
    async fn one_path_is_opened_once_and_a_created_fifo_is_unlinked_when_done() {
        let dir = scratch("share");
        let path = dir.join("notify");
        let vrrp = Fifo::open(&spec(&path)).unwrap();
        let lvs = Fifo::open(&spec(&path)).unwrap();
        assert!(Arc::ptr_eq(&vrrp.shared, &lvs.shared));
        drop(vrrp);
        assert!(path.exists(), "unlinked while the LVS part still writes");
        drop(lvs);
        assert!(!path.exists(), "a FIFO this daemon made outlived it");
        // One that was there before is left alone.
        nix::unistd::mkfifo(&path, Mode::from_bits_truncate(0o600)).unwrap();
        drop(Fifo::open(&spec(&path)).unwrap());
        assert!(path.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_created_fifo_goes_to_its_owner() {
        if !Uid::effective().is_root() {
            eprintln!("skipped: chown needs root");
            return;
        }
        let dir = scratch("owner");
        let path = dir.join("notify");
        let mut s = spec(&path);
        s.owner = Some(keepalived_conf::ScriptUser {
            user: "nobody".into(),
            group: None,
            loc: keepalived_conf::Location {
                file: Arc::new(PathBuf::from("k.conf")),
                line: 3,
            },
        });
        let _fifo = Fifo::open(&s).unwrap();
        let nobody = nix::unistd::User::from_name("nobody").unwrap().unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(
            (
                std::os::unix::fs::MetadataExt::uid(&meta),
                std::os::unix::fs::MetadataExt::gid(&meta)
            ),
            (nobody.uid.as_raw(), nobody.gid.as_raw())
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn the_reader_script_gets_the_path_and_the_lines() {
        let dir = scratch("reader");
        let path = dir.join("notify");
        let out = dir.join("out");
        let script = dir.join("reader.sh");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\necho \"args: $*\" > {out}.tmp\nread line < \"$2\"\necho \"$line\" >> {out}.tmp\nmv {out}.tmp {out}\n",
                out = out.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let mut s = spec(&path);
        s.script = Some(keepalived_conf::ScriptCommand {
            command: vec![script.display().to_string(), "--flag".into()],
            // Whoever runs the test (the default script user is set only by a loaded config).
            user: Some(keepalived_conf::ScriptUser {
                user: nix::unistd::User::from_uid(nix::unistd::getuid())
                    .unwrap()
                    .unwrap()
                    .name,
                group: None,
                loc: keepalived_conf::Location {
                    file: Arc::new(PathBuf::from("k.conf")),
                    line: 2,
                },
            }),
            loc: keepalived_conf::Location {
                file: Arc::new(PathBuf::from("k.conf")),
                line: 2,
            },
        });
        let fifo = Fifo::open(&s).unwrap();
        fifo.send("INSTANCE \"VI_1\" MASTER 100\n".into());
        let start = Instant::now();
        while !out.exists() && start.elapsed() < Duration::from_secs(10) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let got = std::fs::read_to_string(&out).unwrap();
        assert_eq!(
            got,
            format!(
                "args: --flag {}\nINSTANCE \"VI_1\" MASTER 100\n",
                path.display()
            )
        );
        drop(fifo);
        crate::notify::finish(Duration::from_secs(2)).await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn umask() -> u32 {
        let old = nix::sys::stat::umask(Mode::from_bits_truncate(0o022));
        nix::sys::stat::umask(old);
        old.bits()
    }
}
