//! The skip rule: privileged tests print why they cannot run and return, unless
//! `REQUIRE_PRIVILEGED_TESTS=1`, in which case that is a failure.

use std::process::{Command, Stdio};

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether the test may run: root and every tool in `tools` present. Otherwise prints the
/// reason and returns false, or panics when `REQUIRE_PRIVILEGED_TESTS=1`.
pub fn require(test: &str, tools: &[&str]) -> bool {
    let reason = if !nix::unistd::geteuid().is_root() {
        Some("not running as root".to_owned())
    } else {
        tools
            .iter()
            .find(|t| !have(t))
            .map(|t| format!("{t} is not installed"))
    };
    let Some(reason) = reason else { return true };
    if std::env::var("REQUIRE_PRIVILEGED_TESTS").is_ok_and(|v| v == "1") {
        panic!("{test}: cannot run: {reason} (REQUIRE_PRIVILEGED_TESTS=1)");
    }
    eprintln!("skipping {test}: {reason}");
    false
}
