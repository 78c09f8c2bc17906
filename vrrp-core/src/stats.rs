//! Counters, named after the RFC 6527 (VRRPv3 MIB) objects they implement.

/// Per-router statistics (RFC 6527 `vrrpv3StatisticsTable`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RouterStats {
    /// `vrrpv3StatisticsMasterTransitions`.
    pub master_transitions: u64,
    /// `vrrpv3StatisticsRcvdAdvertisements`: adverts that passed validation.
    pub rcvd_advertisements: u64,
    /// Adverts sent (not in the MIB; useful for rate checks).
    pub sent_advertisements: u64,
    /// `vrrpv3StatisticsRcvdPriZeroPackets`.
    pub rcvd_pri_zero_packets: u64,
    /// `vrrpv3StatisticsSentPriZeroPackets`.
    pub sent_pri_zero_packets: u64,
}

/// Receive-path counters of one router (RFC 6527 `vrrpv3StatisticsTable`, RFC 2787 auth).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RxStats {
    /// `vrrpv3StatisticsIpTtlErrors`.
    pub ip_ttl_errors: u64,
    /// `vrrpv3StatisticsAdvIntervalErrors`.
    pub adv_interval_errors: u64,
    /// `vrrpv3StatisticsRcvdInvalidTypePackets`.
    pub rcvd_invalid_type_packets: u64,
    /// `vrrpv3StatisticsAddressListErrors`.
    pub address_list_errors: u64,
    /// `vrrpv3StatisticsPacketLengthErrors`.
    pub packet_length_errors: u64,
    /// RFC 2787 `vrrpStatsAuthFailures`.
    pub auth_failures: u64,
    /// RFC 2787 `vrrpStatsInvalidAuthType`.
    pub invalid_auth_type: u64,
    /// RFC 2787 `vrrpStatsAuthTypeMismatch`.
    pub auth_type_mismatch: u64,
    /// Unicast adverts from a source that is not a configured peer (keepalived's
    /// `check_unicast_src`; not in the MIB).
    pub unicast_source_errors: u64,
    /// Dropped because the local router is the address owner.
    pub owner_discards: u64,
    /// Own adverts looped back (not errors).
    pub own_packets: u64,
    /// Adverts that passed validation.
    pub accepted: u64,
}

/// Per-interface statistics (RFC 6527 `vrrpv3RouterChecksumErrors`, `...VersionErrors`,
/// `...VrIdErrors`), for packets that cannot be attributed to one router.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct InterfaceStats {
    /// `vrrpv3RouterChecksumErrors`.
    pub checksum_errors: u64,
    /// `vrrpv3RouterVersionErrors`.
    pub version_errors: u64,
    /// `vrrpv3RouterVrIdErrors`.
    pub vrid_errors: u64,
    /// Packets too short to read a VRID from, or of an unknown type.
    pub malformed: u64,
}
