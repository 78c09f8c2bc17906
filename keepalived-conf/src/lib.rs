//! keepalived's configuration file, read into typed structures: its VRRP part and its
//! health-checking (LVS) part.
//!
//! Supported: `global_defs` (router_id, vrrp_version, vrrp_mcast_group4/6,
//! vrrp_garp_master_delay/repeat/refresh/refresh_repeat, vrrp_strict, vrrp_skip_check_adv_addr,
//! vrrp_lower_prio_no_advert, vrrp_higher_prio_send_advert, v3_checksum_as_v2, notify_fifo,
//! vrrp_notify_fifo, lvs_notify_fifo), `vrrp_script`, `vrrp_instance`, `vrrp_sync_group`,
//! `virtual_server` (address, `fwmark` or `group`) with its `real_server`s and checkers,
//! `virtual_server_group`, `track_file` and `include`, after keepalived 2.2.7's line
//! preprocessing: `@ID` / `@^ID` conditionals on the config id, `$NAME=value` parameters
//! (multiline with a trailing `\`) and their `$NAME` / `${NAME}` substitution
//! ([`ReadOptions`] carries the config id).
//! Keywords of other keepalived sections and unknown keywords become [`ConfWarning`]s; bad
//! values are [`ConfError`]s naming the file, line and keyword.
//!
//! Nothing here does I/O except [`read`] and [`parse_str`] following `include`s; there is no
//! async runtime. The daemon that runs such a file is the `keepalived-compat` crate.
//!
//! ```
//! let conf = keepalived_conf::parse_str("keepalived.conf", r#"
//! vrrp_instance VI_1 {
//!     interface eth0
//!     virtual_router_id 51
//!     priority 150
//!     advert_int 1
//!     virtual_ipaddress {
//!         192.0.2.100/24 dev eth0 label eth0:vip
//!     }
//! }
//! "#).unwrap();
//! assert_eq!(conf.instances[0].vrid, 51);
//! ```

#![forbid(unsafe_code)]

mod error;
mod model;
mod net;
mod options;
mod parse;
mod preprocess;
mod tracking;
mod tree;
pub mod umask;
mod virtual_server;

use std::path::Path;

pub use error::{ConfError, ConfWarning, Location};
pub use model::{
    GarpOverrides, GlobalDefs, InitialState, KeepalivedConf, LvsSyncDaemon, Notify, NotifyFifo,
    ScriptCommand, ScriptUser, SyncGroup, Tracked, VipSpec, VrrpInstance, VrrpScript,
};
pub use net::{RT_TABLE_MAIN, RTN_UNICAST, RTPROT_KEEPALIVED, RouteSpec, RuleActionSpec, RuleSpec};
pub use options::ReadOptions;
pub use tracking::{ParamMatch, TrackFileInit, TrackProcess};
pub use virtual_server::{
    CheckTiming, Checker, CheckerKind, Granularity, HttpProtocol, LbKind, LvsMethod, Protocol,
    RealServer, TrackFile, Tunnel, TunnelCsum, TunnelType, UrlSpec, VirtualServer, VsAddress,
    VsGroup,
};

/// Reads and validates the configuration file at `path` (following `include`s), without a
/// config id ([`ReadOptions::read`] takes one).
pub fn read(path: &Path) -> Result<KeepalivedConf, ConfError> {
    ReadOptions::new().read(path)
}

/// Parses configuration text as if it came from a file called `name`; `include` lines are
/// followed, relative to the current directory.
pub fn parse_str(name: &str, text: &str) -> Result<KeepalivedConf, ConfError> {
    ReadOptions::new().parse_str(name, text)
}

/// Parses configuration text that may not name other files: an `include` line is a
/// [`ConfError`] and nothing is read from the file system. For text from an untrusted
/// source (a web form, an API request, a fuzzer).
pub fn parse_str_without_includes(name: &str, text: &str) -> Result<KeepalivedConf, ConfError> {
    ReadOptions::new().parse_str_without_includes(name, text)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_fifo;
#[cfg(test)]
mod tests_lvs;
#[cfg(test)]
mod tests_net;
#[cfg(test)]
mod tests_preprocess;
#[cfg(test)]
mod tests_syncd;
#[cfg(test)]
mod tests_tracking;
