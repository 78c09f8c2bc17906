//! The IPVS test VM: a host-side test boots it with [`VmRun`], re-runs its own binary inside
//! with `--ignored`, and checks the result with [`VmOutput::assert_suite_passed`]; the in-VM
//! tests are ignored (with a reason) and check [`in_vm`] before touching the kernel's IPVS tables.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::privileged;

/// Set to `1` inside every VM run: the kernel tests may touch IPVS there.
pub const IN_VM_ENV: &str = "IPVS_SYS_IN_VM";

/// Packages the VM needs on the host.
const INSTALL_HINT: &str = "apt-get install -y qemu-system-x86 busybox-static ipvsadm cpio kmod";

/// Whether this process runs inside the VM.
pub fn in_vm() -> bool {
    std::env::var(IN_VM_ENV).as_deref() == Ok("1")
}

/// Panics unless inside the VM: a test that changes IPVS state must never run on a host.
pub fn require_vm() {
    assert!(
        in_vm(),
        "this test changes the kernel's IPVS tables: it runs only inside the test VM"
    );
}

/// The VM runner script.
pub fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ipvs-sys/tests/vm/ipvs-vm.sh")
}

/// Why the VM cannot run here (also checking `extra_tools`), if it cannot.
pub fn unavailable(extra_tools: &[&str]) -> Option<String> {
    if !privileged::is_root() {
        return Some("not root (the VM harness caches the kernel under /var/tmp)".into());
    }
    if !script().exists() {
        return Some(format!("{} not found", script().display()));
    }
    let mut tools = vec![
        "qemu-system-x86_64",
        "apt-get",
        "dpkg-deb",
        "cpio",
        "depmod",
        "ipvsadm",
    ];
    tools.extend_from_slice(extra_tools);
    if let Some(reason) = privileged::missing_tool(&tools, INSTALL_HINT) {
        return Some(reason);
    }
    if !Path::new("/bin/busybox").exists() {
        return Some("/bin/busybox not found (apt-get install -y busybox-static)".into());
    }
    None
}

/// One boot of the VM.
#[derive(Debug)]
pub struct VmRun {
    command: Command,
}

impl Default for VmRun {
    fn default() -> Self {
        Self::new()
    }
}

impl VmRun {
    /// A run with nothing added.
    pub fn new() -> Self {
        let mut command = Command::new(script());
        command.env(IN_VM_ENV, "1");
        VmRun { command }
    }

    /// Loads one more guest kernel module (and its dependencies).
    pub fn module(mut self, name: &str) -> Self {
        self.command.args(["--module", name]);
        self
    }

    /// Copies a host file in: `HOST[:GUEST]` (same path by default), with its libraries.
    pub fn file(mut self, spec: &str) -> Self {
        self.command.args(["--add", spec]);
        self
    }

    /// Passes an environment variable into the guest.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.command.env(key, value);
        self
    }

    /// Boots, runs `command` with `/bin/sh -c` in the guest and powers off.
    pub fn run(mut self, command: &str) -> VmOutput {
        let out = self.command.arg("--").arg(command).output();
        match out {
            Ok(out) => {
                let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
                text.push_str(&String::from_utf8_lossy(&out.stderr));
                VmOutput {
                    code: out.status.code().unwrap_or(-1),
                    text,
                }
            }
            Err(e) => VmOutput {
                code: -1,
                text: format!("cannot start {}: {e}", script().display()),
            },
        }
    }
}

/// What a VM run printed and how it ended.
#[derive(Debug)]
pub struct VmOutput {
    /// The guest command's exit status (124 timeout, 125 VM failure, -1 not started).
    pub code: i32,
    /// stdout and stderr, merged.
    pub text: String,
}

impl VmOutput {
    /// Prints the output and asserts that a cargo test suite ran in the guest and passed,
    /// with at least one test (exactly `passed` when given).
    pub fn assert_suite_passed(&self, passed: Option<usize>) {
        println!("{}", self.text);
        assert_eq!(
            self.code, 0,
            "in-VM suite failed (exit {}), output above",
            self.code
        );
        let summary = self
            .text
            .lines()
            .find(|l| l.starts_with("test result:"))
            .unwrap_or("");
        assert!(
            summary.starts_with("test result: ok."),
            "no passing summary in VM output: {summary:?}"
        );
        assert!(
            !summary.contains(" 0 passed"),
            "the VM ran no test: {summary}"
        );
        if let Some(n) = passed {
            assert!(
                summary.starts_with(&format!("test result: ok. {n} passed")),
                "expected {n} passed: {summary}"
            );
        }
    }
}
