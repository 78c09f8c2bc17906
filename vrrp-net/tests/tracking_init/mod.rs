//! Tracked scripts that have not reported yet, side by side with keepalived 2.2.7: an
//! instance tracking a weight-0 script waits (FAULT, no advert) until the script's first
//! result, and a weighted script counts only once it has reported (`num_script_init` and the
//! init state of `vrrp_track.c`). The same configuration is run by each daemon alone; the
//! first advert's time and priority and the notify FIFO lines must agree.

use std::time::{Duration, Instant};

use crate::harness::{Capture, Daemon, Keepalived, Lab, RouterConf, fifo_reader, require};

/// What one daemon did: seconds from its start to its first advert, that advert's
/// priority, and the FIFO lines.
type Seen = (f64, u8, Vec<String>);

fn observe(ours: bool) -> Seen {
    let lab = Lab::new(1);
    let h = &lab.hosts[0];
    let fifo = lab.path("notify.fifo");
    let lines = fifo_reader(&fifo);
    let mut c = RouterConf::v3(100);
    c.notify_fifo = Some(fifo);
    c.global_extra = vec!["script_user root".into()];
    // The gate (weight 0) answers after 2 s, the bonus (+50) after 1 s.
    c.prelude = "vrrp_script gate {\n    script \"/bin/sleep 2\"\n    interval 30\n    timeout 10\n    weight 0\n}\n\
                 vrrp_script bonus {\n    script \"/bin/sleep 1\"\n    interval 30\n    timeout 10\n    weight 50\n}\n"
        .into();
    c.extra = vec![
        "track_script {".into(),
        "    gate".into(),
        "    bonus".into(),
        "}".into(),
    ];
    let cap = Capture::start(&lab, if ours { "ours" } else { "ka" }, "ip proto 112");
    let started = Instant::now();
    let (mut d, mut k) = (None, None);
    if ours {
        d = Some(Daemon::start(&lab, h, &c));
    } else {
        k = Some(Keepalived::start(&lab, h, &c));
    }
    let first = cap
        .wait_for(Duration::from_secs(10), &["prio"])
        .expect("no advert within 10 s");
    let after = started.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_millis(1500));
    if let Some(d) = d.as_mut() {
        d.stop();
    }
    if let Some(k) = k.as_mut() {
        k.stop();
    }
    std::thread::sleep(Duration::from_millis(300));
    let prio = first
        .split("prio ")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("no priority in {first}"));
    let lines = lines.lock().unwrap().clone();
    (after, prio, lines)
}

#[test]
fn unreported_scripts_hold_the_instance_as_keepalived_does() {
    if !require(
        "unreported_scripts_hold_the_instance_as_keepalived_does",
        &["ip", "tcpdump", "keepalived", "mkfifo"],
    ) {
        return;
    }
    let ka = observe(false);
    let ours = observe(true);
    eprintln!("keepalived: {ka:?}\nours: {ours:?}");
    // keepalived: nothing before the gate's first result, then the bonus counted.
    assert!(
        ka.0 >= 1.9,
        "keepalived advertised before the gate reported: {ka:?}"
    );
    assert_eq!(ka.1, 150, "keepalived's first priority");
    assert!(
        ours.0 >= 1.9,
        "ours advertised before the gate reported: {ours:?}"
    );
    assert_eq!(ours.1, ka.1, "first advertised priority");
    assert_eq!(ours.2, ka.2, "notify FIFO lines");
}
