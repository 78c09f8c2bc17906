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
    assert_eq!(o.pid_files(), [PathBuf::from("/run/k.pid")]);
    assert!(o.crash_supervisor && o.warnings.is_empty());
    assert!(!parse("--no-crash-supervisor").unwrap().crash_supervisor);
    let o = parse("-P -D -p /run/a.pid -r /run/b.pid").unwrap();
    assert_eq!(
        o.pid_files(),
        [PathBuf::from("/run/a.pid"), PathBuf::from("/run/b.pid")]
    );
    assert_eq!(o.log_detail, 1);
    // keepalived.service's spelling, clustered short options, attached arguments.
    let o = parse("--dont-fork -nlDD -fk.conf").unwrap();
    assert!(o.foreground && o.log_console);
    assert_eq!((o.log_detail, o.config), (2, PathBuf::from("k.conf")));
}

#[test]
fn the_pid_file_defaults_to_keepalived_s() {
    let o = parse("-n").unwrap();
    assert_eq!(o.pid_files(), [PathBuf::from("/run/keepalived.pid")]);
    let o = parse("-n -c /run/c.pid -r /run/keepalived.pid").unwrap();
    assert_eq!(
        o.pid_files(),
        [
            PathBuf::from("/run/keepalived.pid"),
            PathBuf::from("/run/c.pid")
        ]
    );
    let o = parse("-s blue").unwrap();
    assert_eq!(o.namespace.as_deref(), Some("blue"));
    assert_eq!(
        o.main_pid_file(),
        Path::new("/run/keepalived/keepalived.pid")
    );
}

#[test]
fn checker_options_parse() {
    let o = parse("-C --no-ipvs -c /run/c.pid").unwrap();
    assert!(o.check_only && o.no_ipvs && !o.vrrp_only);
    assert_eq!(
        o.pid_files(),
        [
            PathBuf::from("/run/keepalived.pid"),
            PathBuf::from("/run/c.pid")
        ]
    );
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
        "Missing parameter for option --signum"
    );
}

#[test]
fn unknown_options_and_missing_values_are_errors() {
    assert_eq!(parse("-k").unwrap_err(), "unknown option \"-k\"");
    assert_eq!(parse("--frob").unwrap_err(), "unknown option \"--frob\"");
    assert_eq!(parse("-f").unwrap_err(), "Missing parameter for option -f");
    assert_eq!(
        parse("--use-file=").unwrap_err(),
        "Missing parameter for option --use-file"
    );
}

#[test]
fn logging_options() {
    let o = parse("-S 5 -g -G").unwrap();
    assert_eq!(o.log_facility, Facility::local(5).unwrap());
    assert_eq!(o.log_file, Some(PathBuf::from("keepalived.log")));
    assert!(!o.syslog);
    let o = parse("--log-facility=local7 --log-file=/var/log/k.log").unwrap();
    assert_eq!(o.log_facility, Facility::local(7).unwrap());
    assert_eq!(o.log_file, Some(PathBuf::from("/var/log/k.log")));
    assert_eq!(parse("-S user").unwrap().log_facility, Facility::USER);
    // keepalived only complains about a bad facility, and keeps daemon.
    let o = parse("-S local8").unwrap();
    assert_eq!(o.log_facility, Facility::DAEMON);
    assert_eq!(o.warnings, ["Invalid log facility 'local8', daemon used"]);
}

#[test]
fn umask_is_read_as_c_reads_it() {
    assert_eq!(parse("-u 0022").unwrap().umask, Some(0o22));
    assert_eq!(parse("-u 18").unwrap().umask, Some(18));
    assert_eq!(parse("--umask=0x3f").unwrap().umask, Some(0o77));
    let o = parse("-u 01777").unwrap();
    assert_eq!(o.umask, None);
    assert_eq!(o.warnings, ["Invalid --umask option 01777, ignored"]);
}

#[test]
fn config_test_takes_an_attached_log_file() {
    let o = parse("-t").unwrap();
    assert!(o.config_test && o.config_test_log.is_none());
    let o = parse("--config-test=/tmp/t.log").unwrap();
    assert_eq!(o.config_test_log, Some(PathBuf::from("/tmp/t.log")));
    // `-t FILE`: optional arguments are attached only, so FILE is a stray operand.
    let o = parse("-t x").unwrap();
    assert!(o.config_test_log.is_none());
    assert_eq!(o.warnings, ["Unexpected argument(s), ignored: x"]);
}

#[test]
fn genhash_takes_the_rest_of_the_line() {
    let o = parse("-T -s 192.0.2.21 -p 80 -u /").unwrap();
    assert_eq!(
        o.genhash.unwrap(),
        ["-s", "192.0.2.21", "-p", "80", "-u", "/"]
    );
    let o = parse("-n --genhash -s 192.0.2.21").unwrap();
    assert_eq!(o.genhash.unwrap(), ["-s", "192.0.2.21"]);
    assert_eq!(
        o.warnings,
        ["--genhash not used as first option, previous options ignored"]
    );
}

/// Every option of keepalived 2.2.7's `long_options` table (`keepalived/core/main.c`),
/// long and short, with an argument where it takes one.
const KEEPALIVED_2_2_7: [(&str, Option<&str>); 41] = [
    ("--use-file=/k.conf", Some("-f/k.conf")),
    ("--vrrp", Some("-P")),
    ("--check", Some("-C")),
    ("--no_bfd", Some("-B")),
    ("--all", None),
    ("--log-console", Some("-l")),
    ("--log-detail", Some("-D")),
    ("--log-facility=1", Some("-S1")),
    ("--log-file=/k.log", Some("-g")),
    ("--all-config", Some("-e")),
    ("--flush-log-file", None),
    ("--no-syslog", Some("-G")),
    ("--umask=022", Some("-u022")),
    ("--release-vips", Some("-X")),
    ("--dont-release-vrrp", Some("-V")),
    ("--dont-release-ipvs", Some("-I")),
    ("--dont-respawn", Some("-R")),
    ("--dont-fork", Some("-n")),
    ("--dump-conf", Some("-d")),
    ("--pid=/k.pid", Some("-p/k.pid")),
    ("--vrrp_pid=/v.pid", Some("-r/v.pid")),
    ("--checkers_pid=/c.pid", Some("-c/c.pid")),
    ("--address-monitoring", Some("-a")),
    ("--bfd_pid=/b.pid", Some("-b/b.pid")),
    ("--snmp", Some("-x")),
    ("--snmp-agent-socket=/a", Some("-A/a")),
    ("--core-dump", Some("-m")),
    ("--core-dump-pattern=core", Some("-M")),
    ("--no-mem-check", None),
    ("--mem-check-log", Some("-L")),
    ("--namespace=blue", Some("-sblue")),
    ("--config-id=r1", Some("-ir1")),
    ("--signum=STOP", None),
    ("--config-test=/t.log", Some("-t")),
    ("--config-fd=3", None),
    ("--perf=all", None),
    ("--debug=TpMEvcp", None),
    ("--version", Some("-v")),
    ("--help", Some("-h")),
    ("--genhash", Some("-T")),
    ("--perf", None),
];

#[test]
fn every_keepalived_2_2_7_option_is_accepted() {
    for (long, short) in KEEPALIVED_2_2_7 {
        for form in std::iter::once(long).chain(short) {
            let o = Options::parse([form.to_owned()]).unwrap_or_else(|e| panic!("{form}: {e}"));
            let Some(Ok(Found::Option { key, .. })) =
                Getopt::new(&TABLE, [form.to_owned()]).next_item()
            else {
                panic!("{form} is not an option")
            };
            // Options without effect here say so, naming themselves; the others are quiet.
            if no_effect(key).is_some() {
                assert_eq!(o.warnings.len(), 1, "{form}: {:?}", o.warnings);
                assert!(o.warnings[0].contains(": accepted, "), "{form}");
            } else {
                assert!(o.warnings.is_empty(), "{form}: {:?}", o.warnings);
            }
        }
    }
    // The table has them all, and only ours besides.
    assert_eq!(TABLE.len(), KEEPALIVED_2_2_7.len() - 1 + 2);
}

#[test]
fn config_id_is_given_or_the_short_host_name() {
    let o = Options::parse(["-i".to_owned(), "lb1".to_owned()]).unwrap();
    assert!(o.warnings.is_empty(), "{:?}", o.warnings);
    assert_eq!(o.config_id().as_deref(), Some("lb1"));
    assert_eq!(o.read_options().config_id.as_deref(), Some("lb1"));
    let o = Options::parse(["--config-id=r1.example".to_owned()]).unwrap();
    assert_eq!(o.config_id().as_deref(), Some("r1.example"));
    assert_eq!(host_config_id("lb2.example.org\n"), "lb2");
    assert_eq!(host_config_id("lb3"), "lb3");
    // Without -i: the kernel's node name up to its first dot.
    let node = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let expected = node.trim_end().split('.').next().unwrap().to_owned();
    assert_eq!(Options::default().config_id(), Some(expected));
}
