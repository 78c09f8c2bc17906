//! Three VRRPv3 routers on a simulated LAN, put through a master crash, its return, heavy
//! packet loss, a partition and a graceful shutdown. Prints the timeline of state changes with
//! each measured failover next to the bound the protocol gives for it.
//!
//! ```text
//! cargo run -p examples --example simulate [-- SEED]
//! ```
//!
//! Nothing here needs privileges or a network: `vrrp_core::sim` runs the real state machines
//! and the real wire codec over a virtual clock, so the run is deterministic for a seed and
//! takes milliseconds.

use std::io::{self, Write};
use std::net::Ipv4Addr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use vrrp_core::sim::{Action, EventKind, Lan, LinkConfig, NodeId};
use vrrp_core::{
    Centisecs, ConfigError, Reason, RouterConfig, State, VirtualAddress, VirtualRouter, Vrid,
};

const VRID: u8 = 51;
const ADVERT_INTERVAL: Centisecs = Centisecs::ONE_SECOND;

/// The three routers: name, primary address, priority.
const ROUTERS: [(&str, Ipv4Addr, u8); 3] = [
    ("r1", Ipv4Addr::new(192, 0, 2, 11), 200),
    ("r2", Ipv4Addr::new(192, 0, 2, 12), 150),
    ("r3", Ipv4Addr::new(192, 0, 2, 13), 100),
];

/// The virtual address the three routers share.
const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);

/// Which bound a failover is compared with.
#[derive(Debug, Clone, Copy)]
enum Bound {
    /// The master vanished: the next master takes over a Master_Down_Interval after the last
    /// advert it heard, so between MDI - Advertisement_Interval and MDI after the fault.
    MasterDown,
    /// The master sent priority 0: the next master waits its Skew_Time (RFC 9568 §6.4.2).
    Skew,
    /// A higher-priority router came back and preempts after its own Master_Down_Interval.
    Preempt,
}

/// One injected fault and the failover it should cause.
struct Fault {
    at: Duration,
    action: Action,
    /// The master expected to lose the role, and the bound for the takeover.
    expect: Option<(NodeId, Bound)>,
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn config(name: &str, address: Ipv4Addr, priority: u8) -> Result<RouterConfig, ConfigError> {
    RouterConfig::builder(name, VRID, address.into())
        .priority(priority)
        .advert_interval(ADVERT_INTERVAL)
        .virtual_address(VirtualAddress::with_prefix(VIP.into(), 24))
        .build()
}

fn main() -> ExitCode {
    let seed = match std::env::args().nth(1).map(|s| s.parse::<u64>()) {
        None => 2024,
        Some(Ok(seed)) => seed,
        Some(Err(e)) => {
            eprintln!("simulate: the seed must be a number: {e}");
            return ExitCode::FAILURE;
        }
    };
    match run(seed, &mut io::stdout().lock()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        // Output cut short (`| head`): nothing left to say.
        Err(Error::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("simulate: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Why the example could not run to the end.
#[derive(Debug, thiserror::Error)]
enum Error {
    /// A router configuration was refused.
    #[error("invalid router configuration: {0}")]
    Config(#[from] ConfigError),
    /// Writing the timeline failed.
    #[error("cannot write the timeline: {0}")]
    Io(#[from] io::Error),
}

/// Runs the scenario, writes the timeline to `out`, and says whether every failover kept
/// within its bound.
fn run(seed: u64, out: &mut impl Write) -> Result<bool, Error> {
    let vrid = Vrid::try_from(VRID)?;
    let mut lan = Lan::new(seed, Instant::now());
    let mut nodes = Vec::new();
    // The protocol's figures, from a router of the same configuration before it starts.
    let mut mdi = Vec::new();
    let mut skew = Vec::new();
    for (name, address, priority) in ROUTERS {
        let config = config(name, address, priority)?;
        let router = VirtualRouter::new(config.clone())?;
        mdi.push(router.master_down_interval());
        skew.push(router.skew_time());
        let node = lan.add_node(name);
        lan.add_router_to(node, config)?;
        nodes.push(node);
    }
    let [r1, r2, _r3] = [nodes[0], nodes[1], nodes[2]];

    let faults = vec![
        Fault {
            at: secs(20),
            action: Action::Crash(r1),
            expect: Some((r1, Bound::MasterDown)),
        },
        Fault {
            at: secs(40),
            action: Action::Restart(r1),
            expect: Some((r2, Bound::Preempt)),
        },
        Fault {
            at: secs(60),
            action: Action::SetLink(LinkConfig::default().with_loss(0.3)),
            expect: None,
        },
        Fault {
            at: secs(150),
            action: Action::SetLink(LinkConfig::default()),
            expect: None,
        },
        Fault {
            at: secs(170),
            action: Action::Partition(vec![vec![r1]]),
            expect: Some((r1, Bound::MasterDown)),
        },
        Fault {
            at: secs(200),
            action: Action::Heal,
            expect: None,
        },
        Fault {
            at: secs(220),
            action: Action::Shutdown(r1),
            expect: Some((r1, Bound::Skew)),
        },
        Fault {
            at: secs(240),
            action: Action::Restart(r1),
            expect: Some((r2, Bound::Preempt)),
        },
    ];
    let end = secs(260);
    for fault in &faults {
        lan.schedule(fault.at, fault.action.clone());
    }

    let started = Instant::now();
    lan.run_until(end);
    let wall = started.elapsed();

    writeln!(
        out,
        "VRRPv3, VRID {VRID}, advert_int {ADVERT_INTERVAL}, VIP {VIP}, seed {seed}"
    )?;
    for (i, (name, address, priority)) in ROUTERS.iter().enumerate() {
        writeln!(
            out,
            "  {name} {address:<11} priority {priority:>3}   Master_Down_Interval {}   Skew_Time {}",
            ms(mdi[i]),
            ms(skew[i])
        )?;
    }
    writeln!(out)?;
    writeln!(out, "{:>10}  {:<4}  event", "time", "node")?;
    let ok = print_timeline(out, &lan, &faults, &mdi, &skew)?;
    let (delivered, dropped) = lan.packet_counts();
    writeln!(out)?;
    writeln!(
        out,
        "{} simulated in {:.1} ms: {delivered} adverts delivered, {dropped} lost or cut off",
        ms(end),
        wall.as_secs_f64() * 1e3
    )?;
    // Expected: while partitioned each side has a master; after lost adverts or a preemption,
    // until the higher-priority master's next advert (or its first one) arrives.
    writeln!(out, "intervals with two masters:")?;
    for (from, to) in lan
        .timeline()
        .dual_master_intervals(vrid, Duration::ZERO, end)
    {
        writeln!(
            out,
            "  {} .. {}  ({:.1} ms)",
            ms(from),
            ms(to),
            (to - from).as_secs_f64() * 1e3
        )?;
    }
    writeln!(
        out,
        "{}",
        if ok {
            "every failover happened within its protocol bound"
        } else {
            "SOME FAILOVER MISSED ITS BOUND"
        }
    )?;
    Ok(ok)
}

/// Prints every action and state change; after each expected failover, the measured delay
/// next to its bound. Returns whether every expected failover happened within its bound.
fn print_timeline(
    out: &mut impl Write,
    lan: &Lan,
    faults: &[Fault],
    mdi: &[Duration],
    skew: &[Duration],
) -> io::Result<bool> {
    let mut pending: Vec<&Fault> = faults.iter().filter(|f| f.expect.is_some()).collect();
    let mut all_within = true;
    let mut lossy = false;
    let mut last_action: Option<&Fault> = None;
    for event in lan.timeline().events() {
        let node = lan.node_name(event.node);
        match &event.kind {
            EventKind::Action(what) => {
                last_action = faults.iter().find(|f| f.at == event.at);
                let text = match last_action {
                    Some(fault) => {
                        if let Action::SetLink(link) = &fault.action {
                            lossy = link.loss > 0.0;
                        }
                        describe(lan, &fault.action)
                    }
                    None => what.clone(),
                };
                let node = if event.node == usize::MAX { "-" } else { node };
                writeln!(out, "{}  {node:<4}  ** {text}", ms(event.at))?;
            }
            EventKind::State { from, to, reason } => {
                let crashed = last_action
                    .is_some_and(|f| f.at == event.at && f.action == Action::Crash(event.node));
                let reason = if crashed {
                    "crashed".to_string()
                } else {
                    reason.to_string()
                };
                let note =
                    if *to == State::Master && lossy && reason == Reason::MasterDown.to_string() {
                        "   <- three adverts in a row lost"
                    } else {
                        ""
                    };
                writeln!(
                    out,
                    "{}  {node:<4}  {from} -> {to} ({reason}){note}",
                    ms(event.at)
                )?;
                if *to != State::Master {
                    continue;
                }
                let Some(i) = pending.iter().position(|f| {
                    f.at <= event.at && f.expect.is_some_and(|(old, _)| old != event.node)
                }) else {
                    continue;
                };
                let fault = pending.remove(i);
                let Some((_, bound)) = fault.expect else {
                    continue;
                };
                let delay = event.at - fault.at;
                let (low, high, text) = match bound {
                    Bound::MasterDown => {
                        let m = mdi[event.node];
                        let low = m.saturating_sub(ADVERT_INTERVAL.as_duration());
                        (
                            low,
                            m,
                            format!("bound: Master_Down_Interval of {node} = {}", ms(m).trim()),
                        )
                    }
                    Bound::Skew => {
                        let s = skew[event.node];
                        (
                            s,
                            s,
                            format!("bound: Skew_Time of {node} = {}", ms(s).trim()),
                        )
                    }
                    Bound::Preempt => {
                        let m = mdi[event.node];
                        (
                            m,
                            m,
                            format!("bound: Master_Down_Interval of {node} = {}", ms(m).trim()),
                        )
                    }
                };
                // One link latency (100 µs) may separate the cause from the takeover.
                let slack = Duration::from_millis(1);
                let within = delay + slack >= low && delay <= high + slack;
                all_within &= within;
                writeln!(
                    out,
                    "{:>10}              failover {} after the fault; {text}{}",
                    "",
                    ms(delay).trim(),
                    if within {
                        "  [within]"
                    } else {
                        "  [OUT OF BOUND]"
                    }
                )?;
            }
            EventKind::Priority { from, to } => {
                writeln!(out, "{}  {node:<4}  priority {from} -> {to}", ms(event.at))?;
            }
            EventKind::VipsInstalled | EventKind::VipsRemoved => {}
        }
    }
    for fault in &pending {
        writeln!(
            out,
            "no failover followed {} at {}",
            describe(lan, &fault.action),
            ms(fault.at).trim()
        )?;
    }
    Ok(all_within && pending.is_empty())
}

/// What a scheduled fault does, in words.
fn describe(lan: &Lan, action: &Action) -> String {
    match action {
        Action::Crash(n) => format!("{} crashes (no priority-0 advert)", lan.node_name(*n)),
        Action::Restart(n) => format!("{} restarts", lan.node_name(*n)),
        Action::Shutdown(n) => format!(
            "{} shuts down gracefully (priority-0 advert)",
            lan.node_name(*n)
        ),
        Action::Partition(sides) => {
            let cut: Vec<&str> = sides.iter().flatten().map(|n| lan.node_name(*n)).collect();
            format!("partition: {} cut off from the others", cut.join(", "))
        }
        Action::Heal => "partition healed".to_string(),
        Action::SetLink(link) => format!("LAN now loses {:.0}% of packets", link.loss * 100.0),
        other => format!("{other:?}"),
    }
}

fn ms(d: Duration) -> String {
    format!("{:>8.3} s", d.as_secs_f64())
}
