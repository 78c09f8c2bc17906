//! Shared by the integration tests: the privileged-test gate and the IPVS VM runner.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Set inside the VM by the host-side runner: the kernel tests may touch IPVS there.
pub(crate) const IN_VM_ENV: &str = "IPVS_SYS_IN_VM";

/// Prints why a privileged test cannot run and returns; panics instead when
/// `REQUIRE_PRIVILEGED_TESTS=1` (CI), so a skip never passes silently there.
pub(crate) fn skip(reason: &str) {
    if std::env::var("REQUIRE_PRIVILEGED_TESTS").as_deref() == Ok("1") {
        panic!("privileged test cannot run and REQUIRE_PRIVILEGED_TESTS=1: {reason}");
    }
    eprintln!("SKIPPED: {reason}");
}

/// Whether this process runs inside the IPVS test VM.
pub(crate) fn in_vm() -> bool {
    std::env::var(IN_VM_ENV).as_deref() == Ok("1")
}

/// Panics unless inside the VM: the kernel tests change IPVS state and must never run on a
/// developer's host.
pub(crate) fn require_vm() {
    assert!(
        in_vm(),
        "this test changes the kernel's IPVS tables: it runs only inside the test VM \
         (started by the kernel_suite_runs_in_vm test)"
    );
}

/// The VM runner script.
pub(crate) fn vm_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vm/ipvs-vm.sh")
}

/// Why the VM cannot run here, if it cannot.
pub(crate) fn vm_unavailable() -> Option<String> {
    if !rustix_is_root() {
        return Some("not root (the VM harness writes the kernel cache under /var/tmp)".into());
    }
    for tool in [
        "qemu-system-x86_64",
        "apt-get",
        "dpkg-deb",
        "cpio",
        "depmod",
        "ipvsadm",
    ] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !found {
            return Some(format!(
                "{tool} not found (apt-get install -y qemu-system-x86 busybox-static ipvsadm cpio kmod)"
            ));
        }
    }
    if !Path::new("/bin/busybox").exists() {
        return Some("/bin/busybox not found (apt-get install -y busybox-static)".into());
    }
    None
}

fn rustix_is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs `command` in the VM with `adds` copied in (`HOST[:GUEST]`), returning its exit status
/// and output. `IPVS_SYS_IN_VM=1` is set inside.
pub(crate) fn run_in_vm(adds: &[String], command: &str) -> (i32, String) {
    let mut cmd = Command::new(vm_script());
    for add in adds {
        cmd.arg("--add").arg(add);
    }
    cmd.arg("--").arg(command).env(IN_VM_ENV, "1");
    let out = cmd.output().expect("run tests/vm/ipvs-vm.sh");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}
