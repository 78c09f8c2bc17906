//! `lvs_sync_daemon`.
#![allow(clippy::unwrap_used)]

use std::net::IpAddr;

use super::*;

const INSTANCE: &str = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n \
                        virtual_ipaddress {\n  192.0.2.100\n }\n}\n";

fn with(line: &str) -> Result<KeepalivedConf, ConfError> {
    parse_str(
        "k.conf",
        &format!("global_defs {{\n lvs_sync_daemon {line}\n}}\n{INSTANCE}"),
    )
}

#[test]
fn keywords_in_any_order_and_the_older_positional_form() {
    let c = with("eth1 inst VI_1 id 7 maxlen 1400 port 8850 ttl 2 group 239.1.2.3").unwrap();
    let d = c.global.lvs_sync_daemon.unwrap();
    assert_eq!(
        (d.interface.as_str(), d.instance.as_deref(), d.sync_id),
        ("eth1", Some("VI_1"), Some(7))
    );
    assert_eq!(
        (d.max_len, d.port, d.ttl),
        (Some(1400), Some(8850), Some(2))
    );
    assert_eq!(d.group, Some("239.1.2.3".parse::<IpAddr>().unwrap()));
    let c = with("eth1 VI_1 9").unwrap();
    let d = c.global.lvs_sync_daemon.as_ref().unwrap();
    assert_eq!((d.instance.as_deref(), d.sync_id), (Some("VI_1"), Some(9)));
    assert!(
        c.warnings[0].to_string().contains("\"id\""),
        "{:?}",
        c.warnings
    );
    // Without an instance: both daemons, all the time.
    let d = with("eth1").unwrap().global.lvs_sync_daemon.unwrap();
    assert_eq!((d.instance, d.sync_id), (None, None));
}

#[test]
fn bad_values_and_unknown_instances_are_refused_with_the_line() {
    for (line, needle) in [
        ("eth1 inst VI_2", "no vrrp_instance named VI_2"),
        ("eth1 VI_1 id 300", "sync id"),
        ("eth1 VI_1 group 192.0.2.1", "not a multicast"),
        ("eth1 VI_1 ttl 0", "ttl 0"),
        ("eth1 VI_1 maxlen 65535", "maxlen 65535"),
        ("an-interface-name-too-long", "too long"),
        ("eth1 VI_1 id 3 frob 1", "unknown option \"frob\""),
    ] {
        let e = with(line).unwrap_err().to_string();
        assert!(e.starts_with("k.conf:2: lvs_sync_daemon: "), "{line}: {e}");
        assert!(e.contains(needle), "{line}: {e}");
    }
}
