//! The signals keepalived 2.2.7 handles, and what each asks of the daemon.
//!
//! keepalived (`core/main.c`, `vrrp/vrrp_daemon.c`, `check/check_daemon.c`, `lib/signals.h`):
//!
//! | signal                    | `--signum=` | keepalived                              |
//! |---------------------------|-------------|-----------------------------------------|
//! | SIGTERM, SIGINT           | STOP        | graceful stop                           |
//! | SIGHUP                    | RELOAD      | reload the configuration                |
//! | SIGUSR1                   | DATA        | `keepalived.data` (VRRP), `.check`      |
//! | SIGUSR2                   | STATS       | `keepalived.stats` (VRRP only)          |
//! | SIGRTMAX - 1              | STATS_CLEAR | `keepalived.stats`, then counters zeroed|
//! | SIGRTMIN + 2              | JSON        | `keepalived.json` (VRRP only)           |
//! | SIGXCPU                   |             | logs that the CPU time limit was hit    |
//! | SIGPIPE                   |             | ignored                                 |
//!
//! SIGPIPE is ignored by the Rust runtime before `main`, and SIGCHLD's default action is to
//! ignore it (tokio reaps the scripts), so neither needs a handler here. keepalived's
//! `TDUMP` (SIGRTMAX, a thread dump) exists only in builds with `THREAD_DUMP`, which the
//! distributions' 2.2.7 is not, so it is neither accepted by `--signum` nor handled.

use std::io;

use nix::libc;
use tokio::signal::unix::{Signal, SignalKind, signal};

/// What a signal asks the daemon to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Request {
    /// SIGTERM or SIGINT: stop gracefully.
    Stop,
    /// SIGHUP: reload the configuration.
    Reload,
    /// SIGUSR1: write the data dump.
    DataDump,
    /// SIGUSR2 (`clear: false`) or SIGSTATS_CLEAR (`clear: true`): write the stats dump, then
    /// zero the counters if `clear`.
    StatsDump {
        /// SIGSTATS_CLEAR.
        clear: bool,
    },
    /// SIGJSON: write the JSON dump.
    JsonDump,
    /// SIGXCPU: a CPU time limit was exceeded.
    CpuLimit,
}

/// keepalived's SIGJSON.
pub(crate) fn sigjson() -> i32 {
    libc::SIGRTMIN() + 2
}

/// keepalived's SIGSTATS_CLEAR.
pub(crate) fn sigstats_clear() -> i32 {
    libc::SIGRTMAX() - 1
}

/// The signal number `--signum=NAME` prints, for the names keepalived 2.2.7 (built with
/// JSON support) accepts; `None` for any other name.
pub(crate) fn signum(name: &str) -> Option<i32> {
    Some(match name {
        "STOP" => libc::SIGTERM,
        "RELOAD" => libc::SIGHUP,
        "DATA" => libc::SIGUSR1,
        "STATS" => libc::SIGUSR2,
        "STATS_CLEAR" => sigstats_clear(),
        "JSON" => sigjson(),
        _ => return None,
    })
}

/// The daemon's handlers for every signal of [`Request`], installed together.
pub(crate) struct Signals {
    streams: Vec<(Request, Signal)>,
}

impl Signals {
    /// Installs the handlers; from here on none of these signals kills the process. Must be
    /// called inside a tokio runtime.
    pub(crate) fn install() -> io::Result<Self> {
        let wanted = [
            (Request::Stop, libc::SIGTERM),
            (Request::Stop, libc::SIGINT),
            (Request::Reload, libc::SIGHUP),
            (Request::DataDump, libc::SIGUSR1),
            (Request::StatsDump { clear: false }, libc::SIGUSR2),
            (Request::StatsDump { clear: true }, sigstats_clear()),
            (Request::JsonDump, sigjson()),
            (Request::CpuLimit, libc::SIGXCPU),
        ];
        let mut streams = Vec::with_capacity(wanted.len());
        for (request, number) in wanted {
            let stream = signal(SignalKind::from_raw(number)).map_err(|e| {
                io::Error::new(e.kind(), format!("cannot handle signal {number}: {e}"))
            })?;
            streams.push((request, stream));
        }
        Ok(Self { streams })
    }

    /// Waits for the next signal. Signals of one kind that arrive before this is called again
    /// coalesce into one request, as keepalived's do.
    pub(crate) async fn next(&mut self) -> Request {
        let waits = self.streams.iter_mut().map(|(request, stream)| {
            let request = *request;
            Box::pin(async move {
                // `recv` yields `None` only once the runtime shuts down; then nothing more
                // will arrive from this stream, so it never completes.
                match stream.recv().await {
                    Some(()) => request,
                    None => std::future::pending().await,
                }
            })
        });
        futures::future::select_all(waits).await.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signum_names_are_keepalived_s() {
        assert_eq!(signum("STOP"), Some(15));
        assert_eq!(signum("RELOAD"), Some(1));
        assert_eq!(signum("DATA"), Some(10));
        assert_eq!(signum("STATS"), Some(12));
        // glibc: SIGRTMIN 34, SIGRTMAX 64 (keepalived 2.2.7 prints 36 and 63).
        assert_eq!(signum("JSON"), Some(libc::SIGRTMIN() + 2));
        assert_eq!(signum("STATS_CLEAR"), Some(libc::SIGRTMAX() - 1));
        assert_eq!(signum("TDUMP"), None);
        assert_eq!(signum("stop"), None);
    }
}
