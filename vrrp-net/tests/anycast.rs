//! The anycast owner: announce and withdraw decisions, the graceful drain and its order,
//! stale addresses, faults; on tokio's paused clock with recording backends. The last two
//! tests are privileged: the kernel backends in a network namespace of their own, and the
//! owner with `FrrVtysh` telling a real bgpd, peered with a router running FRR.
#![allow(clippy::unwrap_used)]

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use tokio::sync::mpsc;
use tokio::time::Instant;
use vrrp_core::{TrackState, TrackedObject, VirtualAddress};
use vrrp_net::anycast::{
    AnnounceReason, Anycast, AnycastError, Event, Events, Fault, FrrVtysh, Handle, Hold, HoldError,
    Owner, Phase, Speaker, SpeakerError, WithdrawReason,
};
use vrrp_net::error::VipError;
use vrrp_net::vip::{RecordingVips, Vip, VipBackend, VipNotice};

const VIP: &str = "203.0.113.10";
const DRAIN: Duration = Duration::from_secs(1);

/// What the doubles saw, in one order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Call {
    Add(IpAddr),
    Remove(IpAddr),
    Hold(IpAddr),
    Release(IpAddr),
    Announce,
    Withdraw,
}

type Log = Arc<Mutex<Vec<Call>>>;

/// A [`RecordingVips`] that also writes into the shared log.
struct Vips {
    log: Log,
    inner: RecordingVips,
}

#[async_trait]
impl VipBackend for Vips {
    async fn add(&self, vip: &Vip) -> Result<(), VipError> {
        self.log.lock().unwrap().push(Call::Add(vip.addr));
        self.inner.add(vip).await
    }
    async fn remove(&self, vip: &Vip) -> Result<(), VipError> {
        self.log.lock().unwrap().push(Call::Remove(vip.addr));
        self.inner.remove(vip).await
    }
    fn take_notices(&self) -> Option<mpsc::UnboundedReceiver<VipNotice>> {
        self.inner.take_notices()
    }
}

struct Holds(Log);

#[async_trait]
impl Hold for Holds {
    async fn hold(&self, vip: &Vip) -> Result<(), HoldError> {
        self.0.lock().unwrap().push(Call::Hold(vip.addr));
        Ok(())
    }
    async fn release(&self, vip: &Vip) -> Result<(), HoldError> {
        self.0.lock().unwrap().push(Call::Release(vip.addr));
        Ok(())
    }
}

struct Bgp(Log);

#[async_trait]
impl Speaker for Bgp {
    async fn announce(&self, _: &[VirtualAddress]) -> Result<(), SpeakerError> {
        self.0.lock().unwrap().push(Call::Announce);
        Ok(())
    }
    async fn withdraw(&self, _: &[VirtualAddress]) -> Result<(), SpeakerError> {
        self.0.lock().unwrap().push(Call::Withdraw);
        Ok(())
    }
}

struct Run {
    handle: Handle,
    events: Events,
    log: Log,
    vips: RecordingVips,
}

impl Run {
    /// The calls since the last look.
    fn calls(&self) -> Vec<Call> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }

    /// The next event (on the paused clock, tokio advances to the next timer).
    async fn next(&mut self) -> Event {
        tokio::time::timeout(Duration::from_secs(30), self.events.next())
            .await
            .expect("no event within 30 s")
            .expect("the stream ended")
    }
}

fn vip() -> IpAddr {
    VIP.parse().unwrap()
}

fn config() -> Anycast {
    Anycast::new("web", [VirtualAddress::host(vip())]).drain(DRAIN)
}

async fn start(config: Anycast, speaker: bool) -> Run {
    let log = Log::default();
    let vips = RecordingVips::new();
    let backend = Vips {
        log: log.clone(),
        inner: vips.clone(),
    };
    let mut builder = Owner::builder(config)
        .interface_index(1)
        .vip_backend(Arc::new(backend))
        .hold(Arc::new(Holds(log.clone())));
    if speaker {
        builder = builder.speaker(Arc::new(Bgp(log.clone())));
    }
    let (owner, handle, events) = builder.build().await.unwrap();
    tokio::spawn(owner.run());
    Run {
        handle,
        events,
        log,
        vips,
    }
}

#[tokio::test(start_paused = true)]
async fn stale_state_is_cleared_before_a_healthy_start_announces() {
    let mut run = start(config(), false).await;
    let event = run.next().await;
    assert!(
        matches!(&event, Event::Announced { reason: AnnounceReason::Healthy, weight: 100, addresses, .. } if addresses == &[vip()]),
        "{event:?}"
    );
    assert_eq!(
        run.calls(),
        [Call::Remove(vip()), Call::Release(vip()), Call::Add(vip())]
    );
    assert_eq!(run.vips.present().len(), 1);
    assert_eq!(run.vips.present()[0].ifindex, 1);
    assert_eq!(run.handle.status().phase, Phase::Announced);
}

#[tokio::test(start_paused = true)]
async fn weight_below_threshold_withdraws_holding_local_delivery_for_the_drain() {
    let config = config()
        .track(TrackedObject::new("pool", -100))
        .threshold(1);
    let mut run = start(config, false).await;
    assert!(matches!(run.next().await, Event::Announced { .. }));
    run.calls();

    run.handle
        .set_track_state("pool", TrackState::Down)
        .unwrap();
    let event = run.next().await;
    assert!(
        matches!(
            event,
            Event::WeightChanged {
                from: 100,
                to: 0,
                ..
            }
        ),
        "{event:?}"
    );
    let withdrawn_at = Instant::now();
    let event = run.next().await;
    assert!(
        matches!(
            &event,
            Event::Withdrawn {
                reason: WithdrawReason::WeightBelowThreshold {
                    weight: 0,
                    threshold: 1
                },
                ..
            }
        ),
        "{event:?}"
    );
    // The hold comes first: local delivery never stops while the address goes.
    assert_eq!(run.calls(), [Call::Hold(vip()), Call::Remove(vip())]);
    assert!(run.vips.present().is_empty());
    assert_eq!(run.handle.status().phase, Phase::Draining);

    assert!(matches!(run.next().await, Event::Drained { .. }));
    assert_eq!(withdrawn_at.elapsed(), DRAIN);
    assert_eq!(run.calls(), [Call::Release(vip())]);
    assert_eq!(run.handle.status().phase, Phase::Withdrawn);

    // Healthy again: announced, no drain left to undo.
    run.handle.set_track_state("pool", TrackState::Up).unwrap();
    assert!(matches!(
        run.next().await,
        Event::WeightChanged { to: 100, .. }
    ));
    assert!(matches!(
        run.next().await,
        Event::Announced {
            reason: AnnounceReason::Healthy,
            ..
        }
    ));
    assert_eq!(run.calls(), [Call::Add(vip())]);
}

#[tokio::test(start_paused = true)]
async fn recovering_during_the_drain_announces_again_without_a_gap() {
    let config = config().track(TrackedObject::new("pool", 0));
    let mut run = start(config, false).await;
    assert!(matches!(run.next().await, Event::Announced { .. }));
    run.calls();
    run.handle
        .set_track_state("pool", TrackState::Down)
        .unwrap();
    let event = run.next().await;
    assert!(
        matches!(&event, Event::Withdrawn { reason: WithdrawReason::TrackedDown { name }, .. } if name == "pool"),
        "{event:?}"
    );
    tokio::time::sleep(DRAIN / 2).await;
    run.handle.set_track_state("pool", TrackState::Up).unwrap();
    assert!(matches!(run.next().await, Event::Announced { .. }));
    // The address is back before the hold goes.
    assert_eq!(
        run.calls(),
        [
            Call::Hold(vip()),
            Call::Remove(vip()),
            Call::Add(vip()),
            Call::Release(vip())
        ]
    );
    // The cancelled drain does not end later.
    tokio::time::sleep(DRAIN * 2).await;
    assert_eq!(run.handle.status().phase, Phase::Announced);
    assert!(run.calls().is_empty());
}

#[tokio::test(start_paused = true)]
async fn shutdown_withdraws_drains_and_stops() {
    let mut run = start(config(), false).await;
    assert!(matches!(run.next().await, Event::Announced { .. }));
    run.calls();
    let began = Instant::now();
    run.handle.shutdown().await.unwrap();
    assert_eq!(began.elapsed(), DRAIN, "shutdown returns after the drain");
    let event = run.next().await;
    assert!(
        matches!(
            event,
            Event::Withdrawn {
                reason: WithdrawReason::Shutdown,
                ..
            }
        ),
        "{event:?}"
    );
    assert!(matches!(run.next().await, Event::Drained { .. }));
    assert!(matches!(run.next().await, Event::Stopped { .. }));
    assert_eq!(
        run.calls(),
        [Call::Hold(vip()), Call::Remove(vip()), Call::Release(vip())]
    );
    assert!(run.events.next().await.is_none(), "the stream ends");
    assert!(matches!(
        run.handle.shutdown().await,
        Err(AnycastError::Stopped)
    ));
}

#[tokio::test(start_paused = true)]
async fn shutdown_before_anything_was_announced_is_immediate() {
    let config = config().track(TrackedObject::new("pool", 0).starting_down());
    let mut run = start(config, false).await;
    let began = Instant::now();
    run.handle.shutdown().await.unwrap();
    assert_eq!(began.elapsed(), Duration::ZERO);
    assert!(matches!(run.next().await, Event::Stopped { .. }));
}

#[tokio::test(start_paused = true)]
async fn dropping_every_handle_shuts_down_gracefully() {
    let Run {
        handle,
        mut events,
        log,
        ..
    } = start(config(), false).await;
    assert!(matches!(events.next().await, Some(Event::Announced { .. })));
    drop(handle);
    let rest: Vec<Event> = events.collect().await;
    assert!(matches!(
        rest.as_slice(),
        [
            Event::Withdrawn {
                reason: WithdrawReason::Shutdown,
                ..
            },
            Event::Drained { .. },
            Event::Stopped { .. }
        ]
    ));
    assert_eq!(log.lock().unwrap().last(), Some(&Call::Release(vip())));
}

#[tokio::test(start_paused = true)]
async fn administrative_withdraw_overrides_health_until_resumed() {
    let mut run = start(config(), false).await;
    assert!(matches!(run.next().await, Event::Announced { .. }));
    run.handle.withdraw().await.unwrap();
    assert!(run.handle.status().held_down);
    let event = run.next().await;
    assert!(
        matches!(
            event,
            Event::Withdrawn {
                reason: WithdrawReason::Requested,
                ..
            }
        ),
        "{event:?}"
    );
    assert!(matches!(run.next().await, Event::Drained { .. }));
    run.handle.resume().await.unwrap();
    let event = run.next().await;
    assert!(
        matches!(
            event,
            Event::Announced {
                reason: AnnounceReason::Resumed,
                ..
            }
        ),
        "{event:?}"
    );
    assert!(!run.handle.status().held_down);
}

#[tokio::test(start_paused = true)]
async fn unknown_tracked_objects_and_bad_configurations_are_refused() {
    let run = start(config().track(TrackedObject::new("pool", -10)), false).await;
    assert!(matches!(
        run.handle.set_track_state("pol", TrackState::Down),
        Err(AnycastError::UnknownTrack(name)) if name == "pol"
    ));
    let empty = Owner::builder(Anycast::new("none", []))
        .interface_index(1)
        .vip_backend(Arc::new(RecordingVips::new()))
        .build()
        .await;
    assert!(matches!(empty.err(), Some(AnycastError::NoAddress(_))));
    let twice = config()
        .track(TrackedObject::new("a", 1))
        .track(TrackedObject::new("a", 2));
    assert!(matches!(
        twice.validate(),
        Err(AnycastError::DuplicateTrack(_))
    ));
    let long = Anycast::new("x", [VirtualAddress::with_prefix(vip(), 33)]);
    assert!(matches!(
        long.validate(),
        Err(AnycastError::PrefixLength { .. })
    ));
}

#[tokio::test(start_paused = true)]
async fn a_failed_install_is_a_fault_and_retried_every_second() {
    let log = Log::default();
    let vips = RecordingVips::new();
    vips.set_failing(vip(), true);
    let backend = Vips {
        log: log.clone(),
        inner: vips.clone(),
    };
    let (owner, _handle, mut events) = Owner::builder(config())
        .interface_index(1)
        .vip_backend(Arc::new(backend))
        .hold(Arc::new(Holds(log.clone())))
        .build()
        .await
        .unwrap();
    tokio::spawn(owner.run());
    let event = events.next().await.unwrap();
    assert!(
        matches!(
            &event,
            Event::Fault {
                fault: Fault::VipAdd { .. },
                ..
            }
        ),
        "{event:?}"
    );
    let failed_at = Instant::now();
    vips.set_failing(vip(), false);
    let event = events.next().await.unwrap();
    assert!(
        matches!(
            event,
            Event::Announced {
                reason: AnnounceReason::Retried,
                ..
            }
        ),
        "{event:?}"
    );
    assert_eq!(failed_at.elapsed(), Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn an_address_removed_by_someone_else_is_put_back() {
    let mut run = start(config(), false).await;
    assert!(matches!(run.next().await, Event::Announced { .. }));
    run.calls();
    let placed = run.vips.present()[0].clone();
    run.vips.remove_externally(&placed);
    let event = run.next().await;
    assert!(
        matches!(&event, Event::Fault { fault: Fault::VipRemovedExternally { vip }, .. } if vip.addr == placed.addr),
        "{event:?}"
    );
    tokio::task::yield_now().await;
    assert_eq!(run.calls(), [Call::Add(vip())]);
    assert_eq!(run.vips.present().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_speaker_withdraws_first_and_the_address_stays_for_the_drain() {
    let mut run = start(config(), true).await;
    assert!(matches!(run.next().await, Event::Announced { .. }));
    assert_eq!(
        run.calls(),
        [
            Call::Remove(vip()),
            Call::Release(vip()),
            Call::Withdraw, // a stale announcement is withdrawn at start too
            Call::Add(vip()),
            Call::Announce
        ]
    );
    run.handle.shutdown().await.unwrap();
    // No hold needed: the address answers until the drain ends, then goes.
    assert_eq!(run.calls(), [Call::Withdraw, Call::Remove(vip())]);
}

/// A network namespace of this test's own, deleted on drop (also when the test panics).
struct Netns(String);

impl Netns {
    fn new() -> Netns {
        let name = format!("acv{}", std::process::id());
        ip(&["netns", "add", &name]);
        ip(&["-n", &name, "link", "set", "lo", "up"]);
        Netns(name)
    }

    /// `ip -n NS ARGS`, stdout as text.
    fn ip(&self, args: &[&str]) -> String {
        ip(&[&["-n", self.0.as_str()][..], args].concat())
    }

    fn has_vip(&self) -> bool {
        self.ip(&["-o", "addr", "show", "dev", "lo"])
            .contains(&format!("{VIP}/32"))
    }

    fn holds(&self) -> bool {
        let route = self.ip(&["route", "show", "table", "local", VIP]);
        route.lines().any(|l| l.contains("metric 1"))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip")
            .args(["netns", "del", &self.0])
            .status();
    }
}

fn ip(args: &[&str]) -> String {
    let out = std::process::Command::new("ip")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether a TCP connection to the VIP's port 8080 is accepted, from inside the namespace.
async fn answers() -> bool {
    let target = std::net::SocketAddr::new(vip(), 8080);
    matches!(
        tokio::time::timeout(
            Duration::from_millis(500),
            tokio::net::TcpStream::connect(target)
        )
        .await,
        Ok(Ok(_))
    )
}

#[test]
fn kernel_backends_on_lo_in_a_namespace() {
    if !testbed::privileged::require("kernel_backends_on_lo_in_a_namespace", &["ip"]) {
        return;
    }
    let ns = Arc::new(Netns::new());
    // A predecessor killed while announced left its address.
    ns.ip(&["addr", "add", &format!("{VIP}/32"), "dev", "lo"]);
    let inside = Arc::clone(&ns);
    let result = testbed::proxy_bed::spawn_in_netns(&ns.0.clone(), move || async move {
        let ns = inside;
        let drain = Duration::from_millis(400);
        let listener = vrrp_net::bind::bind_tokio_tcp(
            std::net::SocketAddr::new(vip(), 8080),
            vrrp_net::bind::VipBind::new(),
        )
        .unwrap();
        tokio::spawn(async move { while let Ok((_stream, _)) = listener.accept().await {} });

        let (owner, handle, mut events) =
            Owner::builder(config().drain(drain)).build().await.unwrap();
        let event = events.next().await.unwrap();
        assert!(
            matches!(&event, Event::StaleRemoved { addresses, .. } if addresses == &[vip()]),
            "{event:?}"
        );
        assert!(
            !ns.has_vip(),
            "removed at build, before anything is decided"
        );
        let task = tokio::spawn(owner.run());
        assert!(matches!(
            events.next().await.unwrap(),
            Event::Announced { .. }
        ));
        assert!(ns.has_vip() && answers().await);

        // Withdrawn: the address is gone (the speaker's connected route with it), the hold
        // keeps answering until the drain ends.
        handle.withdraw().await.unwrap();
        assert!(!ns.has_vip() && ns.holds());
        assert!(answers().await, "answering during the drain");
        assert!(matches!(
            events.next().await.unwrap(),
            Event::Withdrawn { .. }
        ));
        assert!(matches!(
            events.next().await.unwrap(),
            Event::Drained { .. }
        ));
        assert!(!ns.holds() && !answers().await, "gone after the drain");

        // A crash while announced leaves the address; the supervisor's hook removes it.
        handle.resume().await.unwrap();
        assert!(ns.has_vip());
        task.abort();
        let _ = task.await;
        assert!(ns.has_vip(), "a dead owner's address stays");
        let found = vrrp_net::anycast::withdraw_stale(&config()).await.unwrap();
        assert_eq!(found, [vip()]);
        assert!(!ns.has_vip() && !ns.holds());
        assert!(
            vrrp_net::anycast::withdraw_stale(&config())
                .await
                .unwrap()
                .is_empty(),
            "nothing left the second time"
        );

        // With the crash supervisor, the death itself removes the address.
        let (owner, _handle, mut events) = Owner::builder(config())
            .crash_supervisor(true)
            .build()
            .await
            .unwrap();
        let task = tokio::spawn(owner.run());
        assert!(matches!(
            events.next().await.unwrap(),
            Event::Announced { .. }
        ));
        assert!(ns.has_vip());
        task.abort(); // the owner dies without a graceful stop
        let _ = task.await;
        let end = std::time::Instant::now() + Duration::from_secs(2);
        while ns.has_vip() && std::time::Instant::now() < end {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(!ns.has_vip(), "the supervisor removed the address");
    })
    .join();
    drop(ns);
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// Whether `check` (quick blocking commands) holds within `limit`, polled every 10 ms without
/// blocking the runtime the owner runs on.
async fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let end = std::time::Instant::now() + limit;
    loop {
        if check() {
            return true;
        }
        if std::time::Instant::now() >= end {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The owner with the `FrrVtysh` speaker, as users run it, against a real bgpd (node AS 65001,
/// no `redistribute connected`: only the speaker's `network` statement can announce) peered
/// with a router's bgpd (AS 65000): announce, withdraw on ill health and on a graceful stop
/// (the route leaves the router while the address still answers), and a crash (the address
/// goes, so bgpd's import check withdraws the statement left behind; the next start removes
/// it).
#[test]
fn frr_vtysh_speaker_against_a_real_bgpd() {
    let test = "frr_vtysh_speaker_against_a_real_bgpd";
    if !testbed::privileged::require(test, &testbed::frr::TOOLS) {
        return;
    }
    let pair = Arc::new(testbed::frr::BgpPair::new());
    let inside = Arc::clone(&pair);
    let result = testbed::proxy_bed::spawn_in_netns(&pair.node.ns.clone(), move || async move {
        let pair = inside;
        let prefix = format!("{VIP}/32");
        let node = testbed::frr::pair::NODE_IP.to_owned();
        let speaker = || {
            Arc::new(FrrVtysh::new(testbed::frr::pair::NODE_AS).vty_socket(&pair.node_frr.dir))
        };
        // The router's BGP table and its kernel route.
        let routes = || (pair.bgp_next_hops(&prefix), pair.kernel_next_hops(VIP));
        let via_node = (vec![node.clone()], vec![node.clone()]);
        let nowhere = (Vec::<String>::new(), Vec::<String>::new());
        let on_lo = || {
            pair.node
                .ip(&["-o", "addr", "show", "dev", "lo"])
                .contains(&prefix)
        };
        // Long enough that the route leaves the router well before the address goes.
        let drain = Duration::from_secs(2);
        let config = config()
            .drain(drain)
            .track(TrackedObject::new("pool", 0));

        // Start: the stale withdraw finds no statement, which is not a fault.
        let (owner, handle, mut events) = Owner::builder(config.clone())
            .speaker(speaker())
            .build()
            .await
            .unwrap();
        let task = tokio::spawn(owner.run());
        let began = std::time::Instant::now();
        let event = events.next().await.unwrap();
        assert!(matches!(event, Event::Announced { .. }), "{event:?}");
        assert_eq!(pair.node_networks(), std::slice::from_ref(&prefix));
        assert!(
            eventually(Duration::from_secs(10), || routes() == via_node).await,
            "the router did not learn {prefix} via {node}: {:?}\n{}",
            routes(),
            pair.router_frr.log("bgpd")
        );
        eprintln!("announced: at the router after {:?}", began.elapsed());

        // Unhealthy: the speaker withdraws first; the address answers for the drain.
        handle.set_track_state("pool", TrackState::Down).unwrap();
        let began = std::time::Instant::now();
        let event = events.next().await.unwrap();
        assert!(
            matches!(&event, Event::Withdrawn { reason: WithdrawReason::TrackedDown { name }, .. } if name == "pool"),
            "{event:?}"
        );
        assert!(pair.node_networks().is_empty());
        assert!(
            eventually(drain, || routes() == nowhere).await,
            "still routed: {:?}",
            routes()
        );
        let gone = began.elapsed();
        assert!(on_lo(), "the address stays until the drain ends");
        eprintln!("unhealthy: gone from the router after {gone:?}, address still on lo");
        let event = events.next().await.unwrap();
        assert!(matches!(event, Event::Drained { .. }), "{event:?}");
        assert!(!on_lo());

        // Healthy again.
        handle.set_track_state("pool", TrackState::Up).unwrap();
        let event = events.next().await.unwrap();
        assert!(matches!(event, Event::Announced { .. }), "{event:?}");
        assert!(
            eventually(Duration::from_secs(10), || routes() == via_node).await,
            "not announced again: {:?}",
            routes()
        );

        // Graceful stop: withdrawn at the router before the address goes.
        let stopping = handle.clone();
        let began = std::time::Instant::now();
        let stop = tokio::spawn(async move { stopping.shutdown().await });
        assert!(
            eventually(drain, || routes() == nowhere).await,
            "still routed while stopping: {:?}",
            routes()
        );
        let gone = began.elapsed();
        assert!(on_lo(), "the address answers during the drain");
        eprintln!("graceful stop: gone from the router after {gone:?}, address still on lo");
        stop.await.unwrap().unwrap();
        task.await.unwrap();
        assert!(!on_lo() && pair.node_networks().is_empty());
        let rest: Vec<Event> = events.collect().await;
        assert!(
            !rest.iter().any(|e| matches!(e, Event::Fault { .. })),
            "{rest:?}"
        );

        // A crash: the supervisor removes the address; the statement stays, but bgpd's
        // import check stops announcing a prefix no longer in the RIB.
        let (owner, _handle, mut events) = Owner::builder(config.clone())
            .speaker(speaker())
            .crash_supervisor(true)
            .build()
            .await
            .unwrap();
        let task = tokio::spawn(owner.run());
        let event = events.next().await.unwrap();
        assert!(matches!(event, Event::Announced { .. }), "{event:?}");
        assert!(
            eventually(Duration::from_secs(10), || routes() == via_node).await,
            "not announced after the restart: {:?}",
            routes()
        );
        task.abort(); // no graceful stop
        let _ = task.await;
        let began = std::time::Instant::now();
        assert!(
            eventually(Duration::from_secs(5), || routes() == nowhere).await,
            "a dead owner's prefix is still routed: {:?}",
            routes()
        );
        eprintln!("crash: gone from the router after {:?}", began.elapsed());
        assert!(!on_lo());
        assert_eq!(pair.node_networks(), std::slice::from_ref(&prefix), "left behind");

        // The next start withdraws what the dead one left, without a fault.
        let unhealthy = config.clone().track(TrackedObject::new("other", 0).starting_down());
        let (owner, handle, events) = Owner::builder(unhealthy)
            .speaker(speaker())
            .build()
            .await
            .unwrap();
        assert!(pair.node_networks().is_empty());
        let task = tokio::spawn(owner.run());
        handle.shutdown().await.unwrap();
        task.await.unwrap();
        let rest: Vec<Event> = events.collect().await;
        assert!(
            matches!(rest.as_slice(), [Event::Stopped { .. }]),
            "{rest:?}"
        );
        assert!(routes() == nowhere);
    })
    .join();
    drop(pair);
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}
