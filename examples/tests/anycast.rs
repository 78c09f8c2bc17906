//! vip-proxy in anycast mode behind an ECMP router, on FRR in network namespaces
//! (`testbed::frr::AnycastLab`): three nodes, each with its own bgpd peering (with BFD, 100 ms
//! x 3) with the router and its own backend; a client behind the router opening a new
//! connection per request at a fixed rate. One bed, one event after another, each under
//! load; the failed requests of each event are printed as a table.
//!
//! Privileged: needs root, `ip` and FRR (`apt-get install frr`); skipped with a reason
//! otherwise, failed instead when `REQUIRE_PRIVILEGED_TESTS=1`.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use testbed::frr::{AnycastLab, Bfd, VIP};
use testbed::proxy_bed::{Backend, Host, Load, Outcome, Report, ms};

/// Requests per second of the client.
const RATE: u32 = 300;
/// How long a withdrawn node keeps answering while the router converges.
const WITHDRAW_DRAIN: &str = "500ms";
/// What a shared 2-vCPU VM adds to protocol timings in these assertions.
const SLACK: Duration = Duration::from_millis(250);
/// FRR's own processing of a change, node and router together (bgpd's 50 ms route queue
/// and zebra's 10 ms, on each side; measured ~125 ms per withdraw on this bed).
const FRR_PROCESSING: Duration = Duration::from_millis(150);

/// The vip-proxy example; `VIP_PROXY` overrides it with a prebuilt one.
fn program() -> PathBuf {
    std::env::var_os("VIP_PROXY")
        .map(PathBuf::from)
        .unwrap_or_else(|| testbed::example::build("vip-proxy", "vrrp,health"))
}

fn vip() -> SocketAddr {
    SocketAddr::new(VIP.parse().unwrap(), 80)
}

/// One vip-proxy in anycast mode, in front of its node's backend; SIGKILLed on drop.
struct Node {
    host: Host,
    backend: String,
    binary: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

impl Node {
    fn start(lab: &AnycastLab, binary: &Path, host: &Host, backend: &Host) -> Node {
        let mut node = Node {
            host: host.clone(),
            backend: format!("{}:{}", backend.v4, testbed::proxy_bed::backend::PORT),
            binary: binary.to_owned(),
            log: lab.path(&format!("{}-proxy.log", host.role)),
            child: None,
        };
        node.spawn();
        node
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.host.ns])
            .arg(&self.binary)
            .args(["--mode", "anycast", "--vip", &format!("{VIP}/32")])
            .args(["--listen-port", "80", "--withdraw-drain", WITHDRAW_DRAIN])
            .args(["--check-path", "/health", "--check-interval", "100ms"])
            .args(["--check-timeout", "100ms", "--rise", "2", "--fall", "2"])
            .args(["--connect-timeout", "300ms", "--drain-timeout", "5s"])
            .args(["--backend", &format!("http://{}", self.backend)]);
        cmd
    }

    fn spawn(&mut self) {
        assert!(self.child.is_none(), "{} is running", self.host.role);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = self
            .command()
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
    }

    /// SIGKILL: the VIP stays on lo.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// What a supervisor does for a dead proxy: `vip-proxy ... --withdraw-stale`.
    fn withdraw_stale(&self) {
        let out = self.command().arg("--withdraw-stale").output().unwrap();
        assert!(
            out.status.success(),
            "--withdraw-stale: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Sends SIGTERM; returns the child to wait for.
    fn terminate(&mut self) -> Child {
        let child = self.child.take().unwrap();
        let pid = Pid::from_raw(i32::try_from(child.id()).unwrap());
        kill(pid, Signal::SIGTERM).unwrap();
        child
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `t - at` in milliseconds, negative before `at`.
fn offset_ms(t: Instant, at: Instant) -> f64 {
    if t >= at { ms(t - at) } else { -ms(at - t) }
}

/// Waits for `child` (at most `limit`); its status and when it exited.
fn wait_exit(mut child: Child, limit: Duration) -> (ExitStatus, Instant) {
    let end = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status, Instant::now());
        }
        if Instant::now() > end {
            let _ = child.kill();
            panic!("no exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

struct Bed {
    lab: AnycastLab,
    backends: Vec<Backend>,
    nodes: Vec<Node>,
    /// (event, requests, failed, failure kinds, extra), for the table.
    table: Vec<(String, usize, usize, String, String)>,
}

impl Bed {
    /// The client for `before + after`, `event` after `before` (plus 0-100 ms at random).
    fn under_load<T>(
        &mut self,
        before: Duration,
        after: Duration,
        event: impl FnOnce(&mut Bed) -> T,
    ) -> (Report, Instant, T) {
        let phase = Duration::from_millis(fastrand::u64(0..100));
        let load = Load::start(&self.lab.client, vip(), RATE, before + phase + after);
        std::thread::sleep(before + phase);
        let at = Instant::now();
        let out = event(self);
        (load.finish(), at, out)
    }

    fn record(&mut self, event: &str, report: &Report, at: Instant, extra: String) {
        // When the failed requests started, relative to the event (ms).
        let when: Vec<String> = report
            .records
            .iter()
            .filter(|r| r.outcome != Outcome::Ok)
            .map(|r| format!("{:.0}", offset_ms(r.start, at)))
            .collect();
        eprintln!(
            "{event}: {} failed of {} ({}) at {when:?} ms; {extra}",
            report.failed(),
            report.records.len(),
            report.kinds()
        );
        self.table.push((
            event.to_owned(),
            report.records.len(),
            report.failed(),
            report.kinds(),
            extra,
        ));
    }

    /// Requests answered through node `i` (its backend's name is in the body).
    fn served_by(report: &Report, i: usize, after: Instant) -> usize {
        let name = format!("b{}", i + 1);
        report
            .records
            .iter()
            .filter(|r| r.start > after && r.outcome == Outcome::Ok && r.backend == name)
            .count()
    }

    fn logs(&self) -> String {
        let mut text = String::new();
        for n in &self.nodes {
            text.push_str(&format!("--- {} ---\n{}\n", n.host.role, n.log_text()));
        }
        text
    }

    fn wait_all_paths(&self, what: &str) {
        let n = self.nodes.len();
        assert!(
            self.lab.wait_paths(n, Duration::from_secs(10)).is_some(),
            "{what}: the router has {:?}\n{}",
            self.lab.next_hops(),
            self.logs()
        );
    }
}

#[test]
fn anycast_nodes_carry_traffic_and_leave_without_losing_requests() {
    let test = "anycast_nodes_carry_traffic_and_leave_without_losing_requests";
    if !testbed::privileged::require(test, &testbed::frr::TOOLS) {
        return;
    }
    let binary = program();
    let began = Instant::now();
    let lab = AnycastLab::new(3, Bfd::default());
    let backends: Vec<Backend> = lab.backends.iter().map(Backend::start).collect();
    let nodes: Vec<Node> = (0..3)
        .map(|i| Node::start(&lab, &binary, &lab.nodes[i], &lab.backends[i]))
        .collect();
    let mut bed = Bed {
        lab,
        backends,
        nodes,
        table: Vec::new(),
    };
    bed.wait_all_paths("start");
    assert!(bed.lab.wait_bfd(3, Duration::from_secs(10)), "BFD not up");
    eprintln!("bed up in {:.1} s", began.elapsed().as_secs_f64());

    // 1. Every node carries a share of the connections.
    let start = Instant::now();
    let report = Load::start(&bed.lab.client, vip(), RATE, Duration::from_secs(2)).finish();
    let shares: Vec<usize> = (0..3).map(|i| Bed::served_by(&report, i, start)).collect();
    bed.record(
        "3 nodes, steady",
        &report,
        start,
        format!("per node {shares:?}"),
    );
    assert_eq!(report.failed(), 0, "{}", report.summary(start));
    let fair = report.records.len() / 3;
    assert!(
        shares.iter().all(|&s| s > fair / 2),
        "uneven ECMP spread {shares:?}"
    );

    // 2. n1's backend fails: n1 withdraws; once the router converged it gets no new flow.
    let n1 = bed.lab.node("n1").v4.clone();
    let (report, at, withdrawn) =
        bed.under_load(Duration::from_secs(1), Duration::from_millis(1500), |bed| {
            bed.backends[0].stop();
            bed.lab.wait_paths(2, Duration::from_secs(3))
        });
    let withdrawn = withdrawn.unwrap_or_else(|| panic!("n1 was not withdrawn\n{}", bed.logs()));
    assert!(!bed.lab.next_hops().contains(&n1));
    // fall 2 of 100 ms checks, then FRR.
    let bound = Duration::from_millis(300) + FRR_PROCESSING + SLACK;
    let late_failures = report
        .records
        .iter()
        .filter(|r| r.start > withdrawn + Duration::from_millis(20) && r.outcome != Outcome::Ok)
        .count();
    bed.record(
        "n1's backends all down",
        &report,
        at,
        format!("withdrawn after {:.0} ms", ms(withdrawn - at)),
    );
    assert!(
        withdrawn - at <= bound,
        "withdrawn after {:.0} ms",
        ms(withdrawn - at)
    );
    assert_eq!(
        late_failures,
        0,
        "failures after the withdraw: {}",
        report.summary(at)
    );
    assert_eq!(Bed::served_by(&report, 0, withdrawn), 0);
    bed.backends[0].resume();
    bed.wait_all_paths("n1's backend back");

    // 3. Graceful stop of n2 (the middle next hop: no other node's flows are rehashed):
    //    withdrawn first, answering until the router converged, no request lost.
    let n2 = bed.lab.node("n2").v4.clone();
    let (report, at, (withdrawn, (status, exited))) =
        bed.under_load(Duration::from_secs(1), Duration::from_millis(1500), |bed| {
            let child = bed.nodes[1].terminate();
            let withdrawn = bed.lab.wait_paths(2, Duration::from_secs(3));
            (withdrawn, wait_exit(child, Duration::from_secs(8)))
        });
    let withdrawn = withdrawn.unwrap_or_else(|| panic!("n2 was not withdrawn\n{}", bed.logs()));
    assert!(status.success(), "n2 exited with {status}\n{}", bed.logs());
    assert!(!bed.lab.next_hops().contains(&n2));
    bed.record(
        "n2 graceful stop (SIGTERM)",
        &report,
        at,
        format!(
            "withdrawn after {:.0} ms, exited after {:.0} ms",
            ms(withdrawn - at),
            ms(exited - at)
        ),
    );
    assert!(withdrawn < exited, "the route outlived the process");
    // New connections never fail: the node answers until well after the router converged.
    // What plain ECMP cannot save: a connection of n2's in flight at the instant the router
    // drops the next hop sends its next packet to another node, which resets it (seen in
    // about one run in two at this rate: a request a few ms long).
    let in_flight = |r: &testbed::proxy_bed::load::Record| {
        r.outcome == Outcome::Reset
            && r.start <= withdrawn
            && r.start + Duration::from_millis(50) >= withdrawn
    };
    assert!(
        report
            .records
            .iter()
            .filter(|r| r.outcome != Outcome::Ok)
            .all(in_flight)
            && report.failed() <= 2,
        "{}\n{}",
        report.summary(at),
        bed.logs()
    );
    bed.nodes[1].spawn();
    bed.wait_all_paths("n2 restarted");

    // 4. n1's process is killed: its crash supervisor removes the VIP from lo, bgpd
    //    withdraws it (`--withdraw-stale`, for systemd, then finds nothing left).
    let (report, at, withdrawn) =
        bed.under_load(Duration::from_secs(1), Duration::from_millis(1500), |bed| {
            bed.nodes[0].kill();
            bed.lab.wait_paths(2, Duration::from_secs(3))
        });
    let withdrawn = withdrawn.unwrap_or_else(|| panic!("n1 was not withdrawn\n{}", bed.logs()));
    assert!(!bed.lab.has_vip("n1"));
    bed.nodes[0].withdraw_stale();
    bed.record(
        "n1 process SIGKILLed (crash supervisor)",
        &report,
        at,
        format!("withdrawn after {:.0} ms", ms(withdrawn - at)),
    );
    assert!(withdrawn - at <= FRR_PROCESSING + SLACK);
    bed.nodes[0].spawn();
    bed.wait_all_paths("n1 restarted");
    assert!(bed.lab.wait_bfd(3, Duration::from_secs(10)), "BFD not up");

    // 5. Node n3 dies (off the switch, its proxy killed): BFD takes it out.
    let n3 = bed.lab.node("n3").v4.clone();
    let detection = bed.lab.bfd.detection();
    let (report, at, withdrawn) =
        bed.under_load(Duration::from_secs(1), Duration::from_millis(1500), |bed| {
            bed.lab.set_port("n3", false);
            bed.nodes[2].kill();
            bed.lab.wait_paths(2, Duration::from_secs(3))
        });
    let withdrawn = withdrawn.unwrap_or_else(|| panic!("n3 was not routed around\n{}", bed.logs()));
    assert!(!bed.lab.next_hops().contains(&n3));
    bed.record(
        "n3 node dies (BFD 100 ms x 3)",
        &report,
        at,
        format!("routed around after {:.0} ms", ms(withdrawn - at)),
    );
    assert!(
        withdrawn - at <= detection + FRR_PROCESSING + SLACK,
        "routed around after {:.0} ms, BFD detection {:.0} ms",
        ms(withdrawn - at),
        ms(detection)
    );
    let late_failures = report
        .records
        .iter()
        .filter(|r| r.start > withdrawn + Duration::from_millis(20) && r.outcome != Outcome::Ok)
        .count();
    assert_eq!(late_failures, 0, "{}", report.summary(at));

    eprintln!("\n| event (3 nodes, {RATE} new connections/s) | requests | failed | kinds | |");
    eprintln!("|---|---|---|---|---|");
    for (event, n, failed, kinds, extra) in &bed.table {
        eprintln!("| {event} | {n} | {failed} | {kinds} | {extra} |");
    }
    eprintln!("whole test {:.1} s", began.elapsed().as_secs_f64());
}
