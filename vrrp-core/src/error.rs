//! Error types: wire parsing, receive-path validation and configuration.

use core::net::IpAddr;

use crate::types::{Family, Version};

/// Why a byte buffer is not a well-formed VRRP advertisement (RFC 9568 §5.2, RFC 3768 §5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Shorter than the fixed header or than the address count says.
    #[error("packet of {len} bytes is shorter than the {needed} bytes its header requires")]
    Truncated {
        /// Bytes received.
        len: usize,
        /// Bytes the header implies.
        needed: usize,
    },
    /// Version field other than 2 or 3.
    #[error("unsupported vrrp version {0}")]
    Version(u8),
    /// Type field other than 1 (ADVERTISEMENT).
    #[error("unknown vrrp packet type {0}")]
    Type(u8),
    /// VRID 0.
    #[error("vrid 0 is reserved")]
    Vrid,
    /// VRRPv2 carried over IPv6 (RFC 3768 is IPv4 only).
    #[error("vrrp v2 is defined for IPv4 only")]
    V2OverIpv6,
    /// The checksum does not verify.
    #[error("checksum mismatch: computed {computed:#06x}")]
    Checksum {
        /// The value the verification produced (0 when correct).
        computed: u16,
    },
    /// Address count zero (RFC 9568 §5.2.5 requires at least one).
    #[error("advertisement lists no address")]
    NoAddress,
}

/// Why the receive path dropped a packet. Every variant maps to exactly one statistics counter
/// (see [`crate::stats`]); the glue only logs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RxError {
    /// The packet does not parse.
    #[error("malformed advertisement: {0}")]
    Parse(#[from] ParseError),
    /// TTL / hop limit other than 255 (RFC 9568 §7.1), or outside a unicast router's
    /// accepted range.
    #[error("ttl/hop limit {0} is not accepted")]
    Ttl(u8),
    /// A unicast advert from a source that is not a configured peer (`check_unicast_src`).
    #[error("unicast source {0} is not a configured peer")]
    UnicastSource(IpAddr),
    /// No virtual router with this VRID on the receiving interface (RFC 9568 §7.1).
    #[error("vrid {0} is not configured on this interface")]
    UnknownVrid(u8),
    /// Version differs from the configured one (RFC 9568 §7.1).
    #[error("received {received} advertisement, configured for {configured}")]
    VersionMismatch {
        /// Version in the packet.
        received: Version,
        /// Version configured locally.
        configured: Version,
    },
    /// Address family differs from the receiving router's.
    #[error("received {received} advertisement on an {configured} router")]
    FamilyMismatch {
        /// Family of the packet.
        received: Family,
        /// Family of the router.
        configured: Family,
    },
    /// Authentication type differs from the configured one (RFC 2338 §7.1, v2 only).
    #[error("authentication type {received} does not match configured {configured}")]
    AuthTypeMismatch {
        /// Type in the packet.
        received: u8,
        /// Type configured locally.
        configured: u8,
    },
    /// Authentication type this implementation does not accept.
    #[error("authentication type {0} is not supported")]
    InvalidAuthType(u8),
    /// Simple-text password mismatch.
    #[error("authentication failure")]
    AuthFailure,
    /// VRRPv2 Adver Int differs from the local one (RFC 3768 §7.1).
    #[error("advertisement interval {received}s differs from configured {configured}s")]
    AdverInterval {
        /// Interval in the packet, in seconds.
        received: u16,
        /// Interval configured locally, in seconds.
        configured: u16,
    },
    /// Address list does not match the configured virtual addresses (RFC 9568 §7.1).
    #[error("address list from {from} does not match the configured virtual addresses")]
    AddressList {
        /// Sender of the advertisement.
        from: IpAddr,
    },
    /// The router's own advert, looped back (not an error; counted separately).
    #[error("own advertisement looped back")]
    Own,
    /// The local router is the address owner (priority 255) and must discard (RFC 9568 §7.1).
    #[error("local router is the address owner")]
    Owner,
}

/// An invalid router or group configuration. The message names the offending field and value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// VRID outside 1..=255.
    #[error("virtual_router_id {value} is out of range 1..=255")]
    Vrid {
        /// The rejected value.
        value: u8,
    },
    /// Priority 0 is reserved for the stop advertisement.
    #[error("priority 0 is reserved; use 1..=255")]
    Priority,
    /// VRRPv2 interval must be whole seconds 1..=255.
    #[error("advert_int {centis}cs is not whole seconds in 1..=255 as VRRPv2 requires")]
    V2Interval {
        /// Rejected value in centiseconds.
        centis: u16,
    },
    /// VRRPv3 interval must be 1..=4095 centiseconds.
    #[error("advert_int {centis}cs is out of range 0.01..=40.95 s")]
    V3Interval {
        /// Rejected value in centiseconds.
        centis: u16,
    },
    /// No virtual address configured.
    #[error("virtual_ipaddress is empty")]
    NoVirtualAddress,
    /// A virtual address of the wrong family.
    #[error("virtual_ipaddress {address} is not {family} like the router")]
    AddressFamily {
        /// The offending address.
        address: IpAddr,
        /// The router's family.
        family: Family,
    },
    /// Too many addresses for one advertisement.
    #[error("{count} virtual addresses do not fit in one advertisement (at most {max})")]
    TooManyAddresses {
        /// Configured count.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// Prefix length longer than the address.
    #[error("prefix length /{prefix_len} is too long for {address}")]
    PrefixLen {
        /// The address.
        address: IpAddr,
        /// The prefix length.
        prefix_len: u8,
    },
    /// VRRPv2 is IPv4 only.
    #[error("version 2 cannot carry IPv6 virtual addresses")]
    V2Ipv6,
    /// The primary address is of the wrong family.
    #[error("primary address {address} is not {family}")]
    PrimaryFamily {
        /// The offending address.
        address: IpAddr,
        /// The router's family.
        family: Family,
    },
    /// VRRPv3 over IPv6 needs a link-local primary address (RFC 9568 §5.1.2.1).
    #[error("primary address {address} must be link-local for VRRPv3 over IPv6")]
    PrimaryNotLinkLocal {
        /// The offending address.
        address: IpAddr,
    },
    /// Authentication is only defined for VRRPv2.
    #[error("authentication is not allowed with version 3 (RFC 9568 §9)")]
    AuthWithV3,
    /// Simple text password longer than 8 bytes.
    #[error("auth_pass is {len} bytes, at most 8 are carried")]
    PasswordLength {
        /// Its length.
        len: usize,
    },
    /// nopreempt makes no sense for the address owner.
    #[error("nopreempt is not allowed with priority 255 (the owner always preempts)")]
    NopreemptOwner,
    /// A tracked object weight outside -254..=254.
    #[error("weight {weight} of tracked object {name:?} is out of range -254..=254")]
    TrackWeight {
        /// Object name.
        name: String,
        /// The rejected weight.
        weight: i32,
    },
    /// The same tracked object twice.
    #[error("tracked object {0:?} is listed twice")]
    DuplicateTrack(String),
    /// A strict-mode rule was broken.
    #[error("vrrp_strict: {0}")]
    Strict(&'static str),
    /// Counter given as zero.
    #[error("{field} must be at least 1")]
    Zero {
        /// The field name.
        field: &'static str,
    },
    /// Two routers with the same VRID and family on one interface.
    #[error("vrid {vrid} ({family}) is configured twice on this interface")]
    DuplicateVrid {
        /// The VRID.
        vrid: u8,
        /// The family.
        family: Family,
    },
    /// [`crate::VirtualRouter::reconfigure`] was given a configuration of another virtual
    /// router: this field is its identity and cannot change in place.
    #[error("{field} cannot change on a running router (it is another virtual router)")]
    NotInPlace {
        /// The field that differs.
        field: &'static str,
    },
}
