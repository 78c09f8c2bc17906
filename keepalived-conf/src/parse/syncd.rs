//! `lvs_sync_daemon` of `global_defs`, as keepalived 2.2.7 reads it (`lvs_syncd_handler`):
//! the interface, then keyword/value options in any order, with the older positional form
//! (`IF INSTANCE [SYNC_ID]`) still understood.

use std::net::IpAddr;

use super::super::error::ConfError;
use super::super::model::{GlobalDefs, LvsSyncDaemon, VrrpInstance};
use super::super::tree::Node;
use super::Ctx;
use super::values::number;

/// The kernel's limit on a sync daemon's interface name (`IP_VS_IFNAME_MAXLEN`, with its
/// terminating zero).
const IFNAME_MAX: usize = 16;

/// Reads one `lvs_sync_daemon` line. Where keepalived reports a bad value and goes on, the
/// value is refused with the file and line: a sync daemon configured otherwise than written
/// silently breaks failover.
pub(super) fn lvs_sync_daemon(ctx: &mut Ctx, n: &Node) -> Result<LvsSyncDaemon, ConfError> {
    let bad = |m: String| ConfError::invalid(&n.loc, n.keyword(), m);
    let Some((interface, rest)) = n.args().split_first() else {
        return Err(bad("requires an interface".into()));
    };
    if interface.len() >= IFNAME_MAX {
        return Err(bad(format!("interface name {interface:?} too long")));
    }
    let mut d = LvsSyncDaemon {
        interface: interface.clone(),
        instance: None,
        sync_id: None,
        max_len: None,
        port: None,
        ttl: None,
        group: None,
        loc: n.loc.clone(),
    };
    let mut i = 0;
    while i < rest.len() {
        let word = rest[i].as_str();
        let value = rest.get(i + 1).map(String::as_str);
        let needs = |what: &str| bad(format!("no value for {what}"));
        match word {
            "inst" => d.instance = Some(value.ok_or_else(|| needs("inst"))?.to_owned()),
            "id" => {
                d.sync_id = Some(number(
                    n,
                    value.ok_or_else(|| needs("id"))?,
                    "a sync id (0-255)",
                )?)
            }
            "maxlen" => {
                let v: u16 = number(n, value.ok_or_else(|| needs("maxlen"))?, "a length")?;
                // 65535 less the IP and UDP headers.
                if !(1..=65535 - 20 - 8).contains(&v) {
                    return Err(bad(format!("maxlen {v} is not 1-65507")));
                }
                d.max_len = Some(v);
            }
            "port" => {
                let v: u16 = number(n, value.ok_or_else(|| needs("port"))?, "a port")?;
                if v == 0 {
                    return Err(bad("port 0".into()));
                }
                d.port = Some(v);
            }
            "ttl" => {
                let v: u8 = number(n, value.ok_or_else(|| needs("ttl"))?, "a TTL (1-255)")?;
                if v == 0 {
                    return Err(bad("ttl 0".into()));
                }
                d.ttl = Some(v);
            }
            "group" => {
                let v: IpAddr = number(n, value.ok_or_else(|| needs("group"))?, "an address")?;
                if !v.is_multicast() {
                    return Err(bad(format!("group {v} is not a multicast address")));
                }
                d.group = Some(v);
            }
            // keepalived's older positional form: IF INSTANCE [SYNC_ID].
            _ if i == 0 => {
                d.instance = Some(word.to_owned());
                i += 1;
                continue;
            }
            _ if i == 1 => {
                ctx.warn(n, "use the keyword \"id\" before the sync id");
                d.sync_id = Some(number(n, word, "a sync id (0-255)")?);
                i += 1;
                continue;
            }
            other => return Err(bad(format!("unknown option {other:?}"))),
        }
        i += 2;
    }
    Ok(d)
}

/// The instance an `lvs_sync_daemon` follows must exist (keepalived clears the sync daemon
/// with an error; a typo should not silently leave connections unsynced).
pub(super) fn check(g: &GlobalDefs, instances: &[VrrpInstance]) -> Result<(), ConfError> {
    let Some(d) = &g.lvs_sync_daemon else {
        return Ok(());
    };
    match &d.instance {
        Some(name) if !instances.iter().any(|i| &i.name == name) => Err(ConfError::invalid(
            &d.loc,
            "lvs_sync_daemon",
            format!("no vrrp_instance named {name}"),
        )),
        _ => Ok(()),
    }
}
