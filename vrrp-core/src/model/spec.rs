//! What a model is made of: nodes (machines) with their virtual routers and sync group, the
//! checker's choices (faults and planned operations, each with a budget), deliberately broken
//! routers, and the errors of an inconsistent description.

use std::time::Duration;

use crate::config::RouterConfig;
use crate::error::ConfigError;
use crate::types::{Priority, Vrid};

/// Index of a node in the model, in the order the nodes were added.
pub type NodeId = usize;

/// One machine of the modelled LAN: its virtual routers (at most one per VRID) and, optionally,
/// one sync group of some of them (keepalived's `vrrp_sync_group`, see [`crate::group`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Node {
    pub(crate) name: String,
    pub(crate) routers: Vec<RouterConfig>,
    pub(crate) group: Option<GroupSpec>,
    pub(crate) mutant: Option<Mutant>,
}

/// A sync group of a node: its name and its members' instance names.
#[derive(Debug, Clone)]
pub(crate) struct GroupSpec {
    pub(crate) name: String,
    pub(crate) members: Vec<String>,
}

impl Node {
    /// A node without routers, named `name` in traces.
    pub fn new(name: impl Into<String>) -> Self {
        Node {
            name: name.into(),
            routers: Vec::new(),
            group: None,
            mutant: None,
        }
    }

    /// Adds a virtual router.
    pub fn router(mut self, config: RouterConfig) -> Self {
        self.routers.push(config);
        self
    }

    /// Makes the routers whose instance names ([`RouterConfig::name`]) are `members` a sync
    /// group; their configurations must say [`RouterConfig::sync_group`].
    pub fn sync_group<S: Into<String>>(
        mut self,
        name: impl Into<String>,
        members: impl IntoIterator<Item = S>,
    ) -> Self {
        self.group = Some(GroupSpec {
            name: name.into(),
            members: members.into_iter().map(Into::into).collect(),
        });
        self
    }

    /// Breaks this node on purpose (see [`Mutant`]).
    pub fn mutant(mut self, mutant: Mutant) -> Self {
        self.mutant = Some(mutant);
        self
    }

    /// The node's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A deliberately broken node, to show that a property is not vacuous: a check of a correct
/// model proves nothing unless the same check finds a counterexample for a broken router.
/// The breakage is in the node's glue around the real [`crate::VirtualRouter`], never in the
/// router itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mutant {
    /// Drops every advert that passed the receive path: the routers never hear their peers
    /// (breaks RFC 9568 §6.4.2's reset of Master_Down_Timer and §6.4.3's step down).
    IgnoreAdverts,
    /// Drops adverts while master: a master never steps down (breaks RFC 9568 §6.4.3).
    NeverStepDown,
    /// Drops the priority-0 advert of a shutdown (breaks RFC 9568 §6.4.3 "Send an
    /// ADVERTISEMENT with Priority = 0"): backups wait for Master_Down_Interval.
    SilentShutdown,
    /// Carries out a new master's address installation after its first advert, as a separate
    /// step of the checker, instead of before it (the order `vrrp-net` relies on).
    AdvertBeforeInstall,
    /// Bypasses the node's sync group: a member that votes is promoted at once and nothing is
    /// propagated to the other members.
    IgnoreSyncGroup,
}

/// The checker's choices: what may go wrong (or be done on purpose) and how many times along
/// any one path. Everything else (timer expiry in deadline order, delivery of every
/// advertisement in any order within `max_delay`) is explored anyway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Choices {
    /// Advertisements the network may lose.
    pub losses: u8,
    /// Advertisements the network may deliver twice.
    pub duplicates: u8,
    /// Advertisements that may overtake an earlier one from the same sender to the same
    /// receiver (adverts of different senders interleave in every order anyway).
    pub reorders: u8,
    /// Nodes that may crash (no priority-0 advert; their addresses vanish with them).
    pub crashes: u8,
    /// Crashed or shut-down nodes that may come back with fresh routers.
    pub restarts: u8,
    /// Partitions of the LAN in two (each healed by a later choice).
    pub partitions: u8,
    /// Graceful shutdowns of a node ([`crate::Input::Shutdown`]: priority 0).
    pub shutdowns: u8,
    /// Hand-overs by a master: priority lowered to 1 ([`crate::Input::SetPriority`]).
    pub hand_overs: u8,
    /// How long an advertisement may stay on the wire while time goes on; zero: every advert
    /// is delivered (in any order) or lost before the next timer expires.
    pub max_delay: Duration,
}

impl Choices {
    /// No faults and no planned operations: only the interleavings of a reliable LAN.
    pub fn none() -> Self {
        Choices::default()
    }

    /// Sets [`Choices::losses`].
    pub fn losses(mut self, n: u8) -> Self {
        self.losses = n;
        self
    }

    /// Sets [`Choices::duplicates`].
    pub fn duplicates(mut self, n: u8) -> Self {
        self.duplicates = n;
        self
    }

    /// Sets [`Choices::reorders`].
    pub fn reorders(mut self, n: u8) -> Self {
        self.reorders = n;
        self
    }

    /// Sets [`Choices::crashes`].
    pub fn crashes(mut self, n: u8) -> Self {
        self.crashes = n;
        self
    }

    /// Sets [`Choices::restarts`].
    pub fn restarts(mut self, n: u8) -> Self {
        self.restarts = n;
        self
    }

    /// Sets [`Choices::partitions`].
    pub fn partitions(mut self, n: u8) -> Self {
        self.partitions = n;
        self
    }

    /// Sets [`Choices::shutdowns`].
    pub fn shutdowns(mut self, n: u8) -> Self {
        self.shutdowns = n;
        self
    }

    /// Sets [`Choices::hand_overs`].
    pub fn hand_overs(mut self, n: u8) -> Self {
        self.hand_overs = n;
        self
    }

    /// Sets [`Choices::max_delay`].
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }
}

/// A base-priority change the checker may apply once, at any moment (a tracked object's
/// weight, an operator's command).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct PriorityChange {
    pub(crate) node: NodeId,
    pub(crate) slot: usize,
    pub(crate) vrid: Vrid,
    pub(crate) priority: Priority,
}

/// Why a model description was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// No node has a router.
    #[error("the model has no router")]
    Empty,
    /// More nodes than the model supports.
    #[error("{count} nodes; the model supports at most {max}")]
    TooManyNodes {
        /// Nodes given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A router configuration is invalid.
    #[error("node {node}: {source}")]
    Config {
        /// The node's name.
        node: String,
        /// What is wrong with it.
        source: ConfigError,
    },
    /// Two routers of one node have the same VRID (the model keys routers by VRID).
    #[error("node {node} has two routers with vrid {vrid}")]
    DuplicateVrid {
        /// The node's name.
        node: String,
        /// The VRID.
        vrid: Vrid,
    },
    /// Routers with one VRID disagree on the address family, so they would never hear each other.
    #[error("routers with vrid {vrid} are of different address families")]
    FamilyMismatch {
        /// The VRID.
        vrid: Vrid,
    },
    /// A sync group names an instance the node does not have.
    #[error("node {node}: sync group member {member} is not one of its routers")]
    UnknownMember {
        /// The node's name.
        node: String,
        /// The member's instance name.
        member: String,
    },
    /// A router's [`RouterConfig::sync_group`] flag disagrees with the node's sync group.
    #[error("node {node}: router {router} says sync_group = {flag} but is {}a member", if *.flag { "not " } else { "" })]
    GroupFlag {
        /// The node's name.
        node: String,
        /// The instance name.
        router: String,
        /// The flag in its configuration.
        flag: bool,
    },
    /// A priority change names a node or VRID that does not exist.
    #[error("priority change for node {node}, vrid {vrid}: no such router")]
    UnknownRouter {
        /// The node index.
        node: NodeId,
        /// The VRID.
        vrid: u8,
    },
    /// More priority changes than the model supports.
    #[error("more than {max} priority changes")]
    TooManyChanges {
        /// The limit.
        max: usize,
    },
    /// Two properties have the same name.
    #[error("two properties are named {0:?}")]
    DuplicateProperty(&'static str),
    /// More user properties of one kind than the model supports.
    #[error("more than {max} user properties of one kind")]
    TooManyProperties {
        /// The limit.
        max: usize,
    },
}
