//! Steady state costs no heap allocation: a backup receiving its master's adverts (bytes ->
//! `Demux::receive` -> `handle(Input::Advert)` -> `poll` drained) and a master sending on its
//! timeouts (`handle(Input::Timeout)` -> `poll` drained -> emit into a stack buffer).
//!
//! The allocator counts per thread: only the measuring thread's allocations are seen, so the
//! test harness's own thread (which records the running test while the test thread has
//! already started) cannot show up in a measurement.
// An `Instant` is only an epoch here: the routers see times derived from it.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use vrrp_core::config::Profile;
use vrrp_core::{
    Centisecs, Demux, Input, Output, RouterConfig, RxMeta, State, Version, VirtualAddress,
    VirtualRouter,
};

thread_local! {
    /// Allocations and reallocations made by this thread.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

/// The system allocator, counting each thread's allocations in a const-initialised
/// thread-local (reading or bumping it allocates nothing).
struct PerThreadCounting;

impl PerThreadCounting {
    fn count() {
        // `try_with`: a thread being torn down has no counter left; it is not measured.
        let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
    }
}

// SAFETY: every call is forwarded unchanged to `System`; counting touches no allocation.
unsafe impl GlobalAlloc for PerThreadCounting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Self::count();
        // SAFETY: the caller's contract for `alloc` is passed on as it is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Self::count();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this allocator with this `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        Self::count();
        // SAFETY: as for `dealloc`, with the caller's `new_size` contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: PerThreadCounting = PerThreadCounting;

/// A measurement of the current thread's allocations from its creation on.
struct Region(usize);

impl Region {
    fn new() -> Self {
        Self(ALLOCATIONS.with(Cell::get))
    }

    /// Allocations and reallocations this thread made since `new`.
    fn change(&self) -> usize {
        ALLOCATIONS.with(Cell::get) - self.0
    }
}

/// Adverts measured per case after the warm-up.
const ROUNDS: usize = 1_000;

/// One family / version setup: the master's and the backup's primary addresses, the VIPs.
struct Setup {
    name: &'static str,
    version: Version,
    master: &'static str,
    backup: &'static str,
    group: &'static str,
    vips: &'static [&'static str],
    password: Option<&'static str>,
}

const SETUPS: [Setup; 3] = [
    Setup {
        name: "v3 ipv4",
        version: Version::V3,
        master: "192.0.2.11",
        backup: "192.0.2.12",
        group: "224.0.0.18",
        vips: &["192.0.2.100"],
        password: None,
    },
    Setup {
        name: "v2 ipv4 with password",
        version: Version::V2,
        master: "192.0.2.11",
        backup: "192.0.2.12",
        group: "224.0.0.18",
        vips: &["192.0.2.100", "192.0.2.101"],
        password: Some("s3cr3t"),
    },
    Setup {
        name: "v3 ipv6",
        version: Version::V3,
        master: "fe80::11",
        backup: "fe80::12",
        group: "ff02::12",
        vips: &["2001:db8::100", "2001:db8::101", "2001:db8::102"],
        password: None,
    },
];

impl Setup {
    fn config(&self, primary: &str, priority: u8, profile: Profile) -> RouterConfig {
        let mut builder = RouterConfig::builder(self.name, 51, primary.parse().unwrap())
            .profile(profile)
            .version(self.version)
            .priority(priority)
            .advert_interval(Centisecs::ONE_SECOND);
        for vip in self.vips {
            builder = builder.virtual_address(VirtualAddress::host(vip.parse().unwrap()));
        }
        if let Some(password) = self.password {
            builder = builder.password(password);
        }
        builder.build().unwrap()
    }

    fn group(&self) -> IpAddr {
        self.group.parse().unwrap()
    }

    /// A router at `primary` that became master at `epoch`, its start-up outputs drained.
    fn master(&self, profile: Profile, epoch: Instant) -> (VirtualRouter, Instant) {
        let mut router = VirtualRouter::new(self.config(self.master, 200, profile)).unwrap();
        router.handle(epoch, Input::Startup);
        let wake = router.poll_timeout().unwrap();
        router.handle(wake, Input::Timeout);
        while router.poll().is_some() {}
        assert_eq!(router.state(), State::Master, "{}", self.name);
        (router, wake)
    }

    /// The bytes the master sends on its next advert timer.
    fn advert_bytes(&self, epoch: Instant) -> Vec<u8> {
        let (mut master, _) = self.master(Profile::Rfc, epoch);
        master.handle(master.poll_timeout().unwrap(), Input::Timeout);
        let mut buffer = vec![0; 1500];
        while let Some(out) = master.poll() {
            if let Output::Transmit(advert) = out {
                let len = advert.emit_into(self.group(), &mut buffer).unwrap();
                buffer.truncate(len);
                return buffer;
            }
        }
        panic!("{}: the master sent nothing on its advert timer", self.name);
    }
}

/// A backup receives `ROUNDS` adverts a second apart; returns the allocations counted.
fn backup_receiving(setup: &Setup, epoch: Instant) -> usize {
    let bytes = setup.advert_bytes(epoch);
    let meta = RxMeta {
        src: setup.master.parse().unwrap(),
        dst: setup.group(),
        ttl: 255,
    };
    let mut backup = VirtualRouter::new(setup.config(setup.backup, 100, Profile::Rfc)).unwrap();
    let family = backup.config().family;
    let mut demux = Demux::new(family);
    demux.register(51, 0, backup.rx_policy()).unwrap();
    backup.handle(epoch, Input::Startup);
    let mut now = epoch;
    let mut step = |now: Instant| {
        let dispatch = demux.receive(meta, &bytes).unwrap();
        backup.handle(
            now,
            Input::Advert {
                meta: dispatch.meta,
                advert: dispatch.advert,
            },
        );
        while backup.poll().is_some() {}
    };
    for _ in 0..10 {
        now += Duration::from_secs(1);
        step(now);
    }
    let region = Region::new();
    for _ in 0..ROUNDS {
        now += Duration::from_secs(1);
        step(now);
    }
    let change = region.change();
    assert_eq!(backup.state(), State::Backup, "{}", setup.name);
    assert_eq!(
        backup.stats().rcvd_advertisements,
        10 + ROUNDS as u64,
        "{}",
        setup.name
    );
    change
}

/// A master runs `ROUNDS` advert timers, emitting each advert into a stack buffer; returns
/// the allocations counted.
fn master_sending(setup: &Setup, profile: Profile, epoch: Instant) -> usize {
    let (mut master, _) = setup.master(profile, epoch);
    let group = setup.group();
    let mut buffer = [0u8; 128];
    let mut sent = 0usize;
    let mut step = |master: &mut VirtualRouter, sent: &mut usize| {
        let wake = master.poll_timeout().unwrap();
        master.handle(wake, Input::Timeout);
        while let Some(out) = master.poll() {
            if let Output::Transmit(advert) = out {
                assert!(advert.emit_into(group, &mut buffer).is_some());
                *sent += 1;
            }
        }
    };
    // Past keepalived's second gratuitous-ARP round (5 s) into the plain advert rhythm.
    for _ in 0..20 {
        step(&mut master, &mut sent);
    }
    let before = sent;
    let region = Region::new();
    for _ in 0..ROUNDS {
        step(&mut master, &mut sent);
    }
    let change = region.change();
    assert_eq!(master.state(), State::Master, "{}", setup.name);
    assert!(
        sent - before >= ROUNDS,
        "{}: {} adverts sent",
        setup.name,
        sent - before
    );
    change
}

/// keepalived's default: a master answers a lower-priority advert with its own at once.
fn master_answering_lower_priority(setup: &Setup, epoch: Instant) -> usize {
    // The "lower-priority master" is the backup address sending with priority 100.
    let lower = {
        let mut router = VirtualRouter::new(setup.config(setup.backup, 100, Profile::Rfc)).unwrap();
        router.handle(epoch, Input::Startup);
        router.handle(router.poll_timeout().unwrap(), Input::Timeout);
        let mut buffer = vec![0; 1500];
        let mut bytes = None;
        while let Some(out) = router.poll() {
            if let Output::Transmit(advert) = out {
                let len = advert.emit_into(setup.group(), &mut buffer).unwrap();
                bytes = Some(buffer[..len].to_vec());
            }
        }
        bytes.unwrap()
    };
    let meta = RxMeta {
        src: setup.backup.parse().unwrap(),
        dst: setup.group(),
        ttl: 255,
    };
    let (mut master, start) = setup.master(Profile::Keepalived, epoch);
    let mut demux = Demux::new(master.config().family);
    demux.register(51, 0, master.rx_policy()).unwrap();
    let mut out_buffer = [0u8; 128];
    let mut answers = 0usize;
    let mut now = start;
    let mut step = |now: Instant, answers: &mut usize| {
        let dispatch = demux.receive(meta, &lower).unwrap();
        master.handle(
            now,
            Input::Advert {
                meta: dispatch.meta,
                advert: dispatch.advert,
            },
        );
        while let Some(out) = master.poll() {
            if let Output::Transmit(advert) = out {
                assert!(advert.emit_into(setup.group(), &mut out_buffer).is_some());
                *answers += 1;
            }
        }
    };
    for _ in 0..10 {
        now += Duration::from_millis(300);
        step(now, &mut answers);
    }
    let before = answers;
    let region = Region::new();
    for _ in 0..ROUNDS {
        now += Duration::from_millis(300);
        step(now, &mut answers);
    }
    let change = region.change();
    assert_eq!(
        answers - before,
        ROUNDS,
        "{}: one answer per lower-priority advert",
        setup.name
    );
    change
}

#[test]
fn steady_state_receive_and_send_paths_allocate_nothing() {
    // The counter works: a region sees an allocation when there is one.
    let region = Region::new();
    let probe = std::hint::black_box(vec![0u8; 64]);
    assert!(region.change() >= 1);
    drop(probe);

    let epoch = Instant::now();
    let mut failures = Vec::new();
    for setup in &SETUPS {
        let cases = [
            (
                "backup receiving its master's adverts",
                backup_receiving(setup, epoch),
            ),
            (
                "master sending on timeouts (RFC profile)",
                master_sending(setup, Profile::Rfc, epoch),
            ),
            (
                "master sending on timeouts (keepalived profile)",
                master_sending(setup, Profile::Keepalived, epoch),
            ),
            (
                "master answering lower-priority adverts (keepalived profile)",
                master_answering_lower_priority(setup, epoch),
            ),
        ];
        for (case, allocations) in cases {
            if allocations != 0 {
                failures.push(format!(
                    "{}: {case}: {allocations} allocations in {ROUNDS} adverts",
                    setup.name
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
