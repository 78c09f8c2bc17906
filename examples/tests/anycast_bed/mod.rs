//! The anycast test's bed: the FRR lab with a backend and a vip-proxy per node, the load
//! client's results per event, and the long-lived flows watched around each event.
#![allow(clippy::unwrap_used)]

pub(crate) mod node;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use testbed::frr::{Answer, AnycastLab, Flows, VIP, ecmp, flows};
use testbed::proxy_bed::{Backend, Load, Outcome, Report};

use node::{Node, offset_ms};

/// Requests per second of the client.
pub(crate) const RATE: u32 = 300;
/// How long a withdrawn node keeps answering while the router converges.
pub(crate) const WITHDRAW_DRAIN: &str = "500ms";
/// Long-lived flows watched around each event (~20 per node).
pub(crate) const FLOWS: usize = 60;

/// Where the client connects.
pub(crate) fn vip() -> SocketAddr {
    SocketAddr::new(VIP.parse().unwrap(), 80)
}

/// The lab, its processes, and the tables the test prints.
pub(crate) struct Bed {
    pub(crate) lab: AnycastLab,
    pub(crate) backends: Vec<Backend>,
    pub(crate) nodes: Vec<Node>,
    /// (event, requests, failed, failure kinds, extra), for the table.
    table: Vec<(String, usize, usize, String, String)>,
    /// The flows of surviving nodes per event, for the second table.
    flow_rows: Vec<FlowRow>,
}

/// A flow set opened before an event, with what it answered then.
pub(crate) struct Watch {
    pub(crate) flows: Flows,
    pub(crate) before: Vec<Answer>,
    /// The router's next hops (node names) when it was opened.
    pub(crate) hops: Vec<String>,
}

/// What one event did to the watched flows.
struct FlowRow {
    event: String,
    hops_before: Vec<String>,
    hops_after: Vec<String>,
    /// Flows of the nodes routed to before and after: (disturbed, of).
    survivors: (usize, usize),
    /// Per surviving node: name, disturbed, flows, share hash-threshold moves.
    per_node: Vec<(String, usize, usize, f64)>,
    /// Flows of a node that left: (broken, of).
    leaving: Option<(usize, usize)>,
}

impl Bed {
    /// The bed with its backends and nodes started, the tables empty.
    pub(crate) fn new(lab: AnycastLab, backends: Vec<Backend>, nodes: Vec<Node>) -> Bed {
        Bed {
            lab,
            backends,
            nodes,
            table: Vec::new(),
            flow_rows: Vec::new(),
        }
    }

    /// The client for `before + after`, `event` after `before` (plus 0-100 ms at random).
    pub(crate) fn under_load<T>(
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

    pub(crate) fn record(&mut self, event: &str, report: &Report, at: Instant, extra: String) {
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
    pub(crate) fn served_by(report: &Report, i: usize, after: Instant) -> usize {
        let name = format!("b{}", i + 1);
        report
            .records
            .iter()
            .filter(|r| r.start > after && r.outcome == Outcome::Ok && r.backend == name)
            .count()
    }

    pub(crate) fn logs(&self) -> String {
        let mut text = String::new();
        for n in &self.nodes {
            text.push_str(&format!("--- {} ---\n{}\n", n.host.role, n.log_text()));
        }
        text
    }

    /// The router's next hops as node names, in the kernel's order.
    pub(crate) fn hops(&self) -> Vec<String> {
        self.lab
            .next_hops()
            .iter()
            .map(|ip| {
                let node = self.lab.nodes.iter().find(|n| &n.v4 == ip);
                node.map_or_else(|| ip.clone(), |n| n.role.clone())
            })
            .collect()
    }

    /// The node a backend's answer comes from (backend `bI` is behind node `nI`).
    pub(crate) fn node_of(&self, backend: &str) -> String {
        let i = self.lab.backends.iter().position(|b| b.role == backend);
        i.map_or_else(|| backend.to_owned(), |i| self.lab.nodes[i].role.clone())
    }

    /// Opens the long-lived flows and notes which node serves each.
    pub(crate) fn watch(&self) -> Watch {
        let flows = Flows::open(&self.lab.client, vip(), FLOWS);
        let before = flows.probe();
        let broken: Vec<&Answer> = before
            .iter()
            .filter(|a| matches!(a, Answer::Broken(_)))
            .collect();
        assert!(broken.is_empty(), "flows broken at the start: {broken:?}");
        Watch {
            flows,
            before,
            hops: self.hops(),
        }
    }

    /// Probes `watch` again: per node, the flows that stayed; checks that no flow of a node
    /// whose hash range contains its old one moved, and records the row.
    pub(crate) fn settle(&mut self, event: &str, watch: Watch) {
        let after = watch.flows.probe();
        let hops = self.hops();
        let fates = flows::tally(&watch.before, &after);
        let mut row = FlowRow {
            event: event.to_owned(),
            hops_before: watch.hops.clone(),
            hops_after: hops.clone(),
            survivors: (0, 0),
            per_node: Vec::new(),
            leaving: None,
        };
        for (backend, fate) in &fates {
            let node = self.node_of(backend);
            let share = ecmp::kept(&watch.hops, &hops, &node)
                .unwrap_or_else(|| panic!("{node} served flows but was no next hop"));
            if !hops.contains(&node) {
                row.leaving = Some((fate.disturbed(), fate.flows));
                continue;
            }
            row.survivors.0 += fate.disturbed();
            row.survivors.1 += fate.flows;
            row.per_node
                .push((node.clone(), fate.disturbed(), fate.flows, share.moved()));
            assert!(
                !share.all() || fate.disturbed() == 0,
                "{event}: {} of {node}'s {} flows moved, but its hash range did not \
                 ({:?} -> {hops:?})",
                fate.disturbed(),
                fate.flows,
                watch.hops
            );
        }
        eprintln!(
            "{event}: next hops {:?} -> {hops:?}; surviving nodes' flows disturbed {} of {} \
             {:?}; leaving node's broken {:?}",
            watch.hops, row.survivors.0, row.survivors.1, row.per_node, row.leaving
        );
        self.flow_rows.push(row);
    }

    pub(crate) fn print_tables(&self) {
        eprintln!("\n| event (3 nodes, {RATE} new connections/s) | requests | failed | kinds | |");
        eprintln!("|---|---|---|---|---|");
        for (event, n, failed, kinds, extra) in &self.table {
            eprintln!("| {event} | {n} | {failed} | {kinds} | {extra} |");
        }
        eprintln!(
            "\n| event | next hops before -> after | surviving nodes' flows moved | per surviving \
             node: moved / flows (hash-threshold share) | the leaving node's flows broken |"
        );
        eprintln!("|---|---|---|---|---|");
        for r in &self.flow_rows {
            let per_node: Vec<String> = r
                .per_node
                .iter()
                .map(|(node, moved, of, share)| format!("{node} {moved}/{of} ({share:.2})"))
                .collect();
            let leaving = r
                .leaving
                .map_or_else(|| "-".to_owned(), |(b, of)| format!("{b} of {of}"));
            eprintln!(
                "| {} | {} -> {} | {} of {} | {} | {leaving} |",
                r.event,
                r.hops_before.join(" "),
                r.hops_after.join(" "),
                r.survivors.0,
                r.survivors.1,
                per_node.join(", ")
            );
        }
    }

    pub(crate) fn wait_all_paths(&self, what: &str) {
        let n = self.nodes.len();
        assert!(
            self.lab.wait_paths(n, Duration::from_secs(10)).is_some(),
            "{what}: the router has {:?}\n{}",
            self.lab.next_hops(),
            self.logs()
        );
    }
}
