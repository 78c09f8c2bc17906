//! vip-proxy in anycast mode behind an ECMP router, on FRR in network namespaces
//! (`testbed::frr::AnycastLab`): three nodes, each with its own bgpd peering (with BFD, 100 ms
//! x 3) with the router and its own backend; a client behind the router opening a new
//! connection per request at a fixed rate. One bed, one event after another, each under
//! load; the failed requests of each event are printed as a table.
//!
//! Around each event (a node leaves, then comes back) a set of long-lived keep-alive
//! connections, each pinned to its 5-tuple, is probed before and after: how many flows of the
//! *surviving* nodes the router moved to another node (which resets them). Linux ECMP as FRR
//! 8.4 installs it is hash-threshold, not resilient: the test checks that nodes whose hash
//! range cannot move (`testbed::frr::ecmp`) lose no flow, and prints how many the others lost.
//!
//! Privileged: needs root, `ip` and FRR (`apt-get install frr`); skipped with a reason
//! otherwise, failed instead when `REQUIRE_PRIVILEGED_TESTS=1`.
#![allow(clippy::unwrap_used)]

mod anycast_bed;

use std::time::{Duration, Instant};

use anycast_bed::node::{Node, program, wait_exit};
use anycast_bed::{Bed, FLOWS, RATE, vip};
use testbed::frr::{Answer, AnycastLab, Bfd};
use testbed::proxy_bed::{Backend, Load, Outcome, ms};

/// What a shared 2-vCPU VM adds to protocol timings in these assertions.
const SLACK: Duration = Duration::from_millis(250);
/// FRR's own processing of a change, node and router together (bgpd's 50 ms route queue
/// and zebra's 10 ms, on each side; measured ~125 ms per withdraw on this bed).
const FRR_PROCESSING: Duration = Duration::from_millis(150);

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
    let mut bed = Bed::new(lab, backends, nodes);
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
    let watch = bed.watch();
    for node in &watch.hops {
        let flows = watch
            .before
            .iter()
            .filter(|a| matches!(a, Answer::Served(b) if &bed.node_of(b) == node))
            .count();
        assert!(
            flows >= 3,
            "{node} has {flows} of the {FLOWS} long-lived flows"
        );
    }

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
    bed.settle("n1 withdrawn (backends down)", watch);
    let watch = bed.watch();
    bed.backends[0].resume();
    bed.wait_all_paths("n1's backend back");
    bed.settle("n1 back (backends up)", watch);

    // 3. Graceful stop of n2 (the middle next hop: no other node's flows are rehashed):
    //    withdrawn first, answering until the router converged, no request lost.
    let n2 = bed.lab.node("n2").v4.clone();
    let watch = bed.watch();
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
    bed.settle("n2 graceful stop", watch);
    let watch = bed.watch();
    bed.nodes[1].spawn();
    bed.wait_all_paths("n2 restarted");
    bed.settle("n2 back (restarted)", watch);

    // 4. n1's process is killed: its crash supervisor removes the VIP from lo, bgpd
    //    withdraws it (`--withdraw-stale`, for systemd, then finds nothing left).
    let watch = bed.watch();
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
    bed.settle("n1 process SIGKILLed", watch);
    let watch = bed.watch();
    bed.nodes[0].spawn();
    bed.wait_all_paths("n1 restarted");
    bed.settle("n1 back (restarted)", watch);
    assert!(bed.lab.wait_bfd(3, Duration::from_secs(10)), "BFD not up");

    // 5. Node n3 dies (off the switch, its proxy killed): BFD takes it out.
    let n3 = bed.lab.node("n3").v4.clone();
    let detection = bed.lab.bfd.detection();
    let watch = bed.watch();
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
    bed.settle("n3 node dies", watch);
    // Back on the switch: BFD and BGP come up again (connect timer 1 s).
    let watch = bed.watch();
    bed.lab.set_port("n3", true);
    bed.nodes[2].spawn();
    bed.wait_all_paths("n3 back on the switch");
    bed.settle("n3 back (on the switch)", watch);

    bed.print_tables();
    eprintln!("whole test {:.1} s", began.elapsed().as_secs_f64());
}
