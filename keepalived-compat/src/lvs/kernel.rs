//! IPVS services for each virtual server (one per address or mark of a
//! `virtual_server_group`), kept by `healthcheck`'s [`IpvsPool`].

use std::net::{IpAddr, SocketAddr};

use healthcheck::sink::{Dest, IpvsPool, Pool, PoolSink};
use ipvs_sys::{
    Destination, Family, ForwardMethod, IpvsHandle, Scheduler, Service, ServiceFlags, ServiceKey,
};

use super::events::Lvs;
use super::reload::Origins;
use keepalived_conf::{
    Granularity, KeepalivedConf, LbKind, LvsMethod, Protocol, TunnelCsum, TunnelType,
    VirtualServer, VsAddress,
};

/// The kernel tables of one virtual server.
type Sinks = Vec<PoolSink<IpvsPool>>;

/// The kernel tables of every virtual server, in configuration order, and the netlink
/// handle they share.
pub(super) struct Kernel {
    handle: IpvsHandle,
    tables: Vec<Sinks>,
}

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

/// keepalived's forwarding method with its tunnel options, as IPVS takes it.
fn forward_method(method: LvsMethod) -> ForwardMethod {
    match method.kind {
        LbKind::Nat => ForwardMethod::Masquerade,
        LbKind::Dr => ForwardMethod::DirectRoute,
        LbKind::Tun => ForwardMethod::Tunnel(ipvs_sys::Tunnel {
            kind: match method.tunnel.kind {
                TunnelType::Gue => ipvs_sys::TunnelType::Gue,
                TunnelType::Gre => ipvs_sys::TunnelType::Gre,
                _ => ipvs_sys::TunnelType::Ipip,
            },
            port: method.tunnel.port,
            csum: match method.tunnel.csum {
                TunnelCsum::Csum => ipvs_sys::TunnelCsum::Csum,
                TunnelCsum::RemCsum => ipvs_sys::TunnelCsum::RemCsum,
                _ => ipvs_sys::TunnelCsum::NoCsum,
            },
        }),
    }
}

/// The IPVS services of a virtual server and how they forward.
pub(super) fn services(
    conf: &KeepalivedConf,
    vs: &VirtualServer,
) -> Result<(Vec<Service>, ForwardMethod), String> {
    let scheduler: Scheduler = vs
        .lb_algo
        .parse()
        .map_err(|_| format!("{}: lb_algo: {:?} is not a scheduler", vs.loc, vs.lb_algo))?;
    let forward = forward_method(vs.lvs_method());
    let services = keys(conf, vs)
        .into_iter()
        .map(|key| {
            let mut service = Service::new(key, scheduler.clone());
            if let Some(t) = vs.persistence_timeout {
                service = service.persistent(t);
            }
            match (vs.persistence_granularity, key.family()) {
                (Some(Granularity::Netmask(mask)), Family::Inet) => {
                    service.netmask = u32::from(mask)
                }
                (Some(Granularity::Prefix(len)), Family::Inet6) => service.netmask = u32::from(len),
                _ => {}
            }
            // keepalived clears `ops` on a service by address that is not UDP.
            let udp_or_mark = match key {
                ServiceKey::Inet { protocol, .. } => protocol == ipvs_sys::Protocol::Udp,
                _ => true,
            };
            if vs.ops && udp_or_mark {
                service.flags = service.flags | ServiceFlags::ONEPACKET;
            }
            service
        })
        .collect();
    Ok((services, forward))
}

/// The destinations of real servers with settings of their own (an `lvs_method`, a
/// threshold): each one's forwarding method and thresholds, for [`IpvsPool::with_templates`].
pub(super) fn templates(vs: &VirtualServer) -> Vec<Destination> {
    vs.real_servers
        .iter()
        .filter(|rs| rs.lvs_method.is_some() || rs.uthreshold != 0 || rs.lthreshold != 0)
        .map(|rs| {
            let mut d = Destination::new(rs.addr).forward(forward_method(vs.method_of(rs)));
            d.upper_threshold = rs.uthreshold;
            d.lower_threshold = rs.lthreshold;
            d
        })
        .collect()
}

/// A copy of the pool model `model` (real servers in their current health).
fn copy(model: &Pool) -> Result<Pool, healthcheck::ConfigError> {
    let reals: Vec<_> = model
        .reals()
        .filter_map(|addr| {
            let (health, weight) = model.real(addr)?;
            Some((Dest::new(addr, weight), health))
        })
        .collect();
    Pool::new(model.config().clone(), reals)
}

/// Makes `pool` hold the real servers and settings of `model`.
fn mirror(pool: &mut Pool, model: &Pool) -> Result<(), healthcheck::ConfigError> {
    let stale: Vec<_> = pool.reals().filter(|a| model.real(*a).is_none()).collect();
    for addr in stale {
        pool.remove_real(addr);
    }
    pool.reconfigure(model.config().clone())?;
    for addr in model.reals() {
        if let Some((health, weight)) = model.real(addr)
            && pool.real(addr) != Some((health, weight))
        {
            pool.set_real(Dest::new(addr, weight), health)?;
        }
    }
    Ok(())
}

/// A started table for `service`, following `model`.
async fn table(
    handle: &IpvsHandle,
    vs: &VirtualServer,
    service: Service,
    forward: ForwardMethod,
    model: &Pool,
) -> Result<PoolSink<IpvsPool>, String> {
    let pool = copy(model).map_err(|e| format!("{}: virtual_server: {e}", vs.loc))?;
    let backend = IpvsPool::new(handle.clone(), service, forward).with_templates(templates(vs));
    let mut sink = PoolSink::new(pool, backend);
    sink.startup()
        .await
        .map_err(|e| format!("{}: virtual_server: ipvs: {e}", vs.loc))?;
    Ok(sink)
}

/// Builds and starts (creating or restoring the services) the kernel tables of every
/// virtual server of `lvs`, in configuration order.
pub(super) async fn start(conf: &KeepalivedConf, lvs: &Lvs) -> Result<Kernel, String> {
    let handle = IpvsHandle::new().await.map_err(|e| format!("ipvs: {e}"))?;
    let mut tables = Vec::new();
    for (s, vs) in conf.virtual_servers.iter().enumerate() {
        let model = lvs
            .pool(s)
            .ok_or_else(|| format!("{}: virtual_server: no pool", vs.loc))?;
        let (services, forward) = services(conf, vs)?;
        let mut sinks = Vec::new();
        for service in services {
            sinks.push(table(&handle, vs, service, forward, model).await?);
        }
        tables.push(sinks);
    }
    Ok(Kernel { handle, tables })
}

impl Kernel {
    /// The tables of virtual server `s`.
    pub(super) fn tables_mut(&mut self, s: usize) -> Option<&mut Sinks> {
        self.tables.get_mut(s)
    }

    /// Follows a reload that `lvs` already applied (`origins` from [`Lvs::reload`]): a
    /// service that stays is changed through `apply_service` (only the difference: its
    /// staying destinations, and their connections, are left alone, a new weight is an
    /// update), a new one is created, a removed one deleted. Returns the failures; each
    /// failed table is repaired by its next event.
    pub(super) async fn reload(
        &mut self,
        conf: &KeepalivedConf,
        lvs: &Lvs,
        origins: &Origins,
    ) -> Vec<String> {
        let mut errors = Vec::new();
        let mut old: Vec<Option<Sinks>> = std::mem::take(&mut self.tables)
            .into_iter()
            .map(Some)
            .collect();
        for (s, vs) in conf.virtual_servers.iter().enumerate() {
            let mut previous = origins
                .get(s)
                .copied()
                .flatten()
                .and_then(|o| old.get_mut(o).and_then(Option::take))
                .unwrap_or_default();
            let mut sinks = Vec::new();
            let (Some(model), Ok((services, forward))) = (lvs.pool(s), services(conf, vs)) else {
                errors.push(format!("{}: virtual_server: not reloaded", vs.loc));
                self.tables.push(sinks);
                continue;
            };
            for service in services {
                let key = service.key;
                match previous
                    .iter()
                    .position(|p| p.backend().service().key == key)
                {
                    Some(i) => {
                        let mut sink = previous.swap_remove(i);
                        if let Err(e) = mirror(sink.pool_mut(), model) {
                            errors.push(format!("{}: virtual_server: {e}", vs.loc));
                        }
                        sink.backend_mut().reconfigure(service, forward);
                        sink.backend_mut().set_templates(templates(vs));
                        if let Err(e) = sink.resync().await {
                            errors.push(format!("{}: virtual_server: ipvs: {e}", vs.loc));
                        }
                        sinks.push(sink);
                    }
                    None => match table(&self.handle, vs, service, forward, model).await {
                        Ok(sink) => sinks.push(sink),
                        Err(e) => errors.push(e),
                    },
                }
            }
            for stale in previous {
                if let Err(e) = stale.backend().delete_service().await {
                    errors.push(format!("ipvs: {e}"));
                }
            }
            self.tables.push(sinks);
        }
        for gone in old.into_iter().flatten().flatten() {
            if let Err(e) = gone.backend().delete_service().await {
                errors.push(format!("ipvs: {e}"));
            }
        }
        errors
    }

    /// Deletes every service (a graceful stop, as keepalived does).
    pub(super) async fn stop(&self) {
        for sink in self.tables.iter().flatten() {
            if let Err(e) = sink.backend().delete_service().await {
                tracing::warn!("ipvs: {e}");
            }
        }
    }
}
