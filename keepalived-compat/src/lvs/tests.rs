#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::Duration;

use healthcheck::{Event, Health, Reason, TargetId, test_util};

use super::*;
use keepalived_conf::{KeepalivedConf, parse_str};

const CONF: &str = r#"
virtual_server 192.0.2.15 80 {
    delay_loop 2
    retry 3
    quorum 2
    quorum_up "/bin/echo up"
    quorum_down "/bin/echo down"
    sorry_server 192.0.2.99 8080
    alpha
    omega
    real_server 192.0.2.21 80 {
        weight 1
        notify_down "/bin/echo rs down"
        connect_timeout 1.5
        TCP_CHECK {
            warmup 0
        }
    }
    real_server 192.0.2.22 80 {
        inhibit_on_failure
        HTTP_GET {
            url {
                path /
                status_code 200-204
            }
        }
        TCP_CHECK {
            delay_loop 9
        }
    }
    real_server 192.0.2.23 80 {
    }
}
virtual_server fwmark 5 {
    protocol UDP
    real_server 2001:db8::1 53 {
        DNS_CHECK {
            type AAAA
        }
    }
}
"#;

fn conf(text: &str) -> KeepalivedConf {
    parse_str("k.conf", text).unwrap()
}

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[test]
fn virtual_servers_map_to_pools_targets_and_schedules() {
    let (plans, warnings) = services(&conf(CONF)).unwrap();
    let vs = &plans[0];
    assert_eq!(vs.label, "[192.0.2.15]:tcp:80");
    assert_eq!((vs.pool.quorum, vs.pool.hysteresis), (2, 0));
    assert!(!vs.pool.inhibit_on_failure);
    assert_eq!(vs.pool.sorry_server.unwrap().addr, sa("192.0.2.99:8080"));
    assert_eq!(
        vs.quorum_down.as_ref().unwrap().command,
        ["/bin/echo", "down"]
    );
    let rs = &vs.reals[0];
    assert_eq!(rs.label, "[192.0.2.21]:tcp:80");
    assert_eq!(rs.initial, Health::Down, "alpha starts down");
    let t = rs.target.as_ref().unwrap();
    assert_eq!(t.name, "[192.0.2.21]:tcp:80 [192.0.2.15]:tcp:80");
    assert_eq!(t.addr, sa("192.0.2.21:80"));
    assert_eq!(t.schedule.interval, Duration::from_secs(2));
    assert_eq!(t.schedule.timeout, Duration::from_millis(1500));
    assert_eq!(t.schedule.retries, 3);
    assert_eq!(t.schedule.warmup, Duration::ZERO);
    assert_eq!((t.schedule.rise, t.schedule.fall), (1, 1));
    assert_eq!(t.checks.len(), 1);
    assert_eq!(vs.reals[1].target.as_ref().unwrap().checks.len(), 2);
    // A real server without checkers is always up and has no target.
    assert!(vs.reals[2].target.is_none());
    assert_eq!(vs.reals[2].initial, Health::Up);
    assert_eq!(plans[1].label, "FWM 5");
    assert_eq!(plans[1].reals[0].label, "[2001:db8::1]:udp:53");
    let w: Vec<String> = warnings.iter().map(ToString::to_string).collect();
    assert_eq!(w.len(), 3, "{w:?}");
    assert!(w[0].starts_with("k.conf:2: omega: has no effect"));
    assert!(w[1].starts_with("k.conf:19: inhibit_on_failure: healthcheck's pool applies"));
    assert!(w[2].starts_with("k.conf:27: TCP_CHECK: healthcheck runs all checkers"));
}

#[test]
fn values_healthcheck_refuses_are_located_errors() {
    let rs = |checker: &str| {
        let text = format!(
            "virtual_server 192.0.2.15 80 {{\n real_server 192.0.2.21 80 {{\n{checker}\n }}\n}}\n"
        );
        services(&conf(&text)).unwrap_err().to_string()
    };
    assert_eq!(
        rs("DNS_CHECK {\ntype BOGUS\n}"),
        "k.conf:3: type: \"BOGUS\" is not a dns record type"
    );
    assert!(
        rs("HTTP_GET {\nurl {\npath /\nregex \"(\"\n}\n}").starts_with("k.conf:4: regex: \"(\": ")
    );
    assert_eq!(
        rs("SMTP_CHECK {\nhelo_name \"a b\"\n}"),
        "k.conf:3: SMTP_CHECK: smtp helo name \"a b\" contains whitespace or control characters"
    );
    assert_eq!(
        rs("UDP_CHECK {\nrequire_reply zz\n}"),
        "k.conf:3: require_reply: \"zz\" is not a hexadecimal pattern"
    );
    assert_eq!(
        rs("MISC_CHECK {\nmisc_path /bin/true\nmisc_timeout 0\n}"),
        "k.conf:2: real_server: timeout 0ns must be longer than zero"
    );
}

fn event(seq: u64, target: usize, name: &str, addr: &str, health: Health) -> Event {
    let mut event = test_util::event(TargetId(target), name, sa(addr), health, 1);
    event.seq = seq;
    event.reason = (health == Health::Down).then_some(Reason::Refused);
    event
}

fn lines(notices: &[Notice]) -> Vec<&str> {
    notices.iter().map(|n| n.line.as_str()).collect()
}

#[test]
fn health_changes_become_rs_then_vs_lines_in_order() {
    let text = "virtual_server 192.0.2.15 80 {\n delay_loop 3600\n quorum 2\n \
                quorum_down \"/bin/echo qd\"\n \
                real_server 192.0.2.21 80 {\n  notify_down \"/bin/echo d\"\n  TCP_CHECK\n }\n \
                real_server 192.0.2.22 80 {\n  TCP_CHECK\n }\n}\n";
    let (plans, _) = services(&conf(text)).unwrap();
    let (mut lvs, _scheduler) = Lvs::new(plans).unwrap();
    assert!(lines(&lvs.startup()).is_empty(), "both up: quorum 2 holds");
    // The scheduler's first events restate the configured start: nothing to notify.
    let mut initial = event(0, 0, "a", "192.0.2.21:80", Health::Up);
    initial.reason = Some(Reason::Initial);
    assert!(lvs.handle_event(&initial).is_empty());
    let down = lvs.handle_event(&event(1, 0, "a", "192.0.2.21:80", Health::Down));
    assert_eq!(
        lines(&down),
        [
            "RS [192.0.2.21]:tcp:80 [192.0.2.15]:tcp:80 DOWN",
            "VS [192.0.2.15]:tcp:80 DOWN"
        ]
    );
    assert_eq!(down[0].script.as_ref().unwrap().command, ["/bin/echo", "d"]);
    assert_eq!(
        down[1].script.as_ref().unwrap().command,
        ["/bin/echo", "qd"]
    );
    // The same health again (a weight change) is not a new notification.
    assert!(lines(&lvs.handle_event(&event(2, 0, "a", "192.0.2.21:80", Health::Down))).is_empty());
    let other = lvs.handle_event(&event(3, 1, "b", "192.0.2.22:80", Health::Down));
    assert_eq!(
        lines(&other),
        ["RS [192.0.2.22]:tcp:80 [192.0.2.15]:tcp:80 DOWN"]
    );
    lvs.handle_event(&event(4, 1, "b", "192.0.2.22:80", Health::Up));
    let up = lvs.handle_event(&event(5, 0, "a", "192.0.2.21:80", Health::Up));
    assert_eq!(
        lines(&up),
        [
            "RS [192.0.2.21]:tcp:80 [192.0.2.15]:tcp:80 UP",
            "VS [192.0.2.15]:tcp:80 UP"
        ]
    );
    assert_eq!(up[0].script, None);
    assert_eq!(lvs.service_of(TargetId(1)), Some(0));
    assert_eq!(lvs.service_of(TargetId(7)), None);
}

#[test]
fn alpha_without_quorum_reports_the_service_down_at_startup() {
    let text = "virtual_server group G {\n alpha\n real_server 192.0.2.21 80 {\n  TCP_CHECK\n }\n}\n\
                virtual_server_group G {\n 192.0.2.15 80\n}\n";
    let (plans, _) = services(&conf(text)).unwrap();
    let (mut lvs, _scheduler) = Lvs::new(plans).unwrap();
    assert_eq!(lines(&lvs.startup()), ["VS [G]:0 DOWN"]);
}

const BEFORE: &str = r#"
virtual_server 192.0.2.15 80 {
    delay_loop 3600
    quorum 2
    quorum_down "/bin/echo qd"
    real_server 192.0.2.21 80 {
        weight 1
        TCP_CHECK {
            delay_loop 5000
        }
    }
    real_server 192.0.2.22 80 {
        TCP_CHECK
    }
    real_server 192.0.2.23 80 {
        weight 1
    }
    real_server 192.0.2.25 80 {
        TCP_CHECK {
            connect_port 81
        }
    }
}
virtual_server fwmark 5 {
    delay_loop 3600
    real_server 192.0.2.31 80 {
        TCP_CHECK
    }
}
"#;

/// The same file edited: .21 re-weighted and re-timed (same checker), .22 removed, .23
/// (no checker) re-weighted, .24 added, .25's checker changed; `fwmark 5` removed and
/// 192.0.2.16 added.
const AFTER: &str = r#"
virtual_server 192.0.2.16 80 {
    delay_loop 3600
    real_server 192.0.2.41 80 {
        TCP_CHECK
    }
}
virtual_server 192.0.2.15 80 {
    delay_loop 3600
    quorum 2
    quorum_down "/bin/echo qd"
    real_server 192.0.2.25 80 {
        TCP_CHECK {
            connect_port 82
        }
    }
    real_server 192.0.2.21 80 {
        weight 3
        TCP_CHECK {
            delay_loop 7000
        }
    }
    real_server 192.0.2.23 80 {
        weight 2
    }
    real_server 192.0.2.24 80 {
        TCP_CHECK
    }
}
"#;

/// The next `n` events that are not probe verdicts, fed to `lvs` like the loop does. The
/// delays are long (the first probes fall within `delay_loop`) and the events asserted on
/// are queued by the reload itself, so no verdict is expected; one that comes anyway
/// (probes use the real network and clock) is skipped.
async fn feed(lvs: &mut Lvs, events: &mut healthcheck::Events, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    while out.len() < n {
        let e = events.next_event().await;
        if e.change == healthcheck::Change::Health {
            continue;
        }
        assert!(lvs.handle_event(&e).is_empty(), "no notification expected");
        out.push(format!("{:?} {} w{}", e.change, e.name, e.weight));
    }
    out
}

#[tokio::test]
async fn a_reload_reconciles_services_and_real_servers_in_place() {
    let (plans, _) = services(&conf(BEFORE)).unwrap();
    let (mut lvs, scheduler) = Lvs::new(plans).unwrap();
    let (control, mut events) = scheduler.start().unwrap().into_parts();
    assert!(lvs.startup().is_empty());
    feed(&mut lvs, &mut events, 4).await;
    let kept = control
        .id("[192.0.2.21]:tcp:80 [192.0.2.15]:tcp:80")
        .unwrap();
    let restarted = control
        .id("[192.0.2.25]:tcp:80 [192.0.2.15]:tcp:80")
        .unwrap();

    let (plans, _) = services(&conf(AFTER)).unwrap();
    let (summary, notices, origins) = lvs.reload(plans, &control, &|_| false).unwrap();
    assert_eq!(
        summary.to_string(),
        "reload: 1 virtual server(s) added: [192.0.2.16]:tcp:80; \
         1 virtual server(s) removed: FWM 5; \
         1 real server(s) added: [192.0.2.24]:tcp:80 of [192.0.2.15]:tcp:80; \
         1 real server(s) removed: [192.0.2.22]:tcp:80 of [192.0.2.15]:tcp:80; \
         3 real server(s) changed: [192.0.2.25]:tcp:80 of [192.0.2.15]:tcp:80 (checks), \
         [192.0.2.21]:tcp:80 of [192.0.2.15]:tcp:80 (weight 1 -> 3, timing), \
         [192.0.2.23]:tcp:80 of [192.0.2.15]:tcp:80 (weight 1 -> 2)"
    );
    assert!(notices.is_empty(), "quorum holds throughout");
    assert_eq!(origins, [None, Some(0)]);
    // The staying checkers keep their ids; the scheduler reports the changes in order.
    assert_eq!(
        control.id("[192.0.2.21]:tcp:80 [192.0.2.15]:tcp:80"),
        Some(kept)
    );
    assert_eq!(
        control.id("[192.0.2.25]:tcp:80 [192.0.2.15]:tcp:80"),
        Some(restarted)
    );
    assert_eq!(control.id("[192.0.2.22]:tcp:80 [192.0.2.15]:tcp:80"), None);
    let mut seen = feed(&mut lvs, &mut events, 6).await;
    seen.sort();
    assert_eq!(
        seen,
        [
            "Added [192.0.2.24]:tcp:80 [192.0.2.15]:tcp:80 w1",
            "Added [192.0.2.41]:tcp:80 [192.0.2.16]:tcp:80 w1",
            "Removed [192.0.2.22]:tcp:80 [192.0.2.15]:tcp:80 w1",
            "Removed [192.0.2.31]:tcp:80 FWM 5 w1",
            "Replaced [192.0.2.21]:tcp:80 [192.0.2.15]:tcp:80 w3",
            "Replaced [192.0.2.25]:tcp:80 [192.0.2.15]:tcp:80 w1",
        ]
    );
    assert_eq!(lvs.service_of(kept), Some(1));
    assert_eq!(lvs.service_of(restarted), Some(1));
    let pool = &lvs.services[1].pool;
    let reals: Vec<_> = pool.reals().map(|a| (a, pool.real(a).unwrap())).collect();
    assert_eq!(
        reals,
        [
            (sa("192.0.2.21:80"), (Health::Up, 3)),
            (sa("192.0.2.23:80"), (Health::Up, 2)),
            (sa("192.0.2.24:80"), (Health::Up, 1)),
            (sa("192.0.2.25:80"), (Health::Up, 1)),
        ]
    );
    // The same file again changes nothing.
    let (plans, _) = services(&conf(AFTER)).unwrap();
    let (summary, _, origins) = lvs.reload(plans, &control, &|_| false).unwrap();
    assert_eq!(
        summary.to_string(),
        "reload: no virtual or real server changed"
    );
    assert_eq!(origins, [Some(0), Some(1)]);
}

#[tokio::test]
async fn a_reload_that_loses_quorum_notifies() {
    let (plans, _) = services(&conf(BEFORE)).unwrap();
    let (mut lvs, scheduler) = Lvs::new(plans).unwrap();
    let (control, mut events) = scheduler.start().unwrap().into_parts();
    feed(&mut lvs, &mut events, 4).await;
    let text = "virtual_server 192.0.2.15 80 {\n delay_loop 3600\n quorum 2\n \
                quorum_down \"/bin/echo qd\"\n \
                real_server 192.0.2.21 80 {\n  TCP_CHECK\n }\n}\n";
    let (plans, _) = services(&conf(text)).unwrap();
    let (summary, notices, _) = lvs.reload(plans, &control, &|_| false).unwrap();
    assert_eq!(lines(&notices), ["VS [192.0.2.15]:tcp:80 DOWN"]);
    assert_eq!(
        notices[0].script.as_ref().unwrap().command,
        ["/bin/echo", "qd"]
    );
    assert_eq!(summary.reals_removed.len(), 3);
    // The one left keeps its checker.
    assert!(
        control
            .id("[192.0.2.21]:tcp:80 [192.0.2.15]:tcp:80")
            .is_some()
    );
    assert_eq!(lvs.services.len(), 1);
}

/// keepalived's IPVS options reach the services and destinations exactly.
#[cfg(feature = "ipvs")]
#[test]
fn persistence_ops_thresholds_and_tunnels_reach_ipvs() {
    use ipvs_sys::{
        Destination, ForwardMethod, Protocol, Scheduler, Service, ServiceFlags, ServiceKey, Tunnel,
        TunnelCsum, TunnelType,
    };
    let c = conf(
        "virtual_server 192.0.2.15 53 {\n  protocol UDP\n  lb_algo rr\n  ops\n  \
         persistence_granularity 255.255.255.0\n  lb_kind TUN type gue port 6080 csum\n  \
         real_server 192.0.2.21 53 {\n    uthreshold 100\n    lthreshold 10\n  }\n  \
         real_server 192.0.2.22 53 {\n    lvs_method TUN type gre csum\n  }\n  \
         real_server 192.0.2.23 53 {\n  }\n}\n\
         virtual_server 2001:db8::1 80 {\n  lb_algo sh\n  persistence_timeout 30\n  \
         persistence_granularity 64\n  lb_kind DR\n  real_server 2001:db8::2 80 {\n  \
         lvs_method TUN\n  }\n}\n\
         virtual_server fwmark 9 {\n  ops\n  lb_algo wrr\n  \
         real_server 192.0.2.31 0 {\n  }\n}\n",
    );
    let (services, forward) = kernel::services(&c, &c.virtual_servers[0]).unwrap();
    let mut expected = Service::new(
        ServiceKey::Inet {
            protocol: Protocol::Udp,
            addr: sa("192.0.2.15:53"),
        },
        Scheduler::RoundRobin,
    )
    .persistent(360);
    expected.flags = expected.flags | ServiceFlags::ONEPACKET;
    expected.netmask = 0xffff_ff00;
    assert_eq!(services, [expected]);
    let gue = Tunnel {
        kind: TunnelType::Gue,
        port: 6080,
        csum: TunnelCsum::Csum,
    };
    assert_eq!(forward, ForwardMethod::Tunnel(gue));
    // Real servers with settings of their own are templates; the third inherits `forward`.
    let gre = Tunnel {
        kind: TunnelType::Gre,
        port: 0,
        csum: TunnelCsum::Csum,
    };
    let mut r1 = Destination::new(sa("192.0.2.21:53")).forward(ForwardMethod::Tunnel(gue));
    r1.upper_threshold = 100;
    r1.lower_threshold = 10;
    let r2 = Destination::new(sa("192.0.2.22:53")).forward(ForwardMethod::Tunnel(gre));
    assert_eq!(kernel::templates(&c.virtual_servers[0]), [r1, r2]);

    let (services, forward) = kernel::services(&c, &c.virtual_servers[1]).unwrap();
    let mut expected = Service::new(
        ServiceKey::Inet {
            protocol: Protocol::Tcp,
            addr: sa("[2001:db8::1]:80"),
        },
        Scheduler::SourceHashing,
    )
    .persistent(30);
    expected.netmask = 64;
    assert_eq!(services, [expected]);
    assert_eq!(forward, ForwardMethod::DirectRoute);
    assert_eq!(
        kernel::templates(&c.virtual_servers[1]),
        [Destination::new(sa("[2001:db8::2]:80"))
            .forward(ForwardMethod::Tunnel(Tunnel::default()))]
    );

    // A firewall mark takes `ops` whatever the protocol.
    let (services, _) = kernel::services(&c, &c.virtual_servers[2]).unwrap();
    assert!(services[0].flags.contains(ServiceFlags::ONEPACKET));
}

const HA_SUSPEND: &str = "
virtual_server 192.0.2.15 80 {
    ha_suspend
    real_server 192.0.2.21 80 {
        TCP_CHECK {
        }
    }
    real_server 192.0.2.22 80 {
        TCP_CHECK {
        }
    }
    real_server 192.0.2.23 80 {
    }
}
virtual_server 198.51.100.15 80 {
    real_server 192.0.2.21 80 {
        TCP_CHECK {
        }
    }
}
virtual_server_group G {
    192.0.2.40 80
}
virtual_server group G {
    ha_suspend
    real_server 192.0.2.21 80 {
        TCP_CHECK {
        }
    }
}
";

#[test]
fn ha_suspend_warns_only_where_it_cannot_follow_the_address() {
    let (plans, w) = services(&conf(HA_SUSPEND)).unwrap();
    let w: Vec<String> = w.iter().map(ToString::to_string).collect();
    let group = "k.conf:24: ha_suspend: keepalived 2.2.7 matches no address of a \
                 virtual_server_group: the checkers of [G]:0 stay suspended";
    if cfg!(feature = "vrrp") {
        assert_eq!(w, [group]);
    } else {
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].starts_with("k.conf:2: ha_suspend: has no effect in this build"));
    }
    let kinds: Vec<_> = plans.iter().map(|p| p.ha_suspend).collect();
    assert_eq!(
        kinds,
        [
            plan::HaSuspend::Address("192.0.2.15".parse().unwrap()),
            plan::HaSuspend::Off,
            plan::HaSuspend::Group,
        ]
    );
}

/// Whether each checker of `lvs` is suspended, in configuration order.
fn suspended(control: &healthcheck::Control, lvs: &Lvs) -> Vec<bool> {
    lvs.services
        .iter()
        .flat_map(|s| s.ids.iter().flatten())
        .map(|id| control.is_suspended(*id).unwrap())
        .collect()
}

/// keepalived's counting: checkers start deactivated while the address is absent, come up
/// with its first interface and are suspended only when the last one loses it; other
/// addresses and virtual servers without ha_suspend are left alone; a group never matches.
#[tokio::test]
async fn ha_suspend_follows_the_count_of_interfaces_with_the_address() {
    let vip: std::net::IpAddr = "192.0.2.15".parse().unwrap();
    let other: std::net::IpAddr = "192.0.2.16".parse().unwrap();
    let (plans, _) = services(&conf(HA_SUSPEND)).unwrap();
    let (lvs, mut scheduler) = Lvs::new(plans).unwrap();
    let mut s = ha_suspend::Suspension::following([(1, other)]);
    let lines = s.startup(&lvs, &mut scheduler);
    assert_eq!(
        lines,
        [
            "Deactivating healthchecker for service [192.0.2.21]:tcp:80 for VS [192.0.2.15]:tcp:80",
            "Deactivating healthchecker for service [192.0.2.22]:tcp:80 for VS [192.0.2.15]:tcp:80",
            "Activating healthchecker for service [192.0.2.21]:tcp:80 for VS [198.51.100.15]:tcp:80",
            "Deactivating healthchecker for service [192.0.2.21]:tcp:80 for VS [G]:0",
        ]
    );
    let (control, _events) = scheduler.start().unwrap().into_parts();
    assert_eq!(suspended(&control, &lvs), [true, true, false, true]);

    assert!(s.address(2, other, true, &lvs, &control).is_empty());
    let up = s.address(2, vip, true, &lvs, &control);
    assert_eq!(
        up,
        [
            "Activating healthchecker for service [192.0.2.21]:tcp:80 for VS [192.0.2.15]:tcp:80",
            "Activating healthchecker for service [192.0.2.22]:tcp:80 for VS [192.0.2.15]:tcp:80",
        ]
    );
    assert_eq!(suspended(&control, &lvs), [false, false, false, true]);
    // The same address on a second interface, and a repeated notification: no change.
    assert!(s.address(3, vip, true, &lvs, &control).is_empty());
    assert!(s.address(3, vip, true, &lvs, &control).is_empty());
    assert!(s.address(2, vip, false, &lvs, &control).is_empty());
    assert_eq!(suspended(&control, &lvs), [false, false, false, true]);
    let down = s.address(3, vip, false, &lvs, &control);
    assert_eq!(
        down,
        [
            "Suspending healthchecker for service [192.0.2.21]:tcp:80 for VS [192.0.2.15]:tcp:80",
            "Suspending healthchecker for service [192.0.2.22]:tcp:80 for VS [192.0.2.15]:tcp:80",
        ]
    );
    assert_eq!(suspended(&control, &lvs), [true, true, false, true]);
    // A removal of an address that was never seen changes nothing.
    assert!(s.address(9, vip, false, &lvs, &control).is_empty());
    assert_eq!(suspended(&control, &lvs), [true, true, false, true]);
}

/// A reload adds the new real servers of a suspended virtual server suspended, keeps the
/// suspension of those that stay, and resumes the checkers of a virtual server that lost
/// its ha_suspend.
#[tokio::test]
async fn ha_suspend_survives_a_reload() {
    let (plans, _) = services(&conf(HA_SUSPEND)).unwrap();
    let (mut lvs, mut scheduler) = Lvs::new(plans).unwrap();
    let s = ha_suspend::Suspension::following([]);
    s.startup(&lvs, &mut scheduler);
    let (control, _events) = scheduler.start().unwrap().into_parts();
    let after = HA_SUSPEND.replace(
        "    real_server 192.0.2.23 80 {\n    }",
        "    real_server 192.0.2.24 80 {\n        TCP_CHECK {\n        }\n    }",
    );
    let after = after.replacen("    ha_suspend\n", "", 2);
    let (plans, _) = services(&conf(&after)).unwrap();
    assert_eq!(plans[0].ha_suspend, plan::HaSuspend::Off);
    // Suspended while reloading, as for the old configuration: then the reload resumes.
    let (_, _, _) = lvs
        .reload(plans, &control, &|p| p.label == "[192.0.2.15]:tcp:80")
        .unwrap();
    let ids: Vec<_> = lvs.services[0].ids.iter().flatten().copied().collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(control.is_suspended(ids[2]), Some(true), "added suspended");
    let lines = s.reloaded(&lvs, &control);
    assert_eq!(
        lines[..3],
        [
            "Activating healthchecker for service [192.0.2.21]:tcp:80 for VS [192.0.2.15]:tcp:80",
            "Activating healthchecker for service [192.0.2.22]:tcp:80 for VS [192.0.2.15]:tcp:80",
            "Activating healthchecker for service [192.0.2.24]:tcp:80 for VS [192.0.2.15]:tcp:80",
        ]
    );
    for id in ids {
        assert_eq!(control.is_suspended(id), Some(false));
    }
}
