//! From the tree of lines to the typed model, validating as keepalived would.

use std::collections::HashSet;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use super::error::{ConfError, ConfWarning, Location};
use super::model::{
    GarpOverrides, GlobalDefs, InitialState, KeepalivedConf, Notify, SyncGroup, Tracked, VipSpec,
    VrrpInstance, VrrpScript,
};
use super::tree::Node;

/// Top-level sections that belong to other parts of keepalived.
const OTHER_SECTIONS: &[&str] = &[
    "virtual_server",
    "virtual_server_group",
    "real_server",
    "static_ipaddress",
    "static_routes",
    "static_rules",
    "linkbeat_interfaces",
    "bfd_instance",
    "vrrp_track_process",
    "vrrp_track_file",
    "track_file",
    "garp_group",
    "net_namespace",
];

/// keepalived keywords of `global_defs` this daemon reads but does not need.
const GLOBAL_NO_EFFECT: &[&str] = &[
    "notification_email",
    "notification_email_from",
    "smtp_server",
    "smtp_connect_timeout",
    "smtp_alert",
    "enable_script_security",
    "script_user",
    "max_auto_priority",
    "vrrp_no_swap",
    "checker_no_swap",
    "dynamic_interfaces",
    "lvs_id",
];

struct Ctx {
    warnings: Vec<ConfWarning>,
}

impl Ctx {
    fn warn(&mut self, node: &Node, message: &str) {
        self.warnings.push(ConfWarning {
            loc: node.loc.clone(),
            keyword: node.keyword().to_owned(),
            message: message.to_owned(),
        });
    }

    fn unknown(&mut self, node: &Node, section: &str) {
        self.warn(node, &format!("unknown keyword in {section}, ignored"));
    }
}

/// Builds the model from the tree read by [`super::tree::read`].
pub(super) fn conf(nodes: &[Node]) -> Result<KeepalivedConf, ConfError> {
    let mut ctx = Ctx {
        warnings: Vec::new(),
    };
    let mut global = GlobalDefs::default();
    let mut scripts = Vec::new();
    let mut instance_nodes = Vec::new();
    let mut group_nodes = Vec::new();
    for node in nodes {
        match node.keyword() {
            "global_defs" => global_defs(&mut ctx, node, &mut global)?,
            "vrrp_script" => scripts.push(vrrp_script(&mut ctx, node)?),
            "vrrp_instance" => instance_nodes.push(node),
            "vrrp_sync_group" => group_nodes.push(node),
            kw if OTHER_SECTIONS.contains(&kw) => ctx.warn(node, "not a vrrp section, ignored"),
            _ => ctx.unknown(node, "the top level"),
        }
    }
    let mut instances = Vec::new();
    for node in instance_nodes {
        instances.push(vrrp_instance(&mut ctx, node, &global, &scripts)?);
    }
    check_instances(&instances)?;
    let mut sync_groups = Vec::new();
    for node in group_nodes {
        sync_groups.push(sync_group(&mut ctx, node, &instances)?);
    }
    Ok(KeepalivedConf {
        global,
        scripts,
        instances,
        sync_groups,
        warnings: ctx.warnings,
    })
}

fn block(node: &Node) -> Result<&[Node], ConfError> {
    node.block
        .as_deref()
        .ok_or_else(|| ConfError::invalid(&node.loc, node.keyword(), "expects a { ... } block"))
}

fn name(node: &Node) -> Result<String, ConfError> {
    match node.args() {
        [name] => Ok(name.clone()),
        _ => Err(ConfError::invalid(
            &node.loc,
            node.keyword(),
            "expects exactly one name",
        )),
    }
}

fn arg(node: &Node) -> Result<&str, ConfError> {
    match node.args() {
        [value] => Ok(value),
        [] => Err(ConfError::invalid(
            &node.loc,
            node.keyword(),
            "missing value",
        )),
        more => Err(ConfError::invalid(
            &node.loc,
            node.keyword(),
            format!("expects one value, got {}", more.join(" ")),
        )),
    }
}

fn number<T: FromStr>(node: &Node, value: &str, what: &str) -> Result<T, ConfError> {
    value.parse().map_err(|_| {
        ConfError::invalid(
            &node.loc,
            node.keyword(),
            format!("{value:?} is not {what}"),
        )
    })
}

/// Decimal seconds (`1`, `0.01`, `2.5`), read exactly (no floating point).
fn seconds(node: &Node, value: &str) -> Result<Duration, ConfError> {
    let bad = || {
        ConfError::invalid(
            &node.loc,
            node.keyword(),
            format!("{value:?} is not a number of seconds"),
        )
    };
    let (whole, frac) = value.split_once('.').unwrap_or((value, ""));
    if (whole.is_empty() && frac.is_empty()) || frac.len() > 9 {
        return Err(bad());
    }
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if !digits(whole) || !digits(frac) {
        return Err(bad());
    }
    let secs: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    if secs > 4_294_967 {
        return Err(ConfError::invalid(
            &node.loc,
            node.keyword(),
            format!("{value} seconds is out of range"),
        ));
    }
    let nanos: u32 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<9}").parse().map_err(|_| bad())?
    };
    Ok(Duration::new(secs, nanos))
}

/// A flag keyword: alone means on; `true/on/yes` and `false/off/no` are accepted too.
fn flag(node: &Node) -> Result<bool, ConfError> {
    match node.args() {
        [] => Ok(true),
        [v] => match v.to_ascii_lowercase().as_str() {
            "true" | "on" | "yes" => Ok(true),
            "false" | "off" | "no" => Ok(false),
            _ => Err(ConfError::invalid(
                &node.loc,
                node.keyword(),
                format!("{v:?} is not true or false"),
            )),
        },
        _ => Err(ConfError::invalid(
            &node.loc,
            node.keyword(),
            "expects at most one value",
        )),
    }
}

/// A command line as keepalived runs it (no shell): words split on white space, with
/// single quotes, double quotes and backslash escapes grouping and quoting as in `sh`.
fn command(node: &Node) -> Result<Vec<String>, ConfError> {
    let line = node.args().join(" ");
    let words = split_words(&line)
        .map_err(|m| ConfError::invalid(&node.loc, node.keyword(), format!("{line:?}: {m}")))?;
    if words.is_empty() {
        return Err(ConfError::invalid(
            &node.loc,
            node.keyword(),
            "missing command",
        ));
    }
    Ok(words)
}

fn split_words(line: &str) -> Result<Vec<String>, &'static str> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => words.extend(word.take()),
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => w.push(c),
                        None => return Err("unterminated single quote"),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => w.push(chars.next().ok_or("trailing backslash")?),
                        Some(c) => w.push(c),
                        None => return Err("unterminated double quote"),
                    }
                }
            }
            '\\' => word
                .get_or_insert_with(String::new)
                .push(chars.next().ok_or("trailing backslash")?),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

fn version(node: &Node) -> Result<u8, ConfError> {
    match arg(node)? {
        "2" => Ok(2),
        "3" => Ok(3),
        v => Err(ConfError::invalid(
            &node.loc,
            node.keyword(),
            format!("{v:?} is not 2 or 3"),
        )),
    }
}

fn global_defs(ctx: &mut Ctx, node: &Node, g: &mut GlobalDefs) -> Result<(), ConfError> {
    for n in block(node)? {
        match n.keyword() {
            "router_id" => g.router_id = Some(arg(n)?.to_owned()),
            "vrrp_version" => g.vrrp_version = version(n)?,
            "vrrp_mcast_group4" => g.mcast_group4 = number(n, arg(n)?, "an ipv4 address")?,
            "vrrp_mcast_group6" => g.mcast_group6 = number(n, arg(n)?, "an ipv6 address")?,
            "vrrp_garp_master_delay" => g.garp_master_delay = seconds(n, arg(n)?)?,
            "vrrp_garp_master_repeat" => g.garp_master_repeat = number(n, arg(n)?, "a count")?,
            "vrrp_garp_master_refresh" => g.garp_master_refresh = Some(seconds(n, arg(n)?)?),
            "vrrp_garp_master_refresh_repeat" => {
                g.garp_master_refresh_repeat = number(n, arg(n)?, "a count")?
            }
            "vrrp_strict" => g.strict = flag(n)?,
            "vrrp_skip_check_adv_addr" => g.skip_check_adv_addr = flag(n)?,
            "vrrp_lower_prio_no_advert" => g.lower_prio_no_advert = flag(n)?,
            "vrrp_higher_prio_send_advert" => g.higher_prio_send_advert = flag(n)?,
            "v3_checksum_as_v2" => g.v3_checksum_as_v2 = flag(n)?,
            "notify_fifo" => g.notify_fifo = Some(arg(n)?.into()),
            "vrrp_notify_fifo" => g.vrrp_notify_fifo = Some(arg(n)?.into()),
            kw if GLOBAL_NO_EFFECT.contains(&kw) => ctx.warn(n, "has no effect in this daemon"),
            _ => ctx.unknown(n, "global_defs"),
        }
    }
    Ok(())
}

fn vrrp_script(ctx: &mut Ctx, node: &Node) -> Result<VrrpScript, ConfError> {
    let name = name(node)?;
    let mut script = None;
    let mut interval = Duration::from_secs(1);
    let mut timeout = None;
    let (mut weight, mut rise, mut fall) = (0, 1, 1);
    for n in block(node)? {
        match n.keyword() {
            "script" => script = Some(command(n)?),
            "interval" => interval = seconds(n, arg(n)?)?,
            "timeout" => timeout = Some(seconds(n, arg(n)?)?),
            "weight" => {
                weight = match n.args() {
                    [w] | [w, _] => number(n, w, "a weight")?,
                    _ => return Err(ConfError::invalid(&n.loc, "weight", "expects a weight")),
                };
                if !(-253..=253).contains(&weight) {
                    return Err(ConfError::invalid(
                        &n.loc,
                        "weight",
                        format!("{weight} is outside -253..253"),
                    ));
                }
            }
            "rise" => rise = number(n, arg(n)?, "a count")?,
            "fall" => fall = number(n, arg(n)?, "a count")?,
            "user" | "init_fail" => ctx.warn(n, "has no effect in this daemon"),
            _ => ctx.unknown(n, "vrrp_script"),
        }
    }
    let script = script.ok_or_else(|| {
        ConfError::invalid(&node.loc, "vrrp_script", format!("{name}: no script"))
    })?;
    if interval.is_zero() {
        return Err(ConfError::invalid(
            &node.loc,
            "interval",
            format!("{name}: interval must be positive"),
        ));
    }
    if rise == 0 || fall == 0 {
        return Err(ConfError::invalid(
            &node.loc,
            "vrrp_script",
            format!("{name}: rise and fall must be at least 1"),
        ));
    }
    Ok(VrrpScript {
        name,
        loc: node.loc.clone(),
        script,
        interval,
        timeout: timeout.unwrap_or(interval),
        weight,
        rise,
        fall,
    })
}

fn vip(ctx: &mut Ctx, node: &Node) -> Result<VipSpec, ConfError> {
    let words = &node.words;
    let first = words.first().map_or("", String::as_str);
    let bad = |m: String| ConfError::invalid(&node.loc, first, m);
    let (addr, prefix) = match first.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (first, None),
    };
    let addr: IpAddr = addr
        .parse()
        .map_err(|_| bad(format!("{first:?} is not an ip address")))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix_len = match prefix {
        Some(p) => p
            .parse::<u8>()
            .ok()
            .filter(|p| *p <= max)
            .ok_or_else(|| bad(format!("{p:?} is not a prefix length")))?,
        None => max,
    };
    let mut spec = VipSpec {
        addr,
        prefix_len,
        dev: None,
        label: None,
        scope: None,
        loc: node.loc.clone(),
    };
    let mut rest = words.iter().skip(1);
    while let Some(opt) = rest.next() {
        let mut value = || {
            rest.next()
                .cloned()
                .ok_or_else(|| bad(format!("{opt} needs a value")))
        };
        match opt.as_str() {
            "dev" => spec.dev = Some(value()?),
            "label" => spec.label = Some(value()?),
            "scope" => {
                let s = value()?;
                if !["global", "site", "link", "host", "nowhere"].contains(&s.as_str())
                    && s.parse::<u8>().is_err()
                {
                    return Err(bad(format!(
                        "scope {s:?} is not global, site, link, host or nowhere"
                    )));
                }
                spec.scope = Some(s);
            }
            "brd" | "broadcast" => {
                value()?;
                ctx.warn(node, &format!("{opt} is not supported, ignored"));
            }
            "no_track" => ctx.warn(node, "no_track is not supported, ignored"),
            other => return Err(bad(format!("unknown address option {other:?}"))),
        }
    }
    Ok(spec)
}

fn tracked(node: &Node) -> Result<Tracked, ConfError> {
    let weight = match node.args() {
        [] => None,
        [w, value] if w == "weight" => {
            let weight: i32 = number(node, value, "a weight")?;
            if !(-253..=253).contains(&weight) {
                return Err(ConfError::invalid(
                    &node.loc,
                    node.keyword(),
                    format!("weight {weight} is outside -253..253"),
                ));
            }
            Some(weight)
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
        loc: node.loc.clone(),
    })
}

fn notify(n: &Node, notify: &mut Notify) -> Result<bool, ConfError> {
    let slot = match n.keyword() {
        "notify_master" => &mut notify.master,
        "notify_backup" => &mut notify.backup,
        "notify_fault" => &mut notify.fault,
        "notify_stop" => &mut notify.stop,
        "notify" => &mut notify.any,
        _ => return Ok(false),
    };
    *slot = Some(command(n)?);
    Ok(true)
}

fn vrrp_instance(
    ctx: &mut Ctx,
    node: &Node,
    g: &GlobalDefs,
    scripts: &[VrrpScript],
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
        auth_pass: None,
        vips: Vec::new(),
        vips_excluded: Vec::new(),
        track_interfaces: Vec::new(),
        track_scripts: Vec::new(),
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
                    if !p.args().is_empty() {
                        ctx.warn(
                            p,
                            "peer options (min_ttl, max_ttl) are not supported, ignored",
                        );
                    }
                    i.unicast_peers
                        .push(number(p, p.keyword(), "an ip address")?);
                }
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
                    i.vips.push(vip(ctx, a)?);
                }
            }
            "virtual_ipaddress_excluded" => {
                for a in block(n)? {
                    i.vips_excluded.push(vip(ctx, a)?);
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
    if let Some(p) = i.unicast_peers.iter().find(|p| p.is_ipv4() != family_v4) {
        return Err(ConfError::invalid(
            &node.loc,
            "unicast_peer",
            format!("{p} is not of the virtual addresses' family"),
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

fn check_instances(instances: &[VrrpInstance]) -> Result<(), ConfError> {
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

fn sync_group(
    ctx: &mut Ctx,
    node: &Node,
    instances: &[VrrpInstance],
) -> Result<SyncGroup, ConfError> {
    let name = name(node)?;
    let mut g = SyncGroup {
        name,
        loc: node.loc.clone(),
        members: Vec::new(),
        notify: Notify::default(),
    };
    for n in block(node)? {
        if notify(n, &mut g.notify)? {
            continue;
        }
        match n.keyword() {
            "group" => {
                for m in block(n)? {
                    for member in &m.words {
                        if !instances.iter().any(|i| &i.name == member) {
                            return Err(ConfError::invalid(
                                &m.loc,
                                "group",
                                format!("no vrrp_instance named {member:?}"),
                            ));
                        }
                        g.members.push(member.clone());
                    }
                }
            }
            "smtp_alert" | "global_tracking" | "sync_group_tracking_weight" => {
                ctx.warn(n, "has no effect in this daemon")
            }
            _ => ctx.unknown(n, "vrrp_sync_group"),
        }
    }
    Ok(g)
}
