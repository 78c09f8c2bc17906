//! pingora-vip-proxy on the vip-proxy test bed: two proxy nodes (p1 priority 150, p2 100,
//! advert 0.1 s) sharing VIP 192.0.2.100, three backends, one client sending 500
//! requests/s with a new connection each, in network namespaces. Each test builds its own
//! bed, causes one event under load and checks who owns the VIP and what the client saw;
//! the figures are printed (`-- --nocapture`) to compare with the vip-proxy example's.
//!
//! Privileged: needs root and `ip`; skipped with a reason otherwise, failed instead when
//! `REQUIRE_PRIVILEGED_TESTS=1`. The tests run one at a time (a lock), so the figures of
//! one are not disturbed by the load of another.
#![allow(clippy::unwrap_used)]

mod bed;

use bed::load::Outcome;
use bed::proxy::{ADVERT, VIP, master_down_interval};
use bed::{Backend, Lab, Load, Proxy, Report, require, wait_until};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

static SERIAL: Mutex<()> = Mutex::new(());

const RATE: u32 = 500;
const P1: u8 = 150;
const P2: u8 = 100;
/// What a shared 2-vCPU VM adds to protocol timings in these assertions (stalls of up to
/// ~100 ms are seen); the same slack as the vip-proxy test.
const SLACK: Duration = Duration::from_millis(150);

struct Bed {
    lab: Lab,
    _backends: Vec<Backend>,
    p1: Proxy,
    p2: Proxy,
}

impl Bed {
    /// Builds the bed and waits until p1 alone holds the VIP, or returns `None` (skip).
    fn new(test: &str) -> Option<Bed> {
        if !require(test, &["ip", "sh"]) {
            return None;
        }
        let lab = Lab::new(&[
            ("p1", 11),
            ("p2", 12),
            ("b1", 21),
            ("b2", 22),
            ("b3", 23),
            ("c", 99),
        ]);
        let backends: Vec<Backend> = ["b1", "b2", "b3"]
            .iter()
            .map(|b| Backend::start(lab.host(b)))
            .collect();
        let addrs: Vec<String> = backends.iter().map(|b| b.addr.to_string()).collect();
        let p2 = Proxy::start(&lab, lab.host("p2"), P2, &addrs);
        let p1 = Proxy::start(&lab, lab.host("p1"), P1, &addrs);
        let bed = Bed {
            lab,
            _backends: backends,
            p1,
            p2,
        };
        bed.wait_sole_holder("p1", Duration::from_secs(10));
        // The client's first requests should not wait for ARP.
        Load::start(bed.lab.host("c"), vip(), 50, Duration::from_millis(200)).finish();
        Some(bed)
    }

    /// Waits until `role` alone holds the VIP, and still does 3 adverts later.
    fn wait_sole_holder(&self, role: &str, limit: Duration) {
        let sole = || self.lab.holders(VIP) == [role];
        let ok = wait_until(limit, sole) && {
            std::thread::sleep(ADVERT * 3);
            sole()
        };
        assert!(
            ok,
            "{role} is not the only VIP holder: {:?}\n{}",
            self.lab.holders(VIP),
            self.logs()
        );
    }

    /// Runs the client for `before + after`, calling `event` after `before` (plus a random
    /// 0-100 ms, so the event falls at any phase of the advert timer); returns the report
    /// and the event's time.
    fn under_load(
        &mut self,
        before: Duration,
        after: Duration,
        event: impl FnOnce(&mut Bed),
    ) -> (Report, Instant) {
        let phase = Duration::from_millis(fastrand::u64(0..100));
        let load = Load::start(self.lab.host("c"), vip(), RATE, before + phase + after);
        std::thread::sleep(before + phase);
        let at = Instant::now();
        event(self);
        (load.finish(), at)
    }

    fn logs(&self) -> String {
        format!(
            "--- p1 ---\n{}\n--- p2 ---\n{}",
            self.p1.log_text(),
            self.p2.log_text()
        )
    }
}

fn vip() -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 100], 80))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// When `role` first held the VIP, polling every few ms for up to `limit`.
fn vip_arrives(bed: &Bed, role: &str, limit: Duration) -> Option<Instant> {
    let host = bed.lab.host(role).clone();
    wait_until(limit, || host.has_addr(VIP)).then(Instant::now)
}

#[test]
fn master_crash_moves_the_vip_within_master_down_interval() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(mut bed) = Bed::new("master_crash_moves_the_vip_within_master_down_interval") else {
        return;
    };
    let mdi = master_down_interval(P2);
    let mut took_over = None;
    let (report, at) = bed.under_load(Duration::from_secs(1), Duration::from_secs(2), |bed| {
        // A crashed host: the proxy dies and its address goes with it.
        bed.p1.kill();
        bed.lab.host("p1").del_addr(&format!("{VIP}/24"));
        took_over = vip_arrives(bed, "p2", Duration::from_secs(2));
    });
    eprintln!("pingora crash: {}", report.summary(at));
    let took_over = took_over.unwrap_or_else(|| panic!("p2 never took the VIP\n{}", bed.logs()));
    eprintln!(
        "pingora crash: p2 took over {:.1} ms after the crash (Master_Down_Interval {:.1} ms)",
        ms(took_over - at),
        ms(mdi)
    );
    assert!(
        took_over - at <= mdi + SLACK,
        "p2 took over {:.1} ms after the crash, Master_Down_Interval {:.1} ms",
        ms(took_over - at),
        ms(mdi)
    );
    bed.wait_sole_holder("p2", Duration::from_secs(1));
    let outage = report.outage(at);
    assert!(
        outage <= mdi + SLACK,
        "outage {:.1} ms > Master_Down_Interval {:.1} ms + slack; {}",
        ms(outage),
        ms(mdi),
        report.summary(at)
    );
    let late = took_over + Duration::from_millis(100);
    let failed_late: Vec<_> = report
        .records
        .iter()
        .filter(|r| r.start > late && r.outcome != Outcome::Ok)
        .collect();
    assert!(
        failed_late.is_empty(),
        "requests failed after the takeover: {failed_late:?}\n{}",
        bed.logs()
    );
}

#[test]
fn graceful_stop_hands_over_with_the_vip_always_owned() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(mut bed) = Bed::new("graceful_stop_hands_over_with_the_vip_always_owned") else {
        return;
    };
    let mut exit = None;
    let (report, at) = bed.under_load(Duration::from_secs(1), Duration::from_secs(2), |bed| {
        exit = Some(bed.p1.terminate(Duration::from_secs(6)));
    });
    eprintln!("pingora graceful stop: {}", report.summary(at));
    let (status, took) = exit.unwrap();
    assert!(status.success(), "p1 exited with {status}\n{}", bed.logs());
    eprintln!(
        "pingora graceful stop: p1 exited {:.1} ms after SIGTERM",
        ms(took)
    );
    bed.wait_sole_holder("p2", Duration::from_secs(1));
    // The VIP always has an owner (nothing refused) and responses in flight leave p1 after
    // the VIP left it (no timeout). What L2 failover cannot avoid: a connection whose
    // SYN-ACK came from p1 just before p2's gratuitous ARP sends its request to p2, which
    // resets it; a SYN the client sent to p1's MAC just before that ARP, arriving after p1
    // removed the VIP, is dropped and retried after the client's 1 s connect timeout.
    let not_reset: Vec<_> = report
        .records
        .iter()
        .filter(|r| {
            !matches!(
                r.outcome,
                Outcome::Ok | Outcome::Reset | Outcome::ConnectTimeout
            )
        })
        .collect();
    assert!(
        not_reset.is_empty() && report.failed() <= 2,
        "{}\n{}",
        report.summary(at),
        bed.logs()
    );
}
