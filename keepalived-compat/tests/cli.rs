//! keepalived-compat's `--signum` and `-t` (no privileges needed: nothing touches the
//! network; interfaces are only looked up).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use nix::libc;

/// The daemon, built by cargo for this test with the same features.
fn daemon_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_keepalived-compat"))
}

/// Runs the daemon with `args`: exit status, stdout, stderr.
fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(daemon_binary()).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Writes `text` as `name` in this test process's scratch directory.
fn conf(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kc-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `-t -f PATH`: exit status and stderr.
fn config_test(path: &Path) -> (i32, String) {
    let (code, _, err) = run(&["-t", "-f", path.to_str().unwrap()]);
    (code, err)
}

#[test]
fn signum_prints_keepalived_s_numbers() {
    let expected = [
        ("STOP", libc::SIGTERM),
        ("RELOAD", libc::SIGHUP),
        ("DATA", libc::SIGUSR1),
        ("STATS", libc::SIGUSR2),
        ("STATS_CLEAR", libc::SIGRTMAX() - 1),
        ("JSON", libc::SIGRTMIN() + 2),
    ];
    for (name, number) in expected {
        let (code, out, err) = run(&[&format!("--signum={name}")]);
        assert_eq!((code, out), (0, format!("{number}\n")), "{name}: {err}");
    }
    let (code, out, err) = run(&["--signum", "TDUMP"]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert_eq!(err, "Unknown sigfunc TDUMP\n");
}

/// An instance on `lo` advertising from a configured address, with `extra` lines.
fn instance(extra: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n    interface lo\n    virtual_router_id 51\n    \
         unicast_src_ip 192.0.2.1\n{extra}    virtual_ipaddress {{\n        192.0.2.100/24\n    \
         }}\n}}\n"
    )
}

#[test]
fn config_test_reports_a_missing_script_where_it_is_defined() {
    let path = conf(
        "script.conf",
        &format!(
            "vrrp_script chk {{\n    script \"/nonexistent/chk.sh\"\n}}\n{}",
            instance("    track_script {\n        chk\n    }\n    notify_master /nonexistent/up\n")
        ),
    );
    let (code, err) = config_test(&path);
    assert_ne!(code, 0, "{err}");
    let p = path.display();
    assert!(
        err.contains(&format!(
            "{p}:1: script: /nonexistent/chk.sh not found or not executable"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{p}:4: notify_master: /nonexistent/up not found or not executable"
        )),
        "{err}"
    );
}

#[test]
fn config_test_reports_what_the_core_refuses() {
    // Parsed fine, but vrrp_strict refuses unicast (RFC 9568 has none).
    let path = conf(
        "core.conf",
        &format!(
            "global_defs {{\n    vrrp_strict\n}}\n{}",
            instance("    version 3\n    unicast_peer {\n        192.0.2.2\n    }\n")
        ),
    );
    let (code, err) = config_test(&path);
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains(&format!("{}:4: vrrp_instance: VI_1: ", path.display())),
        "{err}"
    );
}

#[test]
fn config_test_reports_a_missing_interface_as_keepalived_does() {
    let text = instance("").replace("interface lo", "interface kcnosuch0");
    let path = conf("interface.conf", &text);
    let (code, err) = config_test(&path);
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains(&format!(
            "{}:1: interface: interface kcnosuch0 for vrrp_instance VI_1 doesn't exist",
            path.display()
        )),
        "{err}"
    );
}

#[test]
fn config_test_reports_a_bad_regex() {
    let path = conf(
        "regex.conf",
        "virtual_server 192.0.2.100 80 {\n    lb_kind NAT\n    protocol TCP\n    \
         real_server 192.0.2.2 80 {\n        HTTP_GET {\n            url {\n                \
         path /\n                regex \"a(b\"\n            }\n        }\n    }\n}\n",
    );
    let (code, err) = config_test(&path);
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains(&format!("{}:6: regex: \"a(b\": ", path.display())),
        "{err}"
    );
}

#[test]
fn config_test_accepts_a_good_configuration() {
    let path = conf("good.conf", &instance("    notify_master /bin/true\n"));
    let (code, out, err) = run(&["-t", "-f", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("is valid (1 instances, 0 virtual servers)"),
        "{out}"
    );
}

#[test]
fn config_test_builds_the_lvs_plan_as_a_start_does() {
    // A misc_timeout of 0 parses, but the checker schedule a start builds refuses it.
    let path = conf(
        "plan.conf",
        "virtual_server 192.0.2.100 80 {\n    lb_kind NAT\n    protocol TCP\n    \
         real_server 192.0.2.2 80 {\n        MISC_CHECK {\n            misc_path /bin/true\n            \
         misc_timeout 0\n        }\n    }\n}\n",
    );
    let (code, err) = config_test(&path);
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains(&format!("{}:4: real_server: ", path.display())),
        "{err}"
    );
}
