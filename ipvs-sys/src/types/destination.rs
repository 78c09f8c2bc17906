//! Destinations (real servers): address, forwarding method, weight, thresholds.

use std::net::SocketAddr;

use super::{Family, Stats};
use crate::constants::*;
use crate::error::Error;
use crate::nla::DestAttr;

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

impl DestinationEntry {
    /// Reads a destination; `service_family` is used when the kernel sends no address family
    /// (kernels before 4.3).
    pub(crate) fn from_attrs(attrs: &[DestAttr], service_family: Family) -> Result<Self, Error> {
        let mut family = service_family;
        let (mut addr, mut port, mut fwd) = (None, 0u16, None);
        let (mut weight, mut uth, mut lth) = (0i32, 0u32, 0u32);
        let (mut active, mut inactive, mut persist) = (0u32, 0u32, 0u32);
        let (mut tun_type, mut tun_port, mut tun_flags) = (0u8, 0u16, 0u16);
        let (mut stats32, mut stats64) = (None, None);
        for attr in attrs {
            match attr {
                DestAttr::Addr(v) => addr = Some(*v),
                DestAttr::Port(v) => port = *v,
                DestAttr::FwdMethod(v) => fwd = Some(*v),
                DestAttr::Weight(v) => weight = *v,
                DestAttr::UThresh(v) => uth = *v,
                DestAttr::LThresh(v) => lth = *v,
                DestAttr::ActiveConns(v) => active = *v,
                DestAttr::InactConns(v) => inactive = *v,
                DestAttr::PersistConns(v) => persist = *v,
                DestAttr::Stats(v) => stats32 = Some(v),
                DestAttr::Stats64(v) => stats64 = Some(v),
                DestAttr::AddrFamily(v) => family = Family::from_af(*v)?,
                DestAttr::TunType(v) => tun_type = *v,
                DestAttr::TunPort(v) => tun_port = *v,
                DestAttr::TunFlags(v) => tun_flags = *v,
                DestAttr::Other(_) => {}
            }
        }
        let ip = family.ip(addr.ok_or(Error::Missing {
            what: "destination address",
        })?);
        let forward = match fwd.ok_or(Error::Missing {
            what: "destination forwarding method",
        })? & IP_VS_CONN_F_FWD_MASK
        {
            IP_VS_CONN_F_MASQ => ForwardMethod::Masquerade,
            IP_VS_CONN_F_LOCALNODE => ForwardMethod::Local,
            IP_VS_CONN_F_DROUTE => ForwardMethod::DirectRoute,
            IP_VS_CONN_F_BYPASS => ForwardMethod::Bypass,
            IP_VS_CONN_F_TUNNEL => ForwardMethod::Tunnel(Tunnel {
                kind: match tun_type {
                    IP_VS_CONN_F_TUNNEL_TYPE_GUE => TunnelType::Gue,
                    IP_VS_CONN_F_TUNNEL_TYPE_GRE => TunnelType::Gre,
                    _ => TunnelType::Ipip,
                },
                port: tun_port,
                csum: if tun_flags & IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM != 0 {
                    TunnelCsum::RemCsum
                } else if tun_flags & IP_VS_TUNNEL_ENCAP_FLAG_CSUM != 0 {
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
        let stats = stats64
            .or(stats32)
            .map(|s| Stats::from_attrs(s))
            .unwrap_or_default();
        Ok(DestinationEntry {
            destination: Destination {
                addr: SocketAddr::new(ip, port),
                forward,
                weight: weight.max(0) as u32,
                upper_threshold: uth,
                lower_threshold: lth,
            },
            active_conns: active,
            inactive_conns: inactive,
            persistent_conns: persist,
            stats,
        })
    }
}
