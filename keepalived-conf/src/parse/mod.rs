//! From the tree of lines to the typed model, validating as keepalived would.

mod address;
mod checker;
mod fifo;
mod instance;
mod route;
mod rttables;
mod rule;
mod statics;
mod syncd;
mod tracking;
mod values;
mod virtual_server;

use std::time::Duration;

use super::error::{ConfError, ConfWarning};
use super::model::{
    GlobalDefs, KeepalivedConf, Notify, ScriptCommand, ScriptUser, SyncGroup, VrrpInstance,
    VrrpScript,
};
use super::tree::Node;
use super::virtual_server::{VirtualServer, VsAddress, VsGroup};
use values::{arg, block, command, command_line, flag, name, number, seconds, version};

/// Whether `name` can name the daemon's nftables tables: a letter, then letters, digits or
/// `_`, at most 64 bytes (what the firewall accepts without quoting).
fn valid_table_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 64
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Top-level sections that belong to other parts of keepalived.
const OTHER_SECTIONS: &[&str] = &[
    "real_server",
    "linkbeat_interfaces",
    "bfd_instance",
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
    "max_auto_priority",
    "vrrp_no_swap",
    "checker_no_swap",
    "dynamic_interfaces",
    "lvs_id",
    "lvs_timeouts",
    "lvs_flush",
    "lvs_flush_on_stop",
];

struct Ctx {
    warnings: Vec<ConfWarning>,
    /// The next automatic rule preference, IPv4 then IPv6 (keepalived's counters).
    next_rule_priority: [u32; 2],
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
        next_rule_priority: [rule::RULE_START_PRIORITY; 2],
    };
    let mut global = GlobalDefs::default();
    let mut scripts = Vec::new();
    let mut instance_nodes = Vec::new();
    let mut group_nodes = Vec::new();
    let mut track_files = Vec::new();
    let mut track_processes = Vec::new();
    let mut vs_group_nodes = Vec::new();
    let mut vs_nodes = Vec::new();
    let mut statics = statics::Statics::default();
    for node in nodes {
        match node.keyword() {
            "global_defs" => global_defs(&mut ctx, node, &mut global)?,
            "vrrp_script" => scripts.push(vrrp_script(&mut ctx, node)?),
            "vrrp_instance" => instance_nodes.push(node),
            "vrrp_sync_group" => group_nodes.push(node),
            "track_file" | "vrrp_track_file" => {
                track_files.push(virtual_server::track_file(&mut ctx, node)?)
            }
            "vrrp_track_process" => track_processes.push(tracking::track_process(&mut ctx, node)?),
            "virtual_server_group" => vs_group_nodes.push(node),
            "virtual_server" => vs_nodes.push(node),
            "static_ipaddress" | "static_routes" | "static_rules" => {
                statics.read(&mut ctx, node)?
            }
            kw if OTHER_SECTIONS.contains(&kw) => ctx.warn(node, "not a vrrp section, ignored"),
            _ => ctx.unknown(node, "the top level"),
        }
    }
    let mut instances = Vec::new();
    for node in instance_nodes {
        instances.push(instance::vrrp_instance(
            &mut ctx,
            node,
            &global,
            &scripts,
            (&track_processes, &track_files),
        )?);
    }
    instance::check_instances(&instances)?;
    syncd::check(&global, &instances)?;
    let mut sync_groups = Vec::new();
    for node in group_nodes {
        sync_groups.push(sync_group(&mut ctx, node, &instances)?);
    }
    let mut vs_groups = Vec::new();
    for node in vs_group_nodes {
        vs_groups.push(virtual_server::virtual_server_group(&mut ctx, node)?);
    }
    let mut virtual_servers = Vec::new();
    for node in vs_nodes {
        let vs = virtual_server::virtual_server(&mut ctx, node, &track_files)?;
        if let VsAddress::Group(name) = &vs.addr
            && !vs_groups.iter().any(|g: &VsGroup| &g.name == name)
        {
            return Err(ConfError::invalid(
                &node.loc,
                "virtual_server",
                format!("no virtual_server_group named {name:?}"),
            ));
        }
        if virtual_servers
            .iter()
            .any(|v: &VirtualServer| v.addr == vs.addr && v.protocol == vs.protocol)
        {
            return Err(ConfError::invalid(
                &node.loc,
                "virtual_server",
                format!("{} is defined twice", node.args().join(" ")),
            ));
        }
        virtual_servers.push(vs);
    }
    Ok(KeepalivedConf {
        global,
        scripts,
        instances,
        sync_groups,
        virtual_servers,
        vs_groups,
        track_files,
        track_processes,
        static_addresses: statics.addresses,
        static_routes: statics.routes,
        static_rules: statics.rules,
        warnings: ctx.warnings,
    })
}

fn global_defs(ctx: &mut Ctx, node: &Node, g: &mut GlobalDefs) -> Result<(), ConfError> {
    let mut fifos = fifo::Fifos::default();
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
            "vrrp_check_unicast_src" => g.check_unicast_src = flag(n)?,
            "nftables" => {
                if let Some(name) = n.args().first() {
                    if !valid_table_name(name) {
                        return Err(ConfError::invalid(
                            &n.loc,
                            "nftables",
                            format!(
                                "{name:?} is not a table name (a letter, then letters, digits or '_')"
                            ),
                        ));
                    }
                    g.nftables = Some(name.clone());
                }
            }
            "vrrp_lower_prio_no_advert" => g.lower_prio_no_advert = flag(n)?,
            "vrrp_higher_prio_send_advert" => g.higher_prio_send_advert = flag(n)?,
            "v3_checksum_as_v2" => g.v3_checksum_as_v2 = flag(n)?,
            "notify_fifo" => fifos.fifo(ctx, n, 0)?,
            "vrrp_notify_fifo" => fifos.fifo(ctx, n, 1)?,
            "lvs_notify_fifo" => fifos.fifo(ctx, n, 2)?,
            "notify_fifo_script" => fifos.script(ctx, n, 0)?,
            "vrrp_notify_fifo_script" => fifos.script(ctx, n, 1)?,
            "lvs_notify_fifo_script" => fifos.script(ctx, n, 2)?,
            "script_user" => g.script_user = Some(script_user(n, n.args())?),
            "enable_script_security" => g.script_security = flag(n)?,
            "umask" => {
                let text = arg(n)?;
                g.umask = Some(crate::umask::parse(text).ok_or_else(|| {
                    ConfError::invalid(
                        &n.loc,
                        "umask",
                        format!("{text:?} is not a mask of permission bits (e.g. 0177)"),
                    )
                })?);
            }
            "lvs_sync_daemon" => {
                if g.lvs_sync_daemon.is_some() {
                    ctx.warn(n, "already specified, ignored");
                } else {
                    g.lvs_sync_daemon = Some(syncd::lvs_sync_daemon(ctx, n)?);
                }
            }
            kw if GLOBAL_NO_EFFECT.contains(&kw) => ctx.warn(n, "has no effect in this daemon"),
            _ => ctx.unknown(n, "global_defs"),
        }
    }
    fifos.finish(ctx, node, g);
    Ok(())
}

fn vrrp_script(ctx: &mut Ctx, node: &Node) -> Result<VrrpScript, ConfError> {
    let name = name(node)?;
    let mut script = None;
    let mut interval = Duration::from_secs(1);
    let mut timeout = None;
    let (mut weight, mut rise, mut fall) = (0, 1, 1);
    let (mut weight_reverse, mut user, mut init_fail) = (false, None, false);
    for n in block(node)? {
        match n.keyword() {
            "script" => script = Some(command(n)?),
            "interval" => interval = seconds(n, arg(n)?)?,
            "timeout" => timeout = Some(seconds(n, arg(n)?)?),
            "weight" => {
                weight = match n.args() {
                    [w] => number(n, w, "a weight")?,
                    [w, r] if r == "reverse" => {
                        weight_reverse = true;
                        number(n, w, "a weight")?
                    }
                    [_, r] => {
                        return Err(ConfError::invalid(
                            &n.loc,
                            "weight",
                            format!("unknown weight option {r:?} (only reverse)"),
                        ));
                    }
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
            "user" => user = Some(script_user(n, n.args())?),
            "init_fail" => {
                init_fail = flag(n)?;
                ctx.warn(
                    n,
                    "has no effect, as in keepalived 2.2.7 (a track_script resets the \
                     script's initial state)",
                );
            }
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
        weight_reverse,
        user,
        init_fail,
    })
}

/// `USER [GROUP]` (keepalived's `set_script_uid_gid`): the names only, resolved by the
/// daemon.
pub(super) fn script_user(n: &Node, words: &[String]) -> Result<ScriptUser, ConfError> {
    match words {
        [user] => Ok(ScriptUser {
            user: user.clone(),
            group: None,
            loc: n.loc.clone(),
        }),
        [user, group] => Ok(ScriptUser {
            user: user.clone(),
            group: Some(group.clone()),
            loc: n.loc.clone(),
        }),
        [] => Err(ConfError::invalid(
            &n.loc,
            n.keyword(),
            "expects USER [GROUP]",
        )),
        [_, _, extra @ ..] => Err(ConfError::invalid(
            &n.loc,
            n.keyword(),
            format!("unexpected {:?} after USER GROUP", extra.join(" ")),
        )),
    }
}

/// `KEYWORD CMD [USER [GROUP]]`, as keepalived 2.2.7's `notify_script_init` reads it: the
/// first word is the command line (quoted in the file to give arguments), the next ones name
/// the user and group.
pub(super) fn script_command(n: &Node) -> Result<ScriptCommand, ConfError> {
    let Some((line, user)) = n.args().split_first() else {
        return Err(ConfError::invalid(&n.loc, n.keyword(), "missing command"));
    };
    Ok(ScriptCommand {
        command: command_line(n, line)?,
        user: if user.is_empty() {
            None
        } else {
            Some(script_user(n, user)?)
        },
        loc: n.loc.clone(),
    })
}

/// A notify keyword: `notify_master CMD [USER [GROUP]]`, as keepalived 2.2.7 reads it
/// (`notify_script_init`): the first word is the command line (quote it to give arguments),
/// the next ones name the user and group.
fn notify(n: &Node, notify: &mut Notify) -> Result<bool, ConfError> {
    let slot = match n.keyword() {
        "notify_master" => &mut notify.master,
        "notify_backup" => &mut notify.backup,
        "notify_fault" => &mut notify.fault,
        "notify_stop" => &mut notify.stop,
        "notify" => &mut notify.any,
        _ => return Ok(false),
    };
    let Some((line, user)) = n.args().split_first() else {
        return Err(ConfError::invalid(&n.loc, n.keyword(), "missing command"));
    };
    *slot = Some(command_line(n, line)?);
    if user.is_empty() {
        notify.users.remove(n.keyword());
    } else {
        notify
            .users
            .insert(n.keyword().to_owned(), script_user(n, user)?);
    }
    Ok(true)
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
