//! How a director's virtual service picks real servers, for each way of owning the VIP.
//!
//! With VRRP one director schedules every flow, so any scheduler works. In anycast mode the
//! routers spread flows over every director by ECMP and move some of them when the set of
//! directors changes; a moved flow that no connection sync carried yet must reach the same
//! real server from its new director. That takes a scheduler that is a pure function of the
//! packet and the table: IPVS `mh` (Maglev hashing), whose lookup table every director
//! computes alike (the kernel's hash keys are constants).
//!
//! The kernel builds that table by walking the service's destination list, and the list
//! order is the order the destinations were added in (newest first): a real server that
//! left and came back sits elsewhere in the list, and the tables of two directors that saw
//! different failures would differ. Anycast mode therefore never removes a failed real
//! server: it stays at weight 0 (keepalived's `inhibit_on_failure`), where `mh` keeps its
//! slots (the kernel's `last_weight`), and `mh-fallback` sends its flows on along their hash
//! chain, the same way on every director. When it comes back, its flows come back to it.

use clap::ValueEnum;
use ipvs_sys::{Scheduler, Service, ServiceFlags};

/// How the director owns the VIP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum)]
#[non_exhaustive]
pub enum Mode {
    /// VRRP: one active director, the others take over.
    Vrrp,
    /// Anycast: every healthy director is active; the VIP is on `lo` (or a dummy interface)
    /// for the node's BGP speaker to announce, and withdrawn while no real server is healthy.
    Anycast,
}

/// A virtual service's scheduler and scheduler flags.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Scheduling {
    /// The scheduler.
    pub scheduler: Scheduler,
    /// Its flags (`mh-port`, `mh-fallback`).
    pub flags: ServiceFlags,
    /// Whether failed real servers stay in the table at weight 0 instead of leaving it.
    pub inhibit_on_failure: bool,
}

/// A scheduling the mode cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchedulingError {
    /// `--mh-port` / `--mh-fallback` with another scheduler.
    #[error("{flag} is a flag of the mh scheduler, not of {scheduler}")]
    FlagNeedsMh {
        /// The flag.
        flag: &'static str,
        /// The scheduler given.
        scheduler: Scheduler,
    },
    /// Anycast mode with a scheduler that is not `mh`.
    #[error(
        "anycast mode needs --scheduler mh (every director must pick the same real server \
         for a flow), not {0}"
    )]
    AnycastNeedsMh(Scheduler),
}

/// What the command line asked for.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Requested {
    /// `--scheduler`, if given.
    pub scheduler: Option<Scheduler>,
    /// `--mh-port`: hash the source port too, not only the source address.
    pub mh_port: bool,
    /// `--mh-fallback`: a flow whose real server is unavailable goes to the next one of its
    /// hash chain instead of being refused.
    pub mh_fallback: bool,
    /// `--inhibit-on-failure`.
    pub inhibit_on_failure: bool,
}

impl Scheduling {
    /// The scheduling of `mode` for `requested`: VRRP takes any scheduler (`wrr` by
    /// default); anycast takes `mh` only (the default), always with `mh-fallback` and
    /// failed real servers kept at weight 0 (see the module documentation).
    pub fn for_mode(mode: Mode, requested: &Requested) -> Result<Scheduling, SchedulingError> {
        let scheduler = requested.scheduler.clone().unwrap_or(match mode {
            Mode::Vrrp => Scheduler::WeightedRoundRobin,
            Mode::Anycast => Scheduler::MaglevHashing,
        });
        if scheduler != Scheduler::MaglevHashing {
            if mode == Mode::Anycast {
                return Err(SchedulingError::AnycastNeedsMh(scheduler));
            }
            for (on, flag) in [
                (requested.mh_port, "--mh-port"),
                (requested.mh_fallback, "--mh-fallback"),
            ] {
                if on {
                    return Err(SchedulingError::FlagNeedsMh { flag, scheduler });
                }
            }
        }
        let anycast = mode == Mode::Anycast;
        let mut flags = ServiceFlags::NONE;
        if requested.mh_port {
            flags = flags | ServiceFlags::MH_PORT;
        }
        if requested.mh_fallback || anycast {
            flags = flags | ServiceFlags::MH_FALLBACK;
        }
        Ok(Scheduling {
            scheduler,
            flags,
            inhibit_on_failure: requested.inhibit_on_failure || anycast,
        })
    }

    /// `service` with this scheduler and these flags (its other flags kept).
    pub fn apply(&self, mut service: Service) -> Service {
        service.scheduler = self.scheduler.clone();
        service.flags = service.flags | self.flags;
        service
    }
}

/// The scheduler as ipvsadm lists it: `mh`, or `mh (mh-fallback,mh-port)` with flags.
pub fn scheduler_text(service: &Service) -> String {
    let mut names = Vec::new();
    if service.scheduler == Scheduler::MaglevHashing {
        if service.flags.contains(ServiceFlags::MH_FALLBACK) {
            names.push("mh-fallback");
        }
        if service.flags.contains(ServiceFlags::MH_PORT) {
            names.push("mh-port");
        }
    }
    if names.is_empty() {
        service.scheduler.name().to_owned()
    } else {
        format!("{} ({})", service.scheduler.name(), names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipvs_sys::ServiceKey;

    fn requested(scheduler: Option<Scheduler>, mh_port: bool, mh_fallback: bool) -> Requested {
        Requested {
            scheduler,
            mh_port,
            mh_fallback,
            inhibit_on_failure: false,
        }
    }

    #[test]
    fn vrrp_keeps_wrr_by_default_and_takes_any_scheduler() {
        let s = Scheduling::for_mode(Mode::Vrrp, &Requested::default());
        assert_eq!(
            s,
            Ok(Scheduling {
                scheduler: Scheduler::WeightedRoundRobin,
                flags: ServiceFlags::NONE,
                inhibit_on_failure: false,
            })
        );
        let rr = requested(Some(Scheduler::RoundRobin), false, false);
        assert!(Scheduling::for_mode(Mode::Vrrp, &rr).is_ok());
    }

    #[test]
    fn mh_flags_need_mh() {
        let wrong = requested(Some(Scheduler::SourceHashing), true, false);
        assert_eq!(
            Scheduling::for_mode(Mode::Vrrp, &wrong),
            Err(SchedulingError::FlagNeedsMh {
                flag: "--mh-port",
                scheduler: Scheduler::SourceHashing
            })
        );
        let mh = requested(Some(Scheduler::MaglevHashing), true, true);
        let s = Scheduling::for_mode(Mode::Vrrp, &mh);
        assert_eq!(
            s.map(|s| s.flags),
            Ok(ServiceFlags::MH_PORT | ServiceFlags::MH_FALLBACK)
        );
    }

    /// Anycast: mh by default, fallback and inhibit always, other schedulers refused.
    #[test]
    fn anycast_is_mh_with_fallback_and_inhibit() {
        let s = Scheduling::for_mode(Mode::Anycast, &requested(None, true, false));
        assert_eq!(
            s,
            Ok(Scheduling {
                scheduler: Scheduler::MaglevHashing,
                flags: ServiceFlags::MH_PORT | ServiceFlags::MH_FALLBACK,
                inhibit_on_failure: true,
            })
        );
        let wrr = requested(Some(Scheduler::WeightedRoundRobin), false, false);
        assert_eq!(
            Scheduling::for_mode(Mode::Anycast, &wrr),
            Err(SchedulingError::AnycastNeedsMh(
                Scheduler::WeightedRoundRobin
            ))
        );
    }

    #[test]
    fn scheduler_text_is_ipvsadms() {
        let key = ServiceKey::tcp(std::net::SocketAddr::from(([203, 0, 113, 10], 80)));
        let plain = Service::new(key, Scheduler::WeightedRoundRobin);
        assert_eq!(scheduler_text(&plain), "wrr");
        let mh = Scheduling::for_mode(Mode::Anycast, &requested(None, true, false));
        let mh = mh.map(|s| s.apply(plain.clone().persistent(300)));
        let mh = mh.as_ref().map(scheduler_text);
        assert_eq!(mh.as_deref(), Ok("mh (mh-fallback,mh-port)"));
    }
}
