//! Running an external program the way keepalived runs its scripts (feature `program`).
//!
//! [`Program`] is the one runner behind [`checkers::ProgramCheck`](crate::checkers::ProgramCheck)
//! and any other script an embedder runs (keepalived-compat's `vrrp_script`s and notify
//! scripts):
//!
//! - no shell and no `PATH` search: the program is executed as given;
//! - in its own process group (`setpgid(0, 0)`), so children of children are reached too: at
//!   the deadline the group gets SIGTERM and, if it is still there after the grace period
//!   ([`Program::grace`], keepalived's 2 s by default), SIGKILL; when the future is dropped (a
//!   cancelled probe, a daemon shutting down) it gets SIGKILL at once;
//! - optionally as another user ([`RunAs`]): `setgid`, supplementary groups cleared, then
//!   `setuid`, before `exec` (std's safe `CommandExt::gid`/`uid`; the groups are cleared by
//!   std when a uid is set while running as root);
//! - always reaped: a program that finished or was killed at its deadline is waited for
//!   before [`Program::run`] returns; one whose run was dropped is killed and left to
//!   tokio's reaper.
//!
//! stdout and stderr are read to their end (so a chatty program never blocks on a full
//! pipe); the first [`KEPT_OUTPUT`] bytes of each are returned.
//!
//! ```no_run
//! # async fn f() {
//! use std::time::Duration;
//! use healthcheck::process::{Exit, Program, RunAs};
//!
//! let run = Program::new("/usr/local/bin/check-db", ["--quick"])
//!     .run_as(RunAs { uid: 65534, gid: 65534 })
//!     .run(tokio::time::Instant::now() + Duration::from_secs(3))
//!     .await;
//! match run.exit {
//!     Exit::Status(status) if status.success() => {}
//!     Exit::TimedOut => eprintln!("stopped at the deadline, with its process group"),
//!     other => eprintln!("failed: {other:?}"),
//! }
//! # }
//! ```

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::process::{ExitStatus, Stdio};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;
use tokio::time::{Instant, sleep_until};

/// Bytes of each of stdout and stderr kept in [`Finished`]; the rest is read and dropped.
pub const KEPT_OUTPUT: usize = 512;

/// Time between SIGTERM at the deadline and SIGKILL, as keepalived 2.2.7 gives its scripts.
pub const TERM_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// How long output is still read after the program exited (a child it left running may
/// hold the pipes open).
const OUTPUT_GRACE: std::time::Duration = std::time::Duration::from_millis(100);

/// The user and group a program runs as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RunAs {
    /// The user id (`setuid`).
    pub uid: u32,
    /// The group id (`setgid`; supplementary groups are cleared).
    pub gid: u32,
}

impl RunAs {
    /// The ids this process runs as (real uid and gid).
    pub fn current() -> Self {
        RunAs {
            uid: nix::unistd::getuid().as_raw(),
            gid: nix::unistd::getgid().as_raw(),
        }
    }
}

/// How a run ended.
#[derive(Debug)]
#[non_exhaustive]
pub enum Exit {
    /// The program exited (or was killed by a signal it did not get from us).
    Status(ExitStatus),
    /// The deadline passed: the process group was killed with SIGKILL and the program reaped.
    TimedOut,
    /// The program could not be started (not found, not executable, `setuid` refused...).
    Spawn(io::Error),
    /// Waiting for the program failed.
    Wait(io::Error),
}

/// The result of [`Program::run`].
#[derive(Debug)]
#[non_exhaustive]
pub struct Finished {
    /// How the program ended.
    pub exit: Exit,
    /// The first [`KEPT_OUTPUT`] bytes of its stdout (empty if a process it left running
    /// kept the pipe open past its exit).
    pub stdout: Vec<u8>,
    /// The first [`KEPT_OUTPUT`] bytes of its stderr.
    pub stderr: Vec<u8>,
}

/// An external program: path, arguments and the user to run it as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    program: PathBuf,
    args: Vec<OsString>,
    run_as: Option<RunAs>,
    grace: std::time::Duration,
}

impl Program {
    /// `program` with `args` (no shell, no `PATH` search), as the current user.
    pub fn new(
        program: impl Into<PathBuf>,
        args: impl IntoIterator<Item = impl Into<OsString>>,
    ) -> Self {
        Program {
            program: program.into(),
            args: args.into_iter().map(Into::into).collect(),
            run_as: None,
            grace: TERM_GRACE,
        }
    }

    /// How long a program still running at its deadline has between SIGTERM and SIGKILL
    /// (default [`TERM_GRACE`]); zero sends SIGKILL at once.
    pub fn grace(mut self, grace: std::time::Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Adds arguments after those given so far.
    pub fn args(mut self, args: impl IntoIterator<Item = impl Into<OsString>>) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Runs the program as `user` (needs the privilege to switch to it, normally root).
    /// The current ids are left alone: nothing is changed when `user` is who we are.
    pub fn run_as(mut self, user: RunAs) -> Self {
        self.run_as = Some(user);
        self
    }

    /// The program's path.
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// The user it runs as, if one was set.
    pub fn user(&self) -> Option<RunAs> {
        self.run_as
    }

    /// Runs the program to its end or to `deadline`, whichever comes first (see the
    /// [module](self) for how). Dropping the future kills the process group.
    pub async fn run(&self, deadline: Instant) -> Finished {
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        if let Some(user) = self.run_as {
            let me = RunAs::current();
            if user.gid != me.gid || user.uid != me.uid {
                command.gid(user.gid);
            }
            if user.uid != me.uid {
                // std clears the supplementary groups (setgroups(0)) before setuid when
                // running as root, as keepalived does (it keeps only the gid).
                command.uid(user.uid);
            }
        }
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => return finished(Exit::Spawn(e), None),
        };
        // The child leads its own group; the guard kills the group unless the child
        // was reaped first (after which its id could be reused).
        let mut group = GroupGuard(child.id().and_then(|id| i32::try_from(id).ok()));
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let mut capture = pin!(async { tokio::join!(drain(stdout), drain(stderr)) });
        let mut captured = None;
        let status = loop {
            tokio::select! {
                status = child.wait() => break status,
                output = &mut capture, if captured.is_none() => captured = Some(output),
                () = sleep_until(deadline) => {
                    // keepalived's order: SIGTERM to the group, SIGKILL after the grace.
                    if !self.grace.is_zero() {
                        group.signal(Signal::SIGTERM);
                        let left = tokio::time::timeout(self.grace, child.wait()).await.is_ok();
                        // Whatever of its group ignored SIGTERM (or was still there when the
                        // grace ended) is killed: no process of a timed-out script lives on.
                        group.kill();
                        if !left {
                            let _ = child.wait().await;
                        }
                    } else {
                        group.kill();
                        let _ = child.wait().await;
                    }
                    group.disarm();
                    // What it printed while stopping, if the pipes are done already.
                    if captured.is_none() {
                        let until = Instant::now() + OUTPUT_GRACE;
                        captured = tokio::time::timeout_at(until, &mut capture).await.ok();
                    }
                    return finished(Exit::TimedOut, captured);
                }
            }
        };
        group.disarm();
        if captured.is_none() {
            // The pipes close with the program unless something it started keeps them:
            // wait for the rest of its output briefly, never past the deadline.
            let until = deadline.min(Instant::now() + OUTPUT_GRACE);
            captured = tokio::time::timeout_at(until, &mut capture).await.ok();
        }
        let exit = match status {
            Ok(status) => Exit::Status(status),
            Err(e) => Exit::Wait(e),
        };
        finished(exit, captured)
    }
}

fn finished(exit: Exit, captured: Option<(Vec<u8>, Vec<u8>)>) -> Finished {
    let (stdout, stderr) = captured.unwrap_or_default();
    Finished {
        exit,
        stdout,
        stderr,
    }
}

/// Reads a pipe to its end, keeping the first [`KEPT_OUTPUT`] bytes.
async fn drain(pipe: Option<impl AsyncRead + Unpin>) -> Vec<u8> {
    let mut kept = Vec::new();
    let Some(mut pipe) = pipe else {
        return kept;
    };
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = pipe.read(&mut buf).await {
        let room = KEPT_OUTPUT - kept.len();
        kept.extend_from_slice(&buf[..n.min(room)]);
    }
    kept
}

/// Kills a process group on drop unless disarmed.
struct GroupGuard(Option<i32>);

impl GroupGuard {
    fn kill(&self) {
        self.signal(Signal::SIGKILL);
    }

    fn signal(&self, signal: Signal) {
        if let Some(pgid) = self.0 {
            // ESRCH (already gone) is fine.
            let _ = killpg(Pid::from_raw(pgid), signal);
        }
    }

    fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        // Cancelled mid-run: kill the group; tokio reaps the dropped child.
        self.kill();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn runs_without_a_shell_and_reports_the_status() {
        let run = Program::new("/bin/sh", ["-c", "echo $0; exit 3", "x y"])
            .run(Instant::now() + Duration::from_secs(5))
            .await;
        assert!(matches!(run.exit, Exit::Status(s) if s.code() == Some(3)));
        assert_eq!(run.stdout, b"x y\n");
    }

    #[tokio::test]
    async fn a_missing_program_is_a_spawn_error() {
        let run = Program::new("/nonexistent/prog", [] as [&str; 0])
            .run(Instant::now() + Duration::from_secs(5))
            .await;
        assert!(matches!(run.exit, Exit::Spawn(_)), "{:?}", run.exit);
    }

    #[tokio::test]
    async fn the_deadline_kills_and_reaps() {
        let started = std::time::Instant::now();
        let run = Program::new("/bin/sleep", ["30"])
            .run(Instant::now() + Duration::from_millis(100))
            .await;
        assert!(matches!(run.exit, Exit::TimedOut));
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn the_deadline_asks_with_sigterm_first() {
        let started = std::time::Instant::now();
        let run = Program::new(
            "/bin/sh",
            ["-c", "trap 'echo terminated; exit 0' TERM; sleep 30 & wait"],
        )
        .run(Instant::now() + Duration::from_millis(200))
        .await;
        assert!(matches!(run.exit, Exit::TimedOut), "{:?}", run.exit);
        assert_eq!(run.stdout, b"terminated\n");
        // It left on SIGTERM, long before the grace was over.
        assert!(started.elapsed() < TERM_GRACE, "{:?}", started.elapsed());
    }

    #[tokio::test]
    async fn sigkill_follows_when_sigterm_is_ignored() {
        let started = std::time::Instant::now();
        let run = Program::new("/bin/sh", ["-c", "trap '' TERM; sleep 30"])
            .grace(Duration::from_millis(300))
            .run(Instant::now() + Duration::from_millis(100))
            .await;
        assert!(matches!(run.exit, Exit::TimedOut), "{:?}", run.exit);
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(400) && took < Duration::from_secs(5),
            "{took:?}"
        );
    }
}
