//! keepalived's notify FIFOs, written so that nothing ever waits on them.
//!
//! A FIFO is created with mode 0644 when missing and opened `O_RDWR | O_NONBLOCK |
//! O_NOFOLLOW`, as keepalived opens it: read-write so the open never waits for a reader, no
//! symlink followed. Lines go through a bounded queue to a writer task that waits for room in
//! the pipe; when the queue is full (the reader is gone or too slow) a line is dropped and
//! counted instead of stalling the caller, which is the VRRP event path.

use std::fs::OpenOptions;
use std::io;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use tokio::io::AsyncWriteExt;
use tokio::net::unix::pipe;
use tokio::sync::mpsc;

/// Lines queued for one FIFO before new ones are dropped.
pub(crate) const QUEUE: usize = 1024;

/// One notify FIFO.
#[derive(Debug)]
pub(crate) struct Fifo {
    path: PathBuf,
    tx: mpsc::Sender<String>,
    dropped: Arc<AtomicU64>,
}

impl Fifo {
    /// Creates `path` as a FIFO if it does not exist, opens it and starts its writer task.
    /// Must be called inside a tokio runtime.
    pub(crate) fn open(path: &Path) -> io::Result<Self> {
        let with_path = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
        match std::fs::symlink_metadata(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                nix::unistd::mkfifo(path, Mode::from_bits_truncate(0o644))
                    .map_err(|e| with_path(io::Error::from(e)))?;
            }
            Err(e) => return Err(with_path(e)),
            Ok(_) => {}
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags((OFlag::O_NONBLOCK | OFlag::O_NOFOLLOW).bits())
            .open(path)
            .map_err(with_path)?;
        if !file.metadata().map_err(with_path)?.file_type().is_fifo() {
            return Err(with_path(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a fifo",
            )));
        }
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
        Ok(Self {
            path: path.to_owned(),
            tx,
            dropped: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Queues `line` (with its newline); never waits. A full queue drops it and counts it.
    pub(crate) fn send(&self, line: String) {
        if self.tx.try_send(line).is_err() {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n == 1 || n.is_multiple_of(1000) {
                tracing::warn!(
                    "{}: nobody reads the fifo, {n} line(s) dropped",
                    self.path.display()
                );
            }
        }
    }

    /// The FIFO's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Lines dropped so far.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
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
        let fifo = Fifo::open(&path).unwrap();
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
        assert!(Fifo::open(&link).is_err(), "followed a symlink");
        let plain = dir.join("plain");
        std::fs::write(&plain, b"").unwrap();
        let err = Fifo::open(&plain).unwrap_err();
        assert!(err.to_string().contains("not a fifo"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn umask() -> u32 {
        let old = nix::sys::stat::umask(Mode::from_bits_truncate(0o022));
        nix::sys::stat::umask(old);
        old.bits()
    }
}
