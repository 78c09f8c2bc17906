//! Our daemon against itself in network namespaces: election, crash failover, graceful
//! handover, preemption, IPv4 and IPv6, multicast and unicast, announcements on the wire.
//! Privileged: see `harness::require`.
#![allow(clippy::unwrap_used)]

mod harness;

use std::time::Duration;

use harness::{Capture, Daemon, Lab, RouterConf, require, wait_until};

const VIP: &str = "192.0.2.100";
const VIP_CIDR: &str = "192.0.2.100/24";
const LIMIT: Duration = Duration::from_secs(5);

fn exactly_one(lab: &Lab, vip: &str, ns: &str) -> bool {
    lab.holders(vip) == [ns.to_owned()]
}

/// The bed most tests start from: ours at priority 200 (h1) and 100 (h2), h1 elected; `None`
/// when the test is skipped (see `require`).
fn elected_pair(name: &str) -> Option<(Lab, Daemon, Daemon)> {
    if !require(name, &["ip", "tcpdump"]) {
        return None;
    }
    let lab = Lab::new(2);
    let a = Daemon::start(&lab, &lab.hosts[0], &RouterConf::v3(200));
    let b = Daemon::start(&lab, &lab.hosts[1], &RouterConf::v3(100));
    assert!(
        wait_until(LIMIT, || exactly_one(&lab, VIP, &lab.hosts[0].ns)),
        "{:?}",
        lab.holders(VIP)
    );
    Some((lab, a, b))
}

#[test]
fn higher_priority_is_elected_and_backup_takes_over_after_a_crash() {
    if !require(
        "higher_priority_is_elected_and_backup_takes_over_after_a_crash",
        &["ip", "tcpdump"],
    ) {
        return;
    }
    let lab = Lab::new(2);
    let (h1, h2) = (&lab.hosts[0], &lab.hosts[1]);
    let mut a = Daemon::start(&lab, h1, &RouterConf::v3(200));
    let _b = Daemon::start(&lab, h2, &RouterConf::v3(100));
    assert!(
        wait_until(LIMIT, || exactly_one(&lab, VIP, &h1.ns)),
        "{:?}",
        lab.holders(VIP)
    );
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        exactly_one(&lab, VIP, &h1.ns),
        "dual master after convergence: {:?}",
        lab.holders(VIP)
    );

    let garp = Capture::start(&lab, "garp", "arp");
    a.crash(&[VIP_CIDR]);
    assert!(
        wait_until(LIMIT, || exactly_one(&lab, VIP, &h2.ns)),
        "{:?}",
        lab.holders(VIP)
    );
    let line = garp.wait_for(LIMIT, &["who-has 192.0.2.100", "tell 192.0.2.100"]);
    assert!(
        line.is_some(),
        "no gratuitous ARP on the wire: {:?}",
        garp.lines()
    );
}

#[test]
fn graceful_stop_hands_over_and_removes_the_vip() {
    let Some((lab, mut a, _b)) = elected_pair("graceful_stop_hands_over_and_removes_the_vip")
    else {
        return;
    };
    let (h1, h2) = (&lab.hosts[0], &lab.hosts[1]);
    let adverts = Capture::start(&lab, "prio0", "ip proto 112");
    a.stop();
    assert!(!h1.has_addr(VIP), "the stopped master kept its VIP");
    assert!(
        adverts
            .wait_for(LIMIT, &["192.0.2.11 >", "prio 0"])
            .is_some(),
        "no priority-0 advert: {:?}",
        adverts.lines()
    );
    assert!(wait_until(LIMIT, || exactly_one(&lab, VIP, &h2.ns)));
    assert!(
        _b.log_text().contains("master sent priority 0"),
        "{}",
        _b.log_text()
    );
}

#[test]
fn a_returning_higher_priority_router_preempts_unless_nopreempt() {
    if !require(
        "a_returning_higher_priority_router_preempts_unless_nopreempt",
        &["ip"],
    ) {
        return;
    }
    let lab = Lab::new(3);
    let (h1, h2, h3) = (&lab.hosts[0], &lab.hosts[1], &lab.hosts[2]);
    let _b = Daemon::start(&lab, h2, &RouterConf::v3(100));
    assert!(wait_until(LIMIT, || exactly_one(&lab, VIP, &h2.ns)));
    let _a = Daemon::start(&lab, h1, &RouterConf::v3(200));
    assert!(
        wait_until(LIMIT, || exactly_one(&lab, VIP, &h1.ns)),
        "no preemption: {:?}",
        lab.holders(VIP)
    );
    // A third router with a higher priority but nopreempt stays backup.
    let mut conf = RouterConf::v3(250);
    conf.nopreempt = true;
    let _c = Daemon::start(&lab, h3, &conf);
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        exactly_one(&lab, VIP, &h1.ns),
        "nopreempt router took over: {:?}",
        lab.holders(VIP)
    );
}

#[test]
fn three_routers_fail_over_in_priority_order() {
    if !require("three_routers_fail_over_in_priority_order", &["ip"]) {
        return;
    }
    let lab = Lab::new(3);
    let mut a = Daemon::start(&lab, &lab.hosts[0], &RouterConf::v3(200));
    let mut b = Daemon::start(&lab, &lab.hosts[1], &RouterConf::v3(150));
    let _c = Daemon::start(&lab, &lab.hosts[2], &RouterConf::v3(100));
    assert!(wait_until(LIMIT, || exactly_one(
        &lab,
        VIP,
        &lab.hosts[0].ns
    )));
    a.crash(&[VIP_CIDR]);
    assert!(
        wait_until(LIMIT, || exactly_one(&lab, VIP, &lab.hosts[1].ns)),
        "{:?}",
        lab.holders(VIP)
    );
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        exactly_one(&lab, VIP, &lab.hosts[1].ns),
        "{:?}",
        lab.holders(VIP)
    );
    b.crash(&[VIP_CIDR]);
    assert!(
        wait_until(LIMIT, || exactly_one(&lab, VIP, &lab.hosts[2].ns)),
        "{:?}",
        lab.holders(VIP)
    );
}

#[test]
fn ipv6_failover_with_unsolicited_neighbour_advertisements() {
    if !require(
        "ipv6_failover_with_unsolicited_neighbour_advertisements",
        &["ip", "tcpdump"],
    ) {
        return;
    }
    let lab = Lab::new(2);
    let (h1, h2) = (&lab.hosts[0], &lab.hosts[1]);
    let conf = |p| RouterConf {
        vips: vec!["2001:db8::100/64".into()],
        ..RouterConf::v3(p)
    };
    let mut a = Daemon::start(&lab, h1, &conf(200));
    let _b = Daemon::start(&lab, h2, &conf(100));
    assert!(
        wait_until(LIMIT, || exactly_one(&lab, "2001:db8::100", &h1.ns)),
        "{:?}",
        lab.holders("2001:db8::100")
    );
    let na = Capture::start(&lab, "na", "icmp6 and ip6[40] == 136");
    a.crash(&["2001:db8::100/64"]);
    assert!(wait_until(LIMIT, || exactly_one(
        &lab,
        "2001:db8::100",
        &h2.ns
    )));
    let line = na.wait_for(LIMIT, &["neighbor advertisement", "tgt is 2001:db8::100"]);
    assert!(line.is_some(), "no unsolicited NA: {:?}", na.lines());
}

#[test]
fn unicast_peers_elect_and_fail_over() {
    if !require("unicast_peers_elect_and_fail_over", &["ip", "tcpdump"]) {
        return;
    }
    let lab = Lab::new(2);
    let (h1, h2) = (&lab.hosts[0], &lab.hosts[1]);
    let conf = |p, me: &str, peer: &str| RouterConf {
        unicast_src: Some(me.to_owned()),
        unicast_peers: vec![peer.to_owned()],
        ..RouterConf::v3(p)
    };
    let wire = Capture::start(&lab, "unicast", "ip proto 112");
    let mut a = Daemon::start(&lab, h1, &conf(200, &h1.v4, &h2.v4));
    let _b = Daemon::start(&lab, h2, &conf(100, &h2.v4, &h1.v4));
    assert!(wait_until(LIMIT, || exactly_one(&lab, VIP, &h1.ns)));
    assert!(
        wire.wait_for(LIMIT, &["192.0.2.11 > 192.0.2.12", "VRRPv3"])
            .is_some(),
        "{:?}",
        wire.lines()
    );
    assert!(
        !wire.lines().iter().any(|l| l.contains("224.0.0.18")),
        "multicast seen in unicast mode"
    );
    a.crash(&[VIP_CIDR]);
    assert!(wait_until(LIMIT, || exactly_one(&lab, VIP, &h2.ns)));
}

#[test]
fn vip_label_scope_and_nodad_reach_the_kernel() {
    // (A secondary IPv4 address must share its primary's scope, hence another subnet here.)
    if !require("vip_label_scope_and_nodad_reach_the_kernel", &["ip"]) {
        return;
    }
    let lab = Lab::new(1);
    let h = &lab.hosts[0];
    let v4 = RouterConf {
        vips: vec!["198.51.100.100/24 label eth0:vip scope link".into()],
        ..RouterConf::v3(200)
    };
    let mut a = Daemon::start(&lab, h, &v4);
    assert!(
        wait_until(LIMIT, || h.has_addr("198.51.100.100")),
        "{}",
        a.log_text()
    );
    let shown = h.ip(&["-4", "addr", "show", "dev", "eth0"]);
    let line = shown
        .lines()
        .find(|l| l.contains("198.51.100.100/24"))
        .unwrap_or_default();
    assert!(
        line.contains("scope link") && line.contains("eth0:vip"),
        "{shown}"
    );
    a.stop();
    assert!(!h.has_addr("198.51.100.100"));

    let v6 = RouterConf {
        vips: vec!["2001:db8::100/64".into()],
        ..RouterConf::v3(200)
    };
    let _b = Daemon::start(&lab, h, &v6);
    assert!(wait_until(LIMIT, || h.has_addr("2001:db8::100")));
    let shown = h.ip(&["-6", "addr", "show", "dev", "eth0"]);
    let line = shown
        .lines()
        .find(|l| l.contains("2001:db8::100/64"))
        .unwrap_or_default();
    assert!(
        line.contains("nodad") && !line.contains("tentative"),
        "{shown}"
    );
}

// --- Crash supervisor: a process death costs the peer Skew_Time, not Master_Down_Interval.

/// Skew_Time of the priority-100 backup at advert_int 0.1 s (RFC 9568 §6.1): 60.9 ms.
const SKEW_100: f64 = 0.0609;
/// Master_Down_Interval of that backup: 3 × 0.1 s + Skew_Time.
const MASTER_DOWN_100: f64 = 0.3609;

/// Seconds since the epoch of a `tcpdump -tt` line.
fn stamp(line: &str) -> f64 {
    line.split_whitespace()
        .next()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no timestamp in {line:?}"))
}

fn epoch_secs(t: std::time::SystemTime) -> f64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Whether process `pid` has exited (gone, or a zombie nobody reaped yet).
fn exited(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit(')')
                .next()
                .is_some_and(|r| r.trim_start().starts_with('Z'))
        })
        .unwrap_or(true)
}

/// Our master is killed with `signal` while its host stays up; the peer (ours, or keepalived
/// 2.2.7) is the priority-100 backup. The supervisor's priority-0 advert leaves right after
/// the death, the backup takes over after Skew_Time, and the VIP leaves the dead master.
fn killed_master_hands_over(name: &str, signal: &str, keepalived_peer: bool) {
    let tools: &[&str] = if keepalived_peer {
        &["ip", "tcpdump", "keepalived"]
    } else {
        &["ip", "tcpdump"]
    };
    if !require(name, tools) {
        return;
    }
    let lab = Lab::new(2);
    let (h1, h2) = (&lab.hosts[0], &lab.hosts[1]);
    let mut a = Daemon::start(&lab, h1, &RouterConf::v3(200));
    let (_ours, _theirs);
    if keepalived_peer {
        _theirs = Some(harness::Keepalived::start(&lab, h2, &RouterConf::v3(100)));
    } else {
        _ours = Some(Daemon::start(&lab, h2, &RouterConf::v3(100)));
    }
    assert!(
        wait_until(LIMIT, || exactly_one(&lab, VIP, &h1.ns)),
        "{:?}",
        lab.holders(VIP)
    );
    let supervisor = a.supervisor_pid().expect("no supervisor started");
    std::thread::sleep(Duration::from_millis(300));
    let wire = Capture::start(&lab, "crash", "ip proto 112 or arp");
    let killed = epoch_secs(a.kill(signal));
    let zero = wire
        .wait_for(LIMIT, &["192.0.2.11 > 224.0.0.18", "prio 0"])
        .unwrap_or_else(|| panic!("no priority-0 advert: {:?}", wire.lines()));
    let garp = wire
        .wait_for(LIMIT, &["who-has 192.0.2.100", "tell 192.0.2.100"])
        .unwrap_or_else(|| panic!("no gratuitous ARP: {:?}", wire.lines()));
    // Nobody removes the VIP by hand: the supervisor did.
    assert!(
        wait_until(LIMIT, || exactly_one(&lab, VIP, &h2.ns)),
        "{:?}",
        lab.holders(VIP)
    );
    let (to_zero, to_takeover) = (stamp(&zero) - killed, stamp(&garp) - stamp(&zero));
    eprintln!(
        "{name}: kill -> priority 0 {:.1} ms, priority 0 -> backup's GARP {:.1} ms \
         (Skew_Time {:.1} ms, Master_Down_Interval {:.1} ms)",
        to_zero * 1e3,
        to_takeover * 1e3,
        SKEW_100 * 1e3,
        MASTER_DOWN_100 * 1e3
    );
    assert!(
        to_zero < 0.05,
        "priority 0 came {to_zero:.3} s after the kill"
    );
    // Skew_Time plus slack for a loaded CI machine, far below Master_Down_Interval.
    assert!(
        to_takeover < SKEW_100 + 0.06,
        "takeover {to_takeover:.3} s after priority 0"
    );
    assert!(
        wait_until(Duration::from_secs(2), || exited(supervisor)),
        "the supervisor outlived its work"
    );
}

#[test]
fn a_killed_master_hands_over_after_skew_time() {
    killed_master_hands_over("a_killed_master_hands_over_after_skew_time", "KILL", false);
}

#[test]
fn an_aborted_master_hands_over_after_skew_time() {
    killed_master_hands_over(
        "an_aborted_master_hands_over_after_skew_time",
        "ABRT",
        false,
    );
}

#[test]
fn keepalived_takes_over_on_the_supervisors_priority_zero() {
    killed_master_hands_over(
        "keepalived_takes_over_on_the_supervisors_priority_zero",
        "KILL",
        true,
    );
}

#[test]
fn a_killed_backup_sends_nothing() {
    let Some((lab, _a, mut b)) = elected_pair("a_killed_backup_sends_nothing") else {
        return;
    };
    let h1 = &lab.hosts[0];
    let supervisor = b.supervisor_pid().expect("no supervisor started");
    let wire = Capture::start(&lab, "backup", "ip proto 112 and src 192.0.2.12");
    b.kill("KILL");
    assert!(
        wait_until(Duration::from_secs(2), || exited(supervisor)),
        "the backup's supervisor did not exit"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        wire.lines().is_empty(),
        "a dead backup sent {:?}",
        wire.lines()
    );
    assert!(exactly_one(&lab, VIP, &h1.ns), "{:?}", lab.holders(VIP));
}

#[test]
fn a_host_crash_still_costs_master_down_interval() {
    let Some((lab, mut a, _b)) = elected_pair("a_host_crash_still_costs_master_down_interval")
    else {
        return;
    };
    let wire = Capture::start(&lab, "host", "ip proto 112 or arp");
    std::thread::sleep(Duration::from_millis(300));
    // The host's link goes with it: whatever its supervisor sends never reaches the LAN.
    harness::lab::run("ip", &["-n", &lab.switch, "link", "set", "p1", "down"]);
    a.kill("KILL");
    let garp = wire
        .wait_for(LIMIT, &["who-has 192.0.2.100", "tell 192.0.2.100"])
        .unwrap_or_else(|| panic!("no takeover: {:?}", wire.lines()));
    let lines = wire.lines();
    assert!(
        !lines.iter().any(|l| l.contains("prio 0")),
        "a priority-0 advert crossed a dead link: {lines:?}"
    );
    let last = lines
        .iter()
        .rfind(|l| l.contains("192.0.2.11 > 224.0.0.18"))
        .expect("the master advertised before the crash");
    let waited = stamp(&garp) - stamp(last);
    eprintln!(
        "host crash: last advert -> backup's GARP {:.1} ms (Master_Down_Interval {:.1} ms)",
        waited * 1e3,
        MASTER_DOWN_100 * 1e3
    );
    assert!(
        waited > MASTER_DOWN_100 - 0.01,
        "took over after {waited:.3} s, before Master_Down_Interval"
    );
}

/// A driver task that ends without a graceful stop (a panic unwinding through it, an aborted
/// task) while the program lives on: dropping the driver drops its supervisor object, which
/// wakes the supervisor into the same will as a process death.
#[test]
fn a_driver_dropped_without_shutdown_hands_over_like_a_dead_process() {
    use futures::StreamExt;
    use vrrp_core::{Centisecs, RouterConfig, VirtualAddress};
    use vrrp_net::driver::{Driver, Event, Instance};

    let name = "a_driver_dropped_without_shutdown_hands_over_like_a_dead_process";
    if !require(name, &["ip", "tcpdump"]) {
        return;
    }
    let lab = Lab::new(2);
    let (h1, h2) = (lab.hosts[0].clone(), &lab.hosts[1]);
    let _b = Daemon::start(&lab, h2, &RouterConf::v3(100));
    let wire = Capture::start(&lab, "dropped", "ip proto 112");
    let embedded = harness::inproc::in_netns(&h1.ns, move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let config = RouterConfig::builder("VI_1", 51, h1.v4.parse().unwrap())
                .priority(200)
                .advert_interval(Centisecs::new(10))
                .virtual_address(VirtualAddress::with_prefix(VIP.parse().unwrap(), 24))
                .build()
                .unwrap();
            let (driver, _handle, mut events) = Driver::builder()
                .instance(Instance::new(config, "eth0"))
                .crash_supervisor(true)
                .build()
                .await
                .unwrap();
            let task = tokio::spawn(driver.run());
            while let Some(event) = events.next().await {
                if matches!(event, Event::AddressesInstalled { .. }) {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            // The driver goes away mid-flight; this program does not.
            task.abort();
            let _ = task.await;
            tokio::time::sleep(Duration::from_secs(1)).await;
        });
    });
    assert!(
        wait_until(LIMIT, || exactly_one(&lab, VIP, &h2.ns)),
        "{:?}",
        lab.holders(VIP)
    );
    assert!(
        wire.wait_for(LIMIT, &["192.0.2.11 > 224.0.0.18", "prio 0"])
            .is_some(),
        "no priority-0 advert: {:?}",
        wire.lines()
    );
    embedded.join().unwrap();
}

#[test]
fn a_killed_supervisor_disturbs_nothing_and_is_replaced() {
    let Some((lab, mut a, _b)) =
        elected_pair("a_killed_supervisor_disturbs_nothing_and_is_replaced")
    else {
        return;
    };
    let (h1, h2) = (&lab.hosts[0], &lab.hosts[1]);
    let first = a.supervisor_pid().expect("no supervisor started");
    let wire = Capture::start(&lab, "supervisor", "ip proto 112 and src 192.0.2.11");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(first as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    assert!(
        wait_until(Duration::from_secs(3), || a
            .log_text()
            .matches("crash supervisor started (pid ")
            .count()
            == 2),
        "no second supervisor:\n{}",
        a.log_text()
    );
    assert!(
        a.log_text()
            .contains("crash supervisor lost: killed by signal 9")
    );
    // The master kept its VIP and never advertised priority 0.
    assert!(exactly_one(&lab, VIP, &h1.ns), "{:?}", lab.holders(VIP));
    assert!(
        !wire.lines().iter().any(|l| l.contains("prio 0")),
        "{:?}",
        wire.lines()
    );
    // The second supervisor does the first one's job.
    a.kill("KILL");
    assert!(
        wire.wait_for(LIMIT, &["prio 0"]).is_some(),
        "the new supervisor sent nothing: {:?}",
        wire.lines()
    );
    assert!(wait_until(LIMIT, || exactly_one(&lab, VIP, &h2.ns)));
}

/// FRR's vrrpd (8.4) as the backup: it too takes over after Skew_Time on the supervisor's
/// priority-0 advert. vrrpd owns a macvlan with the virtual MAC and the VIP (protodown while
/// backup), so who is master is read off the wire: vrrpd's first advert.
#[test]
fn frr_vrrpd_takes_over_on_the_supervisors_priority_zero() {
    let name = "frr_vrrpd_takes_over_on_the_supervisors_priority_zero";
    if !require(name, &["ip", "tcpdump", "vtysh", "/usr/lib/frr/vrrpd"]) {
        return;
    }
    let lab = Lab::new(2);
    let (h1, h2) = (&lab.hosts[0], &lab.hosts[1]);
    let mut a = Daemon::start(&lab, h1, &RouterConf::v3(200));
    assert!(wait_until(LIMIT, || lab.holders(VIP) == [h1.ns.clone()]));
    // vrrpd's virtual router interface: a macvlan with the VRRP MAC of VRID 51 and the VIP.
    let ip = |args: &[&str]| {
        let mut all = vec!["-n", h2.ns.as_str()];
        all.extend_from_slice(args);
        harness::lab::run("ip", &all)
    };
    ip(&[
        "link", "add", "vrrp4-51", "link", "eth0", "type", "macvlan", "mode", "bridge",
    ]);
    ip(&["link", "set", "vrrp4-51", "address", "00:00:5e:00:01:33"]);
    ip(&["addr", "add", VIP_CIDR, "dev", "vrrp4-51"]);
    ip(&["link", "set", "vrrp4-51", "up"]);
    let vrrpd = "interface eth0\n vrrp 51 version 3\n vrrp 51 priority 100\n \
                 vrrp 51 advertisement-interval 100\n vrrp 51 ip 192.0.2.100\n";
    let frr = testbed::frr::Frr::start_daemons(
        &h2.ns,
        &lab.path("frr-h2"),
        &[("zebra", "hostname h2\n"), ("vrrpd", vrrpd)],
    );
    let backup = |frr: &testbed::frr::Frr| {
        frr.vtysh(&["show vrrp 51 json"])
            .contains("\"status\":\"Backup\"")
    };
    assert!(
        wait_until(Duration::from_secs(10), || backup(&frr)),
        "vrrpd is not backup: {}",
        frr.vtysh(&["show vrrp 51"])
    );
    let wire = Capture::start(&lab, "frr", "ip proto 112");
    std::thread::sleep(Duration::from_millis(300));
    a.kill("KILL");
    let zero = wire
        .wait_for(LIMIT, &["192.0.2.11 > 224.0.0.18", "prio 0"])
        .unwrap_or_else(|| panic!("no priority-0 advert: {:?}", wire.lines()));
    let first = wire
        .wait_for(LIMIT, &["192.0.2.12 > 224.0.0.18", "prio 100"])
        .unwrap_or_else(|| panic!("vrrpd never advertised: {:?}", wire.lines()));
    let took = stamp(&first) - stamp(&zero);
    eprintln!(
        "{name}: priority 0 -> vrrpd's first advert as master {:.1} ms (Skew_Time {:.1} ms)",
        took * 1e3,
        SKEW_100 * 1e3
    );
    assert!(
        took < SKEW_100 + 0.06,
        "vrrpd took over {took:.3} s after priority 0"
    );
    assert!(
        !h1.has_addr(VIP),
        "the supervisor did not remove the dead master's VIP"
    );
}
