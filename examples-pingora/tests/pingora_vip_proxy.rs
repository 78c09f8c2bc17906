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

use std::sync::{Mutex, OnceLock};
use std::time::Duration;
use testbed::proxy_bed::bed::P2;
use testbed::proxy_bed::{Bed, Outcome, Program, VIP, master_down_interval, ms};

static SERIAL: Mutex<()> = Mutex::new(());

/// What a shared 2-vCPU VM adds to protocol timings in these assertions (stalls of up to
/// ~100 ms are seen); the same slack as the vip-proxy test.
const SLACK: Duration = Duration::from_millis(150);

/// The binary under test (cargo builds it for the integration tests). Pingora binds its own
/// listener and has no `IP_FREEBIND`: the namespace gets `ip_nonlocal_bind` first.
fn program() -> &'static Program {
    static PROGRAM: OnceLock<Program> = OnceLock::new();
    PROGRAM.get_or_init(|| Program {
        env: vec![(
            "RUST_LOG".into(),
            "info,pingora_core=warn,pingora_proxy=warn".into(),
        )],
        nonlocal_bind: true,
        ..Program::new(env!("CARGO_BIN_EXE_pingora-vip-proxy"))
    })
}

#[test]
fn master_crash_moves_the_vip_within_master_down_interval() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(mut bed) = Bed::new(
        "master_crash_moves_the_vip_within_master_down_interval",
        program(),
    ) else {
        return;
    };
    let mdi = master_down_interval(P2);
    let mut took_over = None;
    let (report, at) = bed.under_load(Duration::from_secs(1), Duration::from_secs(2), |bed| {
        // A crashed host: the proxy dies and its address goes with it.
        bed.p1.kill();
        bed.lab.host("p1").del_addr(&format!("{VIP}/24"));
        took_over = bed.vip_arrives("p2", Duration::from_secs(2));
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
    let Some(mut bed) = Bed::new(
        "graceful_stop_hands_over_with_the_vip_always_owned",
        program(),
    ) else {
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
