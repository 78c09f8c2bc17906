//! `keepalived.data` and `keepalived.stats`: keepalived 2.2.7's text dumps
//! (`vrrp_data.c` `dump_data_vrrp`, `vrrp_print.c` `vrrp_print_stats`), line for line for
//! what this daemon models.
//!
//! The stats file is keepalived's exactly. The data file has keepalived's sections and line
//! formats; lines about what the daemon does not have (sockets and their pool, the
//! interface table, script uid:gid, read timers, the master's address) are left out rather
//! than invented. Times are printed in UTC.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use keepalived_conf::{GlobalDefs, VipSpec, VrrpScript};
use vrrp_core::config::AddressCheck;
use vrrp_core::wire::Auth;
use vrrp_core::{Family, State, Version};

use super::{View, command_line, state_name};
use crate::logging::civil_from_days;

/// A `virtual_ipaddress` entry as keepalived prints it (`format_ipaddress`).
pub(super) fn address_line(v: &View<'_>, spec: &VipSpec) -> String {
    let host = match spec.addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    };
    let mut line = spec.addr.to_string();
    if spec.prefix_len != host {
        let _ = write!(line, "/{}", spec.prefix_len);
    }
    let interface = &v.configured.conf.interface;
    match (&spec.dev, &v.configured.vmac) {
        (Some(dev), _) => {
            let _ = write!(line, " dev {dev}");
        }
        (None, Some(vmac)) => {
            let _ = write!(line, " dev {vmac}@{interface}");
        }
        (None, None) => {
            let _ = write!(line, " dev {interface}");
        }
    }
    let _ = write!(line, " scope {}", spec.scope.as_deref().unwrap_or("global"));
    if let Some(label) = &spec.label {
        let _ = write!(line, " label {label}");
    }
    if v.vips_set() {
        line.push_str(" set");
    }
    line
}

/// `secs.usecs (Www Mmm dd hh:mm:ss.usecs yyyy)`, keepalived's way of printing a time.
fn time_line(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let (secs, micros) = (d.as_secs(), d.subsec_micros());
    let days = secs / 86_400;
    let rest = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let weekday = WEEKDAYS[usize::try_from(days % 7).unwrap_or(0)];
    let month_name = MONTHS[usize::try_from(month - 1).unwrap_or(0)];
    format!(
        "{secs}.{micros:06} ({weekday} {month_name} {day:>2} {:02}:{:02}:{:02}.{micros:06} {year})",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

fn yes_no(b: bool, yes: &'static str, no: &'static str) -> &'static str {
    if b { yes } else { no }
}

/// `------< Global definitions >------`, the part this daemon models.
fn global(out: &mut String, g: &GlobalDefs) {
    let router_id = g.router_id.clone().unwrap_or_else(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_default()
    });
    let delay = g.garp_master_delay.as_secs();
    let refresh = g.garp_master_refresh.unwrap_or_default().as_secs();
    let lines = [
        "------< Global definitions >------".to_owned(),
        format!(" Router ID = {router_id}"),
        format!(" VRRP IPv4 mcast group = {}", g.mcast_group4),
        format!(" VRRP IPv6 mcast group = {}", g.mcast_group6),
        format!(" Gratuitous ARP delay = {delay}"),
        format!(" Gratuitous ARP repeat = {}", g.garp_master_repeat),
        format!(" Gratuitous ARP refresh timer = {refresh}"),
        format!(
            " Gratuitous ARP refresh repeat = {}",
            g.garp_master_refresh_repeat
        ),
        format!(" Gratuitous ARP lower priority delay = {delay}"),
        format!(
            " Gratuitous ARP lower priority repeat = {}",
            g.garp_master_repeat
        ),
        format!(
            " Send advert after receive lower priority advert = {}",
            yes_no(g.lower_prio_no_advert, "false", "true")
        ),
        format!(
            " Send advert after receive higher priority advert = {}",
            yes_no(g.higher_prio_send_advert, "true", "false")
        ),
        format!(" VRRP default protocol version = {}", g.vrrp_version),
        format!(" VRRP check unicast_src = {}", g.check_unicast_src),
        format!(
            " VRRP skip check advert addresses = {}",
            g.skip_check_adv_addr
        ),
        format!(" VRRP strict mode = {}", g.strict),
    ];
    for l in lines {
        out.push_str(&l);
        out.push('\n');
    }
}

/// One ` VRRP Instance = ...` block (`dump_vrrp`).
fn instance(out: &mut String, g: &GlobalDefs, v: &View<'_>) {
    let c = &v.configured.config;
    let i = &v.configured.conf;
    let a = &c.announce;
    let mut w = |line: String| {
        out.push_str(&line);
        out.push('\n');
    };
    w(format!(" VRRP Instance = {}", i.name));
    w(format!(
        "   VRRP Version = {}",
        if c.version == Version::V2 { 2 } else { 3 }
    ));
    if let Some(group) = &v.configured.sync_group {
        w(format!("   Sync group = {group}"));
    }
    if c.family == Family::V6 {
        w("   Using Native IPv6".to_owned());
    }
    w(format!("   State = {}", state_name(v.status.state)));
    if c.unicast {
        w("   Flags:".to_owned());
        w("     Using unicast".to_owned());
    } else {
        w("   Flags: none".to_owned());
    }
    w(format!("   Wantstate = {}", state_name(v.status.state)));
    w(format!(
        "   Last transition = {}",
        time_line(v.last_transition)
    ));
    match &v.configured.vmac {
        Some(vmac) => w(format!("   Interface = {vmac}, vmac on {}", i.interface)),
        None => w(format!("   Interface = {}", i.interface)),
    }
    if c.address_check != AddressCheck::Always {
        w("   Skip checking advert IP addresses".to_owned());
    }
    if g.strict {
        w("   Enforcing strict VRRP compliance".to_owned());
    }
    let from_config = i.unicast_src_ip.or(i.mcast_src_ip).is_some();
    w(format!(
        "   Using src_ip = {}{}",
        c.primary_address,
        yes_no(from_config, " (from configuration)", "")
    ));
    if !c.unicast {
        let group = match c.family {
            Family::V4 => IpAddr::V4(g.mcast_group4),
            Family::V6 => IpAddr::V6(g.mcast_group6),
        };
        w(format!("   Multicast address {group}"));
    }
    let delay = a.second_round_delay.unwrap_or_default().as_secs();
    w(format!("   Gratuitous ARP delay = {delay}"));
    w(format!("   Gratuitous ARP repeat = {}", a.repeat));
    w(format!(
        "   Gratuitous ARP refresh = {}",
        a.refresh.unwrap_or_default().as_secs()
    ));
    w(format!(
        "   Gratuitous ARP refresh repeat = {}",
        a.refresh_repeat
    ));
    // Not modelled per instance: keepalived's defaults, the global master delay and repeat.
    w(format!(
        "   Gratuitous ARP lower priority delay = {}",
        g.garp_master_delay.as_secs()
    ));
    w(format!(
        "   Gratuitous ARP lower priority repeat = {}",
        g.garp_master_repeat
    ));
    w(format!("   Down timer adverts = {}", c.down_timer_adverts));
    w(format!(
        "   Send advert after receive lower priority advert = {}",
        c.lower_prio_advert
    ));
    w(format!(
        "   Send advert after receive higher priority advert = {}",
        c.higher_prio_send_advert
    ));
    w(format!("   Virtual Router ID = {}", c.vrid.get()));
    w(format!("   Priority = {}", c.priority.get()));
    w(format!(
        "   Effective priority = {}",
        v.status.priority.get()
    ));
    w(format!("   Total priority = {}", v.status.priority.get()));
    let interval = c.advert_interval.as_duration();
    w(match c.version {
        Version::V2 => format!("   Advert interval = {} sec", interval.as_secs()),
        Version::V3 => format!("   Advert interval = {} milli-sec", interval.as_millis()),
    });
    w(format!(
        "   Accept = {}",
        yes_no(c.accept_mode, "enabled", "disabled")
    ));
    w(format!(
        "   Preempt = {}",
        yes_no(c.preempt, "enabled", "disabled")
    ));
    if !c.preempt_delay.is_zero() {
        w(format!(
            "   Preempt delay = {} secs",
            c.preempt_delay.as_secs_f64()
        ));
    }
    w("   Promote_secondaries = disabled".to_owned());
    match &c.auth {
        Auth::SimpleText(p) => {
            w("   Authentication type = SIMPLE_PASSWORD".to_owned());
            let text: String = p
                .data()
                .iter()
                .take_while(|b| **b != 0)
                .map(|b| char::from(*b))
                .collect();
            w(format!("   Password = {text}"));
        }
        Auth::None if c.version == Version::V2 => w("   Authentication type = none".to_owned()),
        _ => {}
    }
    if !i.vips.is_empty() {
        w(format!("   Virtual IP ({}):", i.vips.len()));
        for s in &i.vips {
            w(format!("     {}", address_line(v, s)));
        }
    }
    if !i.vips_excluded.is_empty() {
        w("   Virtual IP Excluded :".to_owned());
        for s in &i.vips_excluded {
            w(format!("     {}", address_line(v, s)));
        }
    }
    if c.unicast {
        if let Some(ttl) = i.unicast_ttl {
            w(format!("   Unicast TTL = {ttl}"));
        }
        w(format!(
            "   Check unicast src : {}",
            yes_no(i.check_unicast_src || g.check_unicast_src, "yes", "no")
        ));
        w("   Unicast Peer :".to_owned());
        for p in &i.unicast_peers {
            let (min, max) = p.ttl.map_or((0, 255), |t| (t.min, t.max));
            w(format!("     {} min_ttl {min} max_ttl {max}", p.address));
        }
    }
    if !i.track_interfaces.is_empty() {
        w("   Tracked interfaces :".to_owned());
        for t in &i.track_interfaces {
            w(format!("     {} weight {}", t.name, t.weight.unwrap_or(0)));
        }
    }
    if !c.track.is_empty() && !i.track_scripts.is_empty() {
        w("   Tracked scripts :".to_owned());
        for t in &i.track_scripts {
            let weight = c
                .track
                .iter()
                .find(|o| o.name == t.name)
                .map_or(0, |o| o.weight);
            w(format!("     {} weight {weight}", t.name));
        }
    }
    w("   Using smtp notification = no".to_owned());
    w("   Notify deleted = Fault".to_owned());
    let n = &i.notify;
    for (argv, kind) in [
        (&n.backup, "Backup"),
        (&n.master, "Master"),
        (&n.fault, "Fault"),
        (&n.stop, "Stop"),
        (&n.any, "Generic"),
    ] {
        if let Some(argv) = argv {
            w(format!(
                "   {kind} state transition script = {}",
                command_line(argv)
            ));
        }
    }
    w("   Notify priority changes = false".to_owned());
}

/// One ` VRRP Script = ...` block (`dump_vscript`), for what the daemon models.
fn script(out: &mut String, s: &VrrpScript, views: &[View<'_>]) {
    let mut w = |line: String| {
        out.push_str(&line);
        out.push('\n');
    };
    w(format!(" VRRP Script = {}", s.name));
    w(format!("   Command = {}", command_line(&s.script)));
    w(format!("   Interval = {} sec", s.interval.as_secs()));
    w(format!("   Timeout = {} sec", s.timeout.as_secs()));
    w(format!("   Weight = {}", s.weight));
    w(format!("   Rise = {}", s.rise));
    w(format!("   Fall = {}", s.fall));
    w("   Tracking instances :".to_owned());
    for v in views {
        if let Some(t) = v.configured.config.track.iter().find(|t| t.name == s.name) {
            w(format!(
                "     {}, weight {}",
                v.configured.conf.name, t.weight
            ));
        }
    }
}

/// The whole `keepalived.data`.
pub(super) fn data(g: &GlobalDefs, scripts: &[VrrpScript], views: &[View<'_>]) -> String {
    let mut out = String::new();
    global(&mut out, g);
    if !views.is_empty() {
        out.push_str("------< VRRP Topology >------\n");
        for v in views {
            instance(&mut out, g, v);
        }
    }
    let mut groups: Vec<(&str, Vec<(&str, State)>)> = Vec::new();
    for v in views {
        if let Some(name) = &v.configured.sync_group {
            let member = (v.configured.conf.name.as_str(), v.status.state);
            match groups.iter_mut().find(|(g, _)| g == name) {
                Some((_, members)) => members.push(member),
                None => groups.push((name, vec![member])),
            }
        }
    }
    if !groups.is_empty() {
        out.push_str("------< VRRP Sync groups >------\n");
        for (name, members) in groups {
            let _ = writeln!(out, " VRRP Sync Group = {name}");
            out.push_str("   VRRP member instances :\n");
            for (member, _) in members {
                let _ = writeln!(out, "     {member}");
            }
        }
    }
    if !scripts.is_empty() {
        out.push_str("------< VRRP Scripts >------\n");
        for s in scripts {
            script(&mut out, s, views);
        }
    }
    out
}

/// The whole `keepalived.stats` (`vrrp_print_stats`).
pub(super) fn stats(views: &[View<'_>]) -> String {
    let mut out = String::new();
    for v in views {
        let c = &v.counters;
        let _ = write!(
            out,
            "VRRP Instance: {}\n  Advertisements:\n    Received: {}\n    Sent: {}\n  \
             Became master: {}\n  Released master: {}\n  Packet Errors:\n    Length: {}\n    \
             TTL: {}\n    Invalid Type: {}\n    Advertisement Interval: {}\n    \
             Address List: {}\n  Authentication Errors:\n    Invalid Type: {}\n    \
             Type Mismatch: {}\n    Failure: {}\n  Priority Zero:\n    Received: {}\n    \
             Sent: {}\n",
            v.configured.conf.name,
            c.advert_rcvd,
            c.advert_sent,
            c.become_master,
            c.release_master,
            c.packet_len_err,
            c.ip_ttl_err,
            c.invalid_type_rcvd,
            c.advert_interval_err,
            c.addr_list_err,
            c.invalid_authtype,
            c.authtype_mismatch,
            c.auth_failure,
            c.pri_zero_rcvd,
            c.pri_zero_sent,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn times_print_like_keepalived_s_ctime() {
        // keepalived 2.2.7 printed `1796189432.501828 (Wed Dec  2 05:30:32.501828 2026)` (UTC).
        let t = UNIX_EPOCH + Duration::from_micros(1_796_189_432_501_828);
        assert_eq!(
            time_line(t),
            "1796189432.501828 (Wed Dec  2 05:30:32.501828 2026)"
        );
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
