//! `vrrp_instance` blocks: addresses, tracking, notify hooks, and the checks across instances.

use std::collections::HashSet;
use std::time::Duration;

use super::Ctx;
use super::notify;
use super::values::{arg, block, flag, name, number, seconds, version};
use crate::error::{ConfError, Location};
use crate::model::{
    GarpOverrides, GlobalDefs, InitialState, Notify, Tracked, VrrpInstance, VrrpScript,
};
use crate::tracking::TrackProcess;
use crate::tree::Node;
use crate::virtual_server::TrackFile;
use vrrp_core::unicast::{TtlRange, UnicastPeer};

fn tracked(node: &Node) -> Result<Tracked, ConfError> {
    tracked_within(node, 253)
}

/// A tracked object whose `weight` may be -`limit`..`limit` (keepalived: 253 for
/// interfaces and scripts, 254 for processes and files).
fn tracked_within(node: &Node, limit: i32) -> Result<Tracked, ConfError> {
    let (weight, reverse) = match node.args() {
        [] => (None, None),
        [w, value, rest @ ..] if w == "weight" && rest.len() <= 1 => {
            let weight: i32 = number(node, value, "a weight")?;
            if !(-limit..=limit).contains(&weight) {
                return Err(ConfError::invalid(
                    &node.loc,
                    node.keyword(),
                    format!("weight {weight} is outside -{limit}..{limit}"),
                ));
            }
            let reverse = match rest.first().map(String::as_str) {
                None => None,
                Some("reverse") => Some(true),
                Some("noreverse") => Some(false),
                Some(other) => {
                    return Err(ConfError::invalid(
                        &node.loc,
                        node.keyword(),
                        format!("unknown weight option {other:?} (reverse or noreverse)"),
                    ));
                }
            };
            (Some(weight), reverse)
        }
        other => {
            return Err(ConfError::invalid(
                &node.loc,
                node.keyword(),
                format!("unexpected {:?}", other.join(" ")),
            ));
        }
    };
    Ok(Tracked {
        name: node.keyword().to_owned(),
        weight,
        reverse,
        loc: node.loc.clone(),
    })
}

/// Refuses a tracked name that no block defines, or that the instance already tracks
/// (keepalived ignores both with a message).
fn known<'a>(
    t: &Tracked,
    keyword: &str,
    mut defined: impl Iterator<Item = &'a String>,
    already: &[Tracked],
) -> Result<(), ConfError> {
    let problem = if !defined.any(|name| *name == t.name) {
        "no block named"
    } else if already.iter().any(|a| a.name == t.name) {
        "already tracked:"
    } else {
        return Ok(());
    };
    Err(ConfError::invalid(
        &t.loc,
        keyword,
        format!("{problem} {:?}", t.name),
    ))
}

pub(super) fn vrrp_instance(
    ctx: &mut Ctx,
    node: &Node,
    g: &GlobalDefs,
    scripts: &[VrrpScript],
    (processes, files): (&[TrackProcess], &[TrackFile]),
) -> Result<VrrpInstance, ConfError> {
    let name = name(node)?;
    let mut i = VrrpInstance {
        name: name.clone(),
        loc: node.loc.clone(),
        state: InitialState::Backup,
        interface: String::new(),
        vrid: 0,
        priority: 100,
        advert_int: Duration::from_secs(1),
        version: None,
        nopreempt: false,
        preempt_delay: Duration::ZERO,
        accept: None,
        mcast_src_ip: None,
        unicast_src_ip: None,
        unicast_peers: Vec::new(),
        check_unicast_src: false,
        unicast_ttl: None,
        auth_pass: None,
        vips: Vec::new(),
        vips_excluded: Vec::new(),
        routes: Vec::new(),
        rules: Vec::new(),
        track_interfaces: Vec::new(),
        track_scripts: Vec::new(),
        track_processes: Vec::new(),
        track_files: Vec::new(),
        use_vmac: None,
        garp: GarpOverrides::default(),
        notify: Notify::default(),
        old_unicast_checksum: false,
    };
    let mut saw_vrid = false;
    for n in block(node)? {
        if notify(n, &mut i.notify)? {
            continue;
        }
        match n.keyword() {
            "state" => {
                i.state = match arg(n)? {
                    "MASTER" => InitialState::Master,
                    "BACKUP" => InitialState::Backup,
                    v => {
                        return Err(ConfError::invalid(
                            &n.loc,
                            "state",
                            format!("{v:?} is not MASTER or BACKUP"),
                        ));
                    }
                }
            }
            "interface" => i.interface = arg(n)?.to_owned(),
            "virtual_router_id" => {
                let v = arg(n)?;
                i.vrid = number::<u8>(n, v, "a router id (1..255)")?;
                if i.vrid == 0 {
                    return Err(ConfError::invalid(
                        &n.loc,
                        "virtual_router_id",
                        "0 is not a router id (1..255)",
                    ));
                }
                saw_vrid = true;
            }
            "priority" => {
                let v = arg(n)?;
                i.priority = number::<u8>(n, v, "a priority (1..255)")?;
                if i.priority == 0 {
                    return Err(ConfError::invalid(
                        &n.loc,
                        "priority",
                        "0 is not a priority (1..255)",
                    ));
                }
            }
            "advert_int" => i.advert_int = seconds(n, arg(n)?)?,
            "version" => i.version = Some(version(n)?),
            "nopreempt" => i.nopreempt = flag(n)?,
            "preempt" => i.nopreempt = !flag(n)?,
            "preempt_delay" => i.preempt_delay = seconds(n, arg(n)?)?,
            "accept" => i.accept = Some(true),
            "no_accept" => i.accept = Some(false),
            "mcast_src_ip" => i.mcast_src_ip = Some(number(n, arg(n)?, "an ip address")?),
            "unicast_src_ip" => i.unicast_src_ip = Some(number(n, arg(n)?, "an ip address")?),
            "unicast_peer" => {
                for p in block(n)? {
                    i.unicast_peers.push(unicast_peer(p)?);
                }
            }
            "check_unicast_src" => i.check_unicast_src = flag(n)?,
            "unicast_ttl" => {
                let ttl: u8 = number(n, arg(n)?, "a ttl (1..255)")?;
                if ttl == 0 {
                    return Err(ConfError::invalid(
                        &n.loc,
                        "unicast_ttl",
                        "0 is not a ttl (1..255)",
                    ));
                }
                i.unicast_ttl = Some(ttl);
            }
            "authentication" => {
                let mut auth_type = None;
                for a in block(n)? {
                    match a.keyword() {
                        "auth_type" => auth_type = Some(arg(a)?.to_owned()),
                        "auth_pass" => i.auth_pass = Some(arg(a)?.to_owned()),
                        _ => ctx.unknown(a, "authentication"),
                    }
                }
                match auth_type.as_deref() {
                    Some("PASS") | None => {}
                    Some(other) => {
                        return Err(ConfError::invalid(
                            &n.loc,
                            "auth_type",
                            format!("{other:?} is not supported (only PASS)"),
                        ));
                    }
                }
                if i.auth_pass.as_ref().is_some_and(|p| p.is_empty()) {
                    return Err(ConfError::invalid(&n.loc, "auth_pass", "empty password"));
                }
            }
            "virtual_ipaddress" => {
                for a in block(n)? {
                    i.vips.push(super::address::address(ctx, a, false)?);
                }
            }
            "virtual_routes" => {
                for r in block(n)? {
                    i.routes
                        .push(super::route::route(ctx, r, "virtual_routes")?);
                }
            }
            "virtual_rules" => {
                for r in block(n)? {
                    i.rules.push(super::rule::rule(ctx, r, "virtual_rules")?);
                }
            }
            "virtual_ipaddress_excluded" => {
                for a in block(n)? {
                    i.vips_excluded
                        .push(super::address::address(ctx, a, false)?);
                }
            }
            "track_interface" => {
                for t in block(n)? {
                    i.track_interfaces.push(tracked(t)?);
                }
            }
            "track_script" => {
                for t in block(n)? {
                    let t = tracked(t)?;
                    if !scripts.iter().any(|s| s.name == t.name) {
                        return Err(ConfError::invalid(
                            &t.loc,
                            "track_script",
                            format!("no vrrp_script named {:?}", t.name),
                        ));
                    }
                    i.track_scripts.push(t);
                }
            }
            "track_process" => {
                for t in block(n)? {
                    let t = tracked_within(t, 254)?;
                    known(
                        &t,
                        "track_process",
                        processes.iter().map(|p| &p.name),
                        &i.track_processes,
                    )?;
                    i.track_processes.push(t);
                }
            }
            "track_file" => {
                for t in block(n)? {
                    let t = tracked_within(t, 254)?;
                    known(
                        &t,
                        "track_file",
                        files.iter().map(|f| &f.name),
                        &i.track_files,
                    )?;
                    i.track_files.push(t);
                }
            }
            "use_vmac" => {
                i.use_vmac = Some(match n.args() {
                    [] => None,
                    [name] if name.len() <= 15 => Some(name.clone()),
                    [name] => {
                        return Err(ConfError::invalid(
                            &n.loc,
                            "use_vmac",
                            format!("{name:?} is longer than 15 bytes"),
                        ));
                    }
                    _ => {
                        return Err(ConfError::invalid(
                            &n.loc,
                            "use_vmac",
                            "expects at most one name",
                        ));
                    }
                })
            }
            "garp_master_delay" => i.garp.master_delay = Some(seconds(n, arg(n)?)?),
            "garp_master_repeat" => i.garp.master_repeat = Some(number(n, arg(n)?, "a count")?),
            "garp_master_refresh" => i.garp.master_refresh = Some(seconds(n, arg(n)?)?),
            "garp_master_refresh_repeat" => {
                i.garp.master_refresh_repeat = Some(number(n, arg(n)?, "a count")?)
            }
            "old_unicast_checksum" => i.old_unicast_checksum = flag(n)?,
            "dont_track_primary" | "debug" | "smtp_alert" | "native_ipv6" => {
                ctx.warn(n, "has no effect in this daemon")
            }
            _ => ctx.unknown(n, "vrrp_instance"),
        }
    }
    let missing =
        |kw: &str| ConfError::invalid(&node.loc, kw, format!("vrrp_instance {name} has no {kw}"));
    if i.interface.is_empty() {
        return Err(missing("interface"));
    }
    if !saw_vrid {
        return Err(missing("virtual_router_id"));
    }
    if i.vips.is_empty() {
        return Err(missing("virtual_ipaddress"));
    }
    let family_v4 = i.vips[0].addr.is_ipv4();
    if let Some(other) = i.vips.iter().find(|v| v.addr.is_ipv4() != family_v4) {
        return Err(ConfError::invalid(
            &other.loc,
            "virtual_ipaddress",
            format!(
                "{} mixes address families (use virtual_ipaddress_excluded)",
                other.addr
            ),
        ));
    }
    for src in [i.mcast_src_ip, i.unicast_src_ip].into_iter().flatten() {
        if src.is_ipv4() != family_v4 {
            return Err(ConfError::invalid(
                &node.loc,
                "unicast_src_ip",
                format!("{src} is not of the virtual addresses' family"),
            ));
        }
    }
    if let Some(p) = i
        .unicast_peers
        .iter()
        .find(|p| p.address.is_ipv4() != family_v4)
    {
        return Err(ConfError::invalid(
            &node.loc,
            "unicast_peer",
            format!("{} is not of the virtual addresses' family", p.address),
        ));
    }
    let version = i
        .version
        .unwrap_or(if family_v4 { g.vrrp_version } else { 3 });
    validate_advert_int(&node.loc, &name, version, i.advert_int)?;
    if version == 3 && i.auth_pass.is_some() {
        ctx.warn(
            node,
            "authentication is not part of vrrp version 3, ignored",
        );
        i.auth_pass = None;
    }
    if !family_v4 && version == 2 {
        return Err(ConfError::invalid(
            &node.loc,
            "version",
            format!("vrrp_instance {name}: ipv6 needs vrrp version 3"),
        ));
    }
    i.version = Some(version);
    Ok(i)
}

fn validate_advert_int(
    loc: &Location,
    name: &str,
    version: u8,
    int: Duration,
) -> Result<(), ConfError> {
    let bad =
        |m: String| ConfError::invalid(loc, "advert_int", format!("vrrp_instance {name}: {m}"));
    match version {
        2 => {
            if int.subsec_nanos() != 0 || !(1..=255).contains(&int.as_secs()) {
                return Err(bad(format!(
                    "{} s is not a whole number of seconds in 1..255 (vrrp version 2)",
                    int.as_secs_f64()
                )));
            }
        }
        _ => {
            let centis = int.as_millis() / 10;
            if !(1..=4095).contains(&centis) || !int.as_nanos().is_multiple_of(10_000_000) {
                return Err(bad(format!(
                    "{} s is not a multiple of 0.01 s in 0.01..40.95 (vrrp version 3)",
                    int.as_secs_f64()
                )));
            }
        }
    }
    Ok(())
}

pub(super) fn check_instances(instances: &[VrrpInstance]) -> Result<(), ConfError> {
    let mut names = HashSet::new();
    let mut routers = HashSet::new();
    for i in instances {
        if !names.insert(&i.name) {
            return Err(ConfError::invalid(
                &i.loc,
                "vrrp_instance",
                format!("{} is defined twice", i.name),
            ));
        }
        let family_v4 = i.vips.first().is_none_or(|v| v.addr.is_ipv4());
        let unicast = !i.unicast_peers.is_empty();
        if !unicast && !routers.insert((&i.interface, family_v4, i.vrid)) {
            return Err(ConfError::invalid(
                &i.loc,
                "virtual_router_id",
                format!(
                    "{} reuses vrid {} on {} for the same family",
                    i.name, i.vrid, i.interface
                ),
            ));
        }
    }
    Ok(())
}

/// One `unicast_peer` line: `ADDR [min_ttl N] [max_ttl M]` (keepalived's defaults 0 and 255).
fn unicast_peer(p: &Node) -> Result<UnicastPeer, ConfError> {
    let address = number(p, p.keyword(), "an ip address")?;
    let (mut min, mut max) = (None, None);
    let mut args = p.args().iter();
    while let Some(option) = args.next() {
        let value = args.next().ok_or_else(|| {
            ConfError::invalid(&p.loc, "unicast_peer", format!("{option} needs a value"))
        })?;
        let value: u8 = number(p, value, "a ttl (0..255)")?;
        match option.as_str() {
            "min_ttl" => min = Some(value),
            "max_ttl" => max = Some(value),
            other => {
                return Err(ConfError::invalid(
                    &p.loc,
                    "unicast_peer",
                    format!("unknown peer option {other:?} (min_ttl, max_ttl)"),
                ));
            }
        }
    }
    let ttl = match (min, max) {
        (None, None) => None,
        (min, max) => Some(
            TtlRange::new(min.unwrap_or(0), max.unwrap_or(255)).ok_or_else(|| {
                ConfError::invalid(&p.loc, "unicast_peer", "min_ttl is above max_ttl")
            })?,
        ),
    };
    Ok(UnicastPeer { address, ttl })
}
