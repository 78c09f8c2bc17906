//! `vrrp_track_process` and `track_file` side by side with keepalived 2.2.7: the same
//! configuration and the same events (a tracked `sleep` killed and started again, a
//! tracked file rewritten) on the tracking router, ours in one lab and keepalived in
//! another, must give the same advertised priorities and the same mastership moves.
//!
//! Both daemons start in the root namespace with `-s NS`: the kernel sends process events
//! in the initial network namespace only, so the socket is opened before entering NS.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::harness::{Capture, Daemon, Host, Lab, RouterConf, ours_binary, wait_until};

const VIP: &str = "192.0.2.100";
const LIMIT: Duration = Duration::from_secs(8);

/// A daemon started with `-s NS`; killed on drop.
struct Started {
    child: Child,
    log: std::path::PathBuf,
}

impl Started {
    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        if !wait_until(Duration::from_secs(5), || {
            self.child.try_wait().is_ok_and(|s| s.is_some())
        }) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tracker {
    Ours,
    Keepalived,
}

fn start(tracker: Tracker, lab: &Lab, host: &Host, conf: &RouterConf) -> Started {
    let name = format!("{tracker:?}-{}", host.ns);
    let dir = lab.path(&name);
    std::fs::create_dir_all(&dir).unwrap();
    let conf_path = dir.join("keepalived.conf");
    std::fs::write(&conf_path, conf.text(&name)).unwrap();
    let log = dir.join("log");
    let p = |f: &str| dir.join(f).display().to_string();
    let mut cmd = match tracker {
        Tracker::Ours => {
            let mut c = Command::new(ours_binary());
            c.args(["-n", "-l", "-p", &p("pid")]);
            c
        }
        Tracker::Keepalived => {
            let mut c = Command::new("keepalived");
            c.args(["-n", "-l", "-P", "-p", &p("k.pid"), "-r", &p("v.pid")]);
            c.args(["-c", &p("c.pid")]);
            c
        }
    };
    let child = cmd
        .args(["-s", &host.ns, "-f"])
        .arg(&conf_path)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::options().append(true).open(&log).unwrap())
        .spawn()
        .unwrap();
    let s = Started { child, log };
    assert!(
        wait_until(Duration::from_secs(10), || s
            .log_text()
            .contains("Entering")),
        "{tracker:?} did not start:\n{}",
        s.log_text()
    );
    s
}

/// `sleep 1000` whose `argv[0]` is `name`.
fn tracked_sleep(name: &str) -> Child {
    Command::new("sleep")
        .arg0(name)
        .arg("1000")
        .stdin(Stdio::null())
        .spawn()
        .unwrap()
}

/// The priorities `from` advertised, in order, repeats removed.
fn priorities(wire: &Capture, from: &str) -> Vec<u32> {
    let mut out: Vec<u32> = Vec::new();
    for line in wire.lines() {
        if !line.contains(&format!("IP {from} >")) {
            continue;
        }
        let Some(p) = line
            .split("prio ")
            .nth(1)
            .and_then(|t| t.split(',').next())
            .and_then(|t| t.trim().parse().ok())
        else {
            continue;
        };
        if out.last() != Some(&p) {
            out.push(p);
        }
    }
    out
}

fn write(path: &Path, text: &str) {
    // Written whole under another name and renamed, as an operator's tool would.
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// Runs the scenario with `tracker` as the tracking router (priority 200) against our
/// daemon at priority 100; returns the tracking router's advertised priorities, up to
/// its stop.
fn scenario(tracker: Tracker) -> Vec<u32> {
    let lab = Lab::new(2);
    let (h1, h2) = (&lab.hosts[0], &lab.hosts[1]);
    let only = |ns: &str| lab.holders(VIP) == [ns.to_owned()];
    let process = format!("kpt-{}-{tracker:?}", std::process::id());
    let file = lab.path("weight");
    let mut sleep = tracked_sleep(&process);
    let mut conf = RouterConf::v3(200);
    conf.prelude = format!(
        "vrrp_track_process proc {{\n    process {process}\n    full_command\n    \
         weight -120\n}}\ntrack_file tf {{\n    file {}\n    weight 10\n    \
         init_file 0 overwrite\n}}\n",
        file.display()
    );
    conf.extra = vec![
        "track_process {".into(),
        "    proc".into(),
        "}".into(),
        "track_file {".into(),
        "    tf".into(),
        "}".into(),
    ];
    let wire = Capture::start(&lab, "adverts", "ip proto 112");
    let a = start(tracker, &lab, h1, &conf);
    let _b = Daemon::start(&lab, h2, &RouterConf::v3(100));
    let seen = |p: u32| wait_until(LIMIT, || priorities(&wire, &h1.v4).last() == Some(&p));
    let say = |what: &str| format!("{what}\n{:?}\n{}", priorities(&wire, &h1.v4), a.log_text());
    assert!(wait_until(LIMIT, || only(&h1.ns)), "{}", say("h1 master"));
    assert!(seen(200), "{}", say("200"));
    // The file says -3: 200 - 30.
    write(&file, "-3\n");
    assert!(seen(170), "{}", say("170"));
    // The process goes: 170 - 120 = 50 < 100, h2 takes over.
    let _ = sleep.kill();
    let _ = sleep.wait();
    assert!(wait_until(LIMIT, || only(&h2.ns)), "{}", say("h2 master"));
    // It is back: 170 again, h1 preempts.
    sleep = tracked_sleep(&process);
    assert!(wait_until(LIMIT, || only(&h1.ns)), "{}", say("h1 back"));
    assert!(seen(170), "{}", say("170 again"));
    // 5 × 10 = 50 more.
    write(&file, "5\n");
    assert!(seen(250), "{}", say("250"));
    // -30 × 10 is at most -254: FAULT.
    write(&file, "-30\n");
    assert!(wait_until(LIMIT, || only(&h2.ns)), "{}", say("fault"));
    write(&file, "0\n");
    assert!(wait_until(LIMIT, || only(&h1.ns)), "{}", say("recovered"));
    assert!(seen(200), "{}", say("200 again"));
    let _ = sleep.kill();
    let _ = sleep.wait();
    // What was advertised while tracking (the stop's priority 0 is another test's).
    priorities(&wire, &h1.v4)
}

#[test]
fn track_process_and_track_file_move_mastership_as_keepalived_does() {
    if !crate::harness::require(
        "track_process_and_track_file_move_mastership_as_keepalived_does",
        &["ip", "tcpdump", "keepalived"],
    ) {
        return;
    }
    let ours = scenario(Tracker::Ours);
    let theirs = scenario(Tracker::Keepalived);
    println!("advertised priorities: ours {ours:?}, keepalived {theirs:?}");
    assert_eq!(ours, theirs);
}
