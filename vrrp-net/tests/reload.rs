//! SIGHUP reload without a flap: two routers on a LAN, a client pinging the VIP every 10 ms,
//! and four reloads (the same file; one VIP added and one removed; a second instance; a
//! priority change that must not preempt). After each: no VI_1 state line in either router's
//! notify FIFO and the addresses where they should be; at the end, no lost probe.
//! keepalived 2.2.7 is the backup in one variant, and in a third the same reloads run on two
//! keepalived 2.2.7 routers, whose behaviour is reported (printed) beside ours.
//! Privileged: see `harness::require`.
#![allow(clippy::unwrap_used)]

mod harness;

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use harness::{Daemon, Keepalived, Lab, RouterConf, fifo_reader, require, wait_until};

const VIP: &str = "192.0.2.100";

/// A router under test: ours or keepalived, reloadable.
enum Router {
    Ours(Daemon),
    Keepalived(Keepalived),
}

impl Router {
    fn start(ours: bool, lab: &Lab, host: usize, conf: &RouterConf) -> Router {
        let host = &lab.hosts[host];
        if ours {
            Router::Ours(Daemon::start(lab, host, conf))
        } else {
            Router::Keepalived(Keepalived::start(lab, host, conf))
        }
    }

    fn reload(&self, conf: &RouterConf) {
        match self {
            Router::Ours(d) => d.reload(conf),
            Router::Keepalived(k) => k.reload(conf),
        }
    }

    fn log_text(&self) -> String {
        match self {
            Router::Ours(d) => d.log_text(),
            Router::Keepalived(k) => k.log_text(),
        }
    }
}

/// One router's configuration at each step: VI_1 at `priority` with its notify FIFO.
struct Plan {
    priority: u8,
    fifo: std::path::PathBuf,
}

impl Plan {
    /// Step 0 and 1 (the same file): VIPs .100 and .102.
    fn initial(&self) -> RouterConf {
        let mut c = RouterConf::v3(self.priority);
        c.vips = vec!["192.0.2.100/24".into(), "192.0.2.102/24".into()];
        c.notify_fifo = Some(self.fifo.clone());
        c
    }

    /// Step 2: .101 added, .102 removed.
    fn vips_changed(&self) -> RouterConf {
        let mut c = self.initial();
        c.vips = vec!["192.0.2.100/24".into(), "192.0.2.101/24".into()];
        c
    }

    /// Step 3: and a second instance VI_2 (VRID 52, 192.0.2.120).
    fn second_instance(&self) -> RouterConf {
        let mut c = self.vips_changed();
        c.second_instance = Some((52, "192.0.2.120/24".into(), Vec::new()));
        c
    }

    /// Step 4: priority lowered by 50 (the master's stays above the backup's).
    fn priority_lowered(&self) -> RouterConf {
        let mut c = self.second_instance();
        c.priority = self.priority - 50;
        c
    }
}

/// `ping -i 0.01` from the client host, until stopped.
fn prober(lab: &Lab) -> Child {
    Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.hosts[2].ns,
            "ping",
            "-n",
            "-i",
            "0.01",
            "-W",
            "1",
            VIP,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Stops `ping` with SIGINT and returns (transmitted, received).
fn probes(ping: Child) -> (u64, u64) {
    let _ = Command::new("kill")
        .args(["-INT", &ping.id().to_string()])
        .status();
    let out = ping.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let summary = text
        .lines()
        .find(|l| l.contains("packets transmitted"))
        .unwrap_or_else(|| panic!("no ping summary in:\n{text}"));
    let number = |word: &str| -> u64 {
        summary
            .split(", ")
            .find(|part| part.contains(word))
            .and_then(|part| part.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {word} in {summary:?}"))
    };
    (number("transmitted"), number("received"))
}

fn vi1_lines(fifo: &Arc<Mutex<Vec<String>>>) -> Vec<String> {
    fifo.lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("\"VI_1\""))
        .cloned()
        .collect()
}

/// What one run of the four reloads saw.
#[derive(Debug, Default)]
struct Outcome {
    /// VI_1 notify lines that appeared after the start, per router (master, backup).
    vi1_lines: (Vec<String>, Vec<String>),
    /// Address holders that differed from the expectation, per step.
    misplaced: Vec<String>,
    transmitted: u64,
    received: u64,
}

/// Starts the pair (master on host 1: ours or keepalived; backup on host 2), runs the four
/// reloads on both routers (the peers' address check drops adverts whose VIP list differs
/// from theirs, so a VIP change reaches both, master first) and reports what happened.
fn run(master_ours: bool, backup_ours: bool) -> Outcome {
    let lab = Lab::new(3);
    let plans = [
        Plan {
            priority: 200,
            fifo: lab.path("master.fifo"),
        },
        Plan {
            priority: 150,
            fifo: lab.path("backup.fifo"),
        },
    ];
    let fifos = [fifo_reader(&plans[0].fifo), fifo_reader(&plans[1].fifo)];
    let master = Router::start(master_ours, &lab, 0, &plans[0].initial());
    assert!(
        wait_until(Duration::from_secs(5), || lab.hosts[0].has_addr(VIP)),
        "no master:\n{}",
        master.log_text()
    );
    let backup = Router::start(backup_ours, &lab, 1, &plans[1].initial());
    // Settled: the backup heard the master, every notify line of the start is in.
    std::thread::sleep(Duration::from_secs(2));
    let before = (vi1_lines(&fifos[0]).len(), vi1_lines(&fifos[1]).len());
    let ping = prober(&lab);
    std::thread::sleep(Duration::from_millis(500));

    let mut outcome = Outcome::default();
    type Step = fn(&Plan) -> RouterConf;
    let steps: [(&str, Step, &[&str]); 4] = [
        ("same file", Plan::initial, &["192.0.2.100", "192.0.2.102"]),
        (
            "VIP added and removed",
            Plan::vips_changed,
            &["192.0.2.100", "192.0.2.101"],
        ),
        (
            "second instance",
            Plan::second_instance,
            &["192.0.2.100", "192.0.2.101", "192.0.2.120"],
        ),
        (
            "priority lowered",
            Plan::priority_lowered,
            &["192.0.2.100", "192.0.2.101", "192.0.2.120"],
        ),
    ];
    for (name, conf, held) in steps {
        master.reload(&conf(&plans[0]));
        backup.reload(&conf(&plans[1]));
        std::thread::sleep(Duration::from_secs(2));
        for addr in held {
            let holders = lab.holders(addr);
            if holders != [lab.hosts[0].ns.clone()] {
                outcome
                    .misplaced
                    .push(format!("{name}: {addr} held by {holders:?}"));
            }
        }
        for gone in ["192.0.2.101", "192.0.2.102", "192.0.2.120"] {
            if !held.contains(&gone) && !lab.holders(gone).is_empty() {
                outcome.misplaced.push(format!(
                    "{name}: {gone} still held by {:?}",
                    lab.holders(gone)
                ));
            }
        }
    }
    (outcome.transmitted, outcome.received) = probes(ping);
    outcome.vi1_lines = (
        vi1_lines(&fifos[0])[before.0..].to_vec(),
        vi1_lines(&fifos[1])[before.1..].to_vec(),
    );
    println!(
        "master {}, backup {}: {outcome:?}\n--- master log ---\n{}",
        if master_ours { "ours" } else { "keepalived" },
        if backup_ours { "ours" } else { "keepalived" },
        master.log_text()
    );
    outcome
}

fn assert_no_flap(outcome: &Outcome) {
    assert!(
        outcome.vi1_lines.0.is_empty() && outcome.vi1_lines.1.is_empty(),
        "state lines during reloads: {:?}",
        outcome.vi1_lines
    );
    assert!(outcome.misplaced.is_empty(), "{:?}", outcome.misplaced);
    assert!(outcome.transmitted > 300, "too few probes: {outcome:?}");
    assert_eq!(
        outcome.transmitted, outcome.received,
        "probes lost during the reloads"
    );
}

#[test]
fn reloads_of_ours_cause_no_transition_and_no_probe_gap() {
    if !require(
        "reloads_of_ours_cause_no_transition_and_no_probe_gap",
        &["ip", "ping", "mkfifo"],
    ) {
        return;
    }
    assert_no_flap(&run(true, true));
}

#[test]
fn reloads_of_ours_beside_keepalived_cause_no_transition_and_no_probe_gap() {
    if !require(
        "reloads_of_ours_beside_keepalived_cause_no_transition_and_no_probe_gap",
        &["ip", "ping", "mkfifo", "keepalived"],
    ) {
        return;
    }
    assert_no_flap(&run(true, false));
}

/// The same reloads on two keepalived 2.2.7 routers: reported, not judged (the README's
/// reload comparison quotes this output). The bed itself must work: both reloaded.
#[test]
fn keepalived_under_the_same_reloads_is_reported() {
    if !require(
        "keepalived_under_the_same_reloads_is_reported",
        &["ip", "ping", "mkfifo", "keepalived"],
    ) {
        return;
    }
    let outcome = run(false, false);
    println!("keepalived 2.2.7 under the same reloads: {outcome:?}");
    assert!(
        outcome.transmitted > 300,
        "the probe did not run: {outcome:?}"
    );
}
