//! Allocation-free decoding of the configuration part of IPVS dump replies: what
//! [`crate::IpvsHandle::state`] and [`crate::IpvsHandle::apply`] need, read straight from the
//! bytes without building attribute lists, and skipping the counters (the bulk of a reply).
//!
//! The full decoding, counters included, goes through [`crate::nla`] and
//! [`crate::ServiceEntry::from_attrs`] / [`crate::DestinationEntry::from_attrs`]; both paths
//! end in the same field-to-type conversion.

use netlink_packet_core::{DecodeError, NLA_HEADER_SIZE, NLA_TYPE_MASK};

use crate::constants::*;
use crate::error::Error;
use crate::nla::InetAddr;
use crate::types::{DestFields, Destination, Family, Service, ServiceFields};

/// Iterates over the netlink attributes in `buf` as `(kind, value)`, the kind without the
/// nested / byte-order flags.
pub fn attributes(buf: &[u8]) -> Attributes<'_> {
    Attributes { buf, off: 0 }
}

/// Iterator returned by [`attributes`].
#[derive(Debug, Clone)]
pub struct Attributes<'a> {
    buf: &'a [u8],
    off: usize,
}

impl<'a> Iterator for Attributes<'a> {
    type Item = Result<(u16, &'a [u8]), Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.buf.get(self.off..).filter(|r| !r.is_empty())?;
        let header = rest.get(..NLA_HEADER_SIZE).map(|h| {
            (
                u16::from_ne_bytes([h[0], h[1]]) as usize,
                u16::from_ne_bytes([h[2], h[3]]),
            )
        });
        match header {
            Some((len, kind)) if len >= NLA_HEADER_SIZE && len <= rest.len() => {
                self.off += (len + 3) & !3;
                Some(Ok((kind & NLA_TYPE_MASK, &rest[NLA_HEADER_SIZE..len])))
            }
            _ => {
                self.off = self.buf.len();
                Some(Err(Error::Decode(DecodeError::from(format!(
                    "attribute at offset {} overruns its {}-byte buffer",
                    self.off,
                    self.buf.len()
                )))))
            }
        }
    }
}

fn bytes<const N: usize>(value: &[u8], what: &str) -> Result<[u8; N], Error> {
    value.try_into().map_err(|_| {
        Error::Decode(DecodeError::from(format!(
            "{what}: {} bytes where {N} were expected",
            value.len()
        )))
    })
}

fn u16_ne(v: &[u8], what: &str) -> Result<u16, Error> {
    bytes::<2>(v, what).map(u16::from_ne_bytes)
}

fn u16_be(v: &[u8], what: &str) -> Result<u16, Error> {
    bytes::<2>(v, what).map(u16::from_be_bytes)
}

fn u32_ne(v: &[u8], what: &str) -> Result<u32, Error> {
    bytes::<4>(v, what).map(u32::from_ne_bytes)
}

fn cstr<'a>(v: &'a [u8], what: &str) -> Result<&'a str, Error> {
    let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
    std::str::from_utf8(&v[..end])
        .map_err(|_| Error::Decode(DecodeError::from(format!("{what}: not UTF-8"))))
}

/// The first nested attribute of `kind` in a message's attributes.
fn nest(message_attrs: &[u8], kind: u16) -> Result<Option<&[u8]>, Error> {
    for attr in attributes(message_attrs) {
        let (k, value) = attr?;
        if k == kind {
            return Ok(Some(value));
        }
    }
    Ok(None)
}

/// The service of a service reply (`message_attrs`: the attributes after the generic netlink
/// header), without its counters; `None` if the message carries no service.
pub fn service_config(message_attrs: &[u8]) -> Result<Option<Service>, Error> {
    let Some(svc) = nest(message_attrs, IPVS_CMD_ATTR_SERVICE)? else {
        return Ok(None);
    };
    let mut f = ServiceFields::new();
    for attr in attributes(svc) {
        let (kind, v) = attr?;
        match kind {
            IPVS_SVC_ATTR_AF => f.af = Some(u16_ne(v, "service family")?),
            IPVS_SVC_ATTR_PROTOCOL => f.protocol = Some(u16_ne(v, "service protocol")?),
            IPVS_SVC_ATTR_ADDR => f.addr = Some(InetAddr::parse(v)?),
            IPVS_SVC_ATTR_PORT => f.port = u16_be(v, "service port")?,
            IPVS_SVC_ATTR_FWMARK => f.fwmark = u32_ne(v, "service fwmark")?,
            IPVS_SVC_ATTR_SCHED_NAME => f.sched = Some(cstr(v, "scheduler")?),
            IPVS_SVC_ATTR_FLAGS => f.flags = u32_ne(v.get(..4).unwrap_or(v), "service flags")?,
            IPVS_SVC_ATTR_TIMEOUT => f.timeout = u32_ne(v, "service timeout")?,
            IPVS_SVC_ATTR_NETMASK => f.netmask = Some(bytes::<4>(v, "service netmask")?),
            IPVS_SVC_ATTR_PE_NAME => f.pe_name = Some(cstr(v, "persistence engine")?),
            _ => {}
        }
    }
    f.service().map(Some)
}

/// The destination of a destination reply, without its counters and connection numbers;
/// `None` if the message carries no destination.
pub fn destination_config(
    message_attrs: &[u8],
    service_family: Family,
) -> Result<Option<Destination>, Error> {
    let Some(dest) = nest(message_attrs, IPVS_CMD_ATTR_DEST)? else {
        return Ok(None);
    };
    let mut f = DestFields::new();
    for attr in attributes(dest) {
        let (kind, v) = attr?;
        match kind {
            IPVS_DEST_ATTR_ADDR => f.addr = Some(InetAddr::parse(v)?),
            IPVS_DEST_ATTR_PORT => f.port = u16_be(v, "destination port")?,
            IPVS_DEST_ATTR_FWD_METHOD => f.fwd = Some(u32_ne(v, "forwarding method")?),
            IPVS_DEST_ATTR_WEIGHT => f.weight = u32_ne(v, "weight")? as i32,
            IPVS_DEST_ATTR_U_THRESH => f.uth = u32_ne(v, "upper threshold")?,
            IPVS_DEST_ATTR_L_THRESH => f.lth = u32_ne(v, "lower threshold")?,
            IPVS_DEST_ATTR_ADDR_FAMILY => f.af = Some(u16_ne(v, "destination family")?),
            IPVS_DEST_ATTR_TUN_TYPE => {
                f.tun_type = *bytes::<1>(v, "tunnel type")?.first().unwrap_or(&0)
            }
            IPVS_DEST_ATTR_TUN_PORT => f.tun_port = u16_be(v, "tunnel port")?,
            IPVS_DEST_ATTR_TUN_FLAGS => f.tun_flags = u16_ne(v, "tunnel flags")?,
            _ => {}
        }
    }
    f.destination(service_family).map(Some)
}
