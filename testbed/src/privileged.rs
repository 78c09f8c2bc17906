//! The privileged-test rule.

use std::process::Command;

/// Prints why a privileged test cannot run, so the caller can return; panics instead when
/// `REQUIRE_PRIVILEGED_TESTS=1` (CI), so that a skip never passes silently there.
pub fn skip(reason: &str) {
    if std::env::var("REQUIRE_PRIVILEGED_TESTS").as_deref() == Ok("1") {
        panic!("privileged test cannot run and REQUIRE_PRIVILEGED_TESTS=1: {reason}");
    }
    eprintln!("SKIPPED: {reason}");
}

/// Whether this process runs as root.
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// The first of `tools` not on `PATH`, as a skip reason ending with `install_hint`.
pub fn missing_tool(tools: &[&str], install_hint: &str) -> Option<String> {
    tools
        .iter()
        .find(|tool| !on_path(tool))
        .map(|tool| format!("{tool} not found ({install_hint})"))
}

/// Whether `tool` is on `PATH`.
pub fn on_path(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether privileged test `test` may run: root and every tool in `tools` on `PATH`.
/// Otherwise prints the reason ([`skip`]) and returns false, or panics when
/// `REQUIRE_PRIVILEGED_TESTS=1`.
pub fn require(test: &str, tools: &[&str]) -> bool {
    let reason = if is_root() {
        tools
            .iter()
            .find(|t| !on_path(t))
            .map(|t| format!("{test}: {t} is not installed"))
    } else {
        Some(format!("{test}: not running as root"))
    };
    match reason {
        None => true,
        Some(reason) => {
            skip(&reason);
            false
        }
    }
}
