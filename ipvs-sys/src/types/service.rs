//! Virtual services: key, scheduler, flags, persistence.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::ops::BitOr;

use super::{Scheduler, Stats};
use crate::constants::*;
use crate::error::Error;
use crate::nla::{InetAddr, ServiceAttr, ServiceFlagsAttr};

/// Address family of a service or destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// `AF_INET`.
    Inet,
    /// `AF_INET6`.
    Inet6,
}

impl Family {
    /// The family of an address.
    pub fn of(ip: IpAddr) -> Self {
        if ip.is_ipv4() {
            Family::Inet
        } else {
            Family::Inet6
        }
    }

    pub(crate) fn to_af(self) -> u16 {
        match self {
            Family::Inet => AF_INET,
            Family::Inet6 => AF_INET6,
        }
    }

    pub(crate) fn from_af(af: u16) -> Result<Self, Error> {
        match af {
            AF_INET => Ok(Family::Inet),
            AF_INET6 => Ok(Family::Inet6),
            other => Err(Error::Unsupported {
                what: "address family",
                value: other.into(),
            }),
        }
    }

    pub(crate) fn ip(self, addr: InetAddr) -> IpAddr {
        match self {
            Family::Inet => IpAddr::V4(addr.to_ipv4()),
            Family::Inet6 => IpAddr::V6(addr.to_ipv6()),
        }
    }
}

/// Transport protocol of an address-based service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// `IPPROTO_TCP`.
    Tcp,
    /// `IPPROTO_UDP`.
    Udp,
    /// `IPPROTO_SCTP`.
    Sctp,
}

impl Protocol {
    pub(crate) fn number(self) -> u16 {
        match self {
            Protocol::Tcp => IPPROTO_TCP,
            Protocol::Udp => IPPROTO_UDP,
            Protocol::Sctp => IPPROTO_SCTP,
        }
    }

    pub(crate) fn from_number(n: u16) -> Result<Self, Error> {
        match n {
            IPPROTO_TCP => Ok(Protocol::Tcp),
            IPPROTO_UDP => Ok(Protocol::Udp),
            IPPROTO_SCTP => Ok(Protocol::Sctp),
            other => Err(Error::Unsupported {
                what: "protocol",
                value: other.into(),
            }),
        }
    }

    /// `tcp`, `udp` or `sctp`.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        }
    }
}

/// What identifies a virtual service in the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServiceKey {
    /// Protocol, virtual address and port (the address says the family).
    Inet {
        /// Transport protocol.
        protocol: Protocol,
        /// Virtual address and port.
        addr: SocketAddr,
    },
    /// A firewall mark, per family.
    Fwmark {
        /// Family of the destinations this service schedules to.
        family: Family,
        /// The mark.
        mark: u32,
    },
}

impl ServiceKey {
    /// A TCP service.
    pub fn tcp(addr: SocketAddr) -> Self {
        ServiceKey::Inet {
            protocol: Protocol::Tcp,
            addr,
        }
    }

    /// A UDP service.
    pub fn udp(addr: SocketAddr) -> Self {
        ServiceKey::Inet {
            protocol: Protocol::Udp,
            addr,
        }
    }

    /// An SCTP service.
    pub fn sctp(addr: SocketAddr) -> Self {
        ServiceKey::Inet {
            protocol: Protocol::Sctp,
            addr,
        }
    }

    /// A firewall-mark service.
    pub fn fwmark(family: Family, mark: u32) -> Self {
        ServiceKey::Fwmark { family, mark }
    }

    /// The service's address family.
    pub fn family(&self) -> Family {
        match self {
            ServiceKey::Inet { addr, .. } => Family::of(addr.ip()),
            ServiceKey::Fwmark { family, .. } => *family,
        }
    }

    /// The virtual port (0 for fwmark services).
    pub fn port(&self) -> u16 {
        match self {
            ServiceKey::Inet { addr, .. } => addr.port(),
            ServiceKey::Fwmark { .. } => 0,
        }
    }

    /// The attributes that select this service in a request.
    pub(crate) fn to_attrs(self) -> Vec<ServiceAttr> {
        let af = ServiceAttr::Af(self.family().to_af());
        match self {
            ServiceKey::Inet { protocol, addr } => vec![
                af,
                ServiceAttr::Protocol(protocol.number()),
                ServiceAttr::Addr(addr.ip().into()),
                ServiceAttr::Port(addr.port()),
            ],
            ServiceKey::Fwmark { mark, .. } => vec![af, ServiceAttr::Fwmark(mark)],
        }
    }
}

impl fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceKey::Inet { protocol, addr } => write!(f, "{} {addr}", protocol.name()),
            ServiceKey::Fwmark {
                family: Family::Inet,
                mark,
            } => write!(f, "fwmark {mark}"),
            ServiceKey::Fwmark {
                family: Family::Inet6,
                mark,
            } => write!(f, "fwmark {mark} ipv6"),
        }
    }
}

/// Virtual service flags (`IP_VS_SVC_F_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ServiceFlags(pub u32);

impl ServiceFlags {
    /// No flags.
    pub const NONE: Self = Self(0);
    /// `IP_VS_SVC_F_PERSISTENT`: persistent service (set by a persistence timeout).
    pub const PERSISTENT: Self = Self(IP_VS_SVC_F_PERSISTENT);
    /// `IP_VS_SVC_F_HASHED`: set by the kernel on every listed service.
    pub const HASHED: Self = Self(IP_VS_SVC_F_HASHED);
    /// `IP_VS_SVC_F_ONEPACKET`: one-packet scheduling (UDP).
    pub const ONEPACKET: Self = Self(IP_VS_SVC_F_ONEPACKET);
    /// `IP_VS_SVC_F_SCHED1`: scheduler flag 1.
    pub const SCHED1: Self = Self(IP_VS_SVC_F_SCHED1);
    /// `IP_VS_SVC_F_SCHED2`: scheduler flag 2.
    pub const SCHED2: Self = Self(IP_VS_SVC_F_SCHED2);
    /// `IP_VS_SVC_F_SCHED3`: scheduler flag 3.
    pub const SCHED3: Self = Self(IP_VS_SVC_F_SCHED3);
    /// `sh-fallback` (`sh` scheduler): scheduler flag 1.
    pub const SH_FALLBACK: Self = Self::SCHED1;
    /// `sh-port` (`sh` scheduler): scheduler flag 2.
    pub const SH_PORT: Self = Self::SCHED2;
    /// `mh-fallback` (`mh` scheduler): scheduler flag 1.
    pub const MH_FALLBACK: Self = Self::SCHED1;
    /// `mh-port` (`mh` scheduler): scheduler flag 2.
    pub const MH_PORT: Self = Self::SCHED2;

    /// Whether every flag of `other` is set.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// These flags without `other`'s.
    pub fn without(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }
}

impl BitOr for ServiceFlags {
    type Output = Self;

    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

/// A virtual service's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Service {
    /// What identifies it.
    pub key: ServiceKey,
    /// Scheduling algorithm.
    pub scheduler: Scheduler,
    /// Flags; `HASHED` is the kernel's own and ignored in requests and comparisons.
    pub flags: ServiceFlags,
    /// Persistence timeout in seconds (meaningful with [`ServiceFlags::PERSISTENT`]).
    pub timeout: u32,
    /// Persistence netmask: for IPv4 the mask as a number (`0xffff_ff00` for /24), for IPv6
    /// the prefix length. [`Service::new`] sets the host mask (all ones / 128).
    pub netmask: u32,
    /// Persistence engine (`sip`), if any.
    pub pe_name: Option<String>,
}

impl Service {
    /// A non-persistent service with the host persistence netmask and no flags.
    pub fn new(key: ServiceKey, scheduler: Scheduler) -> Self {
        let netmask = match key.family() {
            Family::Inet => u32::MAX,
            Family::Inet6 => 128,
        };
        Self {
            key,
            scheduler,
            flags: ServiceFlags::NONE,
            timeout: 0,
            netmask,
            pe_name: None,
        }
    }

    /// Makes the service persistent with this timeout in seconds.
    pub fn persistent(mut self, timeout: u32) -> Self {
        self.flags = self.flags | ServiceFlags::PERSISTENT;
        self.timeout = timeout;
        self
    }

    /// Checks the names fit the kernel's limits.
    pub fn validate(&self) -> Result<(), Error> {
        let name = self.scheduler.name();
        if name.is_empty() || name.len() >= IP_VS_SCHEDNAME_MAXLEN {
            return Err(Error::Invalid {
                field: "scheduler",
                value: name.to_owned(),
            });
        }
        if let Some(pe) = &self.pe_name
            && (pe.is_empty() || pe.len() >= IP_VS_PENAME_MAXLEN)
        {
            return Err(Error::Invalid {
                field: "persistence engine",
                value: pe.clone(),
            });
        }
        if self.key.family() == Family::Inet6 && !(1..=128).contains(&self.netmask) {
            return Err(Error::Invalid {
                field: "ipv6 netmask",
                value: self.netmask.to_string(),
            });
        }
        Ok(())
    }

    fn netmask_bytes(&self) -> [u8; 4] {
        match self.key.family() {
            Family::Inet => self.netmask.to_be_bytes(),
            Family::Inet6 => self.netmask.to_ne_bytes(),
        }
    }

    /// The attributes of a NEW/SET_SERVICE request, in ipvsadm's order.
    pub(crate) fn to_attrs(&self) -> Vec<ServiceAttr> {
        let mut attrs = self.key.to_attrs();
        attrs.push(ServiceAttr::SchedName(self.scheduler.name().to_owned()));
        if let Some(pe) = &self.pe_name {
            attrs.push(ServiceAttr::PeName(pe.clone()));
        }
        attrs.push(ServiceAttr::Flags(ServiceFlagsAttr {
            flags: self.flags.without(ServiceFlags::HASHED).0,
            mask: u32::MAX,
        }));
        attrs.push(ServiceAttr::Timeout(self.timeout));
        attrs.push(ServiceAttr::Netmask(self.netmask_bytes()));
        attrs
    }

    /// Whether applying `other` over `self` would change nothing in the kernel.
    pub(crate) fn same_settings(&self, other: &Service) -> bool {
        self.key == other.key
            && self.scheduler == other.scheduler
            && self.flags.without(ServiceFlags::HASHED) == other.flags.without(ServiceFlags::HASHED)
            && self.timeout == other.timeout
            && self.netmask == other.netmask
            && self.pe_name == other.pe_name
    }
}

/// A service as the kernel lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEntry {
    /// Its configuration.
    pub service: Service,
    /// Its counters.
    pub stats: Stats,
}

/// A service's configuration fields as read off the wire, by either decoder (the attribute
/// enums of [`ServiceEntry::from_attrs`] or the allocation-free one of `crate::raw`), turned
/// into a [`Service`] by one piece of code.
#[derive(Debug, Clone)]
pub(crate) struct ServiceFields<'a> {
    pub(crate) af: Option<u16>,
    pub(crate) protocol: Option<u16>,
    pub(crate) addr: Option<InetAddr>,
    pub(crate) port: u16,
    pub(crate) fwmark: u32,
    pub(crate) sched: Option<&'a str>,
    pub(crate) flags: u32,
    pub(crate) timeout: u32,
    pub(crate) netmask: Option<[u8; 4]>,
    pub(crate) pe_name: Option<&'a str>,
}

impl<'a> ServiceFields<'a> {
    pub(crate) fn new() -> Self {
        Self {
            af: None,
            protocol: None,
            addr: None,
            port: 0,
            fwmark: 0,
            sched: None,
            flags: 0,
            timeout: 0,
            netmask: None,
            pe_name: None,
        }
    }

    pub(crate) fn service(self) -> Result<Service, Error> {
        let af = self.af.ok_or(Error::Missing {
            what: "service address family",
        })?;
        let family = Family::from_af(af)?;
        let key = if self.fwmark != 0 {
            ServiceKey::Fwmark {
                family,
                mark: self.fwmark,
            }
        } else {
            let protocol = self.protocol.ok_or(Error::Missing {
                what: "service protocol",
            })?;
            let addr = self.addr.ok_or(Error::Missing {
                what: "service address",
            })?;
            ServiceKey::Inet {
                protocol: Protocol::from_number(protocol)?,
                addr: SocketAddr::new(family.ip(addr), self.port),
            }
        };
        let scheduler = self
            .sched
            .ok_or(Error::Missing {
                what: "service scheduler",
            })?
            .parse()?;
        let netmask = match (family, self.netmask) {
            (Family::Inet, Some(raw)) => u32::from_be_bytes(raw),
            (Family::Inet6, Some(raw)) => u32::from_ne_bytes(raw),
            (Family::Inet, None) => u32::MAX,
            (Family::Inet6, None) => 128,
        };
        Ok(Service {
            key,
            scheduler,
            flags: ServiceFlags(self.flags),
            timeout: self.timeout,
            netmask,
            pe_name: self.pe_name.filter(|p| !p.is_empty()).map(str::to_owned),
        })
    }
}

impl ServiceEntry {
    /// Reads a service from its `IPVS_CMD_ATTR_SERVICE` attributes.
    pub fn from_attrs(attrs: &[ServiceAttr]) -> Result<Self, Error> {
        let mut f = ServiceFields::new();
        let (mut stats32, mut stats64) = (None, None);
        for attr in attrs {
            match attr {
                ServiceAttr::Af(v) => f.af = Some(*v),
                ServiceAttr::Protocol(v) => f.protocol = Some(*v),
                ServiceAttr::Addr(v) => f.addr = Some(*v),
                ServiceAttr::Port(v) => f.port = *v,
                ServiceAttr::Fwmark(v) => f.fwmark = *v,
                ServiceAttr::SchedName(v) => f.sched = Some(v.as_str()),
                ServiceAttr::Flags(v) => f.flags = v.flags,
                ServiceAttr::Timeout(v) => f.timeout = *v,
                ServiceAttr::Netmask(v) => f.netmask = Some(*v),
                ServiceAttr::PeName(v) => f.pe_name = Some(v.as_str()),
                ServiceAttr::Stats(v) => stats32 = Some(v),
                ServiceAttr::Stats64(v) => stats64 = Some(v),
                ServiceAttr::Other(_) => {}
            }
        }
        let stats = stats64
            .or(stats32)
            .map(|s| Stats::from_attrs(s))
            .unwrap_or_default();
        Ok(ServiceEntry {
            service: f.service()?,
            stats,
        })
    }
}
