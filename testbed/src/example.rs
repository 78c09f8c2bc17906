//! Example programs as test fixtures: built into the calling test's own target directory.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds `example` of the `examples` package with `features` (default features off) into
/// the target directory and profile of the running test binary, and returns its path.
///
/// Panics when the build fails: a test that needs the program cannot run without it.
pub fn build(example: &str, features: &str) -> PathBuf {
    // Test binaries run from TARGET/PROFILE/deps/NAME-HASH.
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("current_exe: {e}"));
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .unwrap_or_else(|| panic!("{} is not in TARGET/PROFILE/deps", exe.display()))
        .to_owned();
    let target_dir = profile_dir.parent().unwrap_or(&profile_dir).to_owned();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "-p", "examples", "--no-default-features"])
        .args(["--features", features, "--example", example]);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        cmd.arg("--release");
    }
    let status = cmd
        .env("CARGO_TARGET_DIR", &target_dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo: {e}"));
    assert!(status.success(), "building the {example} example failed");
    profile_dir.join("examples").join(example)
}
