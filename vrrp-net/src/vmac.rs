//! The optional virtual MAC (RFC 9568 §7.3): a private-mode macvlan on the parent interface
//! carrying 00:00:5e:00:01:VRID (IPv4) or 00:00:5e:00:02:VRID (IPv6).

use std::net::{IpAddr, Ipv6Addr};

use futures::TryStreamExt;
use netlink_packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeaderFlags, CacheInfo,
};
use netlink_packet_route::link::MacVlanMode;
use rtnetlink::{Handle, LinkMacVlan, LinkUnspec};

use crate::announce::MacAddress;
use crate::error::{NetlinkError, VmacError};
use crate::firewall::Nftables;
use crate::transport::AddressFamily;

/// Longest interface name (IFNAMSIZ - 1).
const IFNAME_MAX: usize = 15;

/// The virtual router MAC address of `vrid` for `family` (RFC 9568 §7.3).
pub fn virtual_mac(vrid: u8, family: AddressFamily) -> MacAddress {
    let family_byte = match family {
        AddressFamily::Inet => 0x01,
        AddressFamily::Inet6 => 0x02,
    };
    [0x00, 0x00, 0x5e, 0x00, family_byte, vrid]
}

/// keepalived's default name for the macvlan of `vrid`: `vrrp.VRID`, for IPv4 and IPv6 alike
/// (keepalived 2.2.7 names an IPv6 instance's macvlan `vrrp.VRID` too).
pub fn default_name(vrid: u8, _family: AddressFamily) -> String {
    format!("vrrp.{vrid}")
}

/// A macvlan created by [`Vmac::create`]; remove it with [`Vmac::remove`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vmac {
    /// The macvlan's name.
    pub name: String,
    /// Its interface index.
    pub ifindex: u32,
    /// Its MAC address.
    pub mac: MacAddress,
}

impl Vmac {
    /// Creates (or, if it exists from an earlier run, replaces) a private-mode macvlan `name` on
    /// `parent` with `mac`, sets `arp_ignore=1`, `arp_filter=1` and `accept_local=1` on it so
    /// only the VIP owner answers ARP for the VIPs, and brings it up.
    ///
    /// No address is ever generated from the shared MAC: every router of the VRID creates the
    /// same MAC, and their identical EUI-64 link-local addresses would fail DAD and be sent
    /// from the shared MAC. For an IPv4 router IPv6 is disabled on it. For an IPv6 router
    /// (`source` given) address generation is off (`addr_gen_mode` none) and `source`, the
    /// router's own link-local address from the parent, is added to the macvlan without DAD
    /// and deprecated (preferred lifetime 0, so nothing else picks it as a source): adverts
    /// then leave the macvlan from the router's own address (RFC 9568 §5.1.2.1) and the
    /// virtual MAC (§7.3), and the kernel accepts that source on that interface.
    ///
    /// With `silence` (a firewall and the parent's name), the macvlan is registered with
    /// [`Nftables::silence_vmac`] before it comes up, so not even its first IGMP / MLD report
    /// or router solicitation leaves with the shared MAC.
    pub async fn create(
        handle: &Handle,
        name: &str,
        parent: u32,
        mac: MacAddress,
        family: AddressFamily,
        source: Option<Ipv6Addr>,
        silence: Option<(&Nftables, &str)>,
    ) -> Result<Self, VmacError> {
        if name.is_empty() || name.len() > IFNAME_MAX {
            return Err(VmacError::BadName(name.to_owned()));
        }
        if let Some(index) = find(handle, name).await? {
            delete(handle, name, index).await?;
        }
        let msg = LinkMacVlan::new(name, parent, MacVlanMode::Private)
            .address(mac.to_vec())
            .build();
        handle
            .link()
            .add(msg)
            .execute()
            .await
            .map_err(|source| VmacError::Netlink {
                action: "create",
                name: name.to_owned(),
                source: source.into(),
            })?;
        let ifindex = find(handle, name)
            .await?
            .ok_or_else(|| VmacError::Netlink {
                action: "find",
                name: name.to_owned(),
                source: NetlinkError::other("not found after creation"),
            })?;
        let mut settings = vec![
            format!("ipv4/conf/{name}/arp_ignore"),
            format!("ipv4/conf/{name}/arp_filter"),
            format!("ipv4/conf/{name}/accept_local"),
        ];
        match family {
            AddressFamily::Inet => settings.push(format!("ipv6/conf/{name}/disable_ipv6")),
            // IN6_ADDR_GEN_MODE_NONE (1): no link-local address from the shared MAC.
            AddressFamily::Inet6 => settings.push(format!("ipv6/conf/{name}/addr_gen_mode")),
        }
        for key in settings {
            let path = format!("/proc/sys/net/{key}");
            std::fs::write(&path, "1").map_err(|source| VmacError::Sysctl { path, source })?;
        }
        if let Some((firewall, parent_name)) = silence {
            firewall.silence_vmac(name, parent_name).await?;
        }
        // Up only now, so no IPv6 link-local address is ever generated on an IPv4 vmac.
        let up = LinkUnspec::new_with_index(ifindex).up().build();
        handle
            .link()
            .set(up)
            .execute()
            .await
            .map_err(|source| VmacError::Netlink {
                action: "bring up",
                name: name.to_owned(),
                source: source.into(),
            })?;
        if let (AddressFamily::Inet6, Some(source)) = (family, source) {
            add_source(handle, name, ifindex, source).await?;
        }
        Ok(Self {
            name: name.to_owned(),
            ifindex,
            mac,
        })
    }

    /// Removes the macvlan (and with it every address on it).
    pub async fn remove(&self, handle: &Handle) -> Result<(), VmacError> {
        delete(handle, &self.name, self.ifindex).await
    }
}

/// Adds `addr/64` to the macvlan without DAD, valid forever and preferred for 0 s.
async fn add_source(
    handle: &Handle,
    name: &str,
    ifindex: u32,
    addr: Ipv6Addr,
) -> Result<(), VmacError> {
    let mut request = handle.address().add(ifindex, IpAddr::V6(addr), 64);
    let msg = request.message_mut();
    msg.header.flags |= AddressHeaderFlags::Nodad;
    msg.attributes
        .push(AddressAttribute::Flags(AddressFlags::Nodad));
    let mut lifetimes = CacheInfo::default();
    lifetimes.ifa_preferred = 0;
    lifetimes.ifa_valid = u32::MAX;
    msg.attributes.push(AddressAttribute::CacheInfo(lifetimes));
    match request.execute().await {
        Ok(()) => Ok(()),
        Err(rtnetlink::Error::NetlinkError(e)) if -e.raw_code() == libc::EEXIST => Ok(()),
        Err(source) => Err(VmacError::Netlink {
            action: "add the link-local source address to",
            name: name.to_owned(),
            source: source.into(),
        }),
    }
}

async fn find(handle: &Handle, name: &str) -> Result<Option<u32>, VmacError> {
    match handle
        .link()
        .get()
        .match_name(name.to_owned())
        .execute()
        .try_next()
        .await
    {
        Ok(found) => Ok(found.map(|m| m.header.index)),
        Err(rtnetlink::Error::NetlinkError(e)) if -e.raw_code() == libc::ENODEV => Ok(None),
        Err(source) => Err(VmacError::Netlink {
            action: "find",
            name: name.to_owned(),
            source: source.into(),
        }),
    }
}

async fn delete(handle: &Handle, name: &str, index: u32) -> Result<(), VmacError> {
    match handle.link().del(index).execute().await {
        Ok(()) => Ok(()),
        Err(rtnetlink::Error::NetlinkError(e)) if -e.raw_code() == libc::ENODEV => Ok(()),
        Err(source) => Err(VmacError::Netlink {
            action: "remove",
            name: name.to_owned(),
            source: source.into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_mac_follows_rfc_9568_section_7_3() {
        assert_eq!(virtual_mac(51, AddressFamily::Inet), [0, 0, 0x5e, 0, 1, 51]);
        assert_eq!(
            virtual_mac(255, AddressFamily::Inet6),
            [0, 0, 0x5e, 0, 2, 255]
        );
    }

    #[test]
    fn default_names_fit_ifnamsiz() {
        assert_eq!(default_name(255, AddressFamily::Inet6), "vrrp.255");
        assert!(default_name(255, AddressFamily::Inet6).len() <= IFNAME_MAX);
    }
}
