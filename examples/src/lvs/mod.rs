//! The pieces of `lvs-director` that are more than wiring: who owns the VIP
//! ([`front`]: VRRP or anycast), how the virtual service schedules in each mode
//! ([`scheduling`]: `mh` for anycast) and the IPVS connection sync daemons ([`sync`]:
//! following VRRP, or master and backup at once for anycast).

pub mod front;
pub mod scheduling;
pub mod sync;
