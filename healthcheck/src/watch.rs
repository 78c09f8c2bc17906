//! Notification of changes to a tracked file (inotify), to re-probe at once instead
//! of at the next interval (keepalived watches its `track_file`s the same way).

use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use std::ffi::OsString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::path::Path;
use tokio::io::unix::AsyncFd;

/// Watches one file for writes, replacements (rename over it) and deletion.
///
/// The parent directory is watched, so editors and `mv tmp file` are seen too.
/// Pair it with [`crate::Running::recheck`]:
///
/// ```no_run
/// # async fn demo(running: &mut healthcheck::Running, id: healthcheck::TargetId) -> std::io::Result<()> {
/// let mut watch = healthcheck::FileWatch::new("/run/weight")?;
/// loop {
///     tokio::select! {
///         changed = watch.changed() => { changed?; running.recheck(id); }
///         event = running.next_event() => { /* feed the sinks */ let _ = event; }
///     }
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct FileWatch {
    fd: AsyncFd<InotifyFd>,
    name: OsString,
}

#[derive(Debug)]
struct InotifyFd(Inotify);

impl AsRawFd for InotifyFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_fd().as_raw_fd()
    }
}

impl FileWatch {
    /// Starts watching `path` (its directory must exist; the file need not).
    pub fn new(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref();
        let name = path
            .file_name()
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{} has no file name", path.display()),
                )
            })?
            .to_owned();
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)?;
        inotify.add_watch(
            dir,
            AddWatchFlags::IN_CLOSE_WRITE
                | AddWatchFlags::IN_MODIFY
                | AddWatchFlags::IN_MOVED_TO
                | AddWatchFlags::IN_CREATE
                | AddWatchFlags::IN_DELETE,
        )?;
        // `AsyncFd::new` is deprecated because a borrowed fd could be closed while
        // registered; here the `AsyncFd` owns the `Inotify`, so the fd lives exactly as
        // long as the registration. (`AsyncFd::register` is the same call, `unsafe`.)
        #[allow(deprecated)]
        let fd = AsyncFd::new(InotifyFd(inotify))?;
        Ok(FileWatch { fd, name })
    }

    /// Waits until the file changes.
    pub async fn changed(&mut self) -> io::Result<()> {
        loop {
            let mut guard = self.fd.readable().await?;
            let events =
                match guard.try_io(|fd| fd.get_ref().0.read_events().map_err(io::Error::from)) {
                    Ok(events) => events?,
                    Err(_would_block) => continue,
                };
            if events
                .iter()
                .any(|e| e.name.as_deref() == Some(self.name.as_os_str()))
            {
                return Ok(());
            }
        }
    }
}
