//! vrrp-core throughput: the receive path (parse and validate, the state machine, both),
//! a master's send path, and the simulated LAN's speed.
//!
//! ```text
//! cargo bench -p benches --bench vrrp_core -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! Adverts per second per core is 1 / (time per iteration) of `receive_path/full`.
// An `Instant` is only an epoch here: the routers see times derived from it.
#![allow(clippy::disallowed_methods)]

use std::hint::black_box;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vrrp_core::sim::{Action, Lan, LinkConfig};
use vrrp_core::{
    Centisecs, Demux, Family, Input, Output, RouterConfig, RxMeta, State, VirtualAddress,
    VirtualRouter, Vrid,
};

const VRID: u8 = 51;
const MCAST_V4: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(224, 0, 0, 18));

fn config(host: u8, priority: u8) -> RouterConfig {
    let primary = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, host));
    let vip = VirtualAddress::with_prefix(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 100)), 24);
    RouterConfig::builder(format!("r{host}"), VRID, primary)
        .priority(priority)
        .advert_interval(Centisecs::ONE_SECOND)
        .virtual_address(vip)
        .build()
        .unwrap_or_else(|e| panic!("bench configuration: {e}"))
}

/// The bytes a master at 192.0.2.11 (priority 200) sends, taken from its own Transmit output.
fn master_advert(epoch: Instant) -> (RxMeta, Vec<u8>) {
    let mut master = VirtualRouter::new(config(11, 200)).unwrap_or_else(|e| panic!("{e}"));
    master.handle(epoch, Input::Startup);
    let wake = master
        .poll_timeout()
        .unwrap_or_else(|| panic!("no timer after startup"));
    master.handle(wake, Input::Timeout);
    let advert = std::iter::from_fn(|| master.poll())
        .find_map(|out| match out {
            Output::Transmit(advert) => Some(advert),
            _ => None,
        })
        .unwrap_or_else(|| panic!("a new master sends an advert"));
    let mut bytes = vec![0; advert.repr().buffer_len()];
    advert.emit_into(MCAST_V4, &mut bytes);
    let meta = RxMeta {
        src: advert.source,
        dst: MCAST_V4,
        ttl: 255,
    };
    (meta, bytes)
}

/// A backup at 192.0.2.12 (priority 100) with its receive path.
fn backup(epoch: Instant) -> (Demux, VirtualRouter) {
    let mut router = VirtualRouter::new(config(12, 100)).unwrap_or_else(|e| panic!("{e}"));
    let mut demux = Demux::new(Family::V4);
    demux
        .register(VRID, 0, router.rx_policy())
        .unwrap_or_else(|e| panic!("{e}"));
    router.handle(epoch, Input::Startup);
    while router.poll().is_some() {}
    (demux, router)
}

fn receive_path(c: &mut Criterion) {
    let epoch = Instant::now();
    let (meta, bytes) = master_advert(epoch);
    let mut group = c.benchmark_group("receive_path");
    group.throughput(Throughput::Elements(1));

    group.bench_function("parse_validate", |b| {
        let (mut demux, _) = backup(epoch);
        b.iter(|| {
            let dispatch = demux.receive(black_box(meta), black_box(&bytes));
            black_box(dispatch.is_ok())
        });
    });

    group.bench_function("handle_in_backup", |b| {
        let (mut demux, mut router) = backup(epoch);
        let dispatch = demux
            .receive(meta, &bytes)
            .unwrap_or_else(|e| panic!("{e}"));
        let mut now = epoch;
        b.iter(|| {
            // One advert a second, as a real master sends them: the backup stays backup.
            now += Duration::from_secs(1);
            router.handle(
                now,
                Input::Advert {
                    meta: dispatch.meta,
                    advert: black_box(dispatch.advert),
                },
            );
            while let Some(out) = router.poll() {
                black_box(out);
            }
        });
        assert_eq!(router.state(), State::Backup);
    });

    group.bench_function("full", |b| {
        let (mut demux, mut router) = backup(epoch);
        let mut now = epoch;
        b.iter(|| {
            now += Duration::from_secs(1);
            if let Ok(d) = demux.receive(black_box(meta), black_box(&bytes)) {
                router.handle(
                    now,
                    Input::Advert {
                        meta: d.meta,
                        advert: d.advert,
                    },
                );
            }
            while let Some(out) = router.poll() {
                black_box(out);
            }
        });
        assert_eq!(router.state(), State::Backup);
        assert_eq!(demux.stats().checksum_errors, 0);
    });
    group.finish();
}

fn send_path(c: &mut Criterion) {
    let epoch = Instant::now();
    let mut group = c.benchmark_group("send_path");
    group.throughput(Throughput::Elements(1));
    group.bench_function("master_timeout_emit", |b| {
        let mut master = VirtualRouter::new(config(11, 200)).unwrap_or_else(|e| panic!("{e}"));
        master.handle(epoch, Input::Startup);
        let mut buffer = [0u8; 64];
        b.iter(|| {
            let wake = master.poll_timeout().unwrap_or(epoch);
            master.handle(wake, Input::Timeout);
            while let Some(out) = master.poll() {
                if let Output::Transmit(advert) = out {
                    black_box(advert.emit_into(MCAST_V4, &mut buffer));
                }
            }
        });
        assert_eq!(master.state(), State::Master);
    });
    group.finish();
}

/// Five routers, 1 s adverts, a fault every few minutes for a simulated day.
fn day_of_faults(seed: u64) -> Lan {
    let mut lan = Lan::new(seed, Instant::now());
    let nodes: Vec<usize> = (0..5u8)
        .map(|i| {
            lan.add_router(config(11 + i, 250 - 30 * i))
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    let day = 24 * 3600;
    let mut t = 120;
    let mut round = 0usize;
    while t + 120 < day {
        let at = Duration::from_secs(t);
        let later = Duration::from_secs(t + 60);
        let node = nodes[round % nodes.len()];
        match round % 4 {
            0 => {
                lan.schedule(at, Action::Crash(node));
                lan.schedule(later, Action::Restart(node));
            }
            1 => {
                lan.schedule(
                    at,
                    Action::Partition(vec![vec![node, nodes[(round + 1) % 5]]]),
                );
                lan.schedule(later, Action::Heal);
            }
            2 => {
                lan.schedule(at, Action::SetLink(LinkConfig::default().with_loss(0.3)));
                lan.schedule(later, Action::SetLink(LinkConfig::default()));
            }
            _ => {
                lan.schedule(at, Action::Shutdown(node));
                lan.schedule(later, Action::Restart(node));
            }
        }
        round += 1;
        t += 180 + (round as u64 * 37) % 120;
    }
    lan
}

fn simulation(c: &mut Criterion) {
    let mut group = c.benchmark_group("sim");
    group.sample_size(10);
    group.bench_function("five_routers_24h_with_faults", |b| {
        b.iter(|| {
            let mut lan = day_of_faults(7);
            lan.run_until(Duration::from_secs(24 * 3600));
            let vrid = Vrid::new(VRID).unwrap_or(Vrid::MIN);
            // Converged at the end: exactly one master.
            assert!(lan.timeline().master_at(vrid, lan.elapsed()).is_some());
            black_box(lan.packet_counts())
        });
    });
    group.finish();
}

criterion_group!(benches, receive_path, send_path, simulation);
criterion_main!(benches);
