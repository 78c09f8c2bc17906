//! keepalived's command line (the VRRP and checker parts) and `--genhash`.

use std::path::PathBuf;

/// What `--help` prints.
pub(crate) const USAGE: &str = "\
usage: keepalived-compat [-f FILE] [-n] [-l] [--pid FILE] [-r FILE] [-P|-C] [-D] [-t] [--no-ipvs]
                         [--no-crash-supervisor]
       keepalived-compat --signum=STOP|RELOAD|DATA|STATS|STATS_CLEAR|JSON
       keepalived-compat --genhash -s SERVER -p PORT -u URL [-S] [-I] [-V VHOST] [-P 1.0|1.0C|1.1] [-t SECS]
  -f, --use-file FILE   configuration file (default /etc/keepalived/keepalived.conf)
  -n, --dont-fork       stay in the foreground
  -l, --log-console     log to the console (stderr)
  -p, --pid FILE        write the daemon's pid to FILE
  -r, --vrrp_pid FILE   the same (keepalived's VRRP child pid file: this daemon is one process)
  -c, --checkers_pid FILE  the same (keepalived's checker child pid file)
  -P, --vrrp            run only the VRRP part
  -C, --check           run only the health-checking part (virtual_server)
      --no-ipvs         run the checkers but only report pool changes (log and FIFO),
                        without programming IPVS
      --no-crash-supervisor
                        do not start the crash supervisor (by default a small second
                        process sends the masters' priority-0 adverts and removes their
                        VIPs if this one dies without a graceful stop)
      --genhash         print the MD5 digest of a URL's body, like keepalived's genhash
  -D, --log-detail      accepted: every state change is logged in detail with -l anyway
  -t, --config-test     check the configuration as a start would (interfaces, core
                        validation, scripts, regexes) and exit, non-zero on a problem
      --signum=SIGFUNC  print the number of the signal for STOP, RELOAD, DATA, STATS,
                        STATS_CLEAR or JSON, and exit
  -h, --help            this text";

/// Parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Options {
    /// `-f FILE`.
    pub(crate) config: PathBuf,
    /// `-n`.
    pub(crate) foreground: bool,
    /// `-l`.
    pub(crate) log_console: bool,
    /// `--pid FILE` and `--vrrp_pid FILE`: files that get the daemon's pid.
    pub(crate) pid_files: Vec<PathBuf>,
    /// `-t`.
    pub(crate) config_test: bool,
    /// `-h`.
    pub(crate) help: bool,
    /// `-P`: VRRP only.
    pub(crate) vrrp_only: bool,
    /// `-C`: checkers only.
    pub(crate) check_only: bool,
    /// `--no-ipvs`.
    pub(crate) no_ipvs: bool,
    /// `--signum=NAME`: print that signal's number and exit.
    pub(crate) signum: Option<String>,
    /// Whether the crash supervisor runs (`--no-crash-supervisor` turns it off).
    pub(crate) crash_supervisor: bool,
}

impl Options {
    /// Parses the arguments after the program name.
    pub(crate) fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut o = Options {
            config: PathBuf::from("/etc/keepalived/keepalived.conf"),
            foreground: false,
            log_console: false,
            pid_files: Vec::new(),
            config_test: false,
            help: false,
            vrrp_only: false,
            check_only: false,
            no_ipvs: false,
            signum: None,
            crash_supervisor: true,
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
                "-p" | "--pid" | "-r" | "--vrrp_pid" | "-c" | "--checkers_pid" => {
                    o.pid_files.push(value(&flag)?.into())
                }
                "-P" | "--vrrp" => o.vrrp_only = true,
                "-C" | "--check" => o.check_only = true,
                "--no-ipvs" => o.no_ipvs = true,
                "--no-crash-supervisor" => o.crash_supervisor = false,
                "--signum" => {
                    let name = value(&flag)
                        .map_err(|_| "--signum needs a signal function name".to_owned())?;
                    o.signum = Some(name);
                }
                "-D" | "--log-detail" => {}
                "-n" | "--dont-fork" => o.foreground = true,
                "-l" | "--log-console" => o.log_console = true,
                "-t" | "--config-test" => o.config_test = true,
                "-h" | "--help" => o.help = true,
                other => return Err(format!("unknown option {other:?}")),
            }
        }
        if o.vrrp_only && o.check_only {
            return Err("-P and -C exclude each other".to_owned());
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
        assert!(o.crash_supervisor);
        assert!(!parse("--no-crash-supervisor").unwrap().crash_supervisor);
        let o = parse("-P -D -p /run/a.pid -r /run/b.pid").unwrap();
        assert_eq!(
            o.pid_files,
            [PathBuf::from("/run/a.pid"), PathBuf::from("/run/b.pid")]
        );
    }

    #[test]
    fn checker_options_parse() {
        let o = parse("-C --no-ipvs -c /run/c.pid").unwrap();
        assert!(o.check_only && o.no_ipvs && !o.vrrp_only);
        assert_eq!(o.pid_files, [PathBuf::from("/run/c.pid")]);
        assert!(parse("-P").unwrap().vrrp_only);
        assert_eq!(parse("-P -C").unwrap_err(), "-P and -C exclude each other");
    }

    #[test]
    fn signum_takes_a_name() {
        assert_eq!(
            parse("--signum=JSON").unwrap().signum.as_deref(),
            Some("JSON")
        );
        assert_eq!(
            parse("--signum STOP").unwrap().signum.as_deref(),
            Some("STOP")
        );
        assert_eq!(
            parse("--signum").unwrap_err(),
            "--signum needs a signal function name"
        );
    }

    #[test]
    fn unknown_options_and_missing_values_are_errors() {
        assert_eq!(parse("-x").unwrap_err(), "unknown option \"-x\"");
        assert_eq!(parse("-f").unwrap_err(), "-f needs a file name");
    }
}
