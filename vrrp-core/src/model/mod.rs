//! Exhaustive model checking of router configurations, with
//! [stateright](https://docs.rs/stateright): where the simulator (feature `sim`) samples
//! random schedules, a check here explores *every* interleaving of deliveries, losses,
//! duplications, reorderings, crashes, restarts, partitions, shutdowns and priority changes
//! within the budgets you give ([`Choices`]), and proves the properties below for all of
//! them, for all time.
//!
//! Nothing of the protocol is re-implemented: each node owns real [`crate::VirtualRouter`]s,
//! feeds them [`crate::Input`]s, drains their outputs and carries them out as a glue would.
//! Adverts are emitted to bytes and go through the receiver's [`crate::Demux`] (RFC 9568
//! §7.1 validation) like received packets; sync groups run [`crate::group::SyncGroup`].
//!
//! # Time
//!
//! One clock for the LAN, moved only by timer expiry: the checker's timeout step advances it
//! to the earliest deadline of any router (equal deadlines expire in every order). An advert
//! on the wire is delivered or lost before time passes its send time plus
//! [`Choices::max_delay`]. Each (sender, receiver) pair is a FIFO channel, as on one LAN
//! segment: adverts of different senders arrive in every order, one overtakes an earlier one
//! of its own channel only as a budgeted choice ([`Choices::reorders`]). Faults and planned
//! operations happen at the current instant, that is at the start or right after any event:
//! phases between two events are not explored.
//!
//! # Properties
//!
//! Every model is checked against these ([`Builtin`]), unless [`ModelBuilder::builtins`]
//! says otherwise, and against the user's own ([`ModelBuilder::property`]):
//!
//! 1. [`Builtin::SingleMaster`], from RFC 9568 §6.4.2 and §6.4.3: in a *quiescent* state
//!    ([`ModelState::is_quiescent`]: LAN whole and empty, and every timer has had its chance
//!    to fire since the last fault) each VRID has exactly one master, and no backup that
//!    preempts has a higher priority (a sync-group member only counts when every member of
//!    its group would go master too). Equal priorities do not preempt (§6.4.2 accepts an
//!    advert of *equal* priority), so the address tie-break of §6.4.3 only decides between
//!    two masters: with equal priorities, the first to expire stays master.
//! 2. [`Builtin::HandoverKeepsAddresses`], from §6.4.3 (priority 0 on shutdown) and §6.4.2
//!    (Master_Down_Timer set to Skew_Time). A planned hand-over is watched when another
//!    router is running to take over and every advert on the wire comes from a current
//!    master (none of a master that is gone); on a path without loss, crash or partition
//!    from then on, after a master shuts down nobody holds the addresses for longer than
//!    the taker's Skew_Time (the longest of its sync group's, plus `max_delay`), and after
//!    a master hands over by lowering its priority to 1 there is no instant at which nobody
//!    holds them. Reordering is not excluded, and RFC 9568 itself breaks the bound with it:
//!    a master shutting down right after an advert may have both on the wire; if the stale
//!    advert arrives after the priority-0 one, the backup re-arms Master_Down_Timer to
//!    Master_Down_Interval.
//! 3. [`Builtin::BackupHearingStays`], from §6.4.2: a backup does not become master while a
//!    master of higher or equal priority, whose adverts to it are not lost, has been
//!    advertising for a whole Master_Down_Interval.
//! 4. [`Builtin::GroupTogether`], from keepalived's sync groups ([`crate::group`]): in a
//!    quiescent state no group has one member master and another backup.
//!
//! The report also says whether quiescent states were reached at all, and whether a planned
//! hand-over completed, so that properties 1, 2 and 4 are not vacuously true. [`Mutant`]s
//! break a node's glue on purpose: a property worth checking has a counterexample for them.
//!
//! # State identity
//!
//! stateright deduplicates states by hash. A [`ModelState`] hashes a projection: per router
//! its state, priority, Master_Adver_Interval and armed timer *relative to now*, the holder
//! of its addresses, shadows of the few router fields without accessor that decide future
//! behaviour (preemption hold, sync-group vote and fault reports, the demux's last master),
//! the wire, budgets, and the monitors' history as capped ages. Counters, absolute time and
//! flags that only choose a transition's reported reason are left out. Routers only compare
//! and add instants, so states equal up to a shift in time behave the same: the state space
//! is finite. [`ModelState::projection_error`] cross-checks the shadows against the routers.
//! Each router's announcement pacing is replaced by RFC 9568's single announcement, which
//! leaves at most one timer armed per router.
//!
//! # Example
//!
//! Two routers, one advert may be lost and one router may crash and restart; plus a property
//! of your own:
//!
//! ```
//! use std::time::Instant;
//! use vrrp_core::model::{Choices, ModelBuilder};
//! use vrrp_core::{RouterConfig, State, VirtualAddress, Vrid};
//!
//! let vip = VirtualAddress::host("192.0.2.100".parse().unwrap());
//! let router = |host: &str, priority| {
//!     RouterConfig::builder("VI_1", 51, host.parse().unwrap())
//!         .priority(priority)
//!         .virtual_address(vip)
//!         .build()
//!         .unwrap()
//! };
//! let vrid = Vrid::new(51).unwrap();
//! let report = ModelBuilder::new(Instant::now())
//!     .router(router("192.0.2.1", 200))
//!     .router(router("192.0.2.2", 100))
//!     .choices(Choices::none().losses(1).crashes(1).restarts(1))
//!     .property("at most two holders", move |s| s.holders(vrid).len() <= 2)
//!     .property("the backup never holds while the master is quiet", move |s| {
//!         !s.is_quiescent()
//!             || s.router(0, vrid).is_none_or(|r| r.state() != State::Master)
//!             || !s.holds_addresses(1, vrid)
//!     })
//!     .check()
//!     .unwrap();
//! assert!(report.holds(), "{report}");
//! assert!(report.quiescence_reached);
//! ```
//!
//! A failing property comes with a shortest counterexample: `report.violations[i].trace`
//! lists the steps with their model time, and `Display` prints them all.

mod actor;
mod builder;
mod monitor;
mod network;
mod properties;
mod report;
mod spec;
mod state;
mod system;

pub use builder::{MAX_CHANGES, MAX_NODES, ModelBuilder};
pub use network::Envelope;
pub use properties::Builtin;
pub use report::{Report, Violation};
pub use spec::{Choices, ModelError, Mutant, Node, NodeId};
pub use state::ModelState;
pub use system::{Step, VrrpModel};
