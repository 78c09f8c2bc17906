//! Scripts run as keepalived 2.2.7 runs them: as their user, refused when unsafe with
//! `enable_script_security`, and killed with their whole process group at their timeout,
//! leaving no process and no zombie. One VRRP instance in a network namespace created (and
//! deleted) here, 192.0.2.0/24 only. Needs root and `ip`; skips otherwise (fails with
//! `REQUIRE_PRIVILEGED_TESTS=1`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn ip(args: &[&str]) {
    let ok = Command::new("ip").args(args).status().unwrap().success();
    assert!(ok, "ip {args:?} failed");
}

fn write_script(path: &Path, body: &str) {
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Waits until `f` holds, up to `limit`.
fn wait_for(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    f()
}

/// Pids of the processes whose parent is `ppid`, with their state letter.
fn children(ppid: u32) -> Vec<(u32, char)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next().and_then(|s| s.chars().next()).unwrap_or('?');
        if fields.next().and_then(|p| p.parse().ok()) == Some(ppid) {
            out.push((pid, state));
        }
    }
    out
}

fn alive(pid: u32) -> bool {
    // A zombie still has a /proc entry; one reaped by init has none.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "))
}

/// The daemon, SIGKILLed if the test ends early (a panic): a leftover would hold its files.
struct Daemon(std::process::Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Lab {
    ns: String,
    dir: PathBuf,
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn scripts_run_as_their_user_unsafe_ones_are_refused_and_timeouts_kill_the_group() {
    if !testbed::privileged::require("scripts", &["ip"]) {
        return;
    }
    let lab = Lab {
        ns: format!("kc-scripts-{}", std::process::id()),
        dir: std::env::temp_dir().join(format!("kc-scripts-{}", std::process::id())),
    };
    let _ = std::fs::remove_dir_all(&lab.dir);
    // Root-owned, not writable by others: safe for scripts run as root.
    let bin = lab.dir.join("bin");
    let open = lab.dir.join("open");
    let out = lab.dir.join("out");
    for d in [&lab.dir, &bin, &open, &out] {
        std::fs::create_dir_all(d).unwrap();
        chmod(d, 0o755);
    }
    chmod(&open, 0o777); // world-writable, no sticky bit: unsafe
    chmod(&out, 0o777); // where the scripts (as nobody) write what they saw
    let o = out.display();
    write_script(
        &bin.join("whoami.sh"),
        &format!("id -u > {o}/vrrp_script.uid"),
    );
    write_script(&bin.join("notify.sh"), &format!("id -u > {o}/notify.uid"));
    write_script(&open.join("bad.sh"), &format!("touch {o}/bad.ran"));
    // A child that ignores SIGTERM and sleeps, and the script sleeping too.
    write_script(
        &bin.join("hang.sh"),
        &format!(
            "sh -c 'trap \"\" TERM; echo $$ > {o}/grandchild.pid; exec sleep 1000' &\n\
             echo $$ > {o}/hang.pid\nsleep 1000"
        ),
    );
    let b = bin.display();
    let conf = lab.dir.join("keepalived.conf");
    std::fs::write(
        &conf,
        format!(
            "global_defs {{\n  script_user root\n  enable_script_security\n}}\n\
             vrrp_script whoami {{\n  script {b}/whoami.sh\n  interval 1\n  weight 10\n  user nobody\n}}\n\
             vrrp_script bad {{\n  script {}/bad.sh\n  interval 1\n}}\n\
             vrrp_script hang {{\n  script {b}/hang.sh\n  interval 1\n  timeout 1\n  weight 10\n  user nobody\n}}\n\
             vrrp_instance VI_1 {{\n  state MASTER\n  interface d0\n  virtual_router_id 51\n  priority 100\n  advert_int 1\n\
             virtual_ipaddress {{\n    192.0.2.100/24\n  }}\n\
             track_script {{\n    whoami\n    bad\n    hang\n  }}\n\
             notify_master {b}/notify.sh nobody\n}}\n",
            open.display()
        ),
    )
    .unwrap();
    ip(&["netns", "add", &lab.ns]);
    ip(&["-n", &lab.ns, "link", "set", "lo", "up"]);
    ip(&[
        "-n", &lab.ns, "link", "add", "d0", "type", "veth", "peer", "name", "d1",
    ]);
    ip(&["-n", &lab.ns, "link", "set", "d1", "up"]);
    ip(&["-n", &lab.ns, "addr", "add", "192.0.2.1/24", "dev", "d0"]);
    ip(&["-n", &lab.ns, "link", "set", "d0", "up"]);
    let log = lab.dir.join("daemon.log");
    let mut daemon = Daemon(
        Command::new("ip")
            .args(["netns", "exec", &lab.ns])
            .arg(env!("CARGO_BIN_EXE_keepalived-compat"))
            .args(["-n", "-l", "-P", "-p"])
            .arg(lab.dir.join("k.pid"))
            .arg("-f")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    let daemon_pid = daemon.0.id();

    let nobody = "65534";
    let read = |name: &str| std::fs::read_to_string(out.join(name)).unwrap_or_default();
    assert!(
        wait_for(Duration::from_secs(10), || read("vrrp_script.uid").trim()
            == nobody),
        "vrrp_script did not run as nobody: {:?}",
        read("vrrp_script.uid")
    );
    // The unsafe script is not tracked, so it does not keep the instance in FAULT: the
    // instance becomes master and notify_master runs as nobody.
    assert!(
        wait_for(Duration::from_secs(15), || read("notify.uid").trim()
            == nobody),
        "notify_master did not run as nobody: {:?}",
        read("notify.uid")
    );
    // The hanging script and its SIGTERM-proof child are killed with their group at the
    // 1 s timeout, and reaped.
    assert!(wait_for(Duration::from_secs(5), || !read("grandchild.pid")
        .is_empty()));
    let grandchild: u32 = read("grandchild.pid").trim().parse().unwrap();
    let script: u32 = read("hang.pid").trim().parse().unwrap();
    assert!(
        wait_for(Duration::from_secs(5), || !alive(grandchild)
            && !alive(script)),
        "the timed-out script's group survived"
    );
    // `ip netns exec` execs the daemon: its pid is ours.
    let zombies = |pid| children(pid).into_iter().filter(|(_, s)| *s == 'Z').count();
    assert_eq!(
        zombies(daemon_pid),
        0,
        "zombies left: {:?}",
        children(daemon_pid)
    );

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(daemon_pid as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = daemon.0.wait().unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(status.success(), "{text}");
    assert!(!out.join("bad.ran").exists(), "the unsafe script ran");
    let bad = open.join("bad.sh");
    for line in [
        format!(
            "Unsafe permissions found for script '{}' - disabling.",
            bad.display()
        ),
        "Disabling track script bad due to insecure".to_owned(),
    ] {
        assert!(text.contains(&line), "missing {line:?} in:\n{text}");
    }
    assert!(!text.contains("SECURITY VIOLATION"), "{text}");
    // Whatever the last hang.sh run started is gone with the daemon.
    let grandchild: u32 = read("grandchild.pid").trim().parse().unwrap();
    assert!(
        wait_for(Duration::from_secs(3), || !alive(grandchild)),
        "a script's process outlived the daemon"
    );
}
