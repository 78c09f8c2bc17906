//! From `virtual_server` blocks to `healthcheck` targets and pools, the way keepalived reads
//! each keyword.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use healthcheck::sink::{Dest, PoolConfig};
use healthcheck::{Health, Schedule, ScheduleBuilder, Target};

use super::{LvsError, checks};
use keepalived_conf::{
    CheckTiming, Checker, CheckerKind, ConfWarning, KeepalivedConf, Location, Protocol, RealServer,
    ScriptCommand, VirtualServer, VsAddress,
};

/// One real server of a service: its pool entry, its check target and its scripts.
#[derive(Debug)]
pub(crate) struct RealPlan {
    /// Where the `real_server` block starts.
    pub(crate) loc: Location,
    /// keepalived's name for it in notifications: `[192.0.2.21]:tcp:80`.
    pub(crate) label: String,
    /// Its pool entry (address and configured weight).
    pub(crate) dest: Dest,
    /// Starting health (down with `alpha`).
    pub(crate) initial: Health,
    /// Its checks; `None` when the real server has no checker (always up).
    pub(crate) target: Option<Target>,
    /// Its checker blocks without locations and timing: a reload keeps the running checks
    /// (and their state) when these are equal.
    pub(crate) checkers: Vec<Checker>,
    /// `notify_up`.
    pub(crate) notify_up: Option<ScriptCommand>,
    /// `notify_down`.
    pub(crate) notify_down: Option<ScriptCommand>,
}

/// When a virtual server's checkers are suspended (`ha_suspend`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HaSuspend {
    /// No `ha_suspend`: they always run.
    Off,
    /// While this address is on no local interface.
    Address(IpAddr),
    /// Always: keepalived 2.2.7 matches no address of a `virtual_server group`, so their
    /// checkers never come out of suspension.
    Group,
}

/// One virtual server: its pool settings, real servers and quorum scripts.
#[derive(Debug)]
pub(crate) struct ServicePlan {
    /// Where the `virtual_server` block starts.
    pub(crate) loc: Location,
    /// keepalived's name for it in notifications: `[192.0.2.15]:tcp:80`, `FWM 1`,
    /// `[GROUP]:0`.
    pub(crate) label: String,
    /// Quorum, hysteresis, sorry server, `inhibit_on_failure`.
    pub(crate) pool: PoolConfig,
    /// The real servers, in file order.
    pub(crate) reals: Vec<RealPlan>,
    /// `quorum_up`.
    pub(crate) quorum_up: Option<ScriptCommand>,
    /// `quorum_down`.
    pub(crate) quorum_down: Option<ScriptCommand>,
    /// `ha_suspend`.
    pub(crate) ha_suspend: HaSuspend,
}

/// keepalived's `[ADDRESS]:PROTOCOL:PORT`.
pub(crate) fn trio(addr: SocketAddr, protocol: Protocol) -> String {
    format!("[{}]:{}:{}", addr.ip(), protocol.name(), addr.port())
}

/// keepalived's name of a virtual server in notifications.
pub(crate) fn vs_label(vs: &VirtualServer) -> String {
    match &vs.addr {
        VsAddress::Inet(a) => trio(*a, vs.protocol),
        VsAddress::Fwmark(m) => format!("FWM {m}"),
        VsAddress::Group(g) => format!("[{g}]:0"),
    }
}

/// The plan for every virtual server of `conf`, and what it could not honour (located).
pub(crate) fn services(
    conf: &KeepalivedConf,
) -> Result<(Vec<ServicePlan>, Vec<ConfWarning>), LvsError> {
    let mut warnings = Vec::new();
    let mut out = Vec::new();
    for vs in &conf.virtual_servers {
        out.push(service(vs, &mut warnings)?);
    }
    Ok((out, warnings))
}

fn service(vs: &VirtualServer, warnings: &mut Vec<ConfWarning>) -> Result<ServicePlan, LvsError> {
    let label = vs_label(vs);
    if vs.omega {
        warnings.push(ConfWarning {
            loc: vs.loc.clone(),
            keyword: "omega".to_owned(),
            message: "has no effect: this daemon sends no notifications when it stops".to_owned(),
        });
    }
    let ha_suspend = match (&vs.addr, vs.ha_suspend) {
        (_, false) => HaSuspend::Off,
        (VsAddress::Inet(a), true) => HaSuspend::Address(a.ip()),
        // The parser refuses ha_suspend with a firewall mark, as keepalived does.
        (VsAddress::Fwmark(_), true) => HaSuspend::Off,
        (VsAddress::Group(_), true) => HaSuspend::Group,
    };
    if ha_suspend != HaSuspend::Off && cfg!(not(feature = "vrrp")) {
        warnings.push(ConfWarning {
            loc: vs.loc.clone(),
            keyword: "ha_suspend".to_owned(),
            message: "has no effect in this build (no feature vrrp, which follows the local \
                      addresses): the checkers run whether or not the virtual address is local"
                .to_owned(),
        });
    } else if ha_suspend == HaSuspend::Group {
        warnings.push(ConfWarning {
            loc: vs.loc.clone(),
            keyword: "ha_suspend".to_owned(),
            message: format!(
                "keepalived 2.2.7 matches no address of a virtual_server_group: the \
                 checkers of {label} stay suspended"
            ),
        });
    }
    let mut reals = Vec::new();
    for rs in &vs.real_servers {
        if let Some(inhibit) = rs.inhibit_on_failure
            && inhibit != vs.inhibit_on_failure
        {
            warnings.push(ConfWarning {
                loc: rs.loc.clone(),
                keyword: "inhibit_on_failure".to_owned(),
                message: format!(
                    "healthcheck's pool applies inhibit_on_failure to a whole virtual server; \
                     {label} uses {}",
                    vs.inhibit_on_failure
                ),
            });
        }
        reals.push(real(vs, rs, &label, warnings)?);
    }
    let mut pool = PoolConfig::default()
        .quorum(vs.quorum)
        .hysteresis(vs.hysteresis)
        .inhibit_on_failure(vs.inhibit_on_failure);
    if let Some(addr) = vs.sorry_server {
        pool = pool.sorry_server(Dest { addr, weight: 1 });
    }
    Ok(ServicePlan {
        loc: vs.loc.clone(),
        pool,
        label,
        reals,
        quorum_up: vs.quorum_up.clone(),
        quorum_down: vs.quorum_down.clone(),
        ha_suspend,
    })
}

fn real(
    vs: &VirtualServer,
    rs: &RealServer,
    vs_label: &str,
    warnings: &mut Vec<ConfWarning>,
) -> Result<RealPlan, LvsError> {
    let label = trio(rs.addr, vs.protocol);
    let initial = if vs.alpha && !rs.checkers.is_empty() {
        Health::Down
    } else {
        Health::Up
    };
    let target = match rs.checkers.first() {
        None => None,
        Some(first) => {
            let timing = first.timing.or(&rs.timing).or(&vs.timing);
            let mut schedule = schedule(&timing, initial);
            if let CheckerKind::Misc {
                timeout: Some(t), ..
            } = &first.kind
            {
                schedule = schedule.timeout(*t);
            }
            // The only check of the whole schedule (a `misc_timeout` of 0 fails here),
            // reported where the scheduler used to report it.
            let schedule = schedule
                .build()
                .map_err(|e| LvsError::new(&rs.loc, "real_server", e.to_string()))?;
            let mut target = Target::new(format!("{label} {vs_label}"), rs.addr)
                .weight(rs.weight)
                .schedule(schedule);
            for c in &rs.checkers {
                if c.timing.or(&rs.timing).or(&vs.timing) != timing {
                    warnings.push(ConfWarning {
                        loc: c.loc.clone(),
                        keyword: checks::keyword(&c.kind).to_owned(),
                        message: "healthcheck runs all checkers of a real server on one \
                                  schedule; this one uses the first checker's timing"
                            .to_owned(),
                    });
                }
                target.checks.push(checks::check(rs, c)?);
            }
            Some(target)
        }
    };
    Ok(RealPlan {
        loc: rs.loc.clone(),
        label,
        dest: Dest {
            addr: rs.addr,
            weight: rs.weight,
        },
        initial,
        target,
        checkers: checker_key(rs),
        notify_up: rs.notify_up.clone(),
        notify_down: rs.notify_down.clone(),
    })
}

/// What decides whether a reload changed a real server's checks: its checker blocks with
/// locations (a moved block is the same block) and timing (compared as a schedule) blanked.
fn checker_key(rs: &RealServer) -> Vec<Checker> {
    let nowhere = Location {
        file: Arc::new(PathBuf::new()),
        line: 0,
    };
    rs.checkers
        .iter()
        .map(|c| {
            let mut c = c.clone();
            c.loc = nowhere.clone();
            c.timing = CheckTiming::default();
            if let CheckerKind::Http { urls, .. } = &mut c.kind {
                for u in urls {
                    u.loc = nowhere.clone();
                }
            }
            c
        })
        .collect()
}

/// keepalived's checker timing with its defaults: `delay_loop` 60 s, `connect_timeout` 5 s,
/// `retry` 1, `delay_before_retry` 1 s, first probe within `warmup` (default: one
/// `delay_loop`). Unvalidated: the caller applies a checker's own timeout, then builds.
pub(crate) fn schedule(timing: &CheckTiming, initial: Health) -> ScheduleBuilder {
    let base = Schedule::keepalived();
    let interval = timing.delay_loop.unwrap_or(base.interval);
    let timeout = timing.connect_timeout.unwrap_or(base.timeout);
    let retries = timing.retry.unwrap_or(base.retries);
    let delay_before_retry = timing.delay_before_retry.unwrap_or(base.delay_before_retry);
    base.into_builder()
        .interval(interval)
        .timeout(timeout)
        .retries(retries)
        .delay_before_retry(delay_before_retry)
        .warmup(timing.warmup.unwrap_or(interval))
        .initial(initial)
}
