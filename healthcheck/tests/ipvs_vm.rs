//! The IPVS sink against a real kernel. `pool_suite_runs_in_vm` (host side) boots the
//! ipvs-sys test VM (`ipvs-sys/tests/vm/ipvs-vm.sh`, qemu with Debian's kernel), re-runs
//! this test binary inside with `--ignored`, and fails if any in-VM test fails. The
//! ignored tests are that suite: they refuse to run outside the VM, because they
//! change the kernel's IPVS tables.
#![allow(clippy::unwrap_used)]

use async_trait::async_trait;
use healthcheck::checkers::TcpCheck;
use healthcheck::sink::{Dest, IpvsPool, Pool, PoolBackend, PoolConfig, PoolSink};
use healthcheck::{Event, Reason, Replaced, TargetId, test_util};
use healthcheck::{Health, Schedule, Scheduler, Target};
use ipvs_sys::{
    Destination, ForwardMethod, IpvsHandle, Scheduler as IpvsScheduler, Service, ServiceKey,
};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use testbed::ipvs_vm::{self, VmRun, in_vm};
use testbed::privileged;
use tokio::net::TcpListener;

#[test]
fn pool_suite_runs_in_vm() {
    if in_vm() {
        return; // the guest's copy of this binary runs only the --ignored suite
    }
    if let Some(reason) = ipvs_vm::unavailable(&[]) {
        privileged::skip(&reason);
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let exe = exe.to_str().unwrap();
    VmRun::new()
        .file(exe)
        .run(&format!("{exe} --ignored --test-threads=1"))
        .assert_suite_passed(None);
}

/// dummy0's address in the VM; the real servers listen on it.
const HOST: [u8; 4] = [192, 0, 2, 1];

fn at(port: u16) -> SocketAddr {
    SocketAddr::from((HOST, port))
}

/// An empty IPVS table and the `wrr` service on `vip_port` a test's pool manages.
async fn empty(vip_port: u16) -> (IpvsHandle, Service) {
    assert!(
        in_vm(),
        "changes the kernel's IPVS tables: runs only inside the test VM"
    );
    let ipvs = IpvsHandle::new().await.unwrap();
    ipvs.flush().await.unwrap();
    let key = ServiceKey::tcp(SocketAddr::from(([192, 0, 2, 10], vip_port)));
    (ipvs, Service::new(key, IpvsScheduler::WeightedRoundRobin))
}

/// [`empty`], with the service already in the kernel.
async fn fresh(vip_port: u16) -> (IpvsHandle, Service) {
    let (ipvs, service) = empty(vip_port).await;
    ipvs.add_service(&service).await.unwrap();
    (ipvs, service)
}

/// The kernel's destinations of `key` as sorted (address, weight) pairs.
async fn table(ipvs: &IpvsHandle, key: &ServiceKey) -> Vec<(SocketAddr, u32)> {
    let mut t: Vec<_> = ipvs
        .destinations(key)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.destination.addr, e.destination.weight))
        .collect();
    t.sort();
    t
}

/// Polls the kernel until its table equals `want` (5 s at most).
async fn wait_for(ipvs: &IpvsHandle, key: &ServiceKey, want: &[(SocketAddr, u32)]) {
    let mut last = Vec::new();
    for _ in 0..100 {
        last = table(ipvs, key).await;
        if last == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("kernel table {last:?}, expected {want:?}");
}

fn schedule() -> Schedule {
    Schedule::builder()
        .interval(Duration::from_millis(200))
        .timeout(Duration::from_millis(100))
        .retries(0)
        .delay_before_retry(Duration::ZERO)
        .warmup(Duration::ZERO)
        .rise(1)
        .fall(1)
        .initial(Health::Up)
        .build()
        .unwrap()
}

/// Real TCP checks of two listeners drive the kernel table: quorum 2 with a sorry
/// server, then recovery.
#[tokio::test]
#[ignore = "runs inside the IPVS test VM, started by pool_suite_runs_in_vm"]
async fn tcp_checks_drive_the_kernel_table_through_quorum_loss() {
    let (ipvs, service) = fresh(80).await;
    let key = service.key;
    let rs1 = TcpListener::bind(at(8081)).await.unwrap();
    let rs2 = TcpListener::bind(at(8082)).await.unwrap();
    let sorry = at(8099);
    let mut sched = Scheduler::new().seed(1);
    for (name, addr) in [("rs1", at(8081)), ("rs2", at(8082))] {
        sched
            .add(
                Target::new(name, addr)
                    .schedule(schedule())
                    .check(TcpCheck::new(addr)),
            )
            .unwrap();
    }
    let config = PoolConfig::default().quorum(2).sorry_server(Dest {
        addr: sorry,
        weight: 1,
    });
    let reals = [at(8081), at(8082)].map(|addr| (Dest { addr, weight: 1 }, Health::Up));
    let pool = Pool::new(config, reals).unwrap();
    let mut sink = PoolSink::new(
        pool,
        IpvsPool::new(ipvs.clone(), service, ForwardMethod::Masquerade),
    );
    sink.startup().await.unwrap();
    wait_for(&ipvs, &key, &[(at(8081), 1), (at(8082), 1)]).await;
    let mut running = sched.start().unwrap();
    tokio::spawn(async move {
        loop {
            let event = running.next_event().await;
            sink.handle_event(&event).await.unwrap();
        }
    });
    drop(rs2);
    // quorum lost: the sorry server replaces the remaining live server
    wait_for(&ipvs, &key, &[(sorry, 1)]).await;
    let _rs2 = TcpListener::bind(at(8082)).await.unwrap();
    wait_for(&ipvs, &key, &[(at(8081), 1), (at(8082), 1)]).await;
    drop(rs1);
}

/// inhibit_on_failure keeps a failed server at weight 0; a destination left from an
/// earlier run is adopted, not an error.
#[tokio::test]
#[ignore = "runs inside the IPVS test VM, started by pool_suite_runs_in_vm"]
async fn inhibited_server_stays_at_weight_zero_and_leftovers_are_adopted() {
    let (ipvs, service) = fresh(81).await;
    let key = service.key;
    // left over from a previous run, with another weight
    ipvs.add_destination(&key, &Destination::new(at(8091)).weight(9))
        .await
        .unwrap();
    let rs1 = TcpListener::bind(at(8091)).await.unwrap();
    let mut sched = Scheduler::new().seed(2);
    sched
        .add(
            Target::new("rs1", at(8091))
                .weight(3)
                .schedule(schedule())
                .check(TcpCheck::new(at(8091))),
        )
        .unwrap();
    let config = PoolConfig::default().inhibit_on_failure(true);
    let pool = Pool::new(
        config,
        [(
            Dest {
                addr: at(8091),
                weight: 3,
            },
            Health::Up,
        )],
    )
    .unwrap();
    let mut sink = PoolSink::new(
        pool,
        IpvsPool::new(ipvs.clone(), service, ForwardMethod::Masquerade),
    );
    sink.startup().await.unwrap();
    wait_for(&ipvs, &key, &[(at(8091), 3)]).await;
    let mut running = sched.start().unwrap();
    tokio::spawn(async move {
        loop {
            let event = running.next_event().await;
            sink.handle_event(&event).await.unwrap();
        }
    });
    drop(rs1);
    wait_for(&ipvs, &key, &[(at(8091), 0)]).await;
    let _rs1 = TcpListener::bind(at(8091)).await.unwrap();
    wait_for(&ipvs, &key, &[(at(8091), 3)]).await;
}

/// An event for the real server at `port`, as the scheduler would send it.
fn event(port: u16, health: Health, weight: u32) -> Event {
    let mut event = test_util::event(
        TargetId(usize::from(port)),
        &format!("rs{port}"),
        at(port),
        health,
        weight,
    );
    event.reason = (health == Health::Down).then_some(Reason::Refused);
    event
}

/// The pool owns its service: startup creates it (another program's service is left
/// alone); after changes behind its back, an error is repaired by `resync`, and a deleted
/// service is recreated by the next event; `delete_service` removes it.
#[tokio::test]
#[ignore = "runs inside the IPVS test VM, started by pool_suite_runs_in_vm"]
async fn startup_creates_the_service_and_resync_repairs_external_changes() {
    let (ipvs, service) = empty(82).await;
    let key = service.key;
    let other = Service::new(
        ServiceKey::tcp(SocketAddr::from(([192, 0, 2, 10], 443))),
        IpvsScheduler::RoundRobin,
    );
    ipvs.add_service(&other).await.unwrap();
    let other_dest = Destination::new(at(9443)).forward(ForwardMethod::DirectRoute);
    ipvs.add_destination(&other.key, &other_dest).await.unwrap();

    let reals = [(8101, 2), (8102, 1)].map(|(port, weight)| {
        (
            Dest {
                addr: at(port),
                weight,
            },
            Health::Up,
        )
    });
    let pool = Pool::new(PoolConfig::default(), reals).unwrap();
    let backend = IpvsPool::new(ipvs.clone(), service.clone(), ForwardMethod::DirectRoute);
    let mut sink = PoolSink::new(pool, backend);
    sink.startup().await.unwrap();
    assert!(sink.in_sync());
    wait_for(&ipvs, &key, &[(at(8101), 2), (at(8102), 1)]).await;
    let listed = ipvs.service(&key).await.unwrap().service;
    assert_eq!(listed.scheduler, IpvsScheduler::WeightedRoundRobin);
    assert!(
        ipvs.destinations(&key)
            .await
            .unwrap()
            .iter()
            .all(|e| e.destination.forward == ForwardMethod::DirectRoute)
    );

    // Someone deletes rs1 and adds a stray: the pool's weight change for rs1 fails.
    ipvs.delete_destination(&key, at(8101)).await.unwrap();
    ipvs.add_destination(&key, &Destination::new(at(8199)))
        .await
        .unwrap();
    let e = sink
        .handle_event(&event(8101, Health::Up, 5))
        .await
        .unwrap_err();
    assert!(
        matches!(e, ipvs_sys::Error::NoSuchDestination { dest, .. } if dest == at(8101)),
        "{e:?}"
    );
    assert!(!sink.in_sync());
    sink.resync().await.unwrap();
    assert_eq!(table(&ipvs, &key).await, [(at(8101), 5), (at(8102), 1)]);

    // Someone deletes the whole service: the next operation fails, the one after it
    // reconciles (and recreates the service).
    ipvs.delete_service(&key).await.unwrap();
    let e = sink
        .handle_event(&event(8102, Health::Down, 1))
        .await
        .unwrap_err();
    assert!(
        matches!(e, ipvs_sys::Error::NoSuchService(k) if k == key),
        "{e:?}"
    );
    sink.handle_event(&event(8102, Health::Up, 1))
        .await
        .unwrap();
    assert!(sink.in_sync());
    assert_eq!(table(&ipvs, &key).await, [(at(8101), 5), (at(8102), 1)]);

    // The other program's service was never touched.
    assert_eq!(
        ipvs.service(&other.key).await.unwrap().service.key,
        other.key
    );
    let others: Vec<_> = ipvs
        .destinations(&other.key)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.destination)
        .collect();
    assert_eq!(others, [other_dest]);

    sink.backend().delete_service().await.unwrap();
    assert!(matches!(
        ipvs.service(&key).await,
        Err(ipvs_sys::Error::NoSuchService(_))
    ));
    sink.backend().delete_service().await.unwrap(); // already gone: still fine
    assert_eq!(ipvs.services().await.unwrap().len(), 1);
}

/// A [`PoolBackend`] that logs every operation before handing it to the kernel's pool.
struct Logged {
    inner: IpvsPool,
    log: Arc<Mutex<Vec<String>>>,
}

impl Logged {
    fn note(&self, entry: String) {
        self.log.lock().unwrap().push(entry);
    }
}

#[async_trait]
impl PoolBackend for Logged {
    type Error = ipvs_sys::Error;
    async fn add_dest(&mut self, d: Dest) -> Result<(), Self::Error> {
        self.note(format!("add {}", d.addr.port()));
        self.inner.add_dest(d).await
    }
    async fn set_weight(&mut self, d: Dest) -> Result<(), Self::Error> {
        self.note(format!("weight {} w{}", d.addr.port(), d.weight));
        self.inner.set_weight(d).await
    }
    async fn remove_dest(&mut self, a: SocketAddr) -> Result<(), Self::Error> {
        self.note(format!("remove {}", a.port()));
        self.inner.remove_dest(a).await
    }
    async fn sync(&mut self, dests: &[Dest]) -> Result<(), Self::Error> {
        self.note("sync".to_owned());
        self.inner.sync(dests).await
    }
}

/// A reload through the control handle while the events drive the kernel table: one real
/// server added, one removed, one re-weighted. The staying server's destination is only
/// edited (one weight update), never deleted and re-added, so its connections stay.
#[tokio::test]
#[ignore = "runs inside the IPVS test VM, started by pool_suite_runs_in_vm"]
async fn a_reload_edits_only_what_changed_in_the_kernel_table() {
    let (ipvs, service) = fresh(83).await;
    let key = service.key;
    let _listeners = [
        TcpListener::bind(at(8111)).await.unwrap(),
        TcpListener::bind(at(8112)).await.unwrap(),
        TcpListener::bind(at(8113)).await.unwrap(),
    ];
    let real = |port: u16| {
        Target::new(format!("rs{port}"), at(port))
            .schedule(schedule())
            .check(TcpCheck::new(at(port)))
    };
    let stays = real(8111);
    let mut sched = Scheduler::new().seed(3);
    sched.add(stays.clone()).unwrap();
    let leaves = sched.add(real(8112)).unwrap();
    let reals = [8111, 8112].map(|port| (Dest::new(at(port), 1), Health::Up));
    let pool = Pool::new(PoolConfig::default(), reals).unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let backend = Logged {
        inner: IpvsPool::new(ipvs.clone(), service, ForwardMethod::Masquerade),
        log: log.clone(),
    };
    let mut sink = PoolSink::new(pool, backend);
    sink.startup().await.unwrap();
    let (control, mut events) = sched.start().unwrap().into_parts();
    tokio::spawn(async move {
        loop {
            let event = events.next_event().await;
            sink.handle_event(&event).await.unwrap();
        }
    });
    wait_for(&ipvs, &key, &[(at(8111), 1), (at(8112), 1)]).await;

    control.remove(leaves).unwrap();
    control.add(real(8113)).unwrap();
    let (_, how) = control.replace(stays.weight(4)).unwrap();
    assert_eq!(how, Replaced::Kept);
    wait_for(&ipvs, &key, &[(at(8111), 4), (at(8113), 1)]).await;
    let log = log.lock().unwrap().clone();
    assert_eq!(log[0], "sync");
    let touching: Vec<_> = log.iter().filter(|e| e.contains("8111")).collect();
    assert_eq!(touching, ["weight 8111 w4"], "{log:?}");
    assert!(log.contains(&"remove 8112".to_owned()), "{log:?}");
    assert!(log.contains(&"add 8113".to_owned()), "{log:?}");
}
