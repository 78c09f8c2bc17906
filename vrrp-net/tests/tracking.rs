//! Tracking, sync groups and the virtual MAC, through our daemon in namespaces: link state
//! from rtnetlink, vrrp_script weights, vrrp_sync_group, use_vmac. Privileged: see
//! `harness::require`.
#![allow(clippy::unwrap_used)]

mod harness;
#[path = "tracking_init/mod.rs"]
mod tracking_init;
#[path = "tracking_objects/mod.rs"]
mod tracking_objects;

use std::time::Duration;

use harness::{Capture, Daemon, Lab, RouterConf, require, wait_until};

const VIP: &str = "192.0.2.100";
const LIMIT: Duration = Duration::from_secs(5);

fn only(lab: &Lab, vip: &str, ns: &str) -> bool {
    lab.holders(vip) == [ns.to_owned()]
}

#[test]
fn link_down_on_the_master_is_a_fault_and_link_up_recovers() {
    if !require(
        "link_down_on_the_master_is_a_fault_and_link_up_recovers",
        &["ip"],
    ) {
        return;
    }
    let lab = Lab::new(2);
    let (h1, h2) = (&lab.hosts[0], &lab.hosts[1]);
    let a = Daemon::start(&lab, h1, &RouterConf::v3(200));
    let _b = Daemon::start(&lab, h2, &RouterConf::v3(100));
    assert!(wait_until(LIMIT, || only(&lab, VIP, &h1.ns)));
    h1.ip(&["link", "set", "eth0", "down"]);
    assert!(
        wait_until(LIMIT, || a
            .log_text()
            .contains("Entering FAULT STATE (link down")),
        "{}",
        a.log_text()
    );
    assert!(
        wait_until(LIMIT, || only(&lab, VIP, &h2.ns)),
        "{:?}",
        lab.holders(VIP)
    );
    h1.ip(&["link", "set", "eth0", "up"]);
    assert!(
        wait_until(LIMIT, || a.log_text().contains("(fault cleared")),
        "{}",
        a.log_text()
    );
    assert!(
        wait_until(LIMIT, || only(&lab, VIP, &h1.ns)),
        "{:?}",
        lab.holders(VIP)
    );
}

#[test]
fn a_failing_vrrp_script_lowers_priority_and_moves_the_vip() {
    if !require(
        "a_failing_vrrp_script_lowers_priority_and_moves_the_vip",
        &["ip"],
    ) {
        return;
    }
    let lab = Lab::new(2);
    let (h1, h2) = (&lab.hosts[0], &lab.hosts[1]);
    let flag = lab.path("service-down");
    let mut conf = RouterConf::v3(200);
    conf.global_extra = vec!["script_user root".into()];
    conf.extra = vec![
        "track_script {".into(),
        "    chk_service".into(),
        "}".into(),
    ];
    let script = format!(
        "vrrp_script chk_service {{\n    script \"/bin/sh -c '! test -e {}'\"\n    interval 1\n    weight -150\n    fall 1\n    rise 1\n}}\n",
        flag.display()
    );
    conf.prelude = script;
    let a = Daemon::start(&lab, h1, &conf);
    let _b = Daemon::start(&lab, h2, &RouterConf::v3(100));
    assert!(wait_until(LIMIT, || only(&lab, VIP, &h1.ns)));
    std::fs::write(&flag, "").unwrap();
    assert!(
        wait_until(LIMIT, || a
            .log_text()
            .contains("priority changed from 200 to 50")),
        "{}",
        a.log_text()
    );
    assert!(
        wait_until(LIMIT, || only(&lab, VIP, &h2.ns)),
        "{:?}",
        lab.holders(VIP)
    );
    std::fs::remove_file(&flag).unwrap();
    assert!(
        wait_until(LIMIT, || only(&lab, VIP, &h1.ns)),
        "{:?}",
        lab.holders(VIP)
    );
}

#[test]
fn a_sync_group_moves_its_members_together() {
    if !require("a_sync_group_moves_its_members_together", &["ip"]) {
        return;
    }
    let lab = Lab::new(2);
    let (h1, h2) = (&lab.hosts[0], &lab.hosts[1]);
    let flag = lab.path("vi2-down");
    // On h1 only VI_2 tracks a script (weight 0: its failure is a fault of VI_2 alone).
    let group = |p: u8, tracked: bool| {
        let mut c = RouterConf::v3(p);
        c.global_extra = vec!["script_user root".into()];
        let extra = if tracked {
            c.prelude = format!(
                "vrrp_script chk_vi2 {{\n    script \"/bin/sh -c '! test -e {}'\"\n    interval 1\n    weight 0\n}}\n",
                flag.display()
            );
            vec!["track_script {".into(), "    chk_vi2".into(), "}".into()]
        } else {
            Vec::new()
        };
        c.second_instance = Some((52, "192.0.2.101/24".into(), extra));
        c.sync_group = true;
        c
    };
    let a = Daemon::start(&lab, h1, &group(200, true));
    let _b = Daemon::start(&lab, h2, &group(100, false));
    let both_on = |ns: &str| only(&lab, VIP, ns) && only(&lab, "192.0.2.101", ns);
    assert!(
        wait_until(LIMIT, || both_on(&h1.ns)),
        "{:?} {:?}",
        lab.holders(VIP),
        lab.holders("192.0.2.101")
    );
    std::fs::write(&flag, "").unwrap();
    // VI_2 faults; the group takes VI_1 along, so h2 becomes master of both.
    assert!(
        wait_until(LIMIT, || both_on(&h2.ns)),
        "{:?} {:?}\n{}",
        lab.holders(VIP),
        lab.holders("192.0.2.101"),
        a.log_text()
    );
    std::fs::remove_file(&flag).unwrap();
    assert!(
        wait_until(LIMIT, || both_on(&h1.ns)),
        "{:?} {:?}\n{}",
        lab.holders(VIP),
        lab.holders("192.0.2.101"),
        a.log_text()
    );
}

#[test]
fn use_vmac_puts_the_vip_on_a_virtual_mac_interface() {
    if !require(
        "use_vmac_puts_the_vip_on_a_virtual_mac_interface",
        &["ip", "tcpdump"],
    ) {
        return;
    }
    let lab = Lab::new(2);
    let (h1, h2) = (&lab.hosts[0], &lab.hosts[1]);
    let vmac = |p: u8| RouterConf {
        extra: vec!["use_vmac".into()],
        ..RouterConf::v3(p)
    };
    let wire = Capture::start_with(&lab, "vmac", &["-e"], "ip proto 112");
    let mut a = Daemon::start(&lab, h1, &vmac(200));
    let _b = Daemon::start(&lab, h2, &vmac(100));
    assert!(
        wait_until(LIMIT, || h1.has_addr_on("vrrp.51", VIP)),
        "{}\n{}",
        h1.ip(&["addr"]),
        a.log_text()
    );
    let link = h1.ip(&["link", "show", "vrrp.51"]);
    assert!(link.contains("00:00:5e:00:01:33"), "{link}");
    assert!(
        wire.wait_for(LIMIT, &["00:00:5e:00:01:33 >", "prio 200"])
            .is_some(),
        "{:?}",
        wire.lines()
    );
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        !h2.has_addr_on("vrrp.51", VIP),
        "dual master on the virtual mac"
    );
    a.stop();
    assert!(
        !h1.ip(&["link", "show"]).contains("vrrp.51"),
        "vmac left behind"
    );
    assert!(wait_until(LIMIT, || h2.has_addr_on("vrrp.51", VIP)));
}

#[test]
fn a_vip_removed_behind_our_back_is_reported_and_restored() {
    if !require(
        "a_vip_removed_behind_our_back_is_reported_and_restored",
        &["ip"],
    ) {
        return;
    }
    let lab = Lab::new(1);
    let h = &lab.hosts[0];
    let a = Daemon::start(&lab, h, &RouterConf::v3(200));
    assert!(wait_until(LIMIT, || h.has_addr(VIP)));
    h.del_addr("192.0.2.100/24");
    assert!(
        wait_until(LIMIT, || a
            .log_text()
            .contains("was removed by someone else")),
        "{}",
        a.log_text()
    );
    assert!(
        wait_until(LIMIT, || h.has_addr(VIP)),
        "not restored:\n{}",
        a.log_text()
    );
}

#[test]
fn a_tracked_interface_going_down_lowers_priority_by_its_weight() {
    if !require(
        "a_tracked_interface_going_down_lowers_priority_by_its_weight",
        &["ip"],
    ) {
        return;
    }
    let lab = Lab::new(2);
    let (h1, h2) = (&lab.hosts[0], &lab.hosts[1]);
    // An uplink to watch: a veth pair inside h1.
    h1.ip(&[
        "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p",
    ]);
    h1.ip(&["link", "set", "eth1p", "up"]);
    h1.ip(&["link", "set", "eth1", "up"]);
    let mut conf = RouterConf::v3(200);
    conf.extra = vec![
        "track_interface {".into(),
        "    eth1 weight -150".into(),
        "}".into(),
    ];
    let a = Daemon::start(&lab, h1, &conf);
    let _b = Daemon::start(&lab, h2, &RouterConf::v3(100));
    assert!(wait_until(LIMIT, || only(&lab, VIP, &h1.ns)));
    h1.ip(&["link", "set", "eth1p", "down"]); // carrier lost on eth1
    assert!(
        wait_until(LIMIT, || a
            .log_text()
            .contains("priority changed from 200 to 50")),
        "{}",
        a.log_text()
    );
    assert!(
        wait_until(LIMIT, || only(&lab, VIP, &h2.ns)),
        "{:?}",
        lab.holders(VIP)
    );
    h1.ip(&["link", "set", "eth1p", "up"]);
    assert!(
        wait_until(LIMIT, || only(&lab, VIP, &h1.ns)),
        "{:?}\n{}",
        lab.holders(VIP),
        a.log_text()
    );
}

/// An instance whose interface is missing at start is in FAULT (the others run), starts when
/// the interface appears, and recovers when it is deleted and created again (keepalived's
/// `dynamic_interfaces`, without the keyword). keepalived 2.2.7 under the same steps is
/// reported beside it.
#[test]
fn a_missing_interface_faults_its_instance_until_it_appears_and_a_recreated_one_recovers() {
    if !require(
        "a_missing_interface_faults_its_instance_until_it_appears_and_a_recreated_one_recovers",
        &["ip", "mkfifo"],
    ) {
        return;
    }
    let ours = run_dynamic(true, &[]).unwrap_or_else(|log| panic!("ours did not start:\n{log}"));
    assert_eq!(
        ours.vi2,
        ["FAULT", "BACKUP", "MASTER", "FAULT", "BACKUP", "MASTER"],
        "VI_2 notifications (repeats folded): {ours:?}"
    );
    assert_eq!(
        ours.vi1,
        ["BACKUP", "MASTER"],
        "VI_1 notifications: {ours:?}"
    );
    assert!(
        ours.held_after_appearing && ours.held_after_recreation,
        "{ours:?}"
    );
    if testbed::privileged::missing_tool(&["keepalived"], "apt-get install -y keepalived").is_none()
    {
        match run_dynamic(false, &[]) {
            Ok(theirs) => println!("keepalived 2.2.7 under the same steps: {theirs:?}"),
            Err(log) => println!("keepalived 2.2.7 does not start:\n{log}"),
        }
        match run_dynamic(false, &["dynamic_interfaces"]) {
            Ok(theirs) => println!("keepalived 2.2.7 with dynamic_interfaces: {theirs:?}"),
            Err(log) => println!("keepalived 2.2.7 with dynamic_interfaces does not start:\n{log}"),
        }
    } else {
        println!("keepalived not installed: its behaviour is not reported");
    }
}

/// What one daemon did with VI_2 on the missing interface `dyn0`.
#[derive(Debug)]
struct Dynamic {
    vi1: Vec<String>,
    vi2: Vec<String>,
    held_after_appearing: bool,
    held_after_recreation: bool,
}

/// Creates `dyn0` (a veth, up, with 198.51.100.1/24) in `h`.
fn create_dyn0(h: &harness::Host) {
    h.ip(&[
        "link", "add", "dyn0", "type", "veth", "peer", "name", "dyn0p",
    ]);
    h.ip(&["addr", "add", "198.51.100.1/24", "dev", "dyn0"]);
    h.ip(&["link", "set", "dyn0p", "up"]);
    h.ip(&["link", "set", "dyn0", "up"]);
}

/// Runs the steps on ours or keepalived with these `global_defs` lines; `Err`: the daemon's
/// log when it did not start.
fn run_dynamic(ours: bool, global: &[&str]) -> Result<Dynamic, String> {
    let lab = Lab::new(1);
    let h = &lab.hosts[0];
    let fifo = lab.path("notify.fifo");
    let lines = harness::fifo_reader(&fifo);
    let mut c = RouterConf::v3(200);
    c.notify_fifo = Some(fifo);
    c.second_instance = Some((52, "198.51.100.100/24".into(), Vec::new()));
    c.second_interface = Some("dyn0".into());
    c.global_extra = global.iter().map(|l| (*l).to_owned()).collect();
    let _daemon: Box<dyn std::any::Any> = if ours {
        Box::new(Daemon::start(&lab, h, &c))
    } else {
        Box::new(harness::Keepalived::try_start(&lab, h, &c)?)
    };
    let vip2 = "198.51.100.100";
    assert!(wait_until(LIMIT, || h.has_addr(VIP)), "VI_1 did not start");
    std::thread::sleep(Duration::from_secs(1));
    create_dyn0(h);
    let held_after_appearing = wait_until(LIMIT, || h.has_addr_on("dyn0", vip2));
    h.ip(&["link", "del", "dyn0"]);
    std::thread::sleep(Duration::from_secs(1));
    create_dyn0(h);
    let held_after_recreation = wait_until(LIMIT, || h.has_addr_on("dyn0", vip2));
    std::thread::sleep(Duration::from_millis(500));
    // The states notified for `name`, a repeat of the same state folded into one.
    let states = |name: &str| -> Vec<String> {
        let mut seen: Vec<String> = lines
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(&format!("\"{name}\"")))
            .filter_map(|l| l.split_whitespace().nth(2).map(str::to_owned))
            .collect();
        seen.dedup();
        seen
    };
    Ok(Dynamic {
        vi1: states("VI_1"),
        vi2: states("VI_2"),
        held_after_appearing,
        held_after_recreation,
    })
}
