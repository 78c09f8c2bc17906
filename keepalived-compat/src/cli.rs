//! keepalived 2.2.7's command line, every option of its `main.c` table, and this daemon's
//! own two (`--no-ipvs`, `--no-crash-supervisor`).
//!
//! Each option is either carried out or accepted with a warning saying why it changes
//! nothing here ([`Options::warnings`]), so that a command line written for keepalived
//! (keepalived.service's `$DAEMON_ARGS`, an Ansible role's template) starts this daemon
//! unchanged. The spellings are getopt_long's ([`getopt`]). keepalived's `-T` / `--genhash`
//! hands the rest of the line to genhash, as keepalived does.

mod getopt;

use std::path::{Path, PathBuf};

use getopt::{Found, Getopt, HasArg, Spec};

use crate::logging::Facility;

/// The pid file keepalived 2.2.7 uses when `-p` is not given (`RUNSTATEDIR/keepalived.pid`).
pub(crate) const DEFAULT_PID_FILE: &str = "/run/keepalived.pid";

/// The pid file's default with `-s NAME` (keepalived's `use_pid_dir`).
const NAMESPACE_PID_FILE: &str = "/run/keepalived/keepalived.pid";

/// What `--help` prints.
pub(crate) const USAGE: &str = "\
usage: keepalived-compat [OPTION...]
       keepalived-compat --signum=STOP|RELOAD|DATA|STATS|STATS_CLEAR|JSON
       keepalived-compat --genhash -s SERVER -p PORT -u URL [-S] [-I] [-V VHOST] [-P 1.0|1.0C|1.1] [-t SECS]
Every option of keepalived 2.2.7 is accepted; those that change nothing here say so in a
warning when given.
  -f, --use-file=FILE        configuration file (default /etc/keepalived/keepalived.conf)
  -P, --vrrp                 run only the VRRP part
  -C, --check                run only the health-checking part (virtual_server)
  -n, --dont-fork            stay in the foreground (keepalived.service passes it)
  -p, --pid=FILE             pid file, locked while the daemon runs (default
                             /run/keepalived.pid; /run/keepalived/keepalived.pid with -s); a
                             second daemon with the same pid file refuses to start, status 3
  -r, --vrrp_pid=FILE        also write and lock FILE (keepalived's VRRP process pid file;
                             this daemon is one process, so it holds the same pid)
  -c, --checkers_pid=FILE    the same for keepalived's checker process pid file
  -l, --log-console          log to stderr as well
  -D, --log-detail           log the libraries' information too (twice: their debug lines)
  -S, --log-facility=FACILITY
                             syslog facility: 0-7 or local0-7 (LOCAL0-7), user, daemon
                             (default)
  -g, --log-file[=FILE]      also log to FILE (default keepalived.log; a relative name is
                             taken in $TMPDIR or /tmp)
  -G, --no-syslog            do not log to syslog (/dev/log)
  -u, --umask=MASK           the process umask (octal with a leading 0, hex with 0x)
  -s, --namespace=NAME       run in network namespace NAME (/run/netns/NAME)
  -i, --config-id=ID         the config id of `@ID` / `@^ID` lines and ${_INSTANCE}
                             (default: the host name up to its first dot)
  -t, --config-test[=FILE]   check the configuration as a start would (interfaces, core
                             validation, scripts, regexes) and exit, 1 on a problem; with
                             FILE, the report is appended to FILE
  -T, --genhash              genhash mode: the rest of the line is genhash's
      --signum=SIGFUNC       print the number of the signal for STOP, RELOAD, DATA, STATS,
                             STATS_CLEAR or JSON, and exit
      --no-ipvs              run the checkers but only report pool changes (log and FIFO),
                             without programming IPVS
      --no-crash-supervisor  do not start the crash supervisor (by default a small second
                             process sends the masters' priority-0 adverts and removes their
                             VIPs if this one dies without a graceful stop)
  -v, --version              print the version and exit
  -h, --help                 this text
Accepted with a warning, no effect here: -B/--no_bfd, --all, -e/--all-config,
  --flush-log-file, -X/--release-vips, -V/--dont-release-vrrp, -I/--dont-release-ipvs,
  -R/--dont-respawn, -d/--dump-conf, -a/--address-monitoring, -b/--bfd_pid=FILE,
  -x/--snmp, -A/--snmp-agent-socket=FILE, -m/--core-dump, -M/--core-dump-pattern[=PATN],
  --no-mem-check, -L/--mem-check-log, --config-fd=FD, --perf[=TYPE], --debug[=OPTIONS]";

/// Every option: keepalived 2.2.7's (its build with VRRP, LVS, BFD, SNMP, and the options
/// of its debug and log-file builds) and this daemon's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opt {
    UseFile,
    Vrrp,
    Check,
    NoBfd,
    All,
    LogConsole,
    LogDetail,
    LogFacility,
    LogFile,
    AllConfig,
    FlushLogFile,
    NoSyslog,
    Umask,
    ReleaseVips,
    DontReleaseVrrp,
    DontReleaseIpvs,
    DontRespawn,
    DontFork,
    DumpConf,
    Pid,
    VrrpPid,
    Genhash,
    CheckersPid,
    AddressMonitoring,
    BfdPid,
    Snmp,
    SnmpAgentSocket,
    CoreDump,
    CoreDumpPattern,
    NoMemCheck,
    MemCheckLog,
    Namespace,
    ConfigId,
    Signum,
    ConfigTest,
    ConfigFd,
    Perf,
    Debug,
    Version,
    Help,
    NoIpvs,
    NoCrashSupervisor,
}

/// A table row.
const fn spec(short: Option<char>, long: &'static str, arg: HasArg, key: Opt) -> Spec<Opt> {
    Spec {
        short,
        long,
        arg,
        key,
    }
}

/// keepalived 2.2.7's `long_options` (and `getopt_long` string), in its order, then ours.
const TABLE: [Spec<Opt>; 42] = [
    spec(Some('f'), "use-file", HasArg::Required, Opt::UseFile),
    spec(Some('P'), "vrrp", HasArg::No, Opt::Vrrp),
    spec(Some('C'), "check", HasArg::No, Opt::Check),
    spec(Some('B'), "no_bfd", HasArg::No, Opt::NoBfd),
    spec(None, "all", HasArg::No, Opt::All),
    spec(Some('l'), "log-console", HasArg::No, Opt::LogConsole),
    spec(Some('D'), "log-detail", HasArg::No, Opt::LogDetail),
    spec(
        Some('S'),
        "log-facility",
        HasArg::Required,
        Opt::LogFacility,
    ),
    spec(Some('g'), "log-file", HasArg::Optional, Opt::LogFile),
    spec(Some('e'), "all-config", HasArg::No, Opt::AllConfig),
    spec(None, "flush-log-file", HasArg::No, Opt::FlushLogFile),
    spec(Some('G'), "no-syslog", HasArg::No, Opt::NoSyslog),
    spec(Some('u'), "umask", HasArg::Required, Opt::Umask),
    spec(Some('X'), "release-vips", HasArg::No, Opt::ReleaseVips),
    spec(
        Some('V'),
        "dont-release-vrrp",
        HasArg::No,
        Opt::DontReleaseVrrp,
    ),
    spec(
        Some('I'),
        "dont-release-ipvs",
        HasArg::No,
        Opt::DontReleaseIpvs,
    ),
    spec(Some('R'), "dont-respawn", HasArg::No, Opt::DontRespawn),
    spec(Some('n'), "dont-fork", HasArg::No, Opt::DontFork),
    spec(Some('d'), "dump-conf", HasArg::No, Opt::DumpConf),
    spec(Some('p'), "pid", HasArg::Required, Opt::Pid),
    spec(Some('r'), "vrrp_pid", HasArg::Required, Opt::VrrpPid),
    spec(Some('T'), "genhash", HasArg::No, Opt::Genhash),
    spec(
        Some('c'),
        "checkers_pid",
        HasArg::Required,
        Opt::CheckersPid,
    ),
    spec(
        Some('a'),
        "address-monitoring",
        HasArg::No,
        Opt::AddressMonitoring,
    ),
    spec(Some('b'), "bfd_pid", HasArg::Required, Opt::BfdPid),
    spec(Some('x'), "snmp", HasArg::No, Opt::Snmp),
    spec(
        Some('A'),
        "snmp-agent-socket",
        HasArg::Required,
        Opt::SnmpAgentSocket,
    ),
    spec(Some('m'), "core-dump", HasArg::No, Opt::CoreDump),
    spec(
        Some('M'),
        "core-dump-pattern",
        HasArg::Optional,
        Opt::CoreDumpPattern,
    ),
    spec(None, "no-mem-check", HasArg::No, Opt::NoMemCheck),
    spec(Some('L'), "mem-check-log", HasArg::No, Opt::MemCheckLog),
    spec(Some('s'), "namespace", HasArg::Required, Opt::Namespace),
    spec(Some('i'), "config-id", HasArg::Required, Opt::ConfigId),
    spec(None, "signum", HasArg::Required, Opt::Signum),
    spec(Some('t'), "config-test", HasArg::Optional, Opt::ConfigTest),
    spec(None, "config-fd", HasArg::Required, Opt::ConfigFd),
    spec(None, "perf", HasArg::Optional, Opt::Perf),
    spec(None, "debug", HasArg::Optional, Opt::Debug),
    spec(Some('v'), "version", HasArg::No, Opt::Version),
    spec(Some('h'), "help", HasArg::No, Opt::Help),
    spec(None, "no-ipvs", HasArg::No, Opt::NoIpvs),
    spec(
        None,
        "no-crash-supervisor",
        HasArg::No,
        Opt::NoCrashSupervisor,
    ),
];

/// Why an accepted option changes nothing here; `None` for options that are carried out.
fn no_effect(opt: Opt) -> Option<&'static str> {
    Some(match opt {
        Opt::NoBfd => "keepalived-compat has no BFD part: nothing to leave out",
        Opt::All => "keepalived-compat is one process: there are no child processes to force",
        Opt::AllConfig => "not implemented: included files are read as keepalived-conf reads them",
        Opt::FlushLogFile => "the log file is written line by line anyway",
        Opt::ReleaseVips => "not implemented",
        Opt::DontReleaseVrrp => "not implemented: the VIPs are removed at stop",
        Opt::DontReleaseIpvs => "not implemented: the IPVS services are removed at stop",
        Opt::DontRespawn => "keepalived-compat is one process: there is no child to respawn",
        Opt::DumpConf => "not implemented",
        Opt::AddressMonitoring => "not implemented",
        Opt::BfdPid => "keepalived-compat has no BFD part",
        Opt::Snmp | Opt::SnmpAgentSocket => "keepalived-compat has no SNMP agent",
        Opt::CoreDump | Opt::CoreDumpPattern => {
            "not implemented: core dumps follow the system's settings (LimitCORE=, core_pattern)"
        }
        Opt::NoMemCheck | Opt::MemCheckLog | Opt::Perf | Opt::Debug => {
            "an option of keepalived's debugging builds: no meaning here"
        }
        Opt::ConfigFd => "keepalived's internal option: no meaning here",
        _ => return None,
    })
}

/// Parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Options {
    /// `-f FILE`.
    pub(crate) config: PathBuf,
    /// `-n`.
    pub(crate) foreground: bool,
    /// `-l`.
    pub(crate) log_console: bool,
    /// How many `-D`s.
    pub(crate) log_detail: u8,
    /// `-S FACILITY`.
    pub(crate) log_facility: Facility,
    /// `-g[FILE]`: the name as given (`keepalived.log` when none was).
    pub(crate) log_file: Option<PathBuf>,
    /// Logging to syslog (`-G` turns it off).
    pub(crate) syslog: bool,
    /// `-u MASK`.
    pub(crate) umask: Option<u32>,
    /// `-p FILE`.
    pub(crate) pid: Option<PathBuf>,
    /// `-r FILE`.
    pub(crate) vrrp_pid: Option<PathBuf>,
    /// `-c FILE`.
    pub(crate) checkers_pid: Option<PathBuf>,
    /// `-s NAME`.
    pub(crate) namespace: Option<String>,
    /// `-i ID`: the config id (see [`Options::config_id`] for the default).
    pub(crate) config_id: Option<String>,
    /// `-t`.
    pub(crate) config_test: bool,
    /// `-tFILE`: where `-t` reports.
    pub(crate) config_test_log: Option<PathBuf>,
    /// `-h`.
    pub(crate) help: bool,
    /// `-v`.
    pub(crate) version: bool,
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
    /// `-T` / `--genhash`: the arguments after it, for genhash.
    pub(crate) genhash: Option<Vec<String>>,
    /// What the command line asked that is not done (options without effect here, invalid
    /// values keepalived also only warns about, stray operands), one line each.
    pub(crate) warnings: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            config: PathBuf::from("/etc/keepalived/keepalived.conf"),
            foreground: false,
            log_console: false,
            log_detail: 0,
            log_facility: Facility::DAEMON,
            log_file: None,
            syslog: true,
            umask: None,
            pid: None,
            vrrp_pid: None,
            checkers_pid: None,
            namespace: None,
            config_id: None,
            config_test: false,
            config_test_log: None,
            help: false,
            version: false,
            vrrp_only: false,
            check_only: false,
            no_ipvs: false,
            signum: None,
            crash_supervisor: true,
            genhash: None,
            warnings: Vec::new(),
        }
    }
}

impl Options {
    /// Parses the arguments after the program name. `Err` is keepalived's message for a
    /// command line it refuses too (an unknown option, a missing argument).
    pub(crate) fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut o = Options::default();
        let mut getopt = Getopt::new(&TABLE, args);
        let mut first = true;
        let mut operands = Vec::new();
        while let Some(found) = getopt.next_item() {
            let (key, name, value) = match found.map_err(|e| e.to_string())? {
                Found::Operand(word) => {
                    operands.push(word);
                    continue;
                }
                Found::Option { key, name, value } => (key, name, value),
            };
            if key == Opt::Genhash {
                if !first {
                    o.warnings.push(format!(
                        "{name} not used as first option, previous options ignored"
                    ));
                }
                o.genhash = Some(getopt.rest());
                return Ok(o);
            }
            first = false;
            o.apply(key, &name, value);
        }
        if !operands.is_empty() {
            o.warnings.push(format!(
                "Unexpected argument(s), ignored: {}",
                operands.join(" ")
            ));
        }
        if o.vrrp_only && o.check_only {
            return Err("-P and -C exclude each other".to_owned());
        }
        Ok(o)
    }

    /// Records option `key` (written `name`) with its argument.
    fn apply(&mut self, key: Opt, name: &str, value: Option<String>) {
        if let Some(why) = no_effect(key) {
            let shown = match &value {
                Some(v) => format!("{name} {v}"),
                None => name.to_owned(),
            };
            self.warnings.push(format!("{shown}: accepted, {why}"));
            return;
        }
        // Every option with a required argument has one here (getopt refused it otherwise).
        let arg = value.clone().unwrap_or_default();
        match key {
            Opt::UseFile => self.config = arg.into(),
            Opt::Vrrp => self.vrrp_only = true,
            Opt::Check => self.check_only = true,
            Opt::LogConsole => self.log_console = true,
            Opt::LogDetail => self.log_detail = self.log_detail.saturating_add(1),
            Opt::LogFacility => match Facility::from_option(&arg) {
                Some(f) => self.log_facility = f,
                None => self
                    .warnings
                    .push(format!("Invalid log facility '{arg}', daemon used")),
            },
            Opt::LogFile => {
                self.log_file = Some(value.map_or_else(|| "keepalived.log".into(), PathBuf::from))
            }
            Opt::NoSyslog => self.syslog = false,
            Opt::Umask => match keepalived_conf::umask::parse(&arg) {
                Some(mask) => self.umask = Some(mask),
                None => self
                    .warnings
                    .push(format!("Invalid --umask option {arg}, ignored")),
            },
            Opt::DontFork => self.foreground = true,
            Opt::Pid => self.pid = Some(arg.into()),
            Opt::VrrpPid => self.vrrp_pid = Some(arg.into()),
            Opt::CheckersPid => self.checkers_pid = Some(arg.into()),
            Opt::Namespace => self.namespace = Some(arg),
            Opt::ConfigId => self.config_id = Some(arg),
            Opt::Signum => self.signum = Some(arg),
            Opt::ConfigTest => {
                self.config_test = true;
                self.config_test_log = value.map(PathBuf::from);
            }
            Opt::Version => self.version = true,
            Opt::Help => self.help = true,
            Opt::NoIpvs => self.no_ipvs = true,
            Opt::NoCrashSupervisor => self.crash_supervisor = false,
            // Options without effect returned above; `Genhash` is handled by `parse`.
            _ => {}
        }
    }

    /// The pid file: `-p`, else keepalived's default (in `/run/keepalived/` with `-s`).
    pub(crate) fn main_pid_file(&self) -> &Path {
        match (&self.pid, &self.namespace) {
            (Some(p), _) => p,
            (None, Some(_)) => Path::new(NAMESPACE_PID_FILE),
            (None, None) => Path::new(DEFAULT_PID_FILE),
        }
    }

    /// Every pid file this daemon writes and locks: the main one, then `-r` and `-c` when
    /// given (this daemon is one process, so each holds its pid), without repeats.
    pub(crate) fn pid_files(&self) -> Vec<PathBuf> {
        let mut files = vec![self.main_pid_file().to_owned()];
        for extra in [&self.vrrp_pid, &self.checkers_pid].into_iter().flatten() {
            if !files.contains(extra) {
                files.push(extra.clone());
            }
        }
        files
    }
}

impl Options {
    /// The config id for `@ID` lines: `-i ID`, else, as keepalived 2.2.7, the host name
    /// (uname's node name) up to its first dot; `None` if that cannot be read.
    pub(crate) fn config_id(&self) -> Option<String> {
        match &self.config_id {
            Some(id) => Some(id.clone()),
            None => std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|name| host_config_id(&name)),
        }
    }

    /// How keepalived-conf reads the configuration for these options (the config id).
    pub(crate) fn read_options(&self) -> keepalived_conf::ReadOptions {
        let mut read = keepalived_conf::ReadOptions::new();
        read.config_id = self.config_id();
        read
    }
}

/// keepalived's default config id from a host name: up to the first dot.
fn host_config_id(hostname: &str) -> String {
    let name = hostname.trim_end_matches('\n');
    name.split('.').next().unwrap_or(name).to_owned()
}

#[cfg(test)]
mod tests;
