//! IPVS services for each virtual server (one per address or mark of a
//! `virtual_server_group`), kept by `healthcheck`'s [`IpvsPool`].

use std::net::{IpAddr, SocketAddr};

use healthcheck::sink::{IpvsPool, Pool, PoolSink};
use ipvs_sys::{Family, ForwardMethod, IpvsHandle, Scheduler, Service, ServiceKey};

use super::plan::ServicePlan;
use keepalived_conf::{KeepalivedConf, LbKind, Protocol, VirtualServer, VsAddress};

/// The kernel tables of one virtual server.
pub(super) type Sinks = Vec<PoolSink<IpvsPool>>;

fn keys(conf: &KeepalivedConf, vs: &VirtualServer) -> Vec<ServiceKey> {
    let protocol = match vs.protocol {
        Protocol::Tcp => ipvs_sys::Protocol::Tcp,
        Protocol::Udp => ipvs_sys::Protocol::Udp,
        Protocol::Sctp => ipvs_sys::Protocol::Sctp,
    };
    let inet = |addr: SocketAddr| ServiceKey::Inet { protocol, addr };
    let family = match vs.real_servers.first().map(|r| r.addr.ip()) {
        Some(IpAddr::V6(_)) => Family::Inet6,
        _ => Family::Inet,
    };
    match &vs.addr {
        VsAddress::Inet(a) => vec![inet(*a)],
        VsAddress::Fwmark(mark) => vec![ServiceKey::Fwmark {
            family,
            mark: *mark,
        }],
        VsAddress::Group(name) => conf
            .vs_groups
            .iter()
            .filter(|g| &g.name == name)
            .flat_map(|g| {
                g.addrs.iter().map(|a| inet(*a)).chain(
                    g.fwmarks
                        .iter()
                        .map(|&mark| ServiceKey::Fwmark { family, mark }),
                )
            })
            .collect(),
    }
}

/// Builds and starts (creating or restoring the services) the kernel tables of every
/// virtual server, in the order of `plans`.
pub(super) async fn start(
    conf: &KeepalivedConf,
    plans: &[ServicePlan],
) -> Result<Vec<Sinks>, String> {
    let handle = IpvsHandle::new().await.map_err(|e| format!("ipvs: {e}"))?;
    let mut out = Vec::new();
    for (vs, plan) in conf.virtual_servers.iter().zip(plans) {
        let scheduler: Scheduler = vs
            .lb_algo
            .parse()
            .map_err(|_| format!("{}: lb_algo: {:?} is not a scheduler", vs.loc, vs.lb_algo))?;
        let forward = match vs.lb_kind {
            LbKind::Nat => ForwardMethod::Masquerade,
            LbKind::Dr => ForwardMethod::DirectRoute,
            LbKind::Tun => ForwardMethod::Tunnel(Default::default()),
        };
        let mut sinks = Vec::new();
        for key in keys(conf, vs) {
            let mut service = Service::new(key, scheduler.clone());
            if let Some(t) = vs.persistence_timeout {
                service = service.persistent(t);
            }
            let pool = Pool::new(
                plan.pool.clone(),
                plan.reals.iter().map(|r| (r.dest, r.initial)),
            )
            .map_err(|e| format!("{}: virtual_server: {e}", vs.loc))?;
            let mut sink = PoolSink::new(pool, IpvsPool::new(handle.clone(), service, forward));
            sink.startup()
                .await
                .map_err(|e| format!("{}: virtual_server: ipvs: {e}", vs.loc))?;
            sinks.push(sink);
        }
        out.push(sinks);
    }
    Ok(out)
}
