//! keepalived's health-checking part: `virtual_server`s whose real servers are probed by
//! `healthcheck`, pools kept with keepalived's rules (quorum, hysteresis, sorry server,
//! `inhibit_on_failure`), changes notified like keepalived (`lvs_notify_fifo` lines,
//! `notify_up/down` and `quorum_up/down` scripts) and, with the `ipvs` feature, programmed
//! into the kernel.

mod checks;
mod events;
mod ha_suspend;
#[cfg(feature = "ipvs")]
mod kernel;
mod plan;
mod reload;
mod run;

#[cfg(test)]
use events::{Lvs, Notice};
pub(crate) use plan::services;
pub(crate) use run::{Checkers, Table, run};

use keepalived_conf::Location;

/// A checker or virtual server that `healthcheck` refuses, located like a parse error.
#[derive(Debug, thiserror::Error)]
#[error("{loc}: {keyword}: {message}")]
pub(crate) struct LvsError {
    /// Where.
    pub(crate) loc: Location,
    /// The keyword at fault.
    pub(crate) keyword: String,
    /// What is wrong, naming the value.
    pub(crate) message: String,
}

impl LvsError {
    pub(crate) fn new(loc: &Location, keyword: &str, message: impl Into<String>) -> Self {
        Self {
            loc: loc.clone(),
            keyword: keyword.to_owned(),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests;
