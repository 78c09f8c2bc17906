//! Destinations (real servers): address, forwarding method, weight, thresholds.

use std::net::SocketAddr;

use super::{Family, Stats};
use crate::constants::*;
use crate::error::Error;
use crate::nla::{DestAttr, InetAddr};

/// Encapsulation of a tunnelled destination (`IP_VS_CONN_F_TUNNEL_TYPE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TunnelType {
    /// IP in IP (the default).
    #[default]
    Ipip,
    /// Generic UDP encapsulation, to [`Tunnel::port`].
    Gue,
    /// GRE.
    Gre,
}

/// Checksum handling of GUE/GRE tunnels (`IP_VS_TUNNEL_ENCAP_FLAG_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TunnelCsum {
    /// No checksum.
    #[default]
    NoCsum,
    /// Outer checksum.
    Csum,
    /// Remote checksum offload.
    RemCsum,
}

/// Tunnel parameters of [`ForwardMethod::Tunnel`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Tunnel {
    /// Encapsulation.
    pub kind: TunnelType,
    /// Destination UDP port for GUE, 0 otherwise.
    pub port: u16,
    /// Checksum handling.
    pub csum: TunnelCsum,
}

/// How packets reach a destination (`IP_VS_CONN_F_FWD_MASK`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ForwardMethod {
    /// NAT (`-m`).
    #[default]
    Masquerade,
    /// Local node.
    Local,
    /// IP tunnel (`-i`).
    Tunnel(Tunnel),
    /// Direct routing (`-g`).
    DirectRoute,
    /// Cache bypass.
    Bypass,
}

impl ForwardMethod {
    fn conn_flags(self) -> u32 {
        match self {
            ForwardMethod::Masquerade => IP_VS_CONN_F_MASQ,
            ForwardMethod::Local => IP_VS_CONN_F_LOCALNODE,
            ForwardMethod::Tunnel(_) => IP_VS_CONN_F_TUNNEL,
            ForwardMethod::DirectRoute => IP_VS_CONN_F_DROUTE,
            ForwardMethod::Bypass => IP_VS_CONN_F_BYPASS,
        }
    }
}

/// A destination's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Destination {
    /// Real server address and port (its family may differ from the service's for tunnels).
    pub addr: SocketAddr,
    /// Forwarding method.
    pub forward: ForwardMethod,
    /// Weight; 0 keeps the destination but sends it no new connections (quiescent).
    pub weight: u32,
    /// Upper connection threshold (0: none).
    pub upper_threshold: u32,
    /// Lower connection threshold (0: none).
    pub lower_threshold: u32,
}

impl Destination {
    /// A NAT destination with weight 1 and no thresholds.
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            forward: ForwardMethod::Masquerade,
            weight: 1,
            upper_threshold: 0,
            lower_threshold: 0,
        }
    }

    /// This destination with another forwarding method.
    pub fn forward(mut self, forward: ForwardMethod) -> Self {
        self.forward = forward;
        self
    }

    /// This destination with another weight.
    pub fn weight(mut self, weight: u32) -> Self {
        self.weight = weight;
        self
    }

    /// Checks the values fit the kernel's types.
    pub fn validate(&self) -> Result<(), Error> {
        if i32::try_from(self.weight).is_err() {
            return Err(Error::Invalid {
                field: "weight",
                value: self.weight.to_string(),
            });
        }
        if self.upper_threshold != 0 && self.lower_threshold > self.upper_threshold {
            return Err(Error::Invalid {
                field: "lower threshold",
                value: format!(
                    "{} above upper threshold {}",
                    self.lower_threshold, self.upper_threshold
                ),
            });
        }
        Ok(())
    }

    /// The key attributes that select this destination (address family, address, port).
    pub(crate) fn key_attrs(addr: SocketAddr) -> Vec<DestAttr> {
        vec![
            DestAttr::AddrFamily(Family::of(addr.ip()).to_af()),
            DestAttr::Addr(addr.ip().into()),
            DestAttr::Port(addr.port()),
        ]
    }

    /// The attributes of a NEW/SET_DEST request, in ipvsadm's order.
    pub(crate) fn to_attrs(self) -> Vec<DestAttr> {
        let mut attrs = Self::key_attrs(self.addr);
        let tunnel = match self.forward {
            ForwardMethod::Tunnel(t) => t,
            _ => Tunnel::default(),
        };
        let tun_flags = match tunnel.csum {
            TunnelCsum::NoCsum => 0,
            TunnelCsum::Csum => IP_VS_TUNNEL_ENCAP_FLAG_CSUM,
            TunnelCsum::RemCsum => IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM,
        };
        let tun_type = match tunnel.kind {
            TunnelType::Ipip => IP_VS_CONN_F_TUNNEL_TYPE_IPIP,
            TunnelType::Gue => IP_VS_CONN_F_TUNNEL_TYPE_GUE,
            TunnelType::Gre => IP_VS_CONN_F_TUNNEL_TYPE_GRE,
        };
        attrs.extend([
            DestAttr::FwdMethod(self.forward.conn_flags()),
            DestAttr::Weight(self.weight as i32),
            DestAttr::TunType(tun_type),
            DestAttr::TunPort(tunnel.port),
            DestAttr::TunFlags(tun_flags),
            DestAttr::UThresh(self.upper_threshold),
            DestAttr::LThresh(self.lower_threshold),
        ]);
        attrs
    }
}

/// A destination as the kernel lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DestinationEntry {
    /// Its configuration.
    pub destination: Destination,
    /// Active connections.
    pub active_conns: u32,
    /// Inactive connections.
    pub inactive_conns: u32,
    /// Persistence templates.
    pub persistent_conns: u32,
    /// Counters.
    pub stats: Stats,
}

/// A destination's configuration fields as read off the wire, by either decoder (the
/// attribute enums of [`DestinationEntry::from_attrs`] or the allocation-free one of
/// `crate::raw`), turned into a [`Destination`] by one piece of code.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DestFields {
    pub(crate) af: Option<u16>,
    pub(crate) addr: Option<InetAddr>,
    pub(crate) port: u16,
    pub(crate) fwd: Option<u32>,
    pub(crate) weight: i32,
    pub(crate) uth: u32,
    pub(crate) lth: u32,
    pub(crate) tun_type: u8,
    pub(crate) tun_port: u16,
    pub(crate) tun_flags: u16,
}

impl DestFields {
    pub(crate) fn new() -> Self {
        Self {
            af: None,
            addr: None,
            port: 0,
            fwd: None,
            weight: 0,
            uth: 0,
            lth: 0,
            tun_type: 0,
            tun_port: 0,
            tun_flags: 0,
        }
    }

    /// The destination; `service_family` applies when the kernel sent no address family
    /// (kernels before 4.3).
    pub(crate) fn destination(self, service_family: Family) -> Result<Destination, Error> {
        let family = match self.af {
            Some(af) => Family::from_af(af)?,
            None => service_family,
        };
        let ip = family.ip(self.addr.ok_or(Error::Missing {
            what: "destination address",
        })?);
        let fwd = self.fwd.ok_or(Error::Missing {
            what: "destination forwarding method",
        })?;
        let forward = match fwd & IP_VS_CONN_F_FWD_MASK {
            IP_VS_CONN_F_MASQ => ForwardMethod::Masquerade,
            IP_VS_CONN_F_LOCALNODE => ForwardMethod::Local,
            IP_VS_CONN_F_DROUTE => ForwardMethod::DirectRoute,
            IP_VS_CONN_F_BYPASS => ForwardMethod::Bypass,
            IP_VS_CONN_F_TUNNEL => ForwardMethod::Tunnel(Tunnel {
                kind: match self.tun_type {
                    IP_VS_CONN_F_TUNNEL_TYPE_GUE => TunnelType::Gue,
                    IP_VS_CONN_F_TUNNEL_TYPE_GRE => TunnelType::Gre,
                    _ => TunnelType::Ipip,
                },
                port: self.tun_port,
                csum: if self.tun_flags & IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM != 0 {
                    TunnelCsum::RemCsum
                } else if self.tun_flags & IP_VS_TUNNEL_ENCAP_FLAG_CSUM != 0 {
                    TunnelCsum::Csum
                } else {
                    TunnelCsum::NoCsum
                },
            }),
            other => {
                return Err(Error::Unsupported {
                    what: "forwarding method",
                    value: other,
                });
            }
        };
        Ok(Destination {
            addr: SocketAddr::new(ip, self.port),
            forward,
            weight: self.weight.max(0) as u32,
            upper_threshold: self.uth,
            lower_threshold: self.lth,
        })
    }
}

impl DestinationEntry {
    /// Reads a destination from its `IPVS_CMD_ATTR_DEST` attributes; `service_family` is used
    /// when the kernel sends no address family (kernels before 4.3).
    pub fn from_attrs(attrs: &[DestAttr], service_family: Family) -> Result<Self, Error> {
        let mut f = DestFields::new();
        let (mut active, mut inactive, mut persist) = (0u32, 0u32, 0u32);
        let (mut stats32, mut stats64) = (None, None);
        for attr in attrs {
            match attr {
                DestAttr::Addr(v) => f.addr = Some(*v),
                DestAttr::Port(v) => f.port = *v,
                DestAttr::FwdMethod(v) => f.fwd = Some(*v),
                DestAttr::Weight(v) => f.weight = *v,
                DestAttr::UThresh(v) => f.uth = *v,
                DestAttr::LThresh(v) => f.lth = *v,
                DestAttr::ActiveConns(v) => active = *v,
                DestAttr::InactConns(v) => inactive = *v,
                DestAttr::PersistConns(v) => persist = *v,
                DestAttr::Stats(v) => stats32 = Some(v),
                DestAttr::Stats64(v) => stats64 = Some(v),
                DestAttr::AddrFamily(v) => f.af = Some(*v),
                DestAttr::TunType(v) => f.tun_type = *v,
                DestAttr::TunPort(v) => f.tun_port = *v,
                DestAttr::TunFlags(v) => f.tun_flags = *v,
                DestAttr::Other(_) => {}
            }
        }
        let stats = stats64
            .or(stats32)
            .map(|s| Stats::from_attrs(s))
            .unwrap_or_default();
        Ok(DestinationEntry {
            destination: f.destination(service_family)?,
            active_conns: active,
            inactive_conns: inactive,
            persistent_conns: persist,
            stats,
        })
    }
}
