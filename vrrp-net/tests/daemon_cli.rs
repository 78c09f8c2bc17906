//! The keepalived-compat daemon's command line and configuration errors (no privileges
//! needed: it exits before touching the network).
#![allow(clippy::unwrap_used)]

mod harness;
#[path = "daemon_cli/netconf.rs"]
mod netconf;

use std::process::Command;

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(harness::ours_binary())
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn conf(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("vrrp-net-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn a_config_error_exits_non_zero_naming_file_line_and_keyword() {
    let path = conf(
        "bad.conf",
        "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 300\n}\n",
    );
    let (code, err) = run(&["-t", "-f", &path]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!("{path}:3: virtual_router_id: \"300\"")),
        "{err}"
    );
}

#[test]
fn unknown_keywords_are_reported_not_dropped() {
    let path = conf(
        "unknown.conf",
        "global_defs {\n    frobnicate yes\n}\nvrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 5\n    virtual_ipaddress {\n        192.0.2.5\n    }\n}\n",
    );
    let (code, err) = run(&["-t", "-f", &path]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!(
            "{path}:2: frobnicate: unknown keyword in global_defs"
        )),
        "{err}"
    );
}

#[test]
fn a_missing_file_and_unknown_options_are_errors() {
    let (code, err) = run(&["-t", "-f", "/nonexistent/keepalived.conf"]);
    assert_eq!(code, 1);
    assert!(err.contains("/nonexistent/keepalived.conf"), "{err}");
    let (code, err) = run(&["--frobnicate"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown option \"--frobnicate\""), "{err}");
}
