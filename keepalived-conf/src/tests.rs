#![allow(clippy::unwrap_used)]

use std::net::IpAddr;
use std::time::Duration;

use super::*;

const FULL: &str = r#"
! Configuration File for keepalived
global_defs {
    router_id r1
    vrrp_version 3
    vrrp_garp_master_delay 1
    vrrp_garp_master_repeat 3
    vrrp_garp_master_refresh 60
    vrrp_skip_check_adv_addr
    vrrp_lower_prio_no_advert true
    notify_fifo /run/ka.fifo
    enable_script_security
    script_user root
}

vrrp_script chk_nginx {
    script "/usr/bin/pgrep -x nginx"
    interval 2
    timeout 1
    weight -60
    rise 2
    fall 3
}

vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 0.01
    nopreempt
    preempt_delay 5
    accept
    unicast_src_ip 192.0.2.11
    unicast_peer {
        192.0.2.12
    }
    virtual_ipaddress {
        192.0.2.100/24 dev eth0 label eth0:vip scope global
        192.0.2.101
    }
    virtual_ipaddress_excluded {
        2001:db8::100/64
    }
    track_interface {
        eth1 weight -20
    }
    track_script {
        chk_nginx
    }
    use_vmac vrrp51
    garp_master_repeat 2
    notify_master "/etc/keepalived/master.sh VI_1"
    notify /etc/keepalived/notify.sh
}

vrrp_sync_group G1 {
    group {
        VI_1
    }
    notify_backup /bin/true
}

virtual_server 192.0.2.100 80 {
    delay_loop 6
}
"#;

#[test]
fn a_full_file_reads_into_the_model() {
    let c = parse_str("k.conf", FULL).unwrap();
    assert_eq!(c.global.router_id.as_deref(), Some("r1"));
    assert_eq!(c.global.vrrp_version, 3);
    assert_eq!(c.global.garp_master_delay, Duration::from_secs(1));
    assert_eq!(c.global.garp_master_refresh, Some(Duration::from_secs(60)));
    assert!(c.global.skip_check_adv_addr && c.global.lower_prio_no_advert);
    let s = &c.scripts[0];
    assert_eq!(
        (s.name.as_str(), s.weight, s.rise, s.fall),
        ("chk_nginx", -60, 2, 3)
    );
    assert_eq!(s.script, ["/usr/bin/pgrep", "-x", "nginx"]);
    let i = &c.instances[0];
    assert_eq!(
        (i.vrid, i.priority, i.state),
        (51, 150, InitialState::Master)
    );
    assert_eq!(i.advert_int, Duration::from_millis(10));
    assert!(i.nopreempt);
    assert_eq!(i.accept, Some(true));
    assert_eq!(
        i.unicast_peers,
        vec![vrrp_core::unicast::UnicastPeer::new(
            "192.0.2.12".parse::<IpAddr>().unwrap()
        )]
    );
    assert_eq!(i.vips.len(), 2);
    assert_eq!(i.vips[0].label.as_deref(), Some("eth0:vip"));
    assert_eq!(i.vips[1].prefix_len, 32);
    assert_eq!(i.vips_excluded[0].prefix_len, 64);
    assert_eq!(i.track_interfaces[0].weight, Some(-20));
    assert_eq!(i.track_scripts[0].name, "chk_nginx");
    assert_eq!(i.use_vmac, Some(Some("vrrp51".into())));
    assert_eq!(i.garp.master_repeat, Some(2));
    assert_eq!(
        i.notify.master.as_deref().unwrap(),
        ["/etc/keepalived/master.sh", "VI_1"]
    );
    assert_eq!(c.sync_groups[0].members, ["VI_1"]);
    assert_eq!(i.version, Some(3));
}

#[test]
fn things_not_acted_upon_are_reported() {
    let c = parse_str("k.conf", FULL).unwrap();
    let kws: Vec<&str> = c.warnings.iter().map(|w| w.keyword.as_str()).collect();
    assert!(!kws.contains(&"virtual_server"), "{kws:?}");
    assert_eq!(
        c.virtual_servers[0].timing.delay_loop,
        Some(Duration::from_secs(6))
    );
    assert!(!kws.contains(&"enable_script_security"), "{kws:?}");
    assert!(c.global.script_security);
    let c = parse_str("k.conf", "global_defs {\n  vrrp_frobnicate 1\n}\n").unwrap();
    assert_eq!(
        c.warnings[0].to_string(),
        "k.conf:2: vrrp_frobnicate: unknown keyword in global_defs, ignored"
    );
}

fn err(text: &str) -> String {
    parse_str("k.conf", text).unwrap_err().to_string()
}

fn instance(body: &str) -> String {
    format!("vrrp_instance VI_1 {{\n{body}\n}}\n")
}

const BASE: &str = "interface eth0\nvirtual_router_id 51\nvirtual_ipaddress {\n192.0.2.100/24\n}";

#[test]
fn errors_name_the_file_line_and_keyword() {
    let e = err(&instance(&format!("{BASE}\npriority 300")));
    assert_eq!(e, "k.conf:7: priority: \"300\" is not a priority (1..255)");
    let e = err(&instance("interface eth0\nvirtual_router_id 0"));
    assert!(e.starts_with("k.conf:3: virtual_router_id:"), "{e}");
    let e = err(&instance(
        "interface eth0\nvirtual_ipaddress {\n192.0.2.300\n}",
    ));
    assert!(
        e.starts_with("k.conf:4: 192.0.2.300:") && e.contains("not an ip address"),
        "{e}"
    );
    let e = err(&instance(
        "virtual_router_id 5\nvirtual_ipaddress {\n192.0.2.1\n}",
    ));
    assert_eq!(
        e,
        "k.conf:1: interface: vrrp_instance VI_1 has no interface"
    );
}

#[test]
fn advert_int_is_checked_per_version() {
    let e = err(&instance(&format!("{BASE}\nadvert_int 0.5")));
    assert!(e.contains("advert_int") && e.contains("version 2"), "{e}");
    parse_str(
        "k",
        &instance(&format!("{BASE}\nversion 3\nadvert_int 0.5")),
    )
    .unwrap();
    let e = err(&instance(&format!("{BASE}\nversion 3\nadvert_int 41")));
    assert!(e.contains("version 3"), "{e}");
}

#[test]
fn references_must_exist() {
    let e = err(&instance(&format!("{BASE}\ntrack_script {{\nchk\n}}")));
    assert!(e.contains("no vrrp_script named \"chk\""), "{e}");
    let e = err(&format!(
        "{}vrrp_sync_group G {{\ngroup {{\nVI_2\n}}\n}}\n",
        instance(BASE)
    ));
    assert!(e.contains("no vrrp_instance named \"VI_2\""), "{e}");
}

#[test]
fn duplicates_and_unsupported_auth_are_refused() {
    let twice = format!("{}{}", instance(BASE), instance(BASE));
    assert!(err(&twice).contains("defined twice"));
    let e = err(&instance(&format!(
        "{BASE}\nauthentication {{\nauth_type AH\nauth_pass x\n}}"
    )));
    assert!(e.contains("\"AH\" is not supported"), "{e}");
}

#[test]
fn ipv6_instances_default_to_version_3() {
    let c = parse_str(
        "k",
        &instance("interface eth0\nvirtual_router_id 5\nvirtual_ipaddress {\n2001:db8::1/64\n}"),
    )
    .unwrap();
    assert_eq!(c.instances[0].version, Some(3));
    let e = err(&instance(
        "interface eth0\nvirtual_router_id 5\nvirtual_ipaddress {\n2001:db8::1/64\n192.0.2.1\n}",
    ));
    assert!(e.contains("mixes address families"), "{e}");
}

#[test]
fn script_command_lines_split_like_a_shell_without_one() {
    let c = parse_str(
        "k",
        "vrrp_script s {\n    script \"/bin/sh -c '! test -e /tmp/x' a\\ b\"\n}\n",
    )
    .unwrap();
    assert_eq!(
        c.scripts[0].script,
        ["/bin/sh", "-c", "! test -e /tmp/x", "a b"]
    );
    let e = parse_str("k", "vrrp_script s {\n    script \"/bin/sh -c 'oops\"\n}\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("unterminated single quote"), "{e}");
}

#[test]
fn address_scopes_are_checked_per_family() {
    let vip = |line: &str| {
        parse_str(
            "k",
            &instance(&format!(
                "interface eth0\nvirtual_router_id 5\nvirtual_ipaddress {{\n{line}\n}}"
            )),
        )
    };
    assert!(vip("192.0.2.1 scope link").is_ok());
    assert!(vip("2001:db8::1 scope site").is_ok());
    let e = vip("192.0.2.1 scope site").unwrap_err().to_string();
    assert!(e.contains("scope site is for ipv6 addresses only"), "{e}");
    let e = vip("192.0.2.1 scope 7").unwrap_err().to_string();
    assert!(e.contains("scope \"7\" is not"), "{e}");
}

#[test]
fn unicast_peer_ttl_options_and_source_checking_are_read() {
    let c = parse_str(
        "k.conf",
        "global_defs {\nvrrp_check_unicast_src\n}\nvrrp_instance V {\ninterface eth0\nvirtual_router_id 7\n\
         check_unicast_src\nunicast_peer {\n192.0.2.12 min_ttl 250 max_ttl 255\n192.0.2.13 max_ttl 64\n\
         192.0.2.14\n}\nvirtual_ipaddress {\n192.0.2.7\n}\n}\n",
    )
    .unwrap();
    assert!(c.global.check_unicast_src);
    let i = &c.instances[0];
    assert!(i.check_unicast_src);
    let ttls: Vec<_> = i.unicast_peers.iter().map(|p| p.ttl).collect();
    assert_eq!(
        ttls,
        [
            vrrp_core::unicast::TtlRange::new(250, 255),
            vrrp_core::unicast::TtlRange::new(0, 64),
            None
        ]
    );
}

#[test]
fn bad_unicast_peer_options_name_the_field() {
    for (peer, needle) in [
        ("192.0.2.12 min_ttl 9 max_ttl 8", "min_ttl is above max_ttl"),
        ("192.0.2.12 hops 3", "unknown peer option"),
        ("192.0.2.12 min_ttl", "needs a value"),
        ("192.0.2.12 min_ttl 300", "is not a ttl (0..255)"),
    ] {
        let text = format!(
            "vrrp_instance V {{\ninterface eth0\nvirtual_router_id 7\nunicast_peer {{\n{peer}\n}}\n\
             virtual_ipaddress {{\n192.0.2.7\n}}\n}}\n"
        );
        let err = parse_str("k.conf", &text).unwrap_err().to_string();
        assert!(err.contains(needle), "{peer}: {err}");
    }
}

#[test]
fn nftables_table_names_follow_the_firewall_rule() {
    let conf = |name: &str| format!("global_defs {{\n  nftables {name}\n}}\n");
    for good in ["kc", "keepalived_compat", "T2", &"a".repeat(64)] {
        let c = parse_str("k.conf", &conf(good)).unwrap();
        assert_eq!(c.global.nftables.as_deref(), Some(good));
    }
    for bad in ["_x", "2x", "a-b", "é", &"a".repeat(65)] {
        assert_eq!(
            err(&conf(bad)),
            format!(
                "k.conf:2: nftables: {bad:?} is not a table name (a letter, then letters, \
                 digits or '_')"
            )
        );
    }
    // Without a name, the daemon's default table.
    let c = parse_str("k.conf", "global_defs {\n  nftables\n}\n").unwrap();
    assert_eq!(c.global.nftables, None);
}

#[test]
fn script_users_reverse_and_init_fail_are_read_like_keepalived() {
    let c = parse_str(
        "k.conf",
        "global_defs {\n  script_user nobody nogroup\n  enable_script_security\n}\n\
         vrrp_script chk {\n  script \"/bin/true\"\n  weight 10 reverse\n  user daemon\n  init_fail\n}\n\
         vrrp_instance VI_1 {\ninterface eth0\nvirtual_router_id 51\n\
         virtual_ipaddress {\n192.0.2.100/24\n}\n\
         notify_master \"/bin/echo a b\" nobody\n\
         notify /bin/true\n\
         track_script {\n  chk weight -5 noreverse\n}\n}\n",
    )
    .unwrap();
    let g = c.global.script_user.as_ref().unwrap();
    assert_eq!(
        (g.user.as_str(), g.group.as_deref()),
        ("nobody", Some("nogroup"))
    );
    assert_eq!(g.loc.line, 2);
    assert!(c.global.script_security);
    let s = &c.scripts[0];
    assert!(s.weight_reverse && s.init_fail);
    assert_eq!(
        (s.weight, s.user.as_ref().unwrap().user.as_str()),
        (10, "daemon")
    );
    let i = &c.instances[0];
    assert_eq!(i.notify.master.as_deref().unwrap(), ["/bin/echo", "a", "b"]);
    assert_eq!(i.notify.users["notify_master"].user, "nobody");
    assert!(!i.notify.users.contains_key("notify"));
    assert_eq!(
        (i.track_scripts[0].weight, i.track_scripts[0].reverse),
        (Some(-5), Some(false))
    );
    let kws: Vec<&str> = c.warnings.iter().map(|w| w.keyword.as_str()).collect();
    assert_eq!(kws, ["init_fail"]);
}

#[test]
fn bad_script_users_and_weight_options_are_located() {
    let e = err("global_defs {\n  script_user\n}\n");
    assert_eq!(e, "k.conf:2: script_user: expects USER [GROUP]");
    let e = err("vrrp_script chk {\n script /bin/true\n weight 3 sideways\n}\n");
    assert!(
        e.starts_with("k.conf:3: weight: unknown weight option"),
        "{e}"
    );
    let e = err(&instance(&format!("{BASE}\nnotify_backup /bin/true a b c")));
    assert!(e.starts_with("k.conf:7: notify_backup: unexpected"), "{e}");
}
