//! A running daemon serves every signal keepalived 2.2.7 handles without dying, and writes
//! keepalived's dumps: one VRRP instance in a network namespace created (and deleted) here,
//! 192.0.2.0/24 only. Needs root and `ip`; skips otherwise (fails with
//! `REQUIRE_PRIVILEGED_TESTS=1`). The dumps go to `$TMPDIR`, which keepalived honours too, so
//! the test never touches `/tmp/keepalived.*`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `"data"` keys keepalived 2.2.7 writes for this configuration, in its order (taken
/// from a real `keepalived.json` of the same instance).
const DATA_KEYS: [&str; 33] = [
    "iname",
    "dont_track_primary",
    "skip_check_adv_addr",
    "strict_mode",
    "vmac_ifname",
    "ifp_ifname",
    "master_priority",
    "last_transition",
    "garp_delay",
    "garp_refresh",
    "garp_rep",
    "garp_refresh_rep",
    "garp_lower_prio_delay",
    "garp_lower_prio_rep",
    "lower_prio_no_advert",
    "higher_prio_send_advert",
    "vrid",
    "base_priority",
    "effective_priority",
    "vipset",
    "promote_secondaries",
    "adver_int",
    "master_adver_int",
    "accept",
    "nopreempt",
    "preempt_delay",
    "state",
    "wantstate",
    "version",
    "smtp_alert",
    "notify_deleted",
    "vips",
    "auth_type",
];

/// The `"stats"` keys of keepalived 2.2.7, in its order.
const STATS_KEYS: [&str; 14] = [
    "advert_rcvd",
    "advert_sent",
    "become_master",
    "release_master",
    "packet_len_err",
    "advert_interval_err",
    "ip_ttl_err",
    "invalid_type_rcvd",
    "addr_list_err",
    "invalid_authtype",
    "authtype_mismatch",
    "auth_failure",
    "pri_zero_rcvd",
    "pri_zero_sent",
];

fn daemon_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_keepalived-compat"))
}

fn ip(args: &[&str]) {
    let status = Command::new("ip").args(args).status().unwrap();
    assert!(status.success(), "ip {args:?} failed");
}

/// A namespace with a veth pair `d0`/`d1`, `d0` holding 192.0.2.1/24; deleted on drop.
struct Netns(String);

impl Netns {
    fn new() -> Self {
        let name = format!("kcsig{}", std::process::id());
        // A namespace left by a killed run of this test, if any.
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
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// The daemon, killed on drop if still running.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn signum(name: &str) -> String {
    let out = Command::new(daemon_binary())
        .arg(format!("--signum={name}"))
        .output()
        .unwrap();
    assert!(out.status.success(), "--signum={name}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn send(pid: u32, name: &str) {
    let number = signum(name);
    let status = Command::new("kill")
        .args(["-s", &number, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -s {number} ({name})");
}

/// Waits until `cond` holds, for at most `limit`.
fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

fn json(dir: &Path) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(dir.join("keepalived.json")).ok()?;
    serde_json::from_str(&text).ok()
}

fn keys(object: &serde_json::Value) -> Vec<&str> {
    object
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

#[test]
fn signals_never_kill_and_dumps_are_keepalived_s() {
    if !testbed::privileged::require("signals", &["ip", "kill"]) {
        return;
    }
    let ns = Netns::new();
    let dir = std::env::temp_dir().join(format!("kc-signals-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("k.conf");
    std::fs::write(
        &conf,
        "vrrp_instance VI_1 {\n    state MASTER\n    interface d0\n    virtual_router_id 51\n    \
         priority 100\n    advert_int 1\n    virtual_ipaddress {\n        192.0.2.100/24\n    \
         }\n}\n",
    )
    .unwrap();
    let pid_file: PathBuf = dir.join("kc.pid");
    let child = Command::new("ip")
        .args(["netns", "exec", &ns.0])
        .arg(daemon_binary())
        .args(["-n", "-l", "-P", "-f"])
        .arg(&conf)
        .arg("-p")
        .arg(&pid_file)
        .env("TMPDIR", &dir)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut daemon = Daemon(child);
    assert!(
        wait_for(Duration::from_secs(10), || pid_file.exists()),
        "no pid file"
    );
    let pid: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();

    // `state MASTER`: master at once; the JSON dump says so (state 2) once it is.
    let master = wait_for(Duration::from_secs(10), || {
        send(pid, "JSON");
        std::thread::sleep(Duration::from_millis(200));
        json(&dir).is_some_and(|j| j[0]["data"]["state"] == 2)
    });
    assert!(master, "never MASTER in keepalived.json");

    for name in ["RELOAD", "DATA", "STATS", "STATS_CLEAR", "JSON"] {
        send(pid, name);
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            daemon.0.try_wait().unwrap().is_none(),
            "the daemon died of {name}"
        );
    }

    let data = std::fs::read_to_string(dir.join("keepalived.data")).unwrap();
    assert!(data.contains(" VRRP Instance = VI_1\n"), "{data}");
    assert!(data.contains("   State = MASTER\n"), "{data}");
    assert!(
        data.contains("     192.0.2.100/24 dev d0 scope global set\n"),
        "{data}"
    );
    // STATS_CLEAR printed the counters, then zeroed them: a new STATS shows the restart.
    let stats = std::fs::read_to_string(dir.join("keepalived.stats")).unwrap();
    assert!(
        stats.starts_with("VRRP Instance: VI_1\n  Advertisements:\n"),
        "{stats}"
    );
    assert!(stats.contains("  Became master: 1\n"), "{stats}");
    send(pid, "STATS");
    let cleared = wait_for(Duration::from_secs(5), || {
        std::fs::read_to_string(dir.join("keepalived.stats"))
            .is_ok_and(|s| s.contains("  Became master: 0\n"))
    });
    assert!(cleared, "SIGSTATS_CLEAR did not zero the counters");

    let json = json(&dir).expect("keepalived.json parses");
    let instances = json.as_array().unwrap();
    assert_eq!(instances.len(), 1);
    assert_eq!(keys(&instances[0]), ["data", "stats"]);
    let data = &instances[0]["data"];
    assert_eq!(keys(data), DATA_KEYS);
    assert_eq!(keys(&instances[0]["stats"]), STATS_KEYS);
    assert_eq!(data["iname"], "VI_1");
    assert_eq!(data["state"], 2);
    assert_eq!(data["vipset"], true);
    assert_eq!(data["vips"][0], "192.0.2.100/24 dev d0 scope global set");
    assert!(data["last_transition"].as_f64().unwrap() > 1e9);

    send(pid, "STOP");
    assert!(
        wait_for(Duration::from_secs(10), || daemon
            .0
            .try_wait()
            .unwrap()
            .is_some()),
        "SIGTERM did not stop the daemon"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
