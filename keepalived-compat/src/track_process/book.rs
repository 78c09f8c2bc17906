//! Which running processes count for which `vrrp_track_process`, kept current from the
//! connector's events (keepalived's process tree): a fork of a counted process counts
//! too, an exec or a new `comm` is matched again, an exit uncounts.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use keepalived_conf::TrackProcess;
use tokio::time::Instant;

use super::connector::ProcEvent;
use super::matcher::{Matcher, ProcessInfo, inspect};
use super::quorum::{Cause, Quorum};

/// States to tell: (block name, quorum held).
pub(crate) type Told = Vec<(String, bool)>;

#[derive(Debug)]
struct Entry {
    name: String,
    matcher: Matcher,
    quorum: Quorum,
}

/// The tracked processes and the pids counted for each.
#[derive(Debug)]
pub(crate) struct Book {
    proc: PathBuf,
    entries: Vec<Entry>,
    pids: HashMap<i32, Vec<usize>>,
}

/// The pids under `proc` and the entries each matches.
fn read_procs(proc: &Path, matchers: &[&Matcher]) -> HashMap<i32, Vec<usize>> {
    let mut pids = HashMap::new();
    let Ok(dir) = std::fs::read_dir(proc) else {
        return pids;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let Some(info) = inspect(proc, pid) else {
            continue;
        };
        let hits = matching(matchers, &info);
        if !hits.is_empty() {
            pids.insert(pid, hits);
        }
    }
    pids
}

fn matching(matchers: &[&Matcher], info: &ProcessInfo) -> Vec<usize> {
    (0..matchers.len())
        .filter(|k| matchers[*k].matches(info))
        .collect()
}

impl Book {
    /// Counts the processes of `specs` now running (as listed under `proc`, `/proc`).
    pub(crate) fn scan(proc: &Path, specs: &[TrackProcess]) -> Self {
        let matchers: Vec<Matcher> = specs.iter().map(Matcher::new).collect();
        let pids = read_procs(proc, &matchers.iter().collect::<Vec<_>>());
        let entries = specs
            .iter()
            .zip(matchers)
            .enumerate()
            .map(|(k, (spec, matcher))| {
                let count = pids.values().filter(|hits| hits.contains(&k)).count();
                Entry {
                    name: spec.name.clone(),
                    matcher,
                    quorum: Quorum::new(spec, u32::try_from(count).unwrap_or(u32::MAX)),
                }
            })
            .collect();
        Book {
            proc: proc.to_owned(),
            entries,
            pids,
        }
    }

    /// Each block's name, quorum state and count.
    pub(crate) fn states(&self) -> impl Iterator<Item = (&str, bool, u32)> {
        self.entries
            .iter()
            .map(|e| (e.name.as_str(), e.quorum.up(), e.quorum.count()))
    }

    /// The earliest delayed change.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.entries
            .iter()
            .filter_map(|e| e.quorum.deadline())
            .min()
    }

    /// Tells the delayed changes that are due.
    pub(crate) fn expire(&mut self, now: Instant) -> Told {
        self.entries
            .iter_mut()
            .filter_map(|e| e.quorum.expire(now).map(|up| (e.name.clone(), up)))
            .collect()
    }

    /// Counts `/proc` again (after lost messages), as a change of cause `Other`.
    pub(crate) fn rescan(&mut self, now: Instant) -> Told {
        self.pids = read_procs(
            &self.proc,
            &self.entries.iter().map(|e| &e.matcher).collect::<Vec<_>>(),
        );
        let mut told = Vec::new();
        for k in 0..self.entries.len() {
            let count = self.pids.values().filter(|hits| hits.contains(&k)).count();
            let count = u32::try_from(count).unwrap_or(u32::MAX);
            let e = &mut self.entries[k];
            let cause = if count < e.quorum.count() {
                Cause::Exit
            } else {
                Cause::Other
            };
            if let Some(up) = e.quorum.set_count(count, cause, now) {
                told.push((e.name.clone(), up));
            }
        }
        told
    }

    fn bump(&mut self, k: usize, more: bool, cause: Cause, now: Instant, told: &mut Told) {
        let e = &mut self.entries[k];
        let count = if more {
            e.quorum.count().saturating_add(1)
        } else {
            e.quorum.count().saturating_sub(1)
        };
        if let Some(up) = e.quorum.set_count(count, cause, now) {
            told.push((e.name.clone(), up));
        }
    }

    /// Replaces what `pid` counts for with `hits`.
    fn recount(&mut self, pid: i32, hits: Vec<usize>, now: Instant, told: &mut Told) {
        let old = self.pids.remove(&pid).unwrap_or_default();
        for k in old.iter().filter(|k| !hits.contains(k)) {
            self.bump(*k, false, Cause::Other, now, told);
        }
        for k in hits.iter().filter(|k| !old.contains(k)) {
            self.bump(*k, true, Cause::Other, now, told);
        }
        if !hits.is_empty() {
            self.pids.insert(pid, hits);
        }
    }

    /// Applies one event.
    pub(crate) fn apply(&mut self, event: &ProcEvent, now: Instant) -> Told {
        let mut told = Vec::new();
        match event {
            ProcEvent::Fork { parent, child } => {
                // Already counted (a rescan saw it first): nothing new.
                if self.pids.contains_key(child) {
                    return told;
                }
                let Some(hits) = self.pids.get(parent).cloned() else {
                    return told;
                };
                for k in &hits {
                    self.bump(*k, true, Cause::Fork, now, &mut told);
                }
                self.pids.insert(*child, hits);
            }
            ProcEvent::Exec { pid } => {
                let matchers: Vec<&Matcher> = self.entries.iter().map(|e| &e.matcher).collect();
                let hits = inspect(&self.proc, *pid)
                    .map(|info| matching(&matchers, &info))
                    .unwrap_or_default();
                self.recount(*pid, hits, now, &mut told);
            }
            ProcEvent::Comm { pid, comm } => {
                let info = ProcessInfo {
                    comm: Some(comm.clone()),
                    cmdline: Vec::new(),
                };
                let old = self.pids.get(pid).cloned().unwrap_or_default();
                // Matches by command line are kept; those by comm are decided again.
                let hits = (0..self.entries.len())
                    .filter(|k| {
                        let m = &self.entries[*k].matcher;
                        if m.uses_comm() {
                            m.matches(&info)
                        } else {
                            old.contains(k)
                        }
                    })
                    .collect();
                self.recount(*pid, hits, now, &mut told);
            }
            ProcEvent::Exit { pid } => {
                for k in self.pids.remove(pid).unwrap_or_default() {
                    self.bump(k, false, Cause::Exit, now, &mut told);
                }
            }
            ProcEvent::Ack | ProcEvent::Ignored => {}
        }
        told
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A fake `/proc` with one directory per process.
    struct FakeProc(PathBuf);

    impl FakeProc {
        fn new(test: &str) -> Self {
            let dir = std::env::temp_dir().join(format!("kc-book-{test}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            FakeProc(dir)
        }

        fn process(&self, pid: i32, comm: &str, argv: &[&str]) {
            let dir = self.0.join(pid.to_string());
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("stat"), format!("{pid} ({comm}) S 1 1 1")).unwrap();
            let mut cmdline = Vec::new();
            for w in argv {
                cmdline.extend_from_slice(w.as_bytes());
                cmdline.push(0);
            }
            std::fs::write(dir.join("cmdline"), cmdline).unwrap();
        }

        fn gone(&self, pid: i32) {
            std::fs::remove_dir_all(self.0.join(pid.to_string())).unwrap();
        }
    }

    impl Drop for FakeProc {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn specs(text: &str) -> Vec<TrackProcess> {
        keepalived_conf::parse_str("k.conf", text)
            .unwrap()
            .track_processes
    }

    #[test]
    fn scan_fork_exec_and_exit_keep_the_count() {
        let proc = FakeProc::new("count");
        proc.process(10, "sleep", &["sleep", "1000"]);
        proc.process(11, "bash", &["bash"]);
        let mut book = Book::scan(
            &proc.0,
            &specs(
                "vrrp_track_process S {\nprocess sleep\nquorum 2\n}\n\
                 vrrp_track_process A {\nprocess sleep 1000\n}\n",
            ),
        );
        let now = Instant::now();
        assert_eq!(
            book.states().collect::<Vec<_>>(),
            [("S", false, 1), ("A", true, 1)]
        );
        // The sleep forks: its child counts for both.
        let told = book.apply(
            &ProcEvent::Fork {
                parent: 10,
                child: 12,
            },
            now,
        );
        assert_eq!(told, [("S".to_owned(), true)]);
        // bash's fork is not a tracked process.
        assert!(
            book.apply(
                &ProcEvent::Fork {
                    parent: 11,
                    child: 13
                },
                now
            )
            .is_empty()
        );
        // The child execs something else: it no longer counts.
        proc.process(12, "true", &["true"]);
        let told = book.apply(&ProcEvent::Exec { pid: 12 }, now);
        assert_eq!(told, [("S".to_owned(), false)]);
        let told = book.apply(&ProcEvent::Exit { pid: 10 }, now);
        assert_eq!(told, [("A".to_owned(), false)]);
        proc.gone(10);
        // A new copy by exec counts at once.
        proc.process(14, "sleep", &["sleep", "1000"]);
        let told = book.apply(&ProcEvent::Exec { pid: 14 }, now);
        assert_eq!(told, [("A".to_owned(), true)]);
        assert_eq!(
            book.states().collect::<Vec<_>>(),
            [("S", false, 1), ("A", true, 1)]
        );
    }

    #[test]
    fn comm_changes_affect_comm_matches_only() {
        let proc = FakeProc::new("comm");
        proc.process(20, "worker", &["/opt/app", "-d"]);
        let mut book = Book::scan(
            &proc.0,
            &specs(
                "vrrp_track_process C {\nprocess worker\n}\n\
                 vrrp_track_process F {\nprocess /opt/app\nfull_command\n}\n",
            ),
        );
        assert_eq!(
            book.states().collect::<Vec<_>>(),
            [("C", true, 1), ("F", true, 1)]
        );
        let told = book.apply(
            &ProcEvent::Comm {
                pid: 20,
                comm: b"idle".to_vec(),
            },
            Instant::now(),
        );
        assert_eq!(told, [("C".to_owned(), false)]);
        assert_eq!(
            book.states().collect::<Vec<_>>(),
            [("C", false, 0), ("F", true, 1)]
        );
    }

    #[test]
    fn a_rescan_finds_what_lost_messages_hid() {
        let proc = FakeProc::new("rescan");
        let mut book = Book::scan(
            &proc.0,
            &specs("vrrp_track_process S {\nprocess sleep\n}\n"),
        );
        proc.process(30, "sleep", &["sleep"]);
        assert_eq!(book.rescan(Instant::now()), [("S".to_owned(), true)]);
        // The fork event of a process the rescan already counted changes nothing.
        assert!(
            book.apply(
                &ProcEvent::Fork {
                    parent: 1,
                    child: 30
                },
                Instant::now()
            )
            .is_empty()
        );
    }
}
