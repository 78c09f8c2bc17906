//! Who owns a director's VIP, a VRRP instance or an anycast owner, behind the one interface
//! the director's loop needs: tell it the pool's quorum, read what it did, stop it.

use futures::StreamExt;
use futures::stream::BoxStream;
use std::net::IpAddr;
use std::time::Duration;
use vrrp_core::{State, TrackState, TrackedObject, VirtualAddress};
use vrrp_net::DriverError;
use vrrp_net::anycast::{self, Anycast, AnycastError, Owner};
use vrrp_net::driver::{self, Driver, Instance};

/// The tracked object that follows the pool's quorum: a VRRP instance tracks it with
/// `--quorum-track-weight`, an anycast owner always, with weight 0 (withdrawn while the
/// pool has no quorum: by default, while no real server is healthy).
pub const QUORUM_OBJECT: &str = "quorum";

/// The VIP's owner.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Front {
    /// One VRRP instance: the VIP follows mastership.
    Vrrp(driver::Handle),
    /// An anycast owner: the VIP is announced while the pool has quorum.
    Anycast(anycast::Handle),
}

/// Why the owner refused a request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrontError {
    /// From the VRRP driver.
    #[error("vrrp")]
    Vrrp(#[from] DriverError),
    /// From the anycast owner.
    #[error("anycast")]
    Anycast(#[from] AnycastError),
}

/// One thing the owner did, as the director shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// A line for stdout (the director's view: `vrrp VI_51 BACKUP -> MASTER`,
    /// `anycast ANNOUNCED 203.0.113.10 (healthy)`).
    pub line: Option<String>,
    /// A line for stderr (faults).
    pub warning: Option<String>,
    /// The VRRP state just entered (the sync daemons follow it).
    pub vrrp_state: Option<State>,
}

/// The owner's reports, in order; the stream ends when the owner has stopped.
pub type Reports = BoxStream<'static, Report>;

impl Front {
    /// Starts a VRRP driver with `instance`, told the pool's `quorum` before it runs (a
    /// pool without quorum at start never advertises its full priority).
    pub async fn vrrp(
        instance: Instance,
        quorum: TrackState,
    ) -> Result<(Front, Reports), FrontError> {
        let (driver, handle, events) = Driver::builder().instance(instance).build().await?;
        let front = Front::Vrrp(handle);
        front.set_quorum(quorum)?;
        tokio::spawn(driver.run());
        Ok((front, events.map(vrrp_report).boxed()))
    }

    /// Starts an anycast owner of `config` (after removing what a killed predecessor left),
    /// told the pool's `quorum` before it runs, with a crash supervisor that removes the VIP
    /// if this process dies when `crash_supervisor` is set.
    pub async fn anycast(
        config: Anycast,
        quorum: TrackState,
        crash_supervisor: bool,
    ) -> Result<(Front, Reports), FrontError> {
        let (owner, handle, events) = Owner::builder(config)
            .crash_supervisor(crash_supervisor)
            .build()
            .await?;
        let front = Front::Anycast(handle);
        front.set_quorum(quorum)?;
        tokio::spawn(owner.run());
        Ok((front, events.map(anycast_report).boxed()))
    }

    /// Tells the owner whether the pool has quorum. A VRRP instance that does not track the
    /// quorum (no `--quorum-track-weight`) ignores it.
    pub fn set_quorum(&self, state: TrackState) -> Result<(), FrontError> {
        match self {
            Front::Vrrp(vrrp) => match vrrp.set_track_state(QUORUM_OBJECT, state) {
                Ok(()) | Err(DriverError::UnknownTrack(_)) => Ok(()),
                Err(e) => Err(e.into()),
            },
            Front::Anycast(owner) => Ok(owner.set_track_state(QUORUM_OBJECT, state)?),
        }
    }

    /// Stops gracefully: VRRP sends priority 0 and removes the VIP (a backup takes over at
    /// once); anycast withdraws, keeps answering for the drain time while the routers
    /// converge, then removes the VIP. Returns when that is done.
    pub async fn shutdown(&self) -> Result<(), FrontError> {
        match self {
            Front::Vrrp(vrrp) => Ok(vrrp.shutdown().await?),
            Front::Anycast(owner) => Ok(owner.shutdown().await?),
        }
    }
}

/// A director's anycast owner: `vip` on `interface` while tracked object
/// [`QUORUM_OBJECT`] is up (it starts down: nothing is announced before a check found a
/// live real server), answering for `drain` after a withdraw.
pub fn anycast_config(vip: VirtualAddress, interface: &str, drain: Duration) -> Anycast {
    Anycast::new("lvs-director", [vip])
        .interface(interface)
        .track(TrackedObject::new(QUORUM_OBJECT, 0).starting_down())
        .drain(drain)
}

fn vrrp_report(event: driver::Event) -> Report {
    match event {
        driver::Event::StateChanged {
            instance, from, to, ..
        } => Report {
            line: Some(format!("vrrp {instance} {from} -> {to}")),
            vrrp_state: Some(to),
            ..Report::default()
        },
        driver::Event::Fault { instance, fault } => {
            let instance = instance.as_deref().unwrap_or("(shared)");
            Report {
                warning: Some(format!("vrrp {instance} fault: {fault:?}")),
                ..Report::default()
            }
        }
        _ => Report::default(),
    }
}

fn anycast_report(event: anycast::Event) -> Report {
    let line = match event {
        anycast::Event::Announced {
            addresses, reason, ..
        } => format!("anycast ANNOUNCED {} ({reason})", list(&addresses)),
        anycast::Event::Withdrawn {
            addresses, reason, ..
        } => format!("anycast WITHDRAWN {} ({reason})", list(&addresses)),
        anycast::Event::Drained { .. } => "anycast DRAINED".to_owned(),
        anycast::Event::Stopped { .. } => "anycast STOPPED".to_owned(),
        anycast::Event::StaleRemoved { addresses, .. } => {
            format!("anycast removed stale {}", list(&addresses))
        }
        anycast::Event::Fault { fault, .. } => {
            return Report {
                warning: Some(format!("anycast fault: {fault}")),
                ..Report::default()
            };
        }
        _ => return Report::default(),
    };
    Report {
        line: Some(line),
        ..Report::default()
    }
}

fn list(addresses: &[IpAddr]) -> String {
    let text: Vec<String> = addresses.iter().map(ToString::to_string).collect();
    text.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use vrrp_net::anycast::{AnnounceReason, WithdrawReason};

    fn vip() -> Vec<IpAddr> {
        vec![IpAddr::from([203, 0, 113, 10])]
    }

    #[test]
    fn anycast_events_are_one_line_each() {
        let announced = anycast::Event::Announced {
            name: "lvs-director".into(),
            addresses: vip(),
            reason: AnnounceReason::Healthy,
            weight: 100,
        };
        let withdrawn = anycast::Event::Withdrawn {
            name: "lvs-director".into(),
            addresses: vip(),
            reason: WithdrawReason::TrackedDown {
                name: QUORUM_OBJECT.into(),
            },
        };
        let lines: Vec<Option<String>> = [announced, withdrawn]
            .into_iter()
            .map(|e| anycast_report(e).line)
            .collect();
        assert_eq!(
            lines,
            [
                Some("anycast ANNOUNCED 203.0.113.10 (healthy)".to_owned()),
                Some("anycast WITHDRAWN 203.0.113.10 (quorum down)".to_owned()),
            ]
        );
        let weight = anycast::Event::WeightChanged {
            name: "lvs-director".into(),
            from: 100,
            to: 100,
        };
        assert_eq!(anycast_report(weight), Report::default());
    }

    #[test]
    fn the_anycast_vip_waits_for_a_healthy_real_server() {
        let vip = VirtualAddress::host(IpAddr::from([203, 0, 113, 10]));
        let config = anycast_config(vip, "dummy0", Duration::from_millis(200));
        assert_eq!(config.interface, "dummy0");
        assert_eq!(
            config.track,
            [TrackedObject::new(QUORUM_OBJECT, 0).starting_down()]
        );
        assert!(config.validate().is_ok());
    }
}
