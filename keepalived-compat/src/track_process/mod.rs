//! `vrrp_track_process`: the number of running copies of a process, kept current from the
//! kernel's process events connector after one scan of `/proc` (as keepalived 2.2.7 does),
//! told to the instances as a tracked object that is up while the count is within
//! `quorum..=quorum_max`.
//!
//! [`connector`] decodes the kernel's messages, [`matcher`] says whether a process is a
//! copy, [`book`] keeps the pids counted, [`quorum`] the state and its delays; this module
//! runs them and tells the driver.

mod book;
mod connector;
mod matcher;
mod quorum;

use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use keepalived_conf::{KeepalivedConf, TrackProcess};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use vrrp_core::TrackState;
use vrrp_net::driver::Handle;

use book::{Book, Told};
use connector::{Connector, decode};

/// The socket opened before entering a network namespace (see [`open_before_namespace`]).
static EARLY: Mutex<Option<OwnedFd>> = Mutex::new(None);

/// Opens the process events socket in the current (initial) network namespace, for
/// [`Processes`] to use after the daemon has entered another one (`-s NAME`).
pub(crate) fn open_before_namespace() {
    match Connector::socket() {
        Ok(fd) => *EARLY.lock().unwrap_or_else(PoisonError::into_inner) = Some(fd),
        Err(e) => tracing::warn!("process monitoring socket: {e}"),
    }
}

/// The name under which instances track `process` (the driver's tracked-object name;
/// `scripts::reversed_name` of it for `weight ... reverse`).
pub(crate) fn object_name(process: &str) -> String {
    format!("process {process}")
}

/// Tells every instance tracking `name` (plainly or reversed) its state; instances that
/// do not track it are skipped.
fn tell(handle: &Handle, name: &str, up: bool) {
    let (plain, reversed) = if up {
        (TrackState::Up, TrackState::Down)
    } else {
        (TrackState::Down, TrackState::Up)
    };
    let object = object_name(name);
    let _ = handle.set_track_state(&object, plain);
    let _ = handle.set_track_state(&crate::scripts::reversed_name(&object), reversed);
}

/// The blocks some instance tracks.
fn used(conf: &KeepalivedConf) -> Vec<TrackProcess> {
    conf.track_processes
        .iter()
        .filter(|p| {
            conf.instances
                .iter()
                .any(|i| i.track_processes.iter().any(|t| t.name == p.name))
        })
        .cloned()
        .collect()
}

/// The process monitor: the connector, the book of counted pids, and the task reading
/// events. Kept across reloads; a reload that changes the tracked blocks counts again.
#[derive(Default)]
pub(crate) struct Processes {
    connector: Option<Arc<Connector>>,
    specs: Vec<TrackProcess>,
    book: Option<Arc<Mutex<Book>>>,
    task: Option<JoinHandle<()>>,
}

impl Processes {
    /// Counts the processes `conf`'s instances track and subscribes to process events;
    /// [`Processes::run`] then follows them.
    pub(crate) fn open(conf: &KeepalivedConf) -> Self {
        let mut p = Processes::default();
        p.count(used(conf));
        p
    }

    fn count(&mut self, specs: Vec<TrackProcess>) {
        self.specs = specs;
        if self.specs.is_empty() {
            self.book = None;
            return;
        }
        if self.connector.is_none() {
            // Subscribed before the scan, so no process started in between is missed.
            let early = EARLY.lock().unwrap_or_else(PoisonError::into_inner).take();
            let opened = match early {
                Some(fd) => Ok(fd),
                None => Connector::socket(),
            }
            .and_then(Connector::listen);
            match opened {
                Ok(c) => self.connector = Some(Arc::new(c)),
                Err(e) => tracing::error!(
                    "track_process: cannot receive process events ({e}): the counts of the \
                     first scan of /proc stay as they are"
                ),
            }
        }
        let book = Book::scan(Path::new("/proc"), &self.specs);
        for (name, up, count) in book.states() {
            tracing::info!(
                "Tracked process {name}: {count} running, quorum {}",
                if up { "held" } else { "not held" }
            );
        }
        self.book = Some(Arc::new(Mutex::new(book)));
    }

    /// The quorum state of each tracked block, by name.
    pub(crate) fn states(&self) -> HashMap<String, bool> {
        self.book
            .as_ref()
            .map(|b| {
                b.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .states()
                    .map(|(name, up, _)| (name.to_owned(), up))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Follows process events, telling `handle` each change of quorum.
    pub(crate) fn run(&mut self, handle: &Handle) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
        let (Some(book), Some(connector)) = (&self.book, &self.connector) else {
            return;
        };
        self.task = Some(tokio::spawn(follow(
            Arc::clone(connector),
            Arc::clone(book),
            handle.clone(),
        )));
    }

    /// After a reload: counts again if the tracked blocks changed, and tells every state
    /// (instances added by the reload start up; an instance told again ignores it).
    pub(crate) fn sync(&mut self, conf: &KeepalivedConf, handle: &Handle) {
        let specs = used(conf);
        if specs != self.specs {
            if let Some(task) = self.task.take() {
                task.abort();
            }
            self.count(specs);
            self.run(handle);
        }
        for (name, up) in self.states() {
            tell(handle, &name, up);
        }
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// How long to let things settle after the kernel dropped messages (`ENOBUFS`) before
/// counting `/proc` again (keepalived waits one second too).
const RESCAN_AFTER: Duration = Duration::from_secs(1);

fn told(handle: &Handle, changes: Told) {
    for (name, up) in changes {
        tracing::info!(
            "Quorum {} for tracked process {name}",
            if up { "gained" } else { "lost" }
        );
        tell(handle, &name, up);
    }
}

/// Reads process events until the task is aborted.
async fn follow(connector: Arc<Connector>, book: Arc<Mutex<Book>>, handle: Handle) {
    let lock = || book.lock().unwrap_or_else(PoisonError::into_inner);
    let mut buf = vec![0u8; 4096];
    let mut dropped: u64 = 0;
    let mut seqs: HashMap<u32, u32> = HashMap::new();
    let mut rescan_at: Option<Instant> = None;
    loop {
        let deadline = lock().deadline();
        tokio::select! {
            got = connector.recv(&mut buf) => match got {
                Ok(len) => match decode(buf.get(..len).unwrap_or_default()) {
                    Ok(Some(m)) => {
                        if let Some(last) = seqs.insert(m.cpu, m.seq)
                            && m.seq != last.wrapping_add(1)
                        {
                            tracing::info!(
                                "Missed {} process events on CPU {}",
                                m.seq.wrapping_sub(last).wrapping_sub(1),
                                m.cpu
                            );
                        }
                        let changes = lock().apply(&m.event, Instant::now());
                        told(&handle, changes);
                    }
                    Ok(None) => {}
                    Err(e) => {
                        dropped += 1;
                        tracing::warn!("dropped a process event ({dropped} so far): {e}");
                    }
                },
                Err(e) if e.raw_os_error() == Some(nix::libc::ENOBUFS) => {
                    tracing::warn!("process events were lost: counting /proc again");
                    rescan_at = Some(Instant::now() + RESCAN_AFTER);
                    seqs.clear();
                }
                Err(e) => {
                    tracing::error!("process events: {e}");
                    tokio::time::sleep(RESCAN_AFTER).await;
                }
            },
            () = sleep_until(deadline), if deadline.is_some() => {
                let changes = lock().expire(Instant::now());
                told(&handle, changes);
            }
            () = sleep_until(rescan_at), if rescan_at.is_some() => {
                rescan_at = None;
                let changes = lock().rescan(Instant::now());
                told(&handle, changes);
            }
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at).await;
    }
}
