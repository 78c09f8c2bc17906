//! Random fault schedules on random LANs (proptest): once the network heals and a
//! Master_Down_Interval has passed, exactly one router is master, and with preemption on it
//! is one with the highest priority.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use proptest::prelude::*;
use vrrp_core::sim::{Action, LinkConfig};
use vrrp_core::{Priority, Vrid};

#[derive(Debug, Clone)]
enum Fault {
    Crash(usize),
    Restart(usize),
    Shutdown(usize),
    Partition(Vec<usize>),
    Heal,
    Loss(u8),
    Priority(usize, u8),
}

fn fault(n: usize) -> impl Strategy<Value = Fault> {
    prop_oneof![
        (0..n).prop_map(Fault::Crash),
        (0..n).prop_map(Fault::Restart),
        (0..n).prop_map(Fault::Shutdown),
        proptest::collection::vec(0..n, 1..n.max(2)).prop_map(Fault::Partition),
        Just(Fault::Heal),
        (0u8..60).prop_map(Fault::Loss),
        ((0..n), 1u8..=254).prop_map(|(i, p)| Fault::Priority(i, p)),
    ]
}

fn lan_and_faults() -> impl Strategy<Value = (Vec<u8>, u16, u64, Vec<(u32, Fault)>)> {
    (2usize..=5).prop_flat_map(|n| {
        (
            proptest::collection::vec(1u8..=254, n),
            prop_oneof![Just(10u16), Just(50), Just(100)],
            any::<u64>(),
            proptest::collection::vec((0u32..60_000, fault(n)), 0..12),
        )
    })
}

proptest! {

    #[test]
    fn single_highest_priority_master_after_healing((priorities, interval, seed, faults) in lan_and_faults()) {
        let mut lan = lan(seed);
        let interval = centis(interval);
        let mut nodes = Vec::new();
        for (i, p) in priorities.iter().enumerate() {
            let host = u8::try_from(i + 1).unwrap();
            nodes.push(lan.add_router(v4(host, *p).advert_interval(interval).build().unwrap()).unwrap());
        }
        let mut prio = priorities.clone();
        let mut end_ms = 0u32;
        let mut faults = faults;
        faults.sort_by_key(|(at, _)| *at);
        let mut running = vec![true; nodes.len()];
        for (at, f) in &faults {
            let t = ms(u64::from(*at));
            end_ms = end_ms.max(*at);
            let action = match f {
                Fault::Crash(i) => {
                    running[*i] = false;
                    Action::Crash(nodes[*i])
                }
                Fault::Restart(i) => {
                    if !running[*i] {
                        running[*i] = true;
                        prio[*i] = priorities[*i];
                    }
                    Action::Restart(nodes[*i])
                }
                Fault::Shutdown(i) => {
                    running[*i] = false;
                    Action::Shutdown(nodes[*i])
                }
                Fault::Partition(side) => Action::Partition(vec![side.iter().map(|i| nodes[*i]).collect()]),
                Fault::Heal => Action::Heal,
                Fault::Loss(pct) => Action::SetLink(LinkConfig::default().with_loss(f64::from(*pct) / 100.0)),
                Fault::Priority(i, p) => {
                    prio[*i] = *p;
                    Action::SetPriority(nodes[*i], vrid(), Priority(*p))
                }
            };
            lan.schedule(t, action);
        }
        // Heal everything: network, loss, and restart every node that is down (a restart
        // resets priorities to the configured ones).
        let heal = ms(u64::from(end_ms) + 1);
        lan.schedule(heal, Action::Heal);
        lan.schedule(heal, Action::SetLink(LinkConfig::default()));
        for (i, n) in nodes.iter().enumerate() {
            if !running[i] {
                lan.schedule(heal, Action::Restart(*n));
                prio[i] = priorities[i];
            }
        }
        // Settle: the slowest possible election is a Master_Down_Interval of the lowest
        // priority after a full advert interval, plus one more interval to hear the winner.
        let settle = mdi(interval.as_duration(), 1) + interval.as_duration() * 3;
        let end = heal + settle;
        lan.run_until(end);
        let masters = lan.timeline().masters_at(Vrid::new(VRID).unwrap(), end);
        prop_assert_eq!(masters.len(), 1, "masters {:?}", masters);
        // Among equal priorities a backup does not preempt (RFC 9568 §6.4.2 accepts adverts of
        // equal priority), so any of the highest may hold it.
        let best = prio.iter().copied().max().unwrap();
        let winner = nodes.iter().position(|n| *n == masters[0]).unwrap();
        prop_assert_eq!(prio[winner], best, "priorities {:?}, master {}", prio, winner);
    }
}
