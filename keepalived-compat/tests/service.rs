//! keepalived-compat as a service: its pid file (locked; a second daemon refuses, status 3,
//! and changes nothing; keepalived 2.2.7 and ours each see the other running), systemd's
//! notification protocol on a fake `$NOTIFY_SOCKET`, and Debian's keepalived.service run
//! unchanged with this daemon as `/usr/sbin/keepalived`.
//!
//! The pid file and notification test needs no root (a configuration without instances).
//! The others need root and `ip` (and keepalived 2.2.7, or Debian's unit file), in a network
//! namespace made and deleted here, 192.0.2.0/24 only; they skip otherwise, and fail
//! instead with `REQUIRE_PRIVILEGED_TESTS=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long anything here may take to happen.
const LIMIT: Duration = Duration::from_secs(10);

fn daemon_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_keepalived-compat"))
}

/// A scratch directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("kc-service-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn text(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_default()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A unix datagram socket bound by the test (a fake `$NOTIFY_SOCKET` or `/dev/log`), read
/// by a thread into a list as datagrams arrive (the kernel queues only 10 by default).
struct Datagrams {
    seen: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    reader: Option<JoinHandle<()>>,
}

impl Datagrams {
    fn bind(path: &Path) -> Self {
        let socket = UnixDatagram::bind(path).unwrap();
        // Any daemon user may send (the unit's daemon runs as root anyway).
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666)).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (list, done) = (seen.clone(), stop.clone());
        let reader = std::thread::spawn(move || {
            let mut buf = vec![0u8; 65536];
            while !done.load(Ordering::Relaxed) {
                if let Ok(n) = socket.recv(&mut buf) {
                    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                    list.lock().unwrap().push(text);
                }
            }
        });
        Datagrams {
            seen,
            stop,
            reader: Some(reader),
        }
    }

    fn all(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits for a datagram after the first `skip` that `pred` accepts; its index and text.
    fn wait(&self, skip: usize, what: &str, pred: impl Fn(&str) -> bool) -> (usize, String) {
        let start = Instant::now();
        loop {
            let all = self.all();
            if let Some((i, d)) = all.iter().enumerate().skip(skip).find(|(_, d)| pred(d)) {
                return (i, d.clone());
            }
            assert!(start.elapsed() < LIMIT, "no {what}; got {all:#?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Datagrams {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}

/// A notification's `KEY=VALUE` assignments.
fn assignments(datagram: &str) -> HashMap<String, String> {
    datagram
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// A child process, killed on drop if still running.
struct Running(Child);

impl Running {
    fn wait_exit(&mut self) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return status;
            }
            assert!(start.elapsed() < LIMIT, "still running after {LIMIT:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A daemon that detached, by pid; sent SIGKILL on drop (a failed test leaves nothing).
struct Detached(u32);

impl Drop for Detached {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-s", "KILL", &self.0.to_string()])
            .stderr(Stdio::null())
            .status();
    }
}

fn kill(signal: &str, pid: u32) {
    let status = Command::new("kill")
        .args(["-s", signal, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -s {signal} {pid}");
}

/// Runs the daemon with `args` to its end; exit status and stderr.
fn run_to_end(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(daemon_binary())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_pid_file_is_locked_and_a_second_daemon_changes_nothing() {
    let dir = Scratch::new("pid");
    let conf = dir.path("k.conf");
    // No instance, no virtual server: the daemon only serves signals, no root needed.
    std::fs::write(&conf, "global_defs {\n    router_id kc1\n}\n").unwrap();
    let notify = Datagrams::bind(&dir.path("notify"));
    let pid_file = dir.path("k.pid");
    let (conf_s, pid_s) = (conf.to_str().unwrap(), pid_file.to_str().unwrap());
    let mut first = Running(
        Command::new(daemon_binary())
            .args(["--dont-fork", "-G", "-f", conf_s, "-p", pid_s])
            .env("NOTIFY_SOCKET", dir.path("notify"))
            .stdin(Stdio::null())
            .stderr(std::fs::File::create(dir.path("first.log")).unwrap())
            .spawn()
            .unwrap(),
    );
    let pid = first.0.id();
    let (at, ready) = notify.wait(0, "READY=1", |d| d.starts_with("READY=1"));
    assert_eq!(
        assignments(&ready).get("MAINPID"),
        Some(&pid.to_string()),
        "{ready}"
    );
    // Ready means the pid file is there, 0644, with the daemon's pid.
    assert_eq!(dir.text("k.pid"), format!("{pid}\n"));
    let meta = std::fs::metadata(&pid_file).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o644);

    // A second daemon, in the foreground or detaching: refused, status 3, file untouched.
    for detach in [false, true] {
        let mut args = vec!["-f", conf_s, "-p", pid_s, "-G"];
        if !detach {
            args.push("-n");
        }
        let (code, err) = run_to_end(&args);
        assert_eq!(code, Some(3), "detach {detach}: {err}");
        assert!(
            err.contains(&format!(
                "daemon is already running: {pid_s} is locked by pid {pid}"
            )),
            "{err}"
        );
        let now = std::fs::metadata(&pid_file).unwrap();
        assert_eq!(
            (now.ino(), now.mtime_nsec()),
            (meta.ino(), meta.mtime_nsec())
        );
        assert_eq!(dir.text("k.pid"), format!("{pid}\n"));
    }
    assert!(
        first.0.try_wait().unwrap().is_none(),
        "the first daemon died"
    );

    // A symbolic link as the pid file: refused, its target untouched.
    std::fs::write(dir.path("target"), "precious\n").unwrap();
    std::os::unix::fs::symlink(dir.path("target"), dir.path("link.pid")).unwrap();
    let link = dir.path("link.pid");
    let (code, err) = run_to_end(&["-n", "-G", "-f", conf_s, "-p", link.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("is a symbolic link, not followed"), "{err}");
    assert_eq!(dir.text("target"), "precious\n");

    // SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1.
    kill("HUP", pid);
    let (at, reloading) = notify.wait(at + 1, "RELOADING=1", |d| d.starts_with("RELOADING=1"));
    let usec: u64 = assignments(&reloading)["MONOTONIC_USEC"].parse().unwrap();
    assert!(usec > 0, "{reloading}");
    let (at, _) = notify.wait(at + 1, "READY=1 after the reload", |d| {
        d.starts_with("READY=1")
    });

    // SIGTERM: STOPPING=1, status 0, the pid file gone.
    kill("TERM", pid);
    notify.wait(at + 1, "STOPPING=1", |d| d.starts_with("STOPPING=1"));
    assert!(first.wait_exit().success(), "{}", dir.text("first.log"));
    assert!(!pid_file.exists(), "the pid file outlived the daemon");

    // Without -n: the command returns at once, and the daemon it left is the one that
    // writes the pid file and says it is ready.
    let seen = notify.all().len();
    let out = Command::new(daemon_binary())
        .args(["-G", "-f", conf_s, "-p", pid_s])
        .env("NOTIFY_SOCKET", dir.path("notify"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let (_, ready) = notify.wait(seen, "READY=1 of the detached daemon", |d| {
        d.starts_with("READY=1")
    });
    let detached = Detached(assignments(&ready)["MAINPID"].parse().unwrap());
    assert_eq!(dir.text("k.pid"), format!("{}\n", detached.0));
    kill("TERM", detached.0);
    assert!(
        wait_for(|| !pid_file.exists()),
        "the detached daemon did not stop"
    );
}

#[test]
fn an_unlocked_file_naming_a_running_keepalived_is_respected() {
    let dir = Scratch::new("named");
    let conf = dir.path("k.conf");
    std::fs::write(&conf, "global_defs {\n    router_id kc2\n}\n").unwrap();
    // A process named `keepalived`, as keepalived 2.2.7 is: it writes its pid file
    // without a lock, so the file's pid is what tells that it runs.
    // A symlink, not a copy: a copy's write descriptor, inherited by a child another test
    // thread forks meanwhile, would make exec fail with ETXTBSY. The name is the link's.
    std::os::unix::fs::symlink("/bin/sleep", dir.path("keepalived")).unwrap();
    let sleeper = Running(
        Command::new(dir.path("keepalived"))
            .arg("30")
            .spawn()
            .unwrap(),
    );
    let pid_file = dir.path("keepalived.pid");
    std::fs::write(&pid_file, format!("{}\n", sleeper.0.id())).unwrap();
    let (code, err) = run_to_end(&[
        "-n",
        "-G",
        "-f",
        conf.to_str().unwrap(),
        "-p",
        pid_file.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains(&format!(
            "names pid {}, a running keepalived",
            sleeper.0.id()
        )),
        "{err}"
    );
    assert_eq!(dir.text("keepalived.pid"), format!("{}\n", sleeper.0.id()));
}

/// Waits until `cond` holds, for at most [`LIMIT`].
fn wait_for(mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < LIMIT {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn ip(args: &[&str]) {
    let status = Command::new("ip").args(args).status().unwrap();
    assert!(status.success(), "ip {args:?} failed");
}

/// A namespace with a veth pair `d0`/`d1`, `d0` holding 192.0.2.1/24; deleted on drop.
struct Netns(String);

impl Netns {
    fn new(tag: &str) -> Self {
        let name = format!("kcsvc{tag}{}", std::process::id());
        let _ = Command::new("ip")
            .args(["netns", "del", &name])
            .stderr(Stdio::null())
            .status();
        ip(&["netns", "add", &name]);
        let ns = Netns(name);
        let n = ns.0.as_str();
        ip(&[
            "-n", n, "link", "add", "d0", "type", "veth", "peer", "name", "d1",
        ]);
        ip(&["-n", n, "addr", "add", "192.0.2.1/24", "dev", "d0"]);
        for dev in ["d0", "d1", "lo"] {
            ip(&["-n", n, "link", "set", dev, "up"]);
        }
        ns
    }

    /// The IPv4 addresses on `dev`, as `ip` prints them (`192.0.2.1/24`).
    fn addresses(&self, dev: &str) -> Vec<String> {
        let out = Command::new("ip")
            .args(["-n", &self.0, "-4", "-o", "addr", "show", "dev", dev])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let mut words = l.split_whitespace();
                words.find(|w| *w == "inet")?;
                words.next().map(str::to_owned)
            })
            .collect()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

#[test]
fn keepalived_2_2_7_and_ours_each_see_the_other_running() {
    if !testbed::privileged::require("keepalived pid files", &["ip", "keepalived"]) {
        return;
    }
    let ns = Netns::new("ka");
    let dir = Scratch::new("keepalived");
    let conf = dir.path("k.conf");
    std::fs::write(&conf, "global_defs {\n    router_id kc3\n}\n").unwrap();
    let conf_s = conf.to_str().unwrap().to_owned();
    let path = |n: &str| dir.path(n).to_str().unwrap().to_owned();
    let keepalived_args = [
        "-n",
        "-l",
        "-G",
        "-f",
        &conf_s,
        "-p",
        &path("k.pid"),
        "-r",
        &path("v.pid"),
        "-c",
        &path("c.pid"),
    ];

    // Ours first: keepalived 2.2.7 finds it running (it logs so and exits 0).
    let mut ours = Running(
        Command::new("ip")
            .args(["netns", "exec", &ns.0])
            .arg(daemon_binary())
            .args(["-n", "-G", "-f", &conf_s, "-p", &path("k.pid")])
            .stdin(Stdio::null())
            .spawn()
            .unwrap(),
    );
    assert!(
        wait_for(|| !dir.text("k.pid").is_empty()),
        "ours wrote no pid file"
    );
    let ours_pid = dir.text("k.pid");
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.0, "keepalived"])
        .args(keepalived_args)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("daemon is already running"), "{said}");
    assert_eq!(
        dir.text("k.pid"),
        ours_pid,
        "keepalived changed our pid file"
    );
    kill("TERM", ours.0.id());
    assert!(ours.wait_exit().success());

    // keepalived first: ours refuses, with status 3, and leaves its file alone.
    let mut keepalived = Running(
        Command::new("ip")
            .args(["netns", "exec", &ns.0, "keepalived"])
            .args(keepalived_args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path("keepalived.log")).unwrap())
            .spawn()
            .unwrap(),
    );
    assert!(
        wait_for(|| !dir.text("k.pid").is_empty()),
        "keepalived wrote no pid file: {}",
        dir.text("keepalived.log")
    );
    let theirs = dir.text("k.pid");
    let (code, err) = run_to_end(&["-n", "-G", "-f", &conf_s, "-p", &path("k.pid")]);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains(&format!(
            "names pid {}, a running keepalived",
            theirs.trim()
        )),
        "{err}"
    );
    assert_eq!(dir.text("k.pid"), theirs);
    kill("TERM", keepalived.0.id());
    keepalived.wait_exit();
}

/// Debian's keepalived.service and its environment file.
struct Unit {
    /// `Type=`.
    kind: String,
    /// `ExecStart=`, split into words.
    exec_start: Vec<String>,
    /// `ExecReload=`, split into words.
    exec_reload: Vec<String>,
    /// `EnvironmentFile=` (a leading `-`: optional).
    environment_file: Option<String>,
}

const UNIT: &str = "/lib/systemd/system/keepalived.service";

impl Unit {
    fn read() -> Option<Self> {
        let text = std::fs::read_to_string(UNIT).ok()?;
        let value = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
                .map(str::to_owned)
        };
        let words = |v: Option<String>| -> Vec<String> {
            v.unwrap_or_default()
                .split_whitespace()
                .map(str::to_owned)
                .collect()
        };
        Some(Unit {
            kind: value("Type")?,
            exec_start: words(value("ExecStart")),
            exec_reload: words(value("ExecReload")),
            environment_file: value("EnvironmentFile"),
        })
    }

    /// The environment file's assignments, as systemd reads them (`KEY=value`, quotes
    /// removed, `#` comments).
    fn environment(&self) -> HashMap<String, String> {
        let Some(file) = &self.environment_file else {
            return HashMap::new();
        };
        let (optional, path) = match file.strip_prefix('-') {
            Some(p) => (true, p),
            None => (false, file.as_str()),
        };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if optional => {
                println!("{path}: {e} (optional)");
                return HashMap::new();
            }
            Err(e) => panic!("{path}: {e}"),
        };
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().trim_matches('"').to_owned()))
            .collect()
    }
}

/// A unit command line with systemd's expansion: `$VAR` becomes the variable's words (none
/// when it is empty), `${VAR}` one word.
fn expand(words: &[String], env: &HashMap<String, String>) -> Vec<String> {
    let mut out = Vec::new();
    for w in words {
        if let Some(name) = w.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
            out.push(env.get(name).cloned().unwrap_or_default());
        } else if let Some(name) = w.strip_prefix('$') {
            out.extend(
                env.get(name)
                    .map(|v| v.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
                    .unwrap_or_default(),
            );
        } else {
            out.push(w.clone());
        }
    }
    out
}

/// What the test bed does before it runs ExecStart in the namespace: its own `/run` (so
/// the default `/run/keepalived.pid` is the bed's), `/etc/keepalived` (the bed's
/// keepalived.conf at the default path) and a `/dev` whose `log` is the test's socket.
/// `ip netns exec` gives the command its own mount namespace, so none of this reaches the
/// host. After the daemon exits, says whether it left its pid file.
const BED: &str = r#"
set -e
mount -t tmpfs -o mode=0755 tmpfs /run
mount --bind "$KC_ETC" /etc/keepalived
mount -t tmpfs -o mode=0755 tmpfs /dev
mknod -m 666 /dev/null c 1 3
touch /dev/log
mount --bind "$KC_LOG" /dev/log
set +e
"$@"
status=$?
if [ -e /run/keepalived.pid ]; then echo "bed: /run/keepalived.pid left behind"; fi
echo "bed: exit status $status"
exit $status
"#;

fn instance_conf(vips: &[&str]) -> String {
    let vips: String = vips.iter().map(|v| format!("        {v}\n")).collect();
    format!(
        "vrrp_instance VI_1 {{\n    state MASTER\n    interface d0\n    virtual_router_id 51\n    \
         priority 200\n    version 3\n    advert_int 0.1\n    virtual_ipaddress {{\n{vips}    }}\n}}\n"
    )
}

#[test]
fn debian_s_keepalived_service_works_unchanged() {
    if !testbed::privileged::require("keepalived.service", &["ip", "mount", "mknod", "kill"]) {
        return;
    }
    let Some(unit) = Unit::read() else {
        testbed::privileged::skip(&format!(
            "keepalived.service: {UNIT} not found (Debian's keepalived package)"
        ));
        return;
    };
    assert_eq!(
        unit.kind, "notify",
        "keepalived.service is no longer Type=notify"
    );
    assert_eq!(
        unit.exec_reload,
        ["/bin/kill", "-HUP", "$MAINPID"],
        "ExecReload changed"
    );
    let env = unit.environment();
    println!(
        "{UNIT}: ExecStart {:?}, environment {env:?}",
        unit.exec_start
    );
    let mut argv = expand(&unit.exec_start, &env);
    assert_eq!(
        argv.first().map(String::as_str),
        Some("/usr/sbin/keepalived")
    );
    argv[0] = daemon_binary().to_str().unwrap().to_owned();

    let ns = Netns::new("unit");
    let dir = Scratch::new("unit");
    std::fs::create_dir(dir.path("etc")).unwrap();
    let conf = dir.path("etc/keepalived.conf");
    std::fs::write(&conf, instance_conf(&["192.0.2.100/24"])).unwrap();
    let notify = Datagrams::bind(&dir.path("notify"));
    let syslog = Datagrams::bind(&dir.path("log"));
    let started = Instant::now();
    let mut bed = Running(
        Command::new("ip")
            .args(["netns", "exec", &ns.0, "sh", "-c", BED, "sh"])
            .args(&argv)
            .env("KC_ETC", dir.path("etc"))
            .env("KC_LOG", dir.path("log"))
            .env("NOTIFY_SOCKET", dir.path("notify"))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.path("bed.log")).unwrap())
            .stderr(std::fs::File::create(dir.path("stderr.log")).unwrap())
            .spawn()
            .unwrap(),
    );

    // Readiness, with the main pid systemd would then use for $MAINPID.
    let (at, ready) = notify.wait(0, "READY=1", |d| d.starts_with("READY=1"));
    let ready = assignments(&ready);
    let main_pid: u32 = ready["MAINPID"].parse().unwrap();
    println!("READY=1 after {:?}: {}", started.elapsed(), ready["STATUS"]);
    assert!(
        ready["STATUS"].starts_with("Running 1 VRRP instance(s)"),
        "{ready:?}"
    );
    // The default pid file, in the bed's /run as the daemon sees it.
    let pid_file = format!("/proc/{main_pid}/root/run/keepalived.pid");
    assert_eq!(
        std::fs::read_to_string(&pid_file).unwrap(),
        format!("{main_pid}\n")
    );
    assert!(
        wait_for(|| ns.addresses("d0").contains(&"192.0.2.100/24".to_owned())),
        "never master: {:#?}",
        syslog.all()
    );
    // Its log went to syslog (/dev/log), keepalived's way: facility daemon, ident
    // Keepalived, the state line keepalived logs.
    let ident = format!("Keepalived[{main_pid}]: ");
    let (_, line) = syslog.wait(0, "the MASTER line in syslog", |d| {
        d.contains("(VI_1) Entering MASTER STATE")
    });
    assert!(line.starts_with("<30>") && line.contains(&ident), "{line}");

    // A library's warning reaches the log: vrrp-net's, when someone removes the VIP.
    let seen = syslog.all().len();
    ip(&["-n", &ns.0, "addr", "del", "192.0.2.100/24", "dev", "d0"]);
    let (_, warning) = syslog.wait(seen, "vrrp-net's warning", |d| {
        d.contains("WARN vrrp_net") && d.contains("virtual address removed by someone else")
    });
    assert!(warning.starts_with("<28>"), "{warning}");
    assert!(wait_for(|| ns
        .addresses("d0")
        .contains(&"192.0.2.100/24".to_owned())));

    // ExecReload, as written, after a VIP was added to the file.
    std::fs::write(&conf, instance_conf(&["192.0.2.100/24", "192.0.2.101/24"])).unwrap();
    let reload_env = HashMap::from([("MAINPID".to_owned(), main_pid.to_string())]);
    let reload = expand(&unit.exec_reload, &reload_env);
    let status = Command::new(&reload[0])
        .args(&reload[1..])
        .status()
        .unwrap();
    assert!(status.success(), "{reload:?}");
    let (at, reloading) = notify.wait(at + 1, "RELOADING=1", |d| d.starts_with("RELOADING=1"));
    assert!(
        assignments(&reloading).contains_key("MONOTONIC_USEC"),
        "{reloading}"
    );
    let (at, reloaded) = notify.wait(at + 1, "READY=1 after the reload", |d| {
        d.starts_with("READY=1")
    });
    assert!(
        assignments(&reloaded)["STATUS"].starts_with("VRRP reloaded: "),
        "{reloaded}"
    );
    assert!(
        wait_for(|| ns.addresses("d0").contains(&"192.0.2.101/24".to_owned())),
        "the reload did not add 192.0.2.101"
    );

    // systemctl stop: SIGTERM to every process of the service (KillMode=control-group),
    // the crash supervisor included.
    let children = std::fs::read_to_string(format!("/proc/{main_pid}/task/{main_pid}/children"))
        .unwrap_or_default();
    kill("TERM", main_pid);
    for child in children.split_whitespace() {
        // The crash supervisor may already be gone with its process.
        let _ = Command::new("kill")
            .args(["-s", "TERM", child])
            .stderr(Stdio::null())
            .status();
    }
    notify.wait(at + 1, "STOPPING=1", |d| d.starts_with("STOPPING=1"));
    let status = bed.wait_exit();
    let said = dir.text("bed.log");
    assert!(
        status.success(),
        "{said}\nstderr: {}",
        dir.text("stderr.log")
    );
    assert!(!said.contains("left behind"), "{said}");
    assert!(
        ns.addresses("d0") == ["192.0.2.1/24"],
        "VIPs left: {:?}",
        ns.addresses("d0")
    );
    // Nothing went to stderr: without -l the log is syslog's.
    assert_eq!(dir.text("stderr.log"), "");
    println!("keepalived.service bed: {:?} in all", started.elapsed());
}
