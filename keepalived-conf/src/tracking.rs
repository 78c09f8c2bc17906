//! What VRRP instances track besides interfaces and scripts: `vrrp_track_process` blocks
//! (how many copies of a process run) and the `init_file` of `track_file` blocks.

use std::time::Duration;

use super::error::Location;

/// How the words after the process name in `process NAME ARGS...` are compared with a
/// running process's arguments (keepalived's `param_match`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ParamMatch {
    /// Arguments are not compared (no `ARGS`, no `param_match`).
    #[default]
    None,
    /// `param_match` (the default when `ARGS` are given): the arguments are exactly `ARGS`.
    Exact,
    /// `param_match partial`: the arguments start with `ARGS` (more may follow).
    Partial,
    /// `param_match initial`: as `partial`, except that the last of `ARGS` need only be
    /// the start of the corresponding argument.
    Initial,
}

/// A `vrrp_track_process NAME { ... }` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackProcess {
    /// The block's name.
    pub name: String,
    /// Where the block starts.
    pub loc: Location,
    /// `process NAME`: matched against the process's `comm` (at most 15 bytes, as in
    /// `/proc/PID/comm`), or against its `argv[0]` with `full_command` or arguments.
    pub process: String,
    /// The words after the name on the `process` line (empty: none given).
    pub params: Vec<String>,
    /// `param_match`.
    pub param_match: ParamMatch,
    /// `full_command` (implied by `ARGS` and `param_match`): match `argv[0]` rather than
    /// `comm`.
    pub full_command: bool,
    /// `weight W` (default 0: no quorum puts the tracking instances in FAULT).
    pub weight: i32,
    /// `weight W reverse`: the tracking instances' default is reversed.
    pub weight_reverse: bool,
    /// `quorum N` (default 1): fewest matching processes for the object to be up.
    pub quorum: u32,
    /// `quorum_max N` (default unlimited, `u32::MAX`): most matching processes for the
    /// object to be up. `quorum_max 0` tracks that the process does not run.
    pub quorum_max: u32,
    /// `fork_delay` (or `delay`): how long a quorum gained by a tracked process forking
    /// must last before it counts.
    pub fork_delay: Duration,
    /// `terminate_delay` (or `delay`): how long a quorum lost by a process exiting must
    /// last before it counts.
    pub terminate_delay: Duration,
}

impl TrackProcess {
    /// Whether `count` matching processes make the quorum.
    pub fn has_quorum(&self, count: u32) -> bool {
        (self.quorum..=self.quorum_max).contains(&count)
    }
}

/// `init_file [VALUE] [overwrite]` of a `track_file` block: what the daemon writes to the
/// file when it starts (never under `-t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackFileInit {
    /// The value written (default 0).
    pub value: i32,
    /// `overwrite`: write it even if the file exists (except on a reload). Without it the
    /// file is only created when missing.
    pub overwrite: bool,
}
