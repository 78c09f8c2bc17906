//! The pieces of `lvs-director` that are more than wiring: who owns the VIP
//! ([`front`]: VRRP or anycast), how the virtual service schedules in each mode
//! ([`scheduling`]: `mh` for anycast). The IPVS connection sync daemons (following VRRP, or
//! master and backup at once for anycast) are `ipvs_sys::sync_daemons`, which
//! keepalived-compat's `lvs_sync_daemon` uses too.

pub mod front;
pub mod scheduling;
