//! keepalived's command line, the part that concerns a VRRP-only daemon.

use std::path::PathBuf;

/// What `--help` prints.
pub const USAGE: &str = "\
usage: keepalived-compat [-f FILE] [-n] [-l] [--pid FILE] [-r FILE] [-P] [-D] [-t]
  -f, --use-file FILE   configuration file (default /etc/keepalived/keepalived.conf)
  -n, --dont-fork       stay in the foreground
  -l, --log-console     log to the console (stderr)
  -p, --pid FILE        write the daemon's pid to FILE
  -r, --vrrp_pid FILE   the same (keepalived's VRRP child pid file: this daemon is one process)
  -P, --vrrp            accepted: this daemon only ever runs the VRRP part
  -D, --log-detail      accepted: every state change is logged in detail with -l anyway
  -t, --config-test     check the configuration and exit
  -h, --help            this text";

/// Parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `-f FILE`.
    pub config: PathBuf,
    /// `-n`.
    pub foreground: bool,
    /// `-l`.
    pub log_console: bool,
    /// `--pid FILE` and `--vrrp_pid FILE`: files that get the daemon's pid.
    pub pid_files: Vec<PathBuf>,
    /// `-t`.
    pub config_test: bool,
    /// `-h`.
    pub help: bool,
}

impl Options {
    /// Parses the arguments after the program name.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut o = Options {
            config: PathBuf::from("/etc/keepalived/keepalived.conf"),
            foreground: false,
            log_console: false,
            pid_files: Vec::new(),
            config_test: false,
            help: false,
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
                _ => (arg.clone(), None),
            };
            let mut value = |name: &str| {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or(format!("{name} needs a file name"))
            };
            match flag.as_str() {
                "-f" | "--use-file" => o.config = value(&flag)?.into(),
                "-p" | "--pid" | "-r" | "--vrrp_pid" => o.pid_files.push(value(&flag)?.into()),
                "-P" | "--vrrp" | "-D" | "--log-detail" => {}
                "-n" | "--dont-fork" => o.foreground = true,
                "-l" | "--log-console" => o.log_console = true,
                "-t" | "--config-test" => o.config_test = true,
                "-h" | "--help" => o.help = true,
                other => return Err(format!("unknown option {other:?}")),
            }
        }
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse(s: &str) -> Result<Options, String> {
        Options::parse(s.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn keepalived_options_parse() {
        let o = parse("-f /tmp/k.conf -n -l --pid=/run/k.pid").unwrap();
        assert_eq!(o.config, PathBuf::from("/tmp/k.conf"));
        assert!(o.foreground && o.log_console);
        assert_eq!(o.pid_files, [PathBuf::from("/run/k.pid")]);
        let o = parse("-P -D -p /run/a.pid -r /run/b.pid").unwrap();
        assert_eq!(
            o.pid_files,
            [PathBuf::from("/run/a.pid"), PathBuf::from("/run/b.pid")]
        );
    }

    #[test]
    fn unknown_options_and_missing_values_are_errors() {
        assert_eq!(parse("-x").unwrap_err(), "unknown option \"-x\"");
        assert_eq!(parse("-f").unwrap_err(), "-f needs a file name");
    }
}
