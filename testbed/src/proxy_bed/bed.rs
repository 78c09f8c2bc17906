//! The whole bed: two proxies (p1 priority 150, p2 100) in front of three backends, and a
//! client that loads the VIP while a test causes one event.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::proxy::{ADVERT, Program, VIP};
use super::{Backend, Lab, Load, Proxy, Report, wait_until};

/// Requests per second of [`Bed::under_load`].
pub const RATE: u32 = 500;
/// p1's priority (master).
pub const P1: u8 = 150;
/// p2's priority (backup).
pub const P2: u8 = 100;

/// Namespaces, backends and the two proxies.
pub struct Bed {
    /// The namespaces.
    pub lab: Lab,
    /// The backends (stopped on drop).
    pub backends: Vec<Backend>,
    /// Their `IP:PORT`, as given to the proxies.
    pub backend_addrs: Vec<String>,
    /// The master.
    pub p1: Proxy,
    /// The backup.
    pub p2: Proxy,
}

impl Bed {
    /// Builds the bed around `program` and waits until p1 alone holds the VIP, or returns
    /// `None` when the test must skip (see [`crate::privileged::require`]).
    pub fn new(test: &str, program: &Program) -> Option<Bed> {
        if !crate::privileged::require(test, &["ip", "sh"]) {
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
        let backend_addrs: Vec<String> = backends.iter().map(|b| b.addr.to_string()).collect();
        let p2 = Proxy::start(&lab, program, lab.host("p2"), P2, &backend_addrs);
        let p1 = Proxy::start(&lab, program, lab.host("p1"), P1, &backend_addrs);
        let bed = Bed {
            lab,
            backends,
            backend_addrs,
            p1,
            p2,
        };
        bed.wait_sole_holder("p1", Duration::from_secs(10));
        // The client's first requests should not wait for ARP.
        Load::start(bed.lab.host("c"), vip(), 50, Duration::from_millis(200)).finish();
        Some(bed)
    }

    /// Waits until `role` alone holds the VIP, and still does 3 adverts later.
    pub fn wait_sole_holder(&self, role: &str, limit: Duration) {
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
    pub fn under_load(
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

    /// When `role` first held the VIP, polling every few ms for up to `limit`.
    pub fn vip_arrives(&self, role: &str, limit: Duration) -> Option<Instant> {
        let host = self.lab.host(role).clone();
        wait_until(limit, || host.has_addr(VIP)).then(Instant::now)
    }

    /// Both proxies' logs, for failure messages.
    pub fn logs(&self) -> String {
        format!(
            "--- p1 ---\n{}\n--- p2 ---\n{}",
            self.p1.log_text(),
            self.p2.log_text()
        )
    }
}

/// The VIP's HTTP address.
pub fn vip() -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 100], 80))
}

/// Milliseconds, for messages.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
