//! Whether a process is a copy of a `vrrp_track_process`'s process, as keepalived 2.2.7
//! decides (`check_params`): by `comm`, or by `argv[0]` and the arguments.

use std::path::Path;

use keepalived_conf::{ParamMatch, TrackProcess};

/// What is known of one process: its `comm` (`None` for a zombie) and its command line
/// (`/proc/PID/cmdline`: NUL-terminated words; empty for a zombie or a kernel thread).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ProcessInfo {
    /// `comm`.
    pub(crate) comm: Option<Vec<u8>>,
    /// The raw command line.
    pub(crate) cmdline: Vec<u8>,
}

/// Reads what [`Matcher::matches`] needs of `pid` from `proc` (`/proc`); `None` when the
/// process is gone.
pub(crate) fn inspect(proc: &Path, pid: i32) -> Option<ProcessInfo> {
    let dir = proc.join(pid.to_string());
    let stat = std::fs::read(dir.join("stat")).ok()?;
    let cmdline = std::fs::read(dir.join("cmdline")).unwrap_or_default();
    Some(ProcessInfo {
        comm: comm_of_stat(&stat),
        cmdline,
    })
}

/// The `comm` field of `/proc/PID/stat` (between the first `(` and the last `)`), or
/// `None` for a zombie (state `Z`) or an unreadable line.
pub(crate) fn comm_of_stat(stat: &[u8]) -> Option<Vec<u8>> {
    let open = stat.iter().position(|b| *b == b'(')?;
    let close = stat.iter().rposition(|b| *b == b')')?;
    let comm = stat.get(open + 1..close)?;
    if stat.get(close + 2) == Some(&b'Z') {
        return None;
    }
    Some(comm.to_vec())
}

/// The matching rule of one `vrrp_track_process`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Matcher {
    name: Vec<u8>,
    /// The configured arguments, each followed by a NUL (as in `cmdline`).
    params: Vec<u8>,
    param_match: ParamMatch,
    full_command: bool,
}

impl Matcher {
    /// The rule of `p`.
    pub(crate) fn new(p: &TrackProcess) -> Self {
        let mut params = Vec::new();
        for word in &p.params {
            params.extend_from_slice(word.as_bytes());
            params.push(0);
        }
        Matcher {
            name: p.process.as_bytes().to_vec(),
            params,
            param_match: p.param_match,
            full_command: p.full_command,
        }
    }

    /// Whether the rule looks at `comm` (and so a `PROC_EVENT_COMM` can change a match).
    pub(crate) fn uses_comm(&self) -> bool {
        !self.full_command
    }

    /// Whether `process` matches.
    pub(crate) fn matches(&self, process: &ProcessInfo) -> bool {
        if !self.full_command {
            return process.comm.as_deref() == Some(self.name.as_slice());
        }
        let cmd = &process.cmdline;
        let end = cmd.iter().position(|b| *b == 0).unwrap_or(cmd.len());
        if cmd.is_empty() || cmd[..end] != self.name[..] {
            return false;
        }
        if self.param_match == ParamMatch::None {
            return true;
        }
        let args = cmd.get(end + 1..).unwrap_or_default();
        self.params_match(args)
    }

    fn params_match(&self, args: &[u8]) -> bool {
        let want = self.params.as_slice();
        match self.param_match {
            ParamMatch::None => true,
            ParamMatch::Exact => args == want,
            ParamMatch::Partial => args.starts_with(want),
            // All but the last word's terminating NUL: the last word may continue.
            ParamMatch::Initial => args.starts_with(&want[..want.len().saturating_sub(1)]),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn matcher(body: &str) -> Matcher {
        let c =
            keepalived_conf::parse_str("k.conf", &format!("vrrp_track_process P {{\n{body}\n}}\n"))
                .unwrap();
        Matcher::new(&c.track_processes[0])
    }

    fn cmdline(words: &[&str]) -> ProcessInfo {
        let mut cmdline = Vec::new();
        for w in words {
            cmdline.extend_from_slice(w.as_bytes());
            cmdline.push(0);
        }
        ProcessInfo {
            comm: Some(b"sleep".to_vec()),
            cmdline,
        }
    }

    #[test]
    fn by_comm() {
        let m = matcher("process sleep");
        assert!(m.uses_comm());
        assert!(m.matches(&cmdline(&["/usr/bin/sleep", "5"])));
        let zombie = ProcessInfo {
            comm: None,
            cmdline: Vec::new(),
        };
        assert!(!m.matches(&zombie));
        assert!(!matcher("process sleeper").matches(&cmdline(&["sleep"])));
    }

    #[test]
    fn by_argv0_with_full_command() {
        let m = matcher("process /usr/bin/sleep\nfull_command");
        assert!(!m.uses_comm());
        assert!(m.matches(&cmdline(&["/usr/bin/sleep", "5"])));
        assert!(!m.matches(&cmdline(&["sleep", "5"])));
        assert!(!m.matches(&ProcessInfo::default()));
    }

    #[test]
    fn exact_partial_and_initial_arguments() {
        let exact = matcher("process sleep 10 x");
        assert!(exact.matches(&cmdline(&["sleep", "10", "x"])));
        assert!(!exact.matches(&cmdline(&["sleep", "10", "x", "y"])));
        assert!(!exact.matches(&cmdline(&["sleep", "10"])));
        assert!(!exact.matches(&cmdline(&["sleep", "10", "xy"])));
        let partial = matcher("process sleep 10\nparam_match partial");
        assert!(partial.matches(&cmdline(&["sleep", "10", "y"])));
        assert!(!partial.matches(&cmdline(&["sleep", "100"])));
        let initial = matcher("process sleep 10\nparam_match initial");
        assert!(initial.matches(&cmdline(&["sleep", "100"])));
        assert!(initial.matches(&cmdline(&["sleep", "10", "y"])));
        assert!(!initial.matches(&cmdline(&["sleep", "20"])));
        // `param_match` without arguments: exactly no arguments.
        let none = matcher("process sleep\nparam_match");
        assert!(none.matches(&cmdline(&["sleep"])));
        assert!(!none.matches(&cmdline(&["sleep", "1"])));
    }

    #[test]
    fn comm_and_zombies_from_stat() {
        assert_eq!(
            comm_of_stat(b"12 (my (odd) name) S 1 2 3"),
            Some(b"my (odd) name".to_vec())
        );
        assert_eq!(comm_of_stat(b"12 (sleep) Z 1 2 3"), None);
        assert_eq!(comm_of_stat(b"garbage"), None);
    }
}
