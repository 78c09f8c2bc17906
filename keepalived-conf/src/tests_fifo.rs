//! The notify FIFOs of `global_defs` and their reader scripts.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use super::*;

fn global(body: &str) -> KeepalivedConf {
    parse_str("k.conf", &format!("global_defs {{\n{body}\n}}\n")).unwrap()
}

fn warned(c: &KeepalivedConf) -> Vec<String> {
    c.warnings.iter().map(ToString::to_string).collect()
}

#[test]
fn fifo_owner_and_script_in_either_order() {
    let c = global(
        "  vrrp_notify_fifo_script \"/usr/local/bin/reader --json\" nobody nogroup\n  \
         vrrp_notify_fifo /run/vrrp.fifo daemon\n  notify_fifo /run/all.fifo",
    );
    let vrrp = c.global.vrrp_notify_fifo.as_ref().unwrap();
    assert_eq!(vrrp.path, PathBuf::from("/run/vrrp.fifo"));
    assert_eq!(vrrp.owner.as_ref().map(|u| u.user.as_str()), Some("daemon"));
    let script = vrrp.script.as_ref().unwrap();
    assert_eq!(script.command, ["/usr/local/bin/reader", "--json"]);
    let user = script.user.as_ref().unwrap();
    assert_eq!(
        (user.user.as_str(), user.group.as_deref()),
        ("nobody", Some("nogroup"))
    );
    assert_eq!(script.loc.line, 2);
    let all = c.global.notify_fifo.as_ref().unwrap();
    assert!(all.owner.is_none() && all.script.is_none());
    assert!(c.warnings.is_empty(), "{:?}", warned(&c));
}

#[test]
fn keepalived_rules_for_fifos_given_twice() {
    // A script without its FIFO is not run.
    let c = global("  lvs_notify_fifo_script /bin/reader");
    assert!(c.global.lvs_notify_fifo.is_none());
    assert!(
        warned(&c)[0].contains("without lvs_notify_fifo"),
        "{:?}",
        warned(&c)
    );
    // The vrrp FIFO naming the global one is dropped.
    let c = global("  notify_fifo /run/k.fifo\n  vrrp_notify_fifo /run/k.fifo");
    assert!(c.global.notify_fifo.is_some() && c.global.vrrp_notify_fifo.is_none());
    assert!(
        warned(&c)[0].contains("the vrrp one is ignored"),
        "{:?}",
        warned(&c)
    );
    // vrrp and lvs sharing a FIFO: one reader, the vrrp one.
    let c = global(
        "  vrrp_notify_fifo /run/k.fifo\n  lvs_notify_fifo /run/k.fifo\n  \
         vrrp_notify_fifo_script /bin/a\n  lvs_notify_fifo_script /bin/b",
    );
    assert!(c.global.vrrp_notify_fifo.unwrap().script.is_some());
    assert!(c.global.lvs_notify_fifo.unwrap().script.is_none());
    // The second of a kind is ignored, as keepalived ignores it.
    let c = global("  notify_fifo /run/a.fifo\n  notify_fifo /run/b.fifo");
    assert_eq!(
        c.global.notify_fifo.unwrap().path,
        PathBuf::from("/run/a.fifo")
    );
    assert_eq!(c.warnings.len(), 1);
}

#[test]
fn fifo_errors_name_the_keyword() {
    let e = parse_str("k.conf", "global_defs {\n  notify_fifo\n}\n").unwrap_err();
    assert!(e.to_string().contains("k.conf:2: notify_fifo"), "{e}");
    let e = parse_str("k.conf", "global_defs {\n  notify_fifo /f a b c\n}\n").unwrap_err();
    assert!(e.to_string().contains("notify_fifo"), "{e}");
}
