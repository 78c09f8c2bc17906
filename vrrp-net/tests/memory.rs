//! The driver over the in-memory LAN and the recording VIP backend: no privileges needed.
#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::time::timeout;
use vrrp_core::{Centisecs, Reason, RouterConfig, State, VirtualAddress};
use vrrp_net::driver::{Clock, Driver, DriverThread, Event, Events, Fault, Handle, Instance};
use vrrp_net::transport::{AddressFamily, MemoryLan};
use vrrp_net::vip::{RecordingVips, Vip};

const VIP: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100));

fn addr(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
}

struct Node {
    handle: Handle,
    events: Events,
    vips: RecordingVips,
    task: tokio::task::JoinHandle<Result<(), vrrp_net::DriverError>>,
}

async fn node(lan: &MemoryLan, last: u8, priority: u8) -> Node {
    node_on(lan, last, priority, Clock::System).await
}

/// VI_1 (VRID 51, advert 0.05 s, the VIP) at 192.0.2.`last` with `priority`.
fn vi_1(last: u8, priority: u8) -> Instance {
    let config = RouterConfig::builder("VI_1", 51, addr(last))
        .priority(priority)
        .advert_interval(Centisecs::new(5))
        .virtual_address(VirtualAddress::with_prefix(VIP, 24))
        .build()
        .unwrap();
    Instance::new(config, "eth0")
}

async fn node_on(lan: &MemoryLan, last: u8, priority: u8, clock: Clock) -> Node {
    start(lan, last, vi_1(last, priority), clock).await
}

/// Runs `instance` on a port of `lan` at 192.0.2.`last`, with a recording VIP backend.
async fn start(lan: &MemoryLan, last: u8, instance: Instance, clock: Clock) -> Node {
    let vips = RecordingVips::new();
    let transport = Arc::new(lan.attach(u32::from(last), AddressFamily::Inet, vec![addr(last)]));
    let (driver, handle, events) = Driver::builder()
        .instance(instance)
        .transport("eth0", transport)
        .vip_backend(Arc::new(vips.clone()))
        .clock(clock)
        .build()
        .await
        .unwrap();
    Node {
        handle,
        events,
        vips,
        task: tokio::spawn(driver.run()),
    }
}

async fn wait_state(events: &mut Events, want: State) -> Reason {
    let found = timeout(Duration::from_secs(5), async {
        while let Some(e) = events.next().await {
            if let Event::StateChanged { to, reason, .. } = e
                && to == want
            {
                return reason;
            }
        }
        panic!("event stream ended");
    })
    .await;
    found.unwrap_or_else(|_| panic!("no transition to {want} within 5 s"))
}

fn holds_vip(n: &Node) -> bool {
    n.vips.present().iter().any(|v| v.addr == VIP)
}

#[tokio::test]
async fn higher_priority_wins_and_backup_takes_over_after_a_crash() {
    let lan = MemoryLan::new();
    let mut a = node(&lan, 11, 200).await;
    let mut b = node(&lan, 12, 100).await;
    wait_state(&mut a.events, State::Master).await;
    wait_state(&mut b.events, State::Backup).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(holds_vip(&a) && !holds_vip(&b));
    assert_eq!(b.handle.status("VI_1").await.unwrap().state, State::Backup);

    a.task.abort(); // a crash: no priority 0
    assert_eq!(
        wait_state(&mut b.events, State::Master).await,
        Reason::MasterDown
    );
    assert!(holds_vip(&b));
}

#[tokio::test]
async fn graceful_shutdown_sends_priority_zero_and_removes_the_vip() {
    let lan = MemoryLan::new();
    let mut a = node(&lan, 11, 200).await;
    let mut b = node(&lan, 12, 100).await;
    wait_state(&mut a.events, State::Master).await;
    wait_state(&mut b.events, State::Backup).await;
    a.handle.shutdown().await.unwrap();
    assert!(!holds_vip(&a));
    assert_eq!(
        wait_state(&mut b.events, State::Master).await,
        Reason::MasterStopped
    );
    let status = b.handle.status("VI_1").await.unwrap();
    assert_eq!(status.router.rcvd_pri_zero_packets, 1);
}

#[tokio::test]
async fn priority_change_through_the_handle_preempts() {
    let lan = MemoryLan::new();
    let mut a = node(&lan, 11, 200).await;
    let mut b = node(&lan, 12, 100).await;
    wait_state(&mut a.events, State::Master).await;
    wait_state(&mut b.events, State::Backup).await;
    b.handle
        .set_priority("VI_1", vrrp_core::Priority(250))
        .await
        .unwrap();
    wait_state(&mut b.events, State::Master).await;
    wait_state(&mut a.events, State::Backup).await;
    assert!(
        b.handle
            .set_priority("VI_9", vrrp_core::Priority(1))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_vip_that_cannot_be_installed_is_a_fault_that_recovers() {
    let lan = MemoryLan::new();
    let mut a = node(&lan, 11, 200).await;
    a.vips.set_failing(VIP, true);
    let fault = timeout(Duration::from_secs(5), async {
        loop {
            match a.events.next().await.unwrap() {
                Event::Fault {
                    fault: Fault::VipAdd { vip, .. },
                    ..
                } => return vip,
                _ => continue,
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(fault.addr, VIP);
    wait_state(&mut a.events, State::Fault).await;
    a.vips.set_failing(VIP, false);
    assert_eq!(
        wait_state(&mut a.events, State::Backup).await,
        Reason::FaultCleared
    );
    wait_state(&mut a.events, State::Master).await;
    assert!(holds_vip(&a));
}

#[tokio::test]
async fn an_externally_removed_vip_is_reported_and_restored() {
    let lan = MemoryLan::new();
    let mut a = node(&lan, 11, 200).await;
    wait_state(&mut a.events, State::Master).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let vip: Vip = a.vips.present()[0].clone();
    a.vips.remove_externally(&vip);
    let reported = timeout(Duration::from_secs(5), async {
        loop {
            if let Event::Fault {
                fault: Fault::VipRemovedExternally { vip },
                ..
            } = a.events.next().await.unwrap()
            {
                return vip;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(reported.addr, VIP);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(holds_vip(&a));
}

#[tokio::test]
async fn hand_over_keeps_the_vip_owned_until_the_peer_is_master() {
    let lan = MemoryLan::new();
    let mut a = node(&lan, 11, 200).await;
    let mut b = node(&lan, 12, 100).await;
    wait_state(&mut a.events, State::Master).await;
    wait_state(&mut b.events, State::Backup).await;
    // A backup has nothing to hand over.
    assert!(
        !b.handle
            .hand_over("VI_1", Duration::from_secs(1))
            .await
            .unwrap()
    );
    let watcher = {
        let (a_vips, b_vips) = (a.vips.clone(), b.vips.clone());
        tokio::spawn(async move {
            // Sample ownership while the handover runs: someone must hold the VIP throughout.
            for _ in 0..400 {
                let owned = [&a_vips, &b_vips]
                    .iter()
                    .any(|v| v.present().iter().any(|x| x.addr == VIP));
                assert!(owned, "the VIP had no owner during the handover");
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    };
    // advert_int 0.05 s: the peer's Master_Down_Interval is under 0.2 s.
    assert!(
        a.handle
            .hand_over("VI_1", Duration::from_secs(2))
            .await
            .unwrap()
    );
    wait_state(&mut b.events, State::Master).await;
    assert!(holds_vip(&b) && !holds_vip(&a));
    watcher.await.unwrap();
    a.handle.shutdown().await.unwrap();
    b.handle.shutdown().await.unwrap();
}

/// A unicast node whose adverts carry `ttl` (keepalived's `unicast_ttl`), receiving with the
/// RFC or keepalived profile's unicast rule.
async fn unicast_node(
    lan: &MemoryLan,
    last: u8,
    peer: u8,
    priority: u8,
    profile: vrrp_core::config::Profile,
    ttl: Option<u8>,
) -> Node {
    let config = RouterConfig::builder("VI_1", 51, addr(last))
        .profile(profile)
        .priority(priority)
        .advert_interval(Centisecs::new(5))
        .virtual_address(VirtualAddress::with_prefix(VIP, 24))
        .build()
        .unwrap();
    let mut instance = Instance::new(config, "eth0").unicast_peers([addr(peer)]);
    instance.unicast_ttl = ttl;
    start(lan, last, instance, Clock::System).await
}

#[tokio::test]
async fn unicast_ttl_reaches_the_peer_and_its_profile_decides() {
    use vrrp_core::config::Profile;
    // keepalived's rule: a master sending TTL 10 is heard.
    let lan = MemoryLan::new();
    let mut a = unicast_node(&lan, 11, 12, 200, Profile::Keepalived, Some(10)).await;
    let mut b = unicast_node(&lan, 12, 11, 100, Profile::Keepalived, None).await;
    wait_state(&mut a.events, State::Master).await;
    wait_state(&mut b.events, State::Backup).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(holds_vip(&a) && !holds_vip(&b));
    // RFC 9568 §7.1: the same adverts are dropped and counted, so the backup takes over too.
    let lan = MemoryLan::new();
    let mut a = unicast_node(&lan, 11, 12, 200, Profile::Keepalived, Some(10)).await;
    let mut b = unicast_node(&lan, 12, 11, 100, Profile::Rfc, None).await;
    wait_state(&mut a.events, State::Master).await;
    wait_state(&mut b.events, State::Master).await;
    let status = b.handle.status("VI_1").await.unwrap();
    assert!(status.rx.ip_ttl_errors > 0, "{status:?}");
}

/// The real driver on the in-memory LAN under tokio's paused clock: a crash of the master is
/// taken over after exactly Master_Down_Interval of virtual time, in milliseconds of real time.
#[tokio::test(start_paused = true)]
async fn paused_clock_failover_takes_master_down_interval_of_virtual_time() {
    let lan = MemoryLan::new();
    let mut a = node_on(&lan, 11, 200, Clock::Tokio).await;
    let mut b = node_on(&lan, 12, 100, Clock::Tokio).await;
    wait_state(&mut a.events, State::Master).await;
    wait_state(&mut b.events, State::Backup).await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    let real = std::time::Instant::now();
    let crash = tokio::time::Instant::now();
    lan.detach(11);
    a.task.abort();
    wait_state(&mut b.events, State::Master).await;
    let took = crash.elapsed();
    // RFC 9568 §6.1 at 50 ms, priority 100: 3 * 50 ms + (256 - 100) * 50 ms / 256 = 180.47 ms,
    // counted from the master's last advert, at most one interval before the crash.
    let interval = Duration::from_millis(50);
    let mdi = Duration::from_micros(180_470);
    assert!(
        took <= mdi + Duration::from_millis(1) && took + interval >= mdi,
        "takeover after {took:?}"
    );
    assert!(holds_vip(&b));
    assert!(
        lan.announcements()
            .iter()
            .any(|x| x.ifindex == 12 && x.address == VIP),
        "{:?}",
        lan.announcements()
    );
    assert!(
        real.elapsed() < Duration::from_secs(5),
        "virtual time ran in real time"
    );
}

/// Loss and partitions on the in-memory LAN, in virtual time: a partition makes two masters,
/// healing it leaves the higher priority alone.
#[tokio::test(start_paused = true)]
async fn partition_and_heal_in_virtual_time() {
    let lan = MemoryLan::new();
    let mut a = node_on(&lan, 11, 200, Clock::Tokio).await;
    let mut b = node_on(&lan, 12, 100, Clock::Tokio).await;
    wait_state(&mut a.events, State::Master).await;
    wait_state(&mut b.events, State::Backup).await;
    lan.set_loss(50, 42);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(
        holds_vip(&a) && !holds_vip(&b),
        "5% loss (seed 42) never loses three adverts in a row here"
    );
    lan.set_loss(0, 0);
    lan.partition(&[11]);
    wait_state(&mut b.events, State::Master).await;
    assert!(holds_vip(&a) && holds_vip(&b));
    lan.heal();
    wait_state(&mut b.events, State::Backup).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(holds_vip(&a) && !holds_vip(&b));
}

/// An instance at 192.0.2.`last` on a thread of its own (`DriverBuilder::spawn_thread`).
async fn start_thread(lan: &MemoryLan, last: u8, priority: u8) -> (DriverThread, Handle, Events) {
    let transport = Arc::new(lan.attach(u32::from(last), AddressFamily::Inet, vec![addr(last)]));
    Driver::builder()
        .instance(vi_1(last, priority))
        .transport("eth0", transport)
        .vip_backend(Arc::new(RecordingVips::new()))
        .spawn_thread(format!("vrrp-{last}"))
        .await
        .unwrap()
}

/// Whether `events` reports a transition to Master within `within`.
async fn becomes_master(events: &mut Events, within: Duration) -> bool {
    timeout(within, wait_state(events, State::Master))
        .await
        .is_ok()
}

/// The program's runtime is blocked for 0.8 s (five Master_Down_Intervals at advert 0.05 s):
/// a master driven by that runtime falls silent and its backup takes over; a master on its
/// own thread keeps advertising and nobody notices.
#[tokio::test]
async fn a_driver_on_its_own_thread_advertises_while_the_program_is_blocked() {
    for own_thread in [true, false] {
        let lan = MemoryLan::new();
        let (master_thread, master_handle, mut master_events) = if own_thread {
            let (t, h, e) = start_thread(&lan, 11, 200).await;
            (Some(t), h, e)
        } else {
            let n = node(&lan, 11, 200).await;
            (None, n.handle, n.events)
        };
        let (backup_thread, backup_handle, mut backup_events) = start_thread(&lan, 12, 100).await;
        wait_state(&mut master_events, State::Master).await;
        wait_state(&mut backup_events, State::Backup).await;

        // The whole runtime of this test, and every task on it, stops for 0.8 s.
        std::thread::sleep(Duration::from_millis(800));

        let took_over = becomes_master(&mut backup_events, Duration::from_millis(300)).await;
        assert_eq!(
            took_over, !own_thread,
            "own thread {own_thread}: backup took over {took_over}"
        );
        master_handle.shutdown().await.unwrap();
        backup_handle.shutdown().await.unwrap();
        if let Some(t) = master_thread {
            t.join().await.unwrap();
        }
        backup_thread.join().await.unwrap();
    }
}

#[tokio::test]
async fn tracking_an_unknown_name_is_an_error() {
    let lan = MemoryLan::new();
    let a = node(&lan, 11, 200).await;
    let err = a
        .handle
        .set_track_state("no-such-object", vrrp_core::TrackState::Down)
        .unwrap_err();
    assert!(
        matches!(&err, vrrp_net::DriverError::UnknownTrack(n) if n == "no-such-object"),
        "{err}"
    );
}

#[test]
fn events_read_as_one_log_line() {
    let event = Event::StateChanged {
        instance: "VI_1".into(),
        from: State::Backup,
        to: State::Master,
        reason: Reason::MasterDown,
        priority: vrrp_core::Priority(100),
    };
    assert_eq!(
        event.to_string(),
        "VI_1: BACKUP -> MASTER (master down interval expired, priority 100)"
    );
}

// ---- reconfiguring a running driver (issue: live reconfiguration) ------------------------

mod reconfigure {
    use super::*;
    use vrrp_net::driver::{Desired, Identity, InstanceView, Update};
    use vrrp_net::vip::VipCall;

    /// `name` (VRID `vrid`) at 192.0.2.`last` with `priority` and these VIPs (last octets),
    /// 50 ms adverts.
    fn instance(name: &str, vrid: u8, last: u8, priority: u8, vips: &[u8]) -> Instance {
        let mut b = RouterConfig::builder(name, vrid, addr(last))
            .priority(priority)
            .advert_interval(Centisecs::new(5));
        for v in vips {
            b = b.virtual_address(VirtualAddress::with_prefix(addr(*v), 24));
        }
        Instance::new(b.build().unwrap(), "eth0")
    }

    /// A node at 192.0.2.`last` running `instances`, on tokio's paused clock.
    async fn start_all(lan: &MemoryLan, last: u8, instances: Vec<Instance>) -> Node {
        let vips = RecordingVips::new();
        let transport =
            Arc::new(lan.attach(u32::from(last), AddressFamily::Inet, vec![addr(last)]));
        let mut builder = Driver::builder()
            .transport("eth0", transport)
            .vip_backend(Arc::new(vips.clone()))
            .clock(Clock::Tokio);
        for i in instances {
            builder = builder.instance(i);
        }
        let (driver, handle, events) = builder.build().await.unwrap();
        Node {
            handle,
            events,
            vips,
            task: tokio::spawn(driver.run()),
        }
    }

    /// Every event of `n` until none came for 1 s of (virtual) time.
    async fn settle(n: &mut Node) -> Vec<Event> {
        let mut seen = Vec::new();
        while let Ok(Some(e)) = timeout(Duration::from_secs(1), n.events.next()).await {
            seen.push(e);
        }
        seen
    }

    fn transitions(events: &[Event]) -> Vec<String> {
        events
            .iter()
            .filter(|e| matches!(e, Event::StateChanged { .. }))
            .map(ToString::to_string)
            .collect()
    }

    fn present(n: &Node) -> Vec<IpAddr> {
        let mut v: Vec<IpAddr> = n.vips.present().iter().map(|v| v.addr).collect();
        v.sort();
        v
    }

    /// A pair on one LAN: `a` master (priority 200), `b` backup (100), both running `VI_1`
    /// with VIPs .100 and .101, settled.
    async fn pair(lan: &MemoryLan) -> (Node, Node) {
        let mut a = start_all(lan, 11, vec![instance("VI_1", 51, 11, 200, &[100, 101])]).await;
        let mut b = start_all(lan, 12, vec![instance("VI_1", 51, 12, 100, &[100, 101])]).await;
        wait_state(&mut a.events, State::Master).await;
        wait_state(&mut b.events, State::Backup).await;
        settle(&mut a).await;
        settle(&mut b).await;
        (a, b)
    }

    #[tokio::test(start_paused = true)]
    async fn update_in_place_keeps_the_master_and_touches_only_the_vip_difference() {
        let lan = MemoryLan::new();
        let (mut a, mut b) = pair(&lan).await;
        let before = a.handle.status("VI_1").await.unwrap();
        let calls = a.vips.calls().len();
        let update = a
            .handle
            .update_instance(instance("VI_1", 51, 11, 200, &[100, 102]))
            .await
            .unwrap();
        assert_eq!(
            update,
            Update::InPlace {
                added: vec![addr(102)],
                removed: vec![addr(101)]
            }
        );
        let changes: Vec<(bool, IpAddr)> = a.vips.calls()[calls..]
            .iter()
            .map(|c| match c {
                VipCall::Add(v) => (true, v.addr),
                VipCall::Remove(v) => (false, v.addr),
            })
            .collect();
        assert_eq!(changes, vec![(false, addr(101)), (true, addr(102))]);
        assert_eq!(present(&a), vec![addr(100), addr(102)]);
        // The peer's address check (RFC 9568 §7.1, keepalived alike) drops adverts whose
        // list differs from its own: a reload reaches both routers within
        // Master_Down_Interval, as here.
        let update = b
            .handle
            .update_instance(instance("VI_1", 51, 12, 100, &[100, 102]))
            .await
            .unwrap();
        assert!(matches!(update, Update::InPlace { .. }), "{update:?}");
        let (seen_a, seen_b) = (settle(&mut a).await, settle(&mut b).await);
        assert!(transitions(&seen_a).is_empty(), "{seen_a:?}");
        assert!(transitions(&seen_b).is_empty(), "{seen_b:?}");
        let after = a.handle.status("VI_1").await.unwrap();
        assert_eq!(after.state, State::Master);
        assert_eq!(
            after.router.master_transitions,
            before.router.master_transitions
        );
        assert!(after.router.sent_advertisements > before.router.sent_advertisements);
        assert!(
            b.vips.present().is_empty(),
            "the backup installed nothing: {:?}",
            b.vips.present()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_same_instance_again_changes_nothing() {
        let lan = MemoryLan::new();
        let (mut a, _b) = pair(&lan).await;
        let calls = a.vips.calls().len();
        let update = a
            .handle
            .update_instance(instance("VI_1", 51, 11, 200, &[100, 101]))
            .await
            .unwrap();
        assert_eq!(update, Update::Unchanged);
        assert_eq!(a.vips.calls().len(), calls);
        assert!(transitions(&settle(&mut a).await).is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_priority_raise_without_preempt_does_not_take_over() {
        let lan = MemoryLan::new();
        let (mut a, mut b) = pair(&lan).await;
        let mut raised = instance("VI_1", 51, 12, 250, &[100, 101]);
        raised.config.preempt = false;
        let update = b.handle.update_instance(raised).await.unwrap();
        assert!(matches!(update, Update::InPlace { .. }), "{update:?}");
        let (seen_a, seen_b) = (settle(&mut a).await, settle(&mut b).await);
        assert!(transitions(&seen_a).is_empty(), "{seen_a:?}");
        assert!(transitions(&seen_b).is_empty(), "{seen_b:?}");
        let status = b.handle.status("VI_1").await.unwrap();
        assert_eq!((status.state, status.priority.get()), (State::Backup, 250));
        // With preemption back on, the RFC 9568 §6.4.2 rules apply: the backup takes over.
        let update = b
            .handle
            .update_instance(instance("VI_1", 51, 12, 250, &[100, 101]))
            .await
            .unwrap();
        assert!(matches!(update, Update::InPlace { .. }), "{update:?}");
        wait_state(&mut b.events, State::Master).await;
        wait_state(&mut a.events, State::Backup).await;
    }

    #[tokio::test(start_paused = true)]
    async fn removing_the_master_instance_is_its_graceful_stop() {
        let lan = MemoryLan::new();
        let (mut a, mut b) = pair(&lan).await;
        let mut view = a.handle.watch("VI_1").await.unwrap();
        a.handle.remove_instance("VI_1").await.unwrap();
        assert!(present(&a).is_empty());
        assert_eq!(
            wait_state(&mut b.events, State::Master).await,
            Reason::MasterStopped
        );
        assert!(matches!(
            a.handle.status("VI_1").await,
            Err(vrrp_net::DriverError::UnknownInstance(_))
        ));
        let last = view.borrow_and_update().clone();
        assert_eq!(last.state, State::Initialize);
        assert!(last.addresses.is_empty());
        assert!(
            view.changed().await.is_err(),
            "the watch ends with the instance"
        );
        let seen = settle(&mut a).await;
        assert!(
            seen.iter()
                .any(|e| matches!(e, Event::InstanceRemoved { instance } if instance == "VI_1"))
        );
        assert_eq!(a.handle.instances().await.unwrap(), Vec::<String>::new());
    }

    #[tokio::test(start_paused = true)]
    async fn an_instance_added_at_run_time_starts_and_can_be_tracked() {
        let lan = MemoryLan::new();
        let (a, _b) = pair(&lan).await;
        let mut vi2 = instance("VI_2", 52, 11, 150, &[120]);
        vi2.config.track = vec![vrrp_core::TrackedObject::new("chk", 0)];
        assert!(matches!(
            a.handle.set_track_state("chk", vrrp_core::TrackState::Down),
            Err(vrrp_net::DriverError::UnknownTrack(_))
        ));
        a.handle.add_instance(vi2.clone()).await.unwrap();
        let mut view = a.handle.watch("VI_2").await.unwrap();
        let master = view
            .wait_for(|v| v.state == State::Master)
            .await
            .unwrap()
            .clone();
        assert_eq!(master.addresses, vec![addr(120)]);
        assert!(present(&a).contains(&addr(120)));
        assert!(matches!(
            a.handle.add_instance(vi2).await,
            Err(vrrp_net::DriverError::DuplicateInstance(_))
        ));
        a.handle
            .set_track_state("chk", vrrp_core::TrackState::Down)
            .unwrap();
        let faulted: InstanceView = view
            .wait_for(|v| v.state == State::Fault)
            .await
            .unwrap()
            .clone();
        assert!(faulted.addresses.is_empty());
        assert!(!present(&a).contains(&addr(120)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_new_vrid_is_a_replacement_and_says_so() {
        let lan = MemoryLan::new();
        let (mut a, _b) = pair(&lan).await;
        let update = a
            .handle
            .update_instance(instance("VI_1", 61, 11, 200, &[100, 101]))
            .await
            .unwrap();
        assert_eq!(
            update,
            Update::Replaced {
                because: Identity::Vrid
            }
        );
        let seen = settle(&mut a).await;
        assert!(
            seen.iter()
                .any(|e| matches!(e, Event::InstanceAdded { instance } if instance == "VI_1"))
        );
        assert_eq!(a.handle.status("VI_1").await.unwrap().state, State::Master);
    }

    #[tokio::test(start_paused = true)]
    async fn reconcile_applies_only_the_difference() {
        let lan = MemoryLan::new();
        let mut a = start_all(
            &lan,
            11,
            vec![
                instance("VI_1", 51, 11, 200, &[100]),
                instance("VI_2", 52, 11, 200, &[110]),
            ],
        )
        .await;
        settle(&mut a).await;
        assert_eq!(present(&a), vec![addr(100), addr(110)]);
        let calls = a.vips.calls().len();
        let desired = Desired::new()
            .instance(instance("VI_1", 51, 11, 200, &[100]))
            .instance(instance("VI_3", 53, 11, 200, &[130]));
        let done = a.handle.reconcile(desired).await.unwrap();
        assert_eq!(done.unchanged, vec!["VI_1".to_owned()]);
        assert_eq!(done.removed, vec!["VI_2".to_owned()]);
        assert_eq!(done.added, vec!["VI_3".to_owned()]);
        assert!(done.updated.is_empty() && done.failed.is_empty(), "{done}");
        settle(&mut a).await;
        assert_eq!(present(&a), vec![addr(100), addr(130)]);
        assert!(
            !a.vips.calls()[calls..]
                .iter()
                .any(|c| matches!(c, VipCall::Remove(v) | VipCall::Add(v) if v.addr == addr(100))),
            "VI_1's address was not touched"
        );
        // The same desired set again is a no-op.
        let again = Desired::new()
            .instance(instance("VI_1", 51, 11, 200, &[100]))
            .instance(instance("VI_3", 53, 11, 200, &[130]));
        assert!(a.handle.reconcile(again).await.unwrap().is_noop());
    }

    #[tokio::test(start_paused = true)]
    async fn an_invalid_desired_set_changes_nothing() {
        let lan = MemoryLan::new();
        let (mut a, _b) = pair(&lan).await;
        let mut invalid = instance("VI_9", 59, 11, 100, &[190]);
        invalid.config.priority = vrrp_core::Priority(0);
        let desired = Desired::new().instance(invalid);
        assert!(matches!(
            a.handle.reconcile(desired).await,
            Err(vrrp_net::DriverError::Config { .. })
        ));
        assert_eq!(a.handle.instances().await.unwrap(), vec!["VI_1".to_owned()]);
        assert!(transitions(&settle(&mut a).await).is_empty());
        assert_eq!(present(&a), vec![addr(100), addr(101)]);
    }

    #[tokio::test(start_paused = true)]
    async fn sync_group_members_change_through_reconcile() {
        let lan = MemoryLan::new();
        let mut one = instance("VI_1", 51, 11, 200, &[100]);
        one.config.sync_group = true;
        let mut two = instance("VI_2", 52, 11, 200, &[110]);
        two.config.sync_group = true;
        let mut a = start_all(&lan, 11, vec![instance("VI_3", 53, 11, 200, &[130])]).await;
        settle(&mut a).await;
        assert!(matches!(
            a.handle.add_instance(one.clone()).await,
            Err(vrrp_net::DriverError::SyncGroupMember(_))
        ));
        let desired = Desired::new()
            .instance(instance("VI_3", 53, 11, 200, &[130]))
            .instance(one)
            .instance(two)
            .sync_group("G", ["VI_1", "VI_2"]);
        let done = a.handle.reconcile(desired).await.unwrap();
        assert_eq!(
            done.added,
            vec!["VI_1".to_owned(), "VI_2".to_owned()],
            "{done}"
        );
        settle(&mut a).await;
        assert_eq!(present(&a), vec![addr(100), addr(110), addr(130)]);
        assert!(matches!(
            a.handle.remove_instance("VI_1").await,
            Err(vrrp_net::DriverError::SyncGroupMember(_))
        ));
    }
}
