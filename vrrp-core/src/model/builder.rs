//! [`ModelBuilder`]: describe nodes, choices and properties; validate them into a
//! [`VrrpModel`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::{AnnounceConfig, RouterConfig};
use crate::router::VirtualRouter;
use crate::types::{Family, Priority, Vrid};

use super::actor::NodeSpec;
use super::properties::{Builtin, MAX_USER, UserProperty};
use super::report::{Report, RunOptions};
use super::spec::{Choices, ModelError, Node, NodeId, PriorityChange};
use super::state::{Limits, ModelState};
use super::system::VrrpModel;

/// The most nodes a model may have.
pub const MAX_NODES: usize = 8;

/// The most priority changes a model may have.
pub const MAX_CHANGES: usize = 16;

/// Describes a model: nodes with their [`RouterConfig`]s, the checker's [`Choices`], extra
/// properties and bounds. [`ModelBuilder::check`] builds and checks it.
#[derive(Clone)]
pub struct ModelBuilder {
    epoch: Instant,
    nodes: Vec<Node>,
    choices: Choices,
    changes: Vec<(NodeId, u8, u8)>,
    builtins: Vec<Builtin>,
    always: Vec<UserProperty>,
    sometimes: Vec<UserProperty>,
    settle: Option<Duration>,
    run: RunOptions,
}

impl core::fmt::Debug for ModelBuilder {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ModelBuilder")
            .field("nodes", &self.nodes)
            .field("choices", &self.choices)
            .field("changes", &self.changes)
            .field("builtins", &self.builtins)
            .finish_non_exhaustive()
    }
}

impl ModelBuilder {
    /// An empty model whose clock starts at `epoch` (any instant: the model only uses
    /// differences, and reads no clock itself). Every built-in property is checked.
    pub fn new(epoch: Instant) -> Self {
        ModelBuilder {
            epoch,
            nodes: Vec::new(),
            choices: Choices::none(),
            changes: Vec::new(),
            builtins: Builtin::ALL.to_vec(),
            always: Vec::new(),
            sometimes: Vec::new(),
            settle: None,
            run: RunOptions::default(),
        }
    }

    /// Adds a node; nodes are numbered from 0 in the order they are added.
    pub fn node(mut self, node: Node) -> Self {
        self.nodes.push(node);
        self
    }

    /// Adds a node with one router, named after its primary address.
    pub fn router(self, config: RouterConfig) -> Self {
        let node = Node::new(config.primary_address.to_string()).router(config);
        self.node(node)
    }

    /// What the checker may do besides delivering adverts and expiring timers.
    pub fn choices(mut self, choices: Choices) -> Self {
        self.choices = choices;
        self
    }

    /// Lets the checker set the base priority of `node`'s router `vrid` to `priority`, once,
    /// at any moment.
    pub fn priority_change(mut self, node: NodeId, vrid: u8, priority: u8) -> Self {
        self.changes.push((node, vrid, priority));
        self
    }

    /// Checks only these built-in properties.
    pub fn builtins(mut self, builtins: impl IntoIterator<Item = Builtin>) -> Self {
        self.builtins = builtins.into_iter().collect();
        self
    }

    /// Adds a property that must hold in every reachable state.
    pub fn property(
        mut self,
        name: &'static str,
        check: impl Fn(&ModelState) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.always.push(UserProperty {
            name,
            check: Arc::new(check),
        });
        self
    }

    /// Adds a claim that some reachable state satisfies `check` (so that a scenario, and the
    /// properties about it, are not vacuous); [`Report::unreached`] lists those not met.
    pub fn reachable(
        mut self,
        name: &'static str,
        check: impl Fn(&ModelState) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.sometimes.push(UserProperty {
            name,
            check: Arc::new(check),
        });
        self
    }

    /// Calm time after which a state is quiescent (see [`ModelState::is_quiescent`]).
    pub fn settle_time(mut self, settle: Duration) -> Self {
        self.settle = Some(settle);
        self
    }

    /// Stops after about `n` generated states (the report then says incomplete).
    pub fn max_states(mut self, n: usize) -> Self {
        self.run.max_states = Some(n);
        self
    }

    /// Explores paths of at most `depth` steps (the report then says incomplete if any was cut).
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.run.max_depth = Some(depth);
        self
    }

    /// Checker threads (default 1).
    pub fn threads(mut self, threads: usize) -> Self {
        self.run.threads = threads;
        self
    }

    /// Stops at the first counterexample of any property.
    pub fn stop_at_first_violation(mut self) -> Self {
        self.run.stop_at_first_violation = true;
        self
    }

    /// Validates the description.
    ///
    /// Each router's announcement pacing is replaced by RFC 9568's single announcement:
    /// announcements never influence the protocol, and this leaves no hidden announcement
    /// timer to project (see [State identity](crate::model#state-identity)).
    pub fn build(self) -> Result<VrrpModel, ModelError> {
        if self.nodes.len() > MAX_NODES {
            return Err(ModelError::TooManyNodes {
                count: self.nodes.len(),
                max: MAX_NODES,
            });
        }
        let specs = self
            .nodes
            .iter()
            .map(node_spec)
            .collect::<Result<Vec<_>, _>>()?;
        let mut vrids: Vec<(Vrid, Family)> = specs
            .iter()
            .flat_map(|s| s.routers.iter())
            .map(|r| (r.config().vrid, r.config().family))
            .collect();
        if vrids.is_empty() {
            return Err(ModelError::Empty);
        }
        vrids.sort_by_key(|(v, _)| *v);
        if let Some(w) = vrids
            .windows(2)
            .find(|w| w[0].0 == w[1].0 && w[0].1 != w[1].1)
        {
            return Err(ModelError::FamilyMismatch { vrid: w[0].0 });
        }
        let mut vrids: Vec<Vrid> = vrids.into_iter().map(|(v, _)| v).collect();
        vrids.dedup();
        let changes = self
            .changes
            .iter()
            .map(|&(node, vrid, priority)| {
                let unknown = ModelError::UnknownRouter { node, vrid };
                let spec = specs.get(node).ok_or(unknown.clone())?;
                let vrid = Vrid::new(vrid).ok_or(unknown.clone())?;
                let slot = spec.slot_of(vrid).ok_or(unknown)?;
                Ok(PriorityChange {
                    node,
                    slot,
                    vrid,
                    priority: Priority(priority),
                })
            })
            .collect::<Result<Vec<_>, ModelError>>()?;
        if changes.len() > MAX_CHANGES {
            return Err(ModelError::TooManyChanges { max: MAX_CHANGES });
        }
        if self.always.len() > MAX_USER || self.sometimes.len() > MAX_USER {
            return Err(ModelError::TooManyProperties { max: MAX_USER });
        }
        let mut names: Vec<&'static str> = self
            .builtins
            .iter()
            .map(|b| b.name())
            .chain(self.always.iter().map(|p| p.name))
            .chain(self.sometimes.iter().map(|p| p.name))
            .chain([
                super::properties::QUIESCENT,
                super::properties::HANDOVER_DONE,
            ])
            .collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(ModelError::DuplicateProperty(w[0]));
        }
        let configs = || {
            specs
                .iter()
                .flat_map(|s| s.routers.iter())
                .map(|r| r.config())
        };
        let interval = configs()
            .map(|c| c.advert_interval.as_duration())
            .max()
            .unwrap_or_default();
        let down_adverts = configs()
            .map(|c| u32::from(c.down_timer_adverts))
            .max()
            .unwrap_or(3);
        let preempt_delay = configs().map(|c| c.preempt_delay).max().unwrap_or_default();
        let down_interval = interval * (down_adverts + 1);
        let delay = self.choices.max_delay;
        let settle = self
            .settle
            .unwrap_or(preempt_delay + down_interval * 2 + interval * 2 + delay * 2);
        let limits = Limits {
            epoch: self.epoch,
            names: specs.iter().map(|s| s.name.clone()).collect(),
            vrids,
            settle,
            cap_handover: delay + interval + Duration::from_nanos(1),
            cap_window: down_interval + Duration::from_nanos(1),
        };
        Ok(VrrpModel {
            specs,
            choices: self.choices,
            changes,
            limits: Arc::new(limits),
            builtins: self.builtins,
            always: self.always,
            sometimes: self.sometimes,
            run: self.run,
        })
    }

    /// Builds and checks the model.
    pub fn check(self) -> Result<Report, ModelError> {
        self.build().map(VrrpModel::check)
    }
}

/// Validates one node into its fixed description.
fn node_spec(node: &Node) -> Result<NodeSpec, ModelError> {
    let mut routers: Vec<VirtualRouter> = Vec::with_capacity(node.routers.len());
    for config in &node.routers {
        let mut config = config.clone();
        config.announce = AnnounceConfig::RFC;
        if routers.iter().any(|r| r.config().vrid == config.vrid) {
            return Err(ModelError::DuplicateVrid {
                node: node.name.clone(),
                vrid: config.vrid,
            });
        }
        let router = VirtualRouter::new(config).map_err(|source| ModelError::Config {
            node: node.name.clone(),
            source,
        })?;
        routers.push(router);
    }
    let mut in_group = vec![false; routers.len()];
    if let Some(group) = &node.group {
        for member in &group.members {
            let slot = routers
                .iter()
                .position(|r| r.config().name == *member)
                .ok_or_else(|| ModelError::UnknownMember {
                    node: node.name.clone(),
                    member: member.clone(),
                })?;
            in_group[slot] = true;
        }
    }
    // Member indices in slot order, as the group numbers its members.
    let mut next = 0;
    let members: Vec<Option<usize>> = in_group
        .iter()
        .map(|&m| {
            m.then(|| {
                next += 1;
                next - 1
            })
        })
        .collect();
    for (router, member) in routers.iter().zip(&members) {
        if router.config().sync_group != member.is_some() {
            return Err(ModelError::GroupFlag {
                node: node.name.clone(),
                router: router.config().name.clone(),
                flag: router.config().sync_group,
            });
        }
    }
    Ok(NodeSpec {
        name: node.name.clone(),
        routers,
        members,
        group: node.group.as_ref().map(|g| g.name.clone()),
        mutant: node.mutant,
    })
}
