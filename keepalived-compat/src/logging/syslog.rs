//! Lines to the local syslog daemon: RFC 3164 datagrams to `/dev/log`, as glibc's `syslog(3)`
//! writes them for keepalived (`<PRI>Mmm dd hh:mm:ss Keepalived[PID]: text`).
//!
//! The socket is non-blocking: a syslog daemon that stops reading costs lines (counted, and
//! the count logged once it reads again), never a stalled caller, since the VRRP driver logs
//! from its own thread. A missing or restarted daemon is reconnected on the next line.

use std::io;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::time::civil;

/// The local syslog socket.
pub(crate) const DEV_LOG: &str = "/dev/log";

/// The ident keepalived 2.2.7's main process logs under (`PACKAGE_NAME`), so that syslog
/// filters written for keepalived keep matching.
pub(crate) const IDENT: &str = "Keepalived";

/// A syslog facility (RFC 5424 §6.2.1 numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Facility(u8);

impl Facility {
    /// `user`.
    pub(crate) const USER: Facility = Facility(1);
    /// `daemon`: keepalived's default.
    pub(crate) const DAEMON: Facility = Facility(3);

    /// `LOCALn`, for `n` in 0..=7.
    pub(crate) fn local(n: u8) -> Option<Facility> {
        (n <= 7).then_some(Facility(16 + n))
    }

    /// keepalived's `-S` argument: `0`-`7` or `local0`-`local7` (LOCAL0-7), `user`, `daemon`.
    pub(crate) fn from_option(text: &str) -> Option<Facility> {
        match text {
            "daemon" => Some(Self::DAEMON),
            "user" => Some(Self::USER),
            _ => {
                let digits = text.strip_prefix("local").unwrap_or(text);
                // One digit: keepalived's `read_unsigned` takes neither signs nor spaces.
                match digits.as_bytes() {
                    [d @ b'0'..=b'7'] => Self::local(d - b'0'),
                    _ => None,
                }
            }
        }
    }
}

/// A syslog severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Severity {
    /// `LOG_ERR`.
    Error = 3,
    /// `LOG_WARNING`.
    Warning = 4,
    /// `LOG_INFO`: what keepalived logs nearly everything at.
    Info = 6,
    /// `LOG_DEBUG`.
    Debug = 7,
}

/// The datagram glibc's `syslog(3)` would send for `text` (RFC 3164, no host name: the local
/// daemon adds it). The time is UTC: rsyslog's and journald's local socket inputs stamp
/// lines with their own receive time.
pub(crate) fn datagram(
    facility: Facility,
    severity: Severity,
    pid: u32,
    at: SystemTime,
    text: &str,
) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t = civil(at);
    let month = MONTHS
        .get(t.month.saturating_sub(1) as usize)
        .unwrap_or(&"Jan");
    format!(
        "<{}>{month} {:>2} {:02}:{:02}:{:02} {IDENT}[{pid}]: {text}",
        u16::from(facility.0) * 8 + severity as u16,
        t.day,
        t.hour,
        t.minute,
        t.second,
    )
}

/// A connection to the local syslog daemon.
#[derive(Debug)]
pub(crate) struct Syslog {
    path: PathBuf,
    facility: Facility,
    pid: u32,
    socket: Option<UnixDatagram>,
    /// Lines lost since the last one delivered.
    dropped: u64,
}

impl Syslog {
    /// Logs to the socket at `path` (normally [`DEV_LOG`]); connects on the first line.
    pub(crate) fn new(path: &Path, facility: Facility) -> Self {
        Self {
            path: path.to_owned(),
            facility,
            pid: std::process::id(),
            socket: None,
            dropped: 0,
        }
    }

    /// Sends one line. `Err` when it was not delivered (no syslog daemon, or its queue is
    /// full); the line is then counted as dropped.
    pub(crate) fn send(&mut self, severity: Severity, text: &str) -> io::Result<()> {
        let now = SystemTime::now();
        if self.dropped > 0 {
            let notice = format!(
                "{} log line(s) dropped: syslog was not reading",
                self.dropped
            );
            let gap = datagram(self.facility, Severity::Warning, self.pid, now, &notice);
            if self.deliver(&gap).is_ok() {
                self.dropped = 0;
            }
        }
        let line = datagram(self.facility, severity, self.pid, now, text);
        self.deliver(&line).inspect_err(|_| self.dropped += 1)
    }

    /// Sends `line`, connecting (once more after a failure other than a full queue).
    fn deliver(&mut self, line: &str) -> io::Result<()> {
        let first = match self.connected() {
            Ok(socket) => socket.send(line.as_bytes()),
            Err(e) => Err(e),
        };
        match first {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(e),
            // The daemon restarted (ECONNREFUSED) or was never there: try a fresh socket.
            Err(_) => {
                self.socket = None;
                self.connected()?.send(line.as_bytes()).map(drop)
            }
        }
    }

    /// The connected socket, made if needed.
    fn connected(&mut self) -> io::Result<&UnixDatagram> {
        if let Some(ref socket) = self.socket {
            return Ok(socket);
        }
        let socket = UnixDatagram::unbound()?;
        socket.connect(&self.path)?;
        socket.set_nonblocking(true)?;
        Ok(self.socket.insert(socket))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn facilities_are_keepalived_s() {
        for (text, code) in [
            ("daemon", 3),
            ("user", 1),
            ("0", 16),
            ("7", 23),
            ("local0", 16),
            ("local5", 21),
        ] {
            assert_eq!(Facility::from_option(text), Some(Facility(code)), "{text}");
        }
        for bad in ["8", "local8", "-1", "kern", "local", "05", ""] {
            assert_eq!(Facility::from_option(bad), None, "{bad}");
        }
    }

    #[test]
    fn datagrams_are_rfc_3164() {
        // 2026-12-02 08:38:40 UTC.
        let at = UNIX_EPOCH + Duration::from_secs(1_796_200_720);
        assert_eq!(
            datagram(
                Facility::DAEMON,
                Severity::Info,
                42,
                at,
                "(VI_1) Entering MASTER STATE"
            ),
            "<30>Dec  2 08:38:40 Keepalived[42]: (VI_1) Entering MASTER STATE"
        );
        assert_eq!(
            datagram(Facility::local(5).unwrap(), Severity::Error, 7, at, "x"),
            "<171>Dec  2 08:38:40 Keepalived[7]: x"
        );
    }

    #[test]
    fn lines_reach_the_socket_and_a_missing_daemon_is_counted() {
        let dir = std::env::temp_dir().join(format!("kc-syslog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("log");
        let mut syslog = Syslog::new(&path, Facility::local(2).unwrap());
        // Nobody listens yet: the line is lost and counted.
        assert!(syslog.send(Severity::Info, "lost").is_err());
        let daemon = UnixDatagram::bind(&path).unwrap();
        daemon
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        syslog.send(Severity::Warning, "hello").unwrap();
        let mut buf = [0u8; 512];
        let mut next = || {
            let n = daemon.recv(&mut buf).unwrap();
            String::from_utf8_lossy(&buf[..n]).into_owned()
        };
        let gap = next();
        assert!(gap.starts_with("<148>"), "{gap}");
        assert!(
            gap.ends_with("]: 1 log line(s) dropped: syslog was not reading"),
            "{gap}"
        );
        let line = next();
        assert!(line.starts_with("<148>"), "{line}");
        assert!(
            line.ends_with(&format!("Keepalived[{}]: hello", std::process::id())),
            "{line}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
