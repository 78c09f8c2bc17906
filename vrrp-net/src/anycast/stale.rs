//! What a dead owner leaves behind, and removing it.
//!
//! A process killed with SIGKILL (or a crash) cannot remove its addresses: they stay on `lo`,
//! the node's speaker keeps announcing them, and the routers keep sending connections to a
//! node where nothing listens. Two things undo that:
//! - every [`super::Owner`] removes its addresses (and a drain hold) when it starts, before it
//!   decides anything, so a restarted process never inherits its predecessor's announcement;
//! - [`withdraw_stale`] does the same from outside, for whatever notices the death first: a
//!   crash supervisor, or systemd's `ExecStopPost=` (which runs after the main process
//!   exited, however it exited).

use std::net::IpAddr;

use super::config::Anycast;
use super::error::AnycastError;
use super::hold::{Hold, LocalRoutes};
use crate::link::Links;
use crate::vip::{NetlinkVips, Vip, VipBackend};

/// The kernel addresses of `config` on interface `ifindex`.
pub(super) fn placements(config: &Anycast, ifindex: u32) -> Vec<Vip> {
    config
        .addresses
        .iter()
        .map(|a| Vip::new(ifindex, a.address, a.prefix_len))
        .collect()
}

/// Which of `placed` `links` finds on their interface.
pub(super) async fn present(links: &Links, placed: &[Vip]) -> Result<Vec<IpAddr>, AnycastError> {
    let Some(ifindex) = placed.first().map(|v| v.ifindex) else {
        return Ok(Vec::new());
    };
    let on_interface = links.addresses(ifindex).await?;
    Ok(placed
        .iter()
        .filter(|v| {
            on_interface
                .iter()
                .any(|(a, len, _)| *a == v.addr && *len == v.prefix_len)
        })
        .map(|v| v.addr)
        .collect())
}

/// Removes every address of `placed` and its drain hold; both are idempotent.
pub(super) async fn clear(
    placed: &[Vip],
    vips: &dyn VipBackend,
    hold: &dyn Hold,
) -> Result<(), AnycastError> {
    for vip in placed {
        vips.remove(vip).await?;
        hold.release(vip).await?;
    }
    Ok(())
}

/// Removes what an owner of `config` that is no longer running left on this node: its
/// addresses on [`Anycast::interface`] (so the node's BGP speaker withdraws them) and its
/// drain hold. Returns the addresses that were still there.
///
/// The hook for a supervisor that noticed the owner's process died: call it before starting
/// the process again (the new owner would do it too, but only once it runs). Never call it
/// while the owner runs. Needs `CAP_NET_ADMIN`; must be called inside a tokio runtime.
pub async fn withdraw_stale(config: &Anycast) -> Result<Vec<IpAddr>, AnycastError> {
    config.validate()?;
    let links = Links::new()?;
    let ifindex = links.by_name(&config.interface).await?.index;
    let placed = placements(config, ifindex);
    let found = present(&links, &placed).await?;
    let vips = NetlinkVips::new()?;
    let hold = LocalRoutes::new()?;
    clear(&placed, &vips, &hold).await?;
    Ok(found)
}
