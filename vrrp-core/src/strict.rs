//! keepalived's `vrrp_strict` as keepalived 2.2.7 applies it: what strict mode forbids is
//! reset with a logged error instead of refusing to start.
//!
//! [`Profile::Strict`](crate::config::Profile::Strict) validation refuses a configuration that
//! breaks a strict rule; [`adjust`] is keepalived's gentler way, for a keepalived-compatible
//! front end: it resets each offending field to the RFC behaviour and reports what it did, so
//! the result validates under the strict profile. What keepalived itself refuses (no virtual
//! address) stays refused by validation; unicast peers stay refused as keepalived documents
//! (keepalived 2.2.7 accepted them on a multicast-capable interface; 2.4.0 refuses them).

use core::fmt;
use std::time::Duration;

use crate::config::{RouterConfig, StartupState};
use crate::types::Version;
use crate::wire::Auth;

/// One field that [`adjust`] reset; `Display` gives keepalived 2.2.7's log wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StrictAdjustment {
    /// `state MASTER` on a non-owner: started as backup (RFC 9568 §6.4.1).
    StartupMaster,
    /// Authentication ignored (RFC 9568 removed it; RFC 3768 §5.3.6 discourages it).
    Authentication,
    /// `preempt_delay` reset to 0 (not in the RFCs).
    PreemptDelay,
    /// `down_timer_adverts` reset to 3 (RFC 9568 §6.1 Master_Down_Interval).
    DownTimerAdverts,
    /// A master no longer answers lower-priority adverts (RFC 9568 §6.4.3: discard them).
    LowerPriorityAdvert,
    /// A master no longer sends an advert before yielding (RFC 9568 §6.4.3).
    HigherPrioritySendAdvert,
    /// Accept_Mode turned off for VRRPv2 on a non-owner (RFC 3768 has no Accept_Mode).
    AcceptModeV2,
}

impl fmt::Display for StrictAdjustment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::StartupMaster => "State MASTER must match being address owner",
            Self::Authentication => "Strict mode does not support authentication. Ignoring.",
            Self::PreemptDelay => "preempt_delay is incompatible with strict mode - resetting",
            Self::DownTimerAdverts => {
                "down_timer_adverts is incompatible with strict mode - resetting"
            }
            Self::LowerPriorityAdvert => "Strict mode requires no lower priority advert. resetting",
            Self::HigherPrioritySendAdvert => {
                "strict mode requires higher_prio_send_advert to be clear. resetting"
            }
            Self::AcceptModeV2 => {
                "warning - accept mode for VRRP version 2 does not comply with RFC3768 - resetting"
            }
        })
    }
}

/// Resets in `config` what strict mode forbids, in keepalived 2.2.7's order, and returns what
/// it changed (empty when nothing did).
pub fn adjust(config: &mut RouterConfig) -> Vec<StrictAdjustment> {
    let mut done = Vec::new();
    let owner = config.priority.is_owner();
    if config.startup == StartupState::Master && !owner {
        config.startup = StartupState::Rfc;
        done.push(StrictAdjustment::StartupMaster);
    }
    if config.auth != Auth::None {
        config.auth = Auth::None;
        done.push(StrictAdjustment::Authentication);
    }
    if !config.preempt_delay.is_zero() {
        config.preempt_delay = Duration::ZERO;
        done.push(StrictAdjustment::PreemptDelay);
    }
    if config.down_timer_adverts != 3 {
        config.down_timer_adverts = 3;
        done.push(StrictAdjustment::DownTimerAdverts);
    }
    if config.accept_mode && !owner && config.version == Version::V2 {
        config.accept_mode = false;
        done.push(StrictAdjustment::AcceptModeV2);
    }
    if config.lower_prio_advert {
        config.lower_prio_advert = false;
        done.push(StrictAdjustment::LowerPriorityAdvert);
    }
    if config.higher_prio_send_advert {
        config.higher_prio_send_advert = false;
        done.push(StrictAdjustment::HigherPrioritySendAdvert);
    }
    done
}
