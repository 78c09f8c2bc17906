//! keepalived's `MISC_CHECK`: run a program; exit 0 is up, 1 is down, and with
//! `misc_dynamic` 2..=255 is up with weight `status - 2`.

use crate::process::{Exit, Program, RunAs};
use crate::{Check, Outcome, Reason, Weight};
use async_trait::async_trait;
use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::ExitStatus;
use tokio::time::Instant;

/// Runs an external program without a shell, in its own process group.
///
/// At the deadline (or if the probe is cancelled) the whole group is killed with
/// SIGKILL, so children of children die too; the program is always reaped. The runner is
/// [`process::Program`](crate::process::Program), usable on its own.
#[derive(Debug, Clone)]
pub struct ProgramCheck {
    program: Program,
    dynamic: bool,
}

impl ProgramCheck {
    /// Runs `program` with `args` (no shell, no `PATH` search).
    pub fn new(
        program: impl Into<PathBuf>,
        args: impl IntoIterator<Item = impl Into<OsString>>,
    ) -> Self {
        ProgramCheck {
            program: Program::new(program, args),
            dynamic: false,
        }
    }

    /// keepalived's `misc_dynamic`: exit statuses 2..=255 pass and set the weight.
    pub fn dynamic(mut self) -> Self {
        self.dynamic = true;
        self
    }

    /// keepalived's MISC_CHECK `user USER [GROUP]`: runs the program as `user`.
    pub fn run_as(mut self, user: RunAs) -> Self {
        self.program = self.program.run_as(user);
        self
    }

    async fn run(&self, deadline: Instant) -> Outcome {
        let run = self.program.run(deadline).await;
        let outcome = match &run.exit {
            Exit::Status(status) => self.verdict(*status),
            Exit::TimedOut => Outcome::Down(Reason::Timeout),
            Exit::Spawn(e) => Outcome::Down(Reason::Spawn(e.kind())),
            Exit::Wait(e) => Outcome::Down(Reason::from_io(e)),
        };
        if let (Outcome::Down(reason), Exit::Status(_)) = (&outcome, &run.exit) {
            tracing::debug!(
                program = %self.program.program().display(),
                %reason,
                stdout = %String::from_utf8_lossy(&run.stdout),
                stderr = %String::from_utf8_lossy(&run.stderr),
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

#[async_trait]
impl Check for ProgramCheck {
    async fn check(&self, deadline: Instant) -> Outcome {
        self.run(deadline).await
    }
}
