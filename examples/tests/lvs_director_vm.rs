//! The LVS-DR lab of the classic keepalived tutorials, with two `lvs-director` processes,
//! in the ipvs-sys test VM (`ipvs-sys/tests/vm/ipvs-vm.sh`: Debian's kernel with IPVS under
//! qemu). `lvs_dr_lab_runs_in_vm` (host side) boots the VM with veth, bridge, iproute2's `ip`,
//! this test binary and the example binary, and re-runs this binary inside with `--ignored`;
//! the `lvs_dr_lab_*` tests are the in-VM scenarios, run one after the other in that boot.
//!
//! Lab (one bridge, a namespace per machine, 192.0.2.0/24, VIP 192.0.2.100):
//! directors d1 (.11, priority 150) and d2 (.12, priority 100), each programming its own
//! namespace's IPVS table; real servers rs1 (.21) and rs2 (.22) with the VIP on `lo`,
//! `arp_ignore=1`, `arp_announce=2`; one client (.50). Scenarios: failover and real server
//! failure; inhibit_on_failure, quorum and sorry server; quorum tracked by VRRP, with the
//! connection sync daemons following the VRRP state; command-line settings reaching the
//! kernel; and anycast mode with `mh` and connection sync ([`lvs_lab::anycast`]).
//!
//! Build the example first: `cargo test -p examples` does; with `--test lvs_director_vm`
//! alone, run `cargo build -p examples --example lvs-director` before.
#![allow(clippy::unwrap_used)]

mod lvs_lab;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use lvs_lab::director::Director;
use lvs_lab::servers::{CONNECT_TIMEOUT, Client, PAUSE, RealServer};
use lvs_lab::{DIRECTOR_ENV, IP_ENV, Lab, in_vm, skip_privileged};
use nix::sys::signal::Signal;
use testbed::ipvs_vm::{self, VmRun};

/// VRRP advertisement interval: longer than [`TCG_SLACK`], so that a takeover one
/// interval late (or early) does not fit in the bounds.
const ADVERT_INT: Duration = Duration::from_millis(500);
/// Health check interval, and failures / successes to change a real server's state.
const CHECK_INTERVAL: Duration = Duration::from_millis(300);
const FALL: u32 = 2;
const RISE: u32 = 1;
/// Scheduling slack under TCG emulation (one emulated vCPU shared by both directors, the
/// real servers, the client and the kernel's softirqs; a context switch or a timer fire is
/// routinely delayed by tens of milliseconds there, up to ~200 ms in our runs).
const TCG_SLACK: Duration = Duration::from_millis(400);

/// RFC 9568 §6.1: Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time, with
/// Skew_Time = (256 - priority) * Master_Adver_Interval / 256.
fn master_down_interval(priority: u32) -> Duration {
    ADVERT_INT * 3 + ADVERT_INT * (256 - priority) / 256
}

/// The example binary cargo built next to this test's directory.
fn director_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .and_then(|deps| deps.parent())
        .map(|profile| profile.join("examples/lvs-director"))
        .unwrap()
}

#[test]
fn lvs_dr_lab_runs_in_vm() {
    if in_vm() {
        return; // the guest's copy of this binary runs only the --ignored scenario
    }
    if let Some(reason) = ipvs_vm::unavailable(&["ip"]) {
        skip_privileged(&reason);
        return;
    }
    let director = director_binary();
    assert!(
        director.exists(),
        "{} missing: cargo build -p examples --example lvs-director",
        director.display()
    );
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/lvs-director.rs");
    let modified = |p: &PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).unwrap();
    assert!(
        modified(&director) >= modified(&source),
        "{} is older than its source: cargo build -p examples --example lvs-director",
        director.display()
    );
    let ip = String::from_utf8(
        Command::new("sh")
            .args(["-c", "command -v ip"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let exe = std::env::current_exe().unwrap();
    let exe = exe.to_str().unwrap();
    let director = director.to_str().unwrap();
    VmRun::new()
        .module("veth")
        .module("bridge")
        .file(&format!("{}:/opt/iproute2/ip", ip.trim()))
        .file(exe)
        .file(director)
        .env(DIRECTOR_ENV, director)
        .env(IP_ENV, "/opt/iproute2/ip")
        .run(&format!(
            "{exe} --ignored lvs_dr_lab_ --nocapture --test-threads=1"
        ))
        .assert_suite_passed(Some(5));
}

/// Waits until `ipvsadm -L -n` in the director's namespace shows exactly the director's
/// last `table` line and that line is `want`; the director prints the line after the
/// kernel accepted the change, so they agree from then on.
fn assert_table(lab: &Lab, director: &Director, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let (view, kernel) = (director.table(), lab.ipvsadm_table(&director.name));
        if view == want && kernel == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{}: director view {view:?}, ipvsadm {kernel:?}, expected {want:?}; output:\n{}",
            director.name,
            director.output()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
#[ignore = "runs inside the IPVS test VM, started by lvs_dr_lab_runs_in_vm"]
fn lvs_dr_lab_failover_and_real_server_failure() {
    let lab = Lab::create(&[
        ("d1", 11),
        ("d2", 12),
        ("rs1", 21),
        ("rs2", 22),
        ("client", 50),
    ]);
    lab.make_real_server("rs1");
    lab.make_real_server("rs2");
    let rs1 = RealServer::start("rs1");
    let _rs2 = RealServer::start("rs2");
    let advert = format!("{}", ADVERT_INT.as_secs_f64());
    let interval = format!("{}", CHECK_INTERVAL.as_secs_f64());
    let (fall, rise) = (FALL.to_string(), RISE.to_string());
    let options = [
        "--advert-int",
        &advert,
        "--real",
        "192.0.2.21",
        "--real",
        "192.0.2.22",
        "--port",
        "80",
        "--check",
        "http",
        "--check-interval",
        &interval,
        "--fall",
        &fall,
        "--rise",
        &rise,
    ];
    let both = "table tcp 192.0.2.100:80 wrr 192.0.2.21:80=1 192.0.2.22:80=1";
    let only_rs2 = "table tcp 192.0.2.100:80 wrr 192.0.2.22:80=1";
    let t0 = Instant::now();

    // d1 (150) starts first and becomes master; d2 (100) stays backup with a warm table.
    let d1 = Director::start(&lab, "d1", 150, &options);
    d1.wait_line(t0, Duration::from_secs(10), |l| l.ends_with("-> MASTER"));
    let mut d2 = Director::start(&lab, "d2", 100, &options);
    d2.wait_line(t0, Duration::from_secs(10), |l| l.ends_with("-> BACKUP"));
    assert_table(&lab, &d1, both);
    assert_table(&lab, &d2, both);
    let client = Client::start("client");
    client.wait_answer(t0, Some("rs1"), Duration::from_secs(10));
    client.wait_answer(t0, Some("rs2"), Duration::from_secs(10));
    assert!(lab.has_address("d1", "192.0.2.100"));
    assert!(!lab.has_address("d2", "192.0.2.100"));

    // 1. The master dies (process killed, machine off the LAN): d2 takes over after its
    //    Master_Down_Interval, counted from d1's last advert (at most one interval before
    //    the kill); the client's next attempt reaches d2 once its gratuitous ARP is in.
    let killed = Instant::now();
    lab.unplug("d1");
    d1.signal(Signal::SIGKILL);
    // Requests started before this point may still have gone through d1.
    let gone = Instant::now();
    let (took_over, _) = d2.wait_line(killed, Duration::from_secs(5), |l| {
        l.ends_with("BACKUP -> MASTER")
    });
    let resumed = client.wait_answer(gone, None, Duration::from_secs(5));
    assert!(
        resumed.end >= took_over,
        "an answer without a master: {resumed:?}"
    );
    let mdi = master_down_interval(100);
    let takeover = took_over - killed;
    let outage = resumed.end - killed;
    println!(
        "failover: Master_Down_Interval {mdi:?}, d2 master after {takeover:?}, \
         first answer {outage:?} after the kill"
    );
    // d1's last advert left at most one interval before the kill (give or take the slack)
    assert!(
        takeover + ADVERT_INT + TCG_SLACK >= mdi && takeover <= mdi + TCG_SLACK,
        "takeover after {takeover:?}, Master_Down_Interval {mdi:?}"
    );
    // + one connect timeout for the SYN sent to the dead director's MAC, + the pause
    let bound = mdi + CONNECT_TIMEOUT + PAUSE + TCG_SLACK;
    assert!(outage <= bound, "outage {outage:?} > {bound:?}");
    assert!(lab.has_address("d2", "192.0.2.100"));
    assert_table(&lab, &d2, both);

    // 2. A real server dies: it leaves the table within interval x fall, then no request
    //    goes to it.
    let failed = Instant::now();
    rs1.set_up(false);
    let (removed, _) = d2.wait_line(failed, Duration::from_secs(5), |l| l == only_rs2);
    let removal = removed - failed;
    let bound = CHECK_INTERVAL * FALL + TCG_SLACK;
    println!("real server failure: removed after {removal:?} (bound {bound:?})");
    assert!(removal <= bound, "removal after {removal:?} > {bound:?}");
    assert_table(&lab, &d2, only_rs2);
    let window = Instant::now();
    std::thread::sleep(Duration::from_secs(1));
    let after = client.since(window);
    assert!(after.len() >= 5, "only {} requests in 1 s", after.len());
    assert!(
        after.iter().all(|a| a.server.as_deref() == Some("rs2")),
        "requests after the removal: {after:?}"
    );

    // 3. It comes back: in the table within interval x rise, and clients reach it again.
    let restored = Instant::now();
    rs1.set_up(true);
    let (added, _) = d2.wait_line(restored, Duration::from_secs(5), |l| l == both);
    let addition = added - restored;
    let bound = CHECK_INTERVAL * RISE + TCG_SLACK;
    println!("real server recovery: added after {addition:?} (bound {bound:?})");
    assert!(addition <= bound, "addition after {addition:?} > {bound:?}");
    assert_table(&lab, &d2, both);
    client.wait_answer(added, Some("rs1"), Duration::from_secs(2));

    // 4. d1 comes back (its crash left the VIP on its interface: the driver removes it at
    //    start), preempts with its higher priority and finds its table as it left it
    //    (adopted, with rs1 back); d2 returns to backup with its table warm.
    println!("crashed d1:\n{}", d1.output());
    drop(d1);
    lab.plug("d1");
    let restarted = Instant::now();
    let mut d1 = Director::start(&lab, "d1", 150, &options);
    d1.wait_line(restarted, Duration::from_secs(10), |l| {
        l.ends_with("BACKUP -> MASTER")
    });
    d2.wait_line(restarted, Duration::from_secs(10), |l| {
        l.ends_with("MASTER -> BACKUP")
    });
    assert_table(&lab, &d1, both);
    assert_table(&lab, &d2, both);
    assert!(lab.has_address("d1", "192.0.2.100"));
    assert!(!lab.has_address("d2", "192.0.2.100"));
    client.wait_answer(Instant::now(), None, Duration::from_secs(2));

    // 5. A graceful stop of the master: priority 0 makes d2 take over after its Skew_Time
    //    (RFC 9568 §6.4.2), not its Master_Down_Interval; nothing is left on d1.
    let stopping = Instant::now();
    d1.signal(Signal::SIGTERM);
    let (took_over, _) = d2.wait_line(stopping, Duration::from_secs(5), |l| {
        l.ends_with("BACKUP -> MASTER")
    });
    let skew = ADVERT_INT * (256 - 100) / 256;
    let handover = took_over - stopping;
    println!("graceful handover: Skew_Time {skew:?}, d2 master after {handover:?}");
    assert!(
        handover <= skew + TCG_SLACK,
        "handover after {handover:?} > Skew_Time {skew:?} + {TCG_SLACK:?}"
    );
    d1.wait_line(stopping, Duration::from_secs(5), |l| l == "stopped");
    assert!(d1.wait_exit(Duration::from_secs(5)), "d1 exit status");
    assert!(!lab.has_address("d1", "192.0.2.100"), "stale VIP on d1");
    assert_eq!(lab.ipvsadm_table("d1"), "", "stale IPVS service on d1");
    client.wait_answer(took_over, None, Duration::from_secs(2));

    // 6. The last director stops: no VIP and no virtual service anywhere.
    let stopping = Instant::now();
    d2.signal(Signal::SIGTERM);
    d2.wait_line(stopping, Duration::from_secs(5), |l| l == "stopped");
    assert!(d2.wait_exit(Duration::from_secs(5)), "d2 exit status");
    assert!(!lab.has_address("d2", "192.0.2.100"), "stale VIP on d2");
    assert_eq!(lab.ipvsadm_table("d2"), "", "stale IPVS service on d2");
    println!("d1:\n{}d2:\n{}", d1.output(), d2.output());
}

/// keepalived's `inhibit_on_failure`, `quorum` and `sorry_server` in the kernel: with quorum
/// 2 out of two real servers of weight 1, one failure loses quorum, the sorry server takes
/// the traffic and the failed and the live server stay in the table at weight 0.
#[test]
#[ignore = "runs inside the IPVS test VM, started by lvs_dr_lab_runs_in_vm"]
fn lvs_dr_lab_inhibit_quorum_and_sorry_server() {
    let lab = Lab::create(&[
        ("d1", 11),
        ("rs1", 21),
        ("rs2", 22),
        ("sorry", 23),
        ("client", 50),
    ]);
    for rs in ["rs1", "rs2", "sorry"] {
        lab.make_real_server(rs);
    }
    let rs1 = RealServer::start("rs1");
    let _rs2 = RealServer::start("rs2");
    let _sorry = RealServer::start("sorry");
    let advert = format!("{}", ADVERT_INT.as_secs_f64());
    let interval = format!("{}", CHECK_INTERVAL.as_secs_f64());
    let fall = FALL.to_string();
    let options = [
        "--advert-int",
        &advert,
        "--real",
        "192.0.2.21",
        "--real",
        "192.0.2.22",
        "--check",
        "tcp",
        "--check-interval",
        &interval,
        "--fall",
        &fall,
        "--inhibit-on-failure",
        "--quorum",
        "2",
        "--sorry-server",
        "192.0.2.23",
    ];
    let both = "table tcp 192.0.2.100:80 wrr 192.0.2.21:80=1 192.0.2.22:80=1";
    let sorry = "table tcp 192.0.2.100:80 wrr 192.0.2.21:80=0 192.0.2.22:80=0 192.0.2.23:80=1";
    let t0 = Instant::now();
    let d1 = Director::start(&lab, "d1", 150, &options);
    d1.wait_line(t0, Duration::from_secs(10), |l| l.ends_with("-> MASTER"));
    assert_table(&lab, &d1, both);
    let client = Client::start("client");
    client.wait_answer(t0, Some("rs1"), Duration::from_secs(10));
    client.wait_answer(t0, Some("rs2"), Duration::from_secs(10));

    let failed = Instant::now();
    rs1.set_up(false);
    d1.wait_line(failed, Duration::from_secs(5), |l| {
        l == "quorum DOWN live_weight=1"
    });
    let (swapped, _) = d1.wait_line(failed, Duration::from_secs(5), |l| l == sorry);
    let bound = CHECK_INTERVAL * FALL + TCG_SLACK;
    assert!(
        swapped - failed <= bound,
        "sorry server after {:?} > {bound:?}",
        swapped - failed
    );
    assert_table(&lab, &d1, sorry);
    let window = Instant::now();
    std::thread::sleep(Duration::from_secs(1));
    let after = client.since(window);
    assert!(after.len() >= 5, "only {} requests in 1 s", after.len());
    assert!(
        after.iter().all(|a| a.server.as_deref() == Some("sorry")),
        "requests while quorum is lost: {after:?}"
    );

    let restored = Instant::now();
    rs1.set_up(true);
    d1.wait_line(restored, Duration::from_secs(5), |l| {
        l == "quorum UP live_weight=2"
    });
    let (back, _) = d1.wait_line(restored, Duration::from_secs(5), |l| l == both);
    assert_table(&lab, &d1, both);
    client.wait_answer(back, Some("rs1"), Duration::from_secs(2));
    client.wait_answer(back, Some("rs2"), Duration::from_secs(2));
    println!("d1:\n{}", d1.output());
}

/// The scheduler, persistence and weights given on the command line reach the kernel, and
/// the service is gone after a graceful stop.
#[test]
#[ignore = "runs inside the IPVS test VM, started by lvs_dr_lab_runs_in_vm"]
fn lvs_dr_lab_scheduler_persistence_and_weights_reach_the_kernel() {
    let lab = Lab::create(&[("d1", 11)]);
    let t0 = Instant::now();
    let mut d1 = Director::start(
        &lab,
        "d1",
        150,
        &[
            "--real",
            "192.0.2.21@3",
            "--real",
            "192.0.2.22",
            "--port",
            "443",
            "--scheduler",
            "rr",
            "--persistence",
            "300",
        ],
    );
    let want = "table tcp 192.0.2.100:443 rr 192.0.2.21:443=3 192.0.2.22:443=1";
    d1.wait_line(t0, Duration::from_secs(10), |l| l == want);
    assert_table(&lab, &d1, want);
    let listing = lab.sh_in("d1", "ipvsadm -L -n");
    assert!(
        listing
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == ["TCP", "192.0.2.100:443", "rr", "persistent", "300"]),
        "{listing}"
    );
    assert!(
        listing
            .lines()
            .any(|l| l.split_whitespace().take(4).collect::<Vec<_>>()
                == ["->", "192.0.2.21:443", "Route", "3"]),
        "{listing}"
    );
    let stopping = Instant::now();
    d1.signal(Signal::SIGTERM);
    d1.wait_line(stopping, Duration::from_secs(5), |l| l == "stopped");
    assert!(d1.wait_exit(Duration::from_secs(5)), "d1 exit status");
    assert_eq!(lab.ipvsadm_table("d1"), "", "stale IPVS service on d1");
}

/// keepalived's `quorum_down` wired to VRRP (`--quorum-track-weight -60`): when only the
/// master loses its route to a real server, its pool loses quorum, its priority drops to
/// 150 - 60 = 90 and the backup (100), which still reaches both, takes the VIP; when the
/// route is back, quorum and priority return and the first director preempts again. The
/// sync daemons (`--sync-interface`, syncid = VRID) follow: master daemon on the master,
/// backup daemon on the backup, swapped at each move, gone after a graceful stop.
#[test]
#[ignore = "runs inside the IPVS test VM, started by lvs_dr_lab_runs_in_vm"]
fn lvs_dr_lab_quorum_loss_lowers_the_priority_and_moves_the_vip() {
    let lab = Lab::create(&[("d1", 11), ("d2", 12), ("rs1", 21), ("rs2", 22)]);
    lab.make_real_server("rs1");
    lab.make_real_server("rs2");
    let _rs1 = RealServer::start("rs1");
    let _rs2 = RealServer::start("rs2");
    let advert = format!("{}", ADVERT_INT.as_secs_f64());
    let interval = format!("{}", CHECK_INTERVAL.as_secs_f64());
    let fall = FALL.to_string();
    let options = [
        "--advert-int",
        &advert,
        "--real",
        "192.0.2.21",
        "--real",
        "192.0.2.22",
        "--check",
        "tcp",
        "--check-interval",
        &interval,
        "--fall",
        &fall,
        "--quorum",
        "2",
        "--quorum-track-weight",
        "-60",
        "--sync-interface",
        "eth0",
    ];
    let both = "table tcp 192.0.2.100:80 wrr 192.0.2.21:80=1 192.0.2.22:80=1";
    let only_rs2 = "table tcp 192.0.2.100:80 wrr 192.0.2.22:80=1";
    let t0 = Instant::now();
    let mut d1 = Director::start(&lab, "d1", 150, &options);
    d1.wait_line(t0, Duration::from_secs(10), |l| l.ends_with("-> MASTER"));
    let mut d2 = Director::start(&lab, "d2", 100, &options);
    d2.wait_line(t0, Duration::from_secs(10), |l| l.ends_with("-> BACKUP"));
    assert_table(&lab, &d1, both);
    assert_table(&lab, &d2, both);
    d1.wait_line(t0, Duration::from_secs(2), |l| l == "sync master");
    assert_sync_daemon(&lab, "d1", "master");
    assert_sync_daemon(&lab, "d2", "backup");

    // d1 alone loses rs1: its checks fail, quorum goes, its priority drops below d2's.
    let ns = Lab::ns("d1");
    lab.ip(&["-n", &ns, "route", "add", "prohibit", "192.0.2.21/32"]);
    let cut = Instant::now();
    d1.wait_line(cut, Duration::from_secs(5), |l| {
        l == "quorum DOWN live_weight=1"
    });
    d2.wait_line(cut, Duration::from_secs(10), |l| {
        l.ends_with("BACKUP -> MASTER")
    });
    d1.wait_line(cut, Duration::from_secs(10), |l| {
        l.ends_with("MASTER -> BACKUP")
    });
    assert_table(&lab, &d1, only_rs2);
    assert_table(&lab, &d2, both);
    assert!(lab.has_address("d2", "192.0.2.100"));
    assert!(!lab.has_address("d1", "192.0.2.100"));
    d2.wait_line(cut, Duration::from_secs(2), |l| l == "sync master");
    d1.wait_line(cut, Duration::from_secs(2), |l| l == "sync backup");
    assert_sync_daemon(&lab, "d1", "backup");
    assert_sync_daemon(&lab, "d2", "master");

    // The route comes back: quorum, then priority 150, then d1 preempts.
    lab.ip(&["-n", &ns, "route", "del", "prohibit", "192.0.2.21/32"]);
    let healed = Instant::now();
    d1.wait_line(healed, Duration::from_secs(5), |l| {
        l == "quorum UP live_weight=2"
    });
    d1.wait_line(healed, Duration::from_secs(10), |l| {
        l.ends_with("BACKUP -> MASTER")
    });
    d2.wait_line(healed, Duration::from_secs(10), |l| {
        l.ends_with("MASTER -> BACKUP")
    });
    assert_table(&lab, &d1, both);
    assert!(lab.has_address("d1", "192.0.2.100"));
    assert!(!lab.has_address("d2", "192.0.2.100"));

    for d in [&mut d1, &mut d2] {
        let stopping = Instant::now();
        d.signal(Signal::SIGTERM);
        d.wait_line(stopping, Duration::from_secs(5), |l| l == "stopped");
        assert!(
            d.wait_exit(Duration::from_secs(5)),
            "{} exit status",
            d.name
        );
        assert_eq!(
            lab.sync_daemons(&d.name),
            "",
            "{}: sync daemon left",
            d.name
        );
    }
    println!("d1:\n{}d2:\n{}", d1.output(), d2.output());
}

/// Asserts that the only sync daemon in `name`'s namespace is the `state` one, on eth0 with
/// the VRID as sync id (keepalived's default).
fn assert_sync_daemon(lab: &Lab, name: &str, state: &str) {
    let daemons = lab.sync_daemons(name);
    let lines: Vec<&str> = daemons.lines().collect();
    assert!(
        lines.len() == 1
            && lines[0].starts_with(&format!("{state} sync daemon (mcast=eth0, syncid=51")),
        "{name}: expected only the {state} daemon, ipvsadm says {daemons:?}"
    );
}
