//! keepalived's per-instance counters (`vrrp_stats`), from the driver's RFC 6527 ones.

use serde::Serialize;
use vrrp_net::driver::InstanceStatus;

/// keepalived 2.2.7's `vrrp_stats`, in the order its JSON dump (`vrrp_json.c`) writes them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Counters {
    /// Adverts received that passed validation.
    pub(crate) advert_rcvd: u64,
    /// Adverts sent.
    pub(crate) advert_sent: u64,
    /// Transitions to master.
    pub(crate) become_master: u64,
    /// Transitions from master to another state.
    pub(crate) release_master: u64,
    /// Packets of a wrong length.
    pub(crate) packet_len_err: u64,
    /// Adverts with an interval other than ours (VRRPv2).
    pub(crate) advert_interval_err: u64,
    /// Packets with a wrong TTL / hop limit.
    pub(crate) ip_ttl_err: u64,
    /// Packets of an unknown VRRP type.
    pub(crate) invalid_type_rcvd: u64,
    /// Adverts whose address list differs from ours.
    pub(crate) addr_list_err: u64,
    /// Adverts with an unknown authentication type.
    pub(crate) invalid_authtype: u64,
    /// Adverts with an authentication type other than ours.
    pub(crate) authtype_mismatch: u64,
    /// Adverts with a wrong password.
    pub(crate) auth_failure: u64,
    /// Priority 0 adverts received.
    pub(crate) pri_zero_rcvd: u64,
    /// Priority 0 adverts sent.
    pub(crate) pri_zero_sent: u64,
}

impl Counters {
    /// The counters of `status`, with `release_master` counted by the daemon from the
    /// driver's events (the driver counts only transitions to master).
    pub(crate) fn of(status: &InstanceStatus, release_master: u64) -> Self {
        let (r, rx) = (&status.router, &status.rx);
        Self {
            advert_rcvd: r.rcvd_advertisements,
            advert_sent: r.sent_advertisements,
            become_master: r.master_transitions,
            release_master,
            packet_len_err: rx.packet_length_errors,
            advert_interval_err: rx.adv_interval_errors,
            ip_ttl_err: rx.ip_ttl_errors,
            invalid_type_rcvd: rx.rcvd_invalid_type_packets,
            addr_list_err: rx.address_list_errors,
            invalid_authtype: rx.invalid_auth_type,
            authtype_mismatch: rx.auth_type_mismatch,
            auth_failure: rx.auth_failures,
            pri_zero_rcvd: r.rcvd_pri_zero_packets,
            pri_zero_sent: r.sent_pri_zero_packets,
        }
    }

    /// What was counted since `baseline` (keepalived zeroes its counters on
    /// SIGSTATS_CLEAR; the driver's keep running, so the daemon subtracts).
    pub(crate) fn since(&self, baseline: &Counters) -> Self {
        let d = |now: u64, then: u64| now.saturating_sub(then);
        Self {
            advert_rcvd: d(self.advert_rcvd, baseline.advert_rcvd),
            advert_sent: d(self.advert_sent, baseline.advert_sent),
            become_master: d(self.become_master, baseline.become_master),
            release_master: d(self.release_master, baseline.release_master),
            packet_len_err: d(self.packet_len_err, baseline.packet_len_err),
            advert_interval_err: d(self.advert_interval_err, baseline.advert_interval_err),
            ip_ttl_err: d(self.ip_ttl_err, baseline.ip_ttl_err),
            invalid_type_rcvd: d(self.invalid_type_rcvd, baseline.invalid_type_rcvd),
            addr_list_err: d(self.addr_list_err, baseline.addr_list_err),
            invalid_authtype: d(self.invalid_authtype, baseline.invalid_authtype),
            authtype_mismatch: d(self.authtype_mismatch, baseline.authtype_mismatch),
            auth_failure: d(self.auth_failure, baseline.auth_failure),
            pri_zero_rcvd: d(self.pri_zero_rcvd, baseline.pri_zero_rcvd),
            pri_zero_sent: d(self.pri_zero_sent, baseline.pri_zero_sent),
        }
    }
}
