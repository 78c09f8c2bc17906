//! Programs as test fixtures: an example of the `examples` package, or a package's binary,
//! built into the calling test's own target directory and profile.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds `example` of the `examples` package with `features` (default features off) into
/// the target directory and profile of the running test binary, and returns its path.
///
/// Panics when the build fails: a test that needs the program cannot run without it.
pub fn build(example: &str, features: &str) -> PathBuf {
    let profile_dir = cargo_build(
        &[
            "-p",
            "examples",
            "--no-default-features",
            "--features",
            features,
            "--example",
            example,
        ],
        example,
    );
    profile_dir.join("examples").join(example)
}

/// Builds the binary `bin` of `package` into the target directory and profile of the running
/// test binary, and returns its path: with the package's default features when `features` is
/// `None`, else with exactly `features` (comma-separated, default features off).
///
/// A package's own integration tests do not need this (cargo builds its binaries for them
/// and names them in `CARGO_BIN_EXE_<name>`); other packages' tests do.
///
/// Panics when the build fails: a test that needs the program cannot run without it.
pub fn build_binary(package: &str, bin: &str, features: Option<&str>) -> PathBuf {
    let mut args = vec!["-p", package, "--bin", bin];
    if let Some(features) = features {
        args.extend(["--no-default-features", "--features", features]);
    }
    cargo_build(&args, bin).join(bin)
}

/// Runs `cargo build ARGS` for the target directory and profile of the running test binary
/// and returns that profile's directory (`TARGET/PROFILE`).
fn cargo_build(args: &[&str], what: &str) -> PathBuf {
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
    cmd.arg("build").args(args);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        cmd.arg("--release");
    }
    let status = cmd
        .env("CARGO_TARGET_DIR", &target_dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo: {e}"));
    assert!(status.success(), "building {what} failed");
    profile_dir
}
