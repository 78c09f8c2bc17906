//! Sync groups (keepalived's `vrrp_sync_group`): member routers move together.
//!
//! Rules, as keepalived 2.x applies them:
//! - a member goes master only when every member would: each member votes
//!   ([`Output::GroupVote`]) when its Master_Down_Timer fires, and the group sends
//!   [`GroupCommand::Master`] once all members vote or already are master;
//! - a member that leaves master for backup takes the others with it;
//! - a member in fault of its own ([`Output::GroupFault`]) puts the others in fault until it
//!   recovers.
//!
//! [`SyncGroup`] is pure: feed it every output of every member and deliver the commands it
//! returns with [`crate::Input::Group`].

use crate::output::Output;
use crate::router::GroupCommand;
use crate::state::{Reason, State};

#[derive(Debug, Clone, Copy)]
struct Member {
    state: State,
    vote: bool,
    /// Has a fault of its own (not because of the group).
    own_fault: bool,
    /// Last group-fault status sent to it.
    told_fault: bool,
}

/// Coordinator of one sync group.
#[derive(Debug, Clone)]
pub struct SyncGroup {
    name: String,
    members: Vec<Member>,
}

impl SyncGroup {
    /// A group of `members` routers, addressed by index 0..members.
    pub fn new(name: impl Into<String>, members: usize) -> Self {
        let member = Member {
            state: State::Initialize,
            vote: false,
            own_fault: false,
            told_fault: false,
        };
        SyncGroup {
            name: name.into(),
            members: vec![member; members],
        }
    }

    /// The group's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Observes one output of member `index`; appends the commands to deliver, as
    /// (member index, command).
    pub fn observe(
        &mut self,
        index: usize,
        output: &Output,
        commands: &mut Vec<(usize, GroupCommand)>,
    ) {
        let Some(member) = self.members.get_mut(index) else {
            return;
        };
        match *output {
            Output::GroupVote { want_master } => {
                member.vote = want_master;
                self.release_if_unanimous(commands);
            }
            Output::StateChanged { from, to, reason } => {
                member.state = to;
                if to == State::Master {
                    member.vote = false;
                }
                if from == State::Master && to == State::Backup && reason != Reason::SyncGroup {
                    for (i, m) in self.members.iter().enumerate() {
                        if i != index && m.state == State::Master {
                            commands.push((i, GroupCommand::Backup));
                        }
                    }
                }
                self.release_if_unanimous(commands);
            }
            Output::GroupFault { active } => {
                member.own_fault = active;
                self.propagate_faults(commands);
            }
            _ => {}
        }
    }

    fn release_if_unanimous(&mut self, commands: &mut Vec<(usize, GroupCommand)>) {
        let any_vote = self.members.iter().any(|m| m.vote);
        let unanimous = self
            .members
            .iter()
            .all(|m| m.vote || m.state == State::Master);
        if any_vote && unanimous {
            for (i, m) in self.members.iter_mut().enumerate() {
                if m.vote {
                    commands.push((i, GroupCommand::Master));
                }
            }
        }
    }

    fn propagate_faults(&mut self, commands: &mut Vec<(usize, GroupCommand)>) {
        for i in 0..self.members.len() {
            let active = self
                .members
                .iter()
                .enumerate()
                .any(|(k, m)| k != i && m.own_fault);
            if self.members[i].told_fault != active {
                self.members[i].told_fault = active;
                commands.push((i, GroupCommand::Fault { active }));
            }
        }
    }
}
