//! keepalived's `MISC_CHECK`: run a program; exit 0 is up, 1 is down, and with
//! `misc_dynamic` 2..=255 is up with weight `status - 2`.

use crate::{Check, Outcome, Reason, Weight};
use async_trait::async_trait;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::pin::pin;
use std::process::{ExitStatus, Stdio};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;
use tokio::time::{Instant, sleep_until};

/// Bytes of each of stdout and stderr kept for the log; the rest is read and dropped
/// so a chatty program never blocks on a full pipe.
const KEPT_OUTPUT: usize = 512;

/// Runs an external program without a shell, in its own process group.
///
/// At the deadline (or if the probe is cancelled) the whole group is killed with
/// SIGKILL, so children of children die too; the program is always reaped.
#[derive(Debug, Clone)]
pub struct ProgramCheck {
    program: PathBuf,
    args: Vec<OsString>,
    dynamic: bool,
}

impl ProgramCheck {
    /// Runs `program` with `args` (no shell, no `PATH` search).
    pub fn new(
        program: impl Into<PathBuf>,
        args: impl IntoIterator<Item = impl Into<OsString>>,
    ) -> Self {
        ProgramCheck {
            program: program.into(),
            args: args.into_iter().map(Into::into).collect(),
            dynamic: false,
        }
    }

    /// keepalived's `misc_dynamic`: exit statuses 2..=255 pass and set the weight.
    pub fn dynamic(mut self) -> Self {
        self.dynamic = true;
        self
    }

    async fn run(&self, deadline: Instant) -> Outcome {
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => return Outcome::Down(Reason::Spawn(e.kind())),
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
                    group.kill();
                    let _ = child.wait().await;
                    group.disarm();
                    return Outcome::Down(Reason::Timeout);
                }
            }
        };
        group.disarm();
        let status = match status {
            Ok(status) => status,
            Err(e) => return Outcome::Down(Reason::from_io(&e)),
        };
        let outcome = self.verdict(status);
        if let (Outcome::Down(reason), Some((out, err))) = (&outcome, &captured) {
            tracing::debug!(
                program = %self.program.display(),
                %reason,
                stdout = %String::from_utf8_lossy(out),
                stderr = %String::from_utf8_lossy(err),
                "program check failed"
            );
        }
        outcome
    }

    fn verdict(&self, status: ExitStatus) -> Outcome {
        match (status.code(), status.signal()) {
            (Some(0), _) => Outcome::UP,
            (Some(code @ 2..=255), _) if self.dynamic => {
                Outcome::Up(Weight::Set(code.unsigned_abs() - 2))
            }
            (Some(code), _) => Outcome::Down(Reason::Exit(code)),
            (None, Some(signal)) => Outcome::Down(Reason::Signal(signal)),
            (None, None) => Outcome::Down(Reason::Exit(-1)),
        }
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
        if let Some(pgid) = self.0 {
            // ESRCH (already gone) is fine.
            let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
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

#[async_trait]
impl Check for ProgramCheck {
    async fn check(&self, deadline: Instant) -> Outcome {
        self.run(deadline).await
    }
}
