//! keepalived's command line, the part that concerns a VRRP-only daemon.

use std::path::PathBuf;

/// What `--help` prints.
pub const USAGE: &str = "\
usage: keepalived-compat [-f FILE] [-n] [-l] [--pid FILE] [-t]
  -f, --use-file FILE   configuration file (default /etc/keepalived/keepalived.conf)
  -n, --dont-fork       stay in the foreground
  -l, --log-console     log to the console (stderr)
  -p, --pid FILE        write the daemon's pid to FILE
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
    /// `--pid FILE`.
    pub pid_file: Option<PathBuf>,
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
            pid_file: None,
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
                "-p" | "--pid" => o.pid_file = Some(value(&flag)?.into()),
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
        assert_eq!(o.pid_file, Some(PathBuf::from("/run/k.pid")));
    }

    #[test]
    fn unknown_options_and_missing_values_are_errors() {
        assert_eq!(parse("-x").unwrap_err(), "unknown option \"-x\"");
        assert_eq!(parse("-f").unwrap_err(), "-f needs a file name");
    }
}
