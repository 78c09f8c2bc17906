//! One `tracing` event as one log line.
//!
//! The daemon's own events are its message alone, as keepalived's lines are; a library's
//! carry their level and target in front and their fields after the message
//! (`WARN vrrp_net::driver: cannot announce instance=VI_1 error=...`), so an operator can
//! tell where a warning came from.

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::{Event, Level};

use super::syslog::Severity;

/// The daemon's own target prefix.
pub(crate) const OURS: &str = "keepalived_compat";

/// An event's text and severity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    /// Its syslog severity.
    pub(crate) severity: Severity,
    /// The text, one line.
    pub(crate) text: String,
}

impl Line {
    /// The line for `event`.
    pub(crate) fn of(event: &Event<'_>) -> Self {
        let meta = event.metadata();
        let mut fields = Fields::default();
        event.record(&mut fields);
        Self::new(meta.level(), meta.target(), &fields.message, &fields.rest)
    }

    /// The line for an event of `level` from `target` with `message` and the other fields
    /// already formatted (` key=value` each).
    fn new(level: &Level, target: &str, message: &str, rest: &str) -> Self {
        let severity = match *level {
            Level::ERROR => Severity::Error,
            Level::WARN => Severity::Warning,
            Level::INFO => Severity::Info,
            _ => Severity::Debug,
        };
        let text = if target == OURS || target.starts_with("keepalived_compat::") {
            format!("{message}{rest}")
        } else {
            format!("{level} {target}: {message}{rest}")
        };
        // One event, one line: syslog and line-reading tools expect no breaks.
        let text = if text.contains('\n') {
            text.replace('\n', " ")
        } else {
            text
        };
        Self { severity, text }
    }
}

/// The message and the other fields of an event.
#[derive(Default)]
struct Fields {
    message: String,
    rest: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.rest, " {}={value}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.rest, " {}={value:?}", field.name());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ours_are_the_message_libraries_say_where_from() {
        let ours = Line::new(
            &Level::INFO,
            "keepalived_compat::daemon",
            "(VI_1) Entering MASTER STATE",
            "",
        );
        assert_eq!(ours.text, "(VI_1) Entering MASTER STATE");
        assert_eq!(ours.severity, Severity::Info);
        let theirs = Line::new(
            &Level::WARN,
            "vrrp_net::driver",
            "cannot announce",
            " instance=VI_1",
        );
        assert_eq!(
            theirs.text,
            "WARN vrrp_net::driver: cannot announce instance=VI_1"
        );
        assert_eq!(theirs.severity, Severity::Warning);
        let broken = Line::new(&Level::ERROR, OURS, "a\nb", "");
        assert_eq!(
            (broken.text.as_str(), broken.severity),
            ("a b", Severity::Error)
        );
    }
}
