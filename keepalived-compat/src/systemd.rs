//! systemd's readiness protocol (`sd_notify(3)`) without libsystemd: one datagram per
//! notification to the unix socket named by `$NOTIFY_SOCKET` (a path, or an abstract name
//! written with a leading `@`), for keepalived.service's `Type=notify`.
//!
//! The daemon says `READY=1` once its first configuration is applied, `RELOADING=1` (with
//! `MONOTONIC_USEC`, as systemd 253's `Type=notify-reload` wants) when a SIGHUP reload
//! starts and `READY=1` when it is done, `STOPPING=1` when it starts to stop, each with a
//! `STATUS=` line for `systemctl status`. keepalived 2.2.7 sends the same (it also sends
//! `READY=1` with `MAINPID=`), but only when its parent is systemd as pid 1; here the
//! variable alone decides, so the protocol can be tested without systemd. Without
//! `$NOTIFY_SOCKET` nothing is sent. Scripts inherit the variable; systemd's default
//! `NotifyAccess=main` ignores what they might send.
//!
//! The socket is non-blocking: a service manager that does not read costs a notification
//! (logged), never a stalled daemon.

use std::io;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::sync::OnceLock;

use nix::time::{ClockId, clock_gettime};

/// The environment variable systemd sets for `Type=notify` services.
pub(crate) const NOTIFY_SOCKET: &str = "NOTIFY_SOCKET";

/// A notification that could not be sent.
#[derive(Debug, thiserror::Error)]
pub(crate) enum NotifyError {
    /// `$NOTIFY_SOCKET` is neither an absolute path nor an `@` abstract name (systemd 254's
    /// `vsock:` addresses among them).
    #[error("{NOTIFY_SOCKET}={0:?}: not a socket path or an @abstract name")]
    Address(String),
    /// The socket could not be made, or the datagram not sent.
    #[error("{NOTIFY_SOCKET}={address}: cannot {action}: {source}")]
    Io {
        /// The variable's value.
        address: String,
        /// What was being done.
        action: &'static str,
        /// Why it failed.
        source: io::Error,
    },
}

/// A connection to the service manager's notification socket.
#[derive(Debug)]
pub(crate) struct Notifier {
    address: String,
    target: SocketAddr,
    socket: UnixDatagram,
}

impl Notifier {
    /// The notifier `$NOTIFY_SOCKET` asks for; `Ok(None)` when it is not set.
    pub(crate) fn from_env() -> Result<Option<Self>, NotifyError> {
        match std::env::var(NOTIFY_SOCKET) {
            Ok(address) if !address.is_empty() => Self::new(&address).map(Some),
            Ok(_) | Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(raw)) => {
                Err(NotifyError::Address(raw.to_string_lossy().into_owned()))
            }
        }
    }

    /// A notifier sending to `address`: `/path` or `@abstract-name`.
    pub(crate) fn new(address: &str) -> Result<Self, NotifyError> {
        let io = |action| {
            move |source| NotifyError::Io {
                address: address.to_owned(),
                action,
                source,
            }
        };
        let target = if let Some(name) = address.strip_prefix('@') {
            SocketAddr::from_abstract_name(name.as_bytes())
        } else if address.starts_with('/') {
            SocketAddr::from_pathname(address)
        } else {
            return Err(NotifyError::Address(address.to_owned()));
        }
        .map_err(io("use the address"))?;
        let socket = UnixDatagram::unbound().map_err(io("make a socket"))?;
        socket
            .set_nonblocking(true)
            .map_err(io("make the socket non-blocking"))?;
        Ok(Self {
            address: address.to_owned(),
            target,
            socket,
        })
    }

    /// Sends `message` (newline-separated `KEY=VALUE` assignments) as one datagram.
    pub(crate) fn send(&self, message: &str) -> Result<(), NotifyError> {
        self.socket
            .send_to_addr(message.as_bytes(), &self.target)
            .map(drop)
            .map_err(|source| NotifyError::Io {
                address: self.address.clone(),
                action: "send",
                source,
            })
    }
}

/// `READY=1`: the configuration is applied (at start, and after a reload).
pub(crate) fn ready(status: &str) {
    notify(&ready_message(status, std::process::id()));
}

/// `RELOADING=1`: a reload starts.
pub(crate) fn reloading(status: &str) {
    notify(&reloading_message(status, monotonic_usec()));
}

/// `STOPPING=1`: the daemon starts to stop.
pub(crate) fn stopping(status: &str) {
    notify(&format!("STOPPING=1\nSTATUS={}", one_line(status)));
}

/// The `READY=1` datagram of process `pid`.
fn ready_message(status: &str, pid: u32) -> String {
    format!("READY=1\nSTATUS={}\nMAINPID={pid}", one_line(status))
}

/// The `RELOADING=1` datagram at `CLOCK_MONOTONIC` time `usec`.
fn reloading_message(status: &str, usec: u64) -> String {
    format!(
        "RELOADING=1\nSTATUS={}\nMONOTONIC_USEC={usec}",
        one_line(status)
    )
}

/// A status as one line: a newline would end the assignment.
fn one_line(status: &str) -> String {
    status.replace('\n', " ")
}

/// `CLOCK_MONOTONIC` in microseconds, as `MONOTONIC_USEC` wants it.
fn monotonic_usec() -> u64 {
    clock_gettime(ClockId::CLOCK_MONOTONIC).map_or(0, |t| {
        let secs = u64::try_from(t.tv_sec()).unwrap_or(0);
        let nanos = u64::try_from(t.tv_nsec()).unwrap_or(0);
        secs * 1_000_000 + nanos / 1_000
    })
}

/// Sends `message` to the process's notifier, if `$NOTIFY_SOCKET` names one; a failure is
/// logged and otherwise changes nothing.
fn notify(message: &str) {
    static NOTIFIER: OnceLock<Option<Notifier>> = OnceLock::new();
    let notifier = NOTIFIER.get_or_init(|| {
        Notifier::from_env().unwrap_or_else(|e| {
            tracing::warn!("systemd notifications disabled: {e}");
            None
        })
    });
    if let Some(n) = notifier
        && let Err(e) = n.send(message)
    {
        tracing::warn!("systemd notification not sent: {e}");
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::time::Duration;

    #[test]
    fn messages_are_sd_notify_assignments() {
        assert_eq!(
            ready_message("Running 1 VRRP instance(s)", 42),
            "READY=1\nSTATUS=Running 1 VRRP instance(s)\nMAINPID=42"
        );
        assert_eq!(
            reloading_message("a\nb", 7),
            "RELOADING=1\nSTATUS=a b\nMONOTONIC_USEC=7"
        );
        let (a, b) = (monotonic_usec(), monotonic_usec());
        assert!(a > 0 && b >= a);
    }

    #[test]
    fn datagrams_reach_path_and_abstract_sockets() {
        let dir = std::env::temp_dir().join(format!("kc-notify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify");
        let by_path = UnixDatagram::bind(&path).unwrap();
        let name = format!("kc-notify-test-{}", std::process::id());
        let by_name =
            UnixDatagram::bind_addr(&SocketAddr::from_abstract_name(name.as_bytes()).unwrap())
                .unwrap();
        for (socket, address) in [
            (&by_path, path.to_str().unwrap().to_owned()),
            (&by_name, format!("@{name}")),
        ] {
            socket
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            Notifier::new(&address).unwrap().send("READY=1").unwrap();
            let mut buf = [0u8; 64];
            let n = socket.recv(&mut buf).unwrap();
            assert_eq!(&buf[..n], b"READY=1", "{address}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn other_addresses_are_refused() {
        for bad in ["relative/path", "vsock:2:1234"] {
            assert!(
                matches!(Notifier::new(bad), Err(NotifyError::Address(_))),
                "{bad}"
            );
        }
    }
}
