//! A keepalived.conf, typed: the whole file and its VRRP part.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::time::Duration;

use vrrp_core::unicast::UnicastPeer;

use super::error::{ConfWarning, Location};
use super::net::{RouteSpec, RuleSpec};
use super::tracking::TrackProcess;
use super::virtual_server::{TrackFile, VirtualServer, VsGroup};

/// A whole configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct KeepalivedConf {
    /// `global_defs`.
    pub global: GlobalDefs,
    /// `vrrp_script` blocks, in file order.
    pub scripts: Vec<VrrpScript>,
    /// `vrrp_instance` blocks, in file order.
    pub instances: Vec<VrrpInstance>,
    /// `vrrp_sync_group` blocks, in file order.
    pub sync_groups: Vec<SyncGroup>,
    /// `virtual_server` blocks, in file order.
    pub virtual_servers: Vec<VirtualServer>,
    /// `virtual_server_group` blocks, in file order.
    pub vs_groups: Vec<VsGroup>,
    /// Top-level `track_file` (or `vrrp_track_file`) blocks (used by `FILE_CHECK` and by
    /// instances' `track_file`).
    pub track_files: Vec<TrackFile>,
    /// `vrrp_track_process` blocks, in file order.
    pub track_processes: Vec<TrackProcess>,
    /// `static_ipaddress`: installed at start whatever the VRRP state.
    pub static_addresses: Vec<VipSpec>,
    /// `static_routes`: installed at start whatever the VRRP state.
    pub static_routes: Vec<RouteSpec>,
    /// `static_rules`: installed at start whatever the VRRP state.
    pub static_rules: Vec<RuleSpec>,
    /// Everything read but not acted upon.
    pub warnings: Vec<ConfWarning>,
}

/// `global_defs`, with keepalived's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct GlobalDefs {
    /// `router_id`.
    pub router_id: Option<String>,
    /// `vrrp_version` (2 or 3; keepalived's default is 2).
    pub vrrp_version: u8,
    /// `vrrp_mcast_group4`.
    pub mcast_group4: Ipv4Addr,
    /// `vrrp_mcast_group6`.
    pub mcast_group6: Ipv6Addr,
    /// `vrrp_garp_master_delay` (default 5 s).
    pub garp_master_delay: Duration,
    /// `vrrp_garp_master_repeat` (default 5).
    pub garp_master_repeat: u32,
    /// `vrrp_garp_master_refresh` (default none).
    pub garp_master_refresh: Option<Duration>,
    /// `vrrp_garp_master_refresh_repeat` (default 1).
    pub garp_master_refresh_repeat: u32,
    /// `vrrp_strict`.
    pub strict: bool,
    /// `vrrp_skip_check_adv_addr`.
    pub skip_check_adv_addr: bool,
    /// `nftables NAME`: the name of the firewall tables (no_accept, use_vmac).
    pub nftables: Option<String>,
    /// `vrrp_check_unicast_src`: every unicast instance drops adverts from non-peers.
    pub check_unicast_src: bool,
    /// `vrrp_lower_prio_no_advert`.
    pub lower_prio_no_advert: bool,
    /// `vrrp_higher_prio_send_advert`.
    pub higher_prio_send_advert: bool,
    /// `v3_checksum_as_v2` (this daemon's spelling; keepalived's per-instance equivalent for
    /// unicast is `old_unicast_checksum`).
    pub v3_checksum_as_v2: bool,
    /// `notify_fifo` (with `notify_fifo_script`): VRRP and LVS lines.
    pub notify_fifo: Option<NotifyFifo>,
    /// `vrrp_notify_fifo` (with `vrrp_notify_fifo_script`): VRRP lines.
    pub vrrp_notify_fifo: Option<NotifyFifo>,
    /// `lvs_notify_fifo` (with `lvs_notify_fifo_script`): LVS lines.
    pub lvs_notify_fifo: Option<NotifyFifo>,
    /// `script_user USER [GROUP]`: who runs scripts that name no user (keepalived's
    /// default: `keepalived_script` if that user exists, else the daemon's own user).
    pub script_user: Option<ScriptUser>,
    /// `enable_script_security`: scripts run as root whose path a non-root user could
    /// change are not run.
    pub script_security: bool,
    /// `lvs_sync_daemon`: IPVS connection sync.
    pub lvs_sync_daemon: Option<LvsSyncDaemon>,
    /// `umask MASK`: the daemon's file creation mask (keepalived's default 0177 otherwise;
    /// the command line's `-u` wins).
    pub umask: Option<u32>,
}

/// `lvs_sync_daemon INTERFACE [inst] VRRP_INSTANCE [id SYNC_ID] [maxlen LEN] [port PORT]
/// [ttl TTL] [group ADDRESS]` (keepalived 2.2.7's words; `lvs_sync_daemon IF INSTANCE ID`
/// is its older form): the kernel's connection sync daemons, following the instance (the
/// master daemon while it is MASTER, the backup one otherwise), or both all the time
/// without an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LvsSyncDaemon {
    /// The interface the sync messages use.
    pub interface: String,
    /// The VRRP instance the daemons follow.
    pub instance: Option<String>,
    /// `id`: the sync id (default: the instance's VRID, or 0 without an instance).
    pub sync_id: Option<u8>,
    /// `maxlen`: the largest message payload.
    pub max_len: Option<u16>,
    /// `port`: the UDP port.
    pub port: Option<u16>,
    /// `ttl`: the multicast TTL.
    pub ttl: Option<u8>,
    /// `group`: the multicast group.
    pub group: Option<IpAddr>,
    /// Where it is written.
    pub loc: Location,
}

/// A notify FIFO: `notify_fifo PATH [USER [GROUP]]` and its reader,
/// `notify_fifo_script CMD [USER [GROUP]]` (likewise the `vrrp_` and `lvs_` forms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyFifo {
    /// The FIFO's path.
    pub path: PathBuf,
    /// The owner given to the FIFO when the daemon creates it (keepalived's default: the
    /// default script user).
    pub owner: Option<ScriptUser>,
    /// The reader started when the FIFO is opened.
    pub script: Option<ScriptCommand>,
}

/// A command line with the user who runs it, as keepalived's `notify_script_init` reads it
/// (`KEYWORD CMD [USER [GROUP]]`, so a command with arguments is quoted): the FIFO readers
/// (`notify_fifo_script`: started when its FIFO is opened, with the FIFO's path as its last
/// argument, no timeout), `notify_up` / `notify_down` and `quorum_up` / `quorum_down`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptCommand {
    /// The command line, split into words.
    pub command: Vec<String>,
    /// Who runs it (default: the default script user).
    pub user: Option<ScriptUser>,
    /// Where it is written.
    pub loc: Location,
}

/// `USER [GROUP]` of `script_user`, a `vrrp_script`'s / `MISC_CHECK`'s `user`, or the
/// words after a notify command. Names only: the daemon resolves them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptUser {
    /// The user name.
    pub user: String,
    /// The group name (default: the user's primary group).
    pub group: Option<String>,
    /// Where it is written.
    pub loc: Location,
}

impl Default for GlobalDefs {
    fn default() -> Self {
        Self {
            router_id: None,
            vrrp_version: 2,
            mcast_group4: Ipv4Addr::new(224, 0, 0, 18),
            mcast_group6: Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12),
            garp_master_delay: Duration::from_secs(5),
            garp_master_repeat: 5,
            garp_master_refresh: None,
            garp_master_refresh_repeat: 1,
            strict: false,
            skip_check_adv_addr: false,
            nftables: None,
            check_unicast_src: false,
            lower_prio_no_advert: false,
            higher_prio_send_advert: false,
            v3_checksum_as_v2: false,
            notify_fifo: None,
            vrrp_notify_fifo: None,
            lvs_notify_fifo: None,
            script_user: None,
            script_security: false,
            lvs_sync_daemon: None,
            umask: None,
        }
    }
}

/// A `vrrp_script` block.
#[derive(Debug, Clone, PartialEq)]
pub struct VrrpScript {
    /// The block's name.
    pub name: String,
    /// Where the block starts.
    pub loc: Location,
    /// `script`: the command line, split into words (keepalived does not use a shell).
    pub script: Vec<String>,
    /// `interval` (default 1 s).
    pub interval: Duration,
    /// `timeout` (default: the interval).
    pub timeout: Duration,
    /// `weight` (default 0: failure puts the instance in FAULT).
    pub weight: i32,
    /// `rise` (default 1).
    pub rise: u32,
    /// `fall` (default 1).
    pub fall: u32,
    /// `weight W reverse`: the tracking instances' default is reversed (a success lowers
    /// the priority, or with weight 0 a success is a fault).
    pub weight_reverse: bool,
    /// `user USER [GROUP]`.
    pub user: Option<ScriptUser>,
    /// `init_fail`. Read, but as in keepalived 2.2.7 without effect: a `track_script`
    /// naming the script resets its initial state (`alloc_track_script`).
    pub init_fail: bool,
}

/// `state` of a `vrrp_instance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitialState {
    /// `state MASTER`.
    Master,
    /// `state BACKUP` (the default).
    Backup,
}

/// One address of `virtual_ipaddress` / `virtual_ipaddress_excluded`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VipSpec {
    /// The address.
    pub addr: IpAddr,
    /// Prefix length (default /32 or /128).
    pub prefix_len: u8,
    /// `dev IFNAME` (default: the instance's interface).
    pub dev: Option<String>,
    /// `label LABEL`.
    pub label: Option<String>,
    /// `scope SCOPE`.
    pub scope: Option<String>,
    /// `brd ADDR` / `broadcast ADDR` (`+` and `-` computed from the prefix), IPv4 only.
    pub broadcast: Option<Ipv4Addr>,
    /// `peer ADDR[/LEN]`: point-to-point peer (the prefix length is then the peer's).
    pub peer: Option<IpAddr>,
    /// `no_track`: its removal by someone else, or its interface going down, does not
    /// concern the instance.
    pub no_track: bool,
    /// `-nodad`: IPv6 duplicate address detection on (keepalived installs IPv6 addresses
    /// with `nodad` otherwise).
    pub dad: bool,
    /// `noprefixroute`.
    pub noprefixroute: bool,
    /// `home`.
    pub home: bool,
    /// `mngtmpaddr`.
    pub mngtmpaddr: bool,
    /// `autojoin`.
    pub autojoin: bool,
    /// IPv6 preferred lifetime in seconds, `None` for forever: `preferred_lft N|forever`,
    /// or keepalived's default (0, deprecated, for a /128; forever otherwise). Always
    /// `None` for IPv4 (keepalived ignores it there).
    pub preferred_lft: Option<u32>,
    /// Where it is written.
    pub loc: Location,
}

/// A tracked interface, script, process or file with its weight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracked {
    /// Interface, `vrrp_script`, `vrrp_track_process` or `track_file` name.
    pub name: String,
    /// `weight N`, if given.
    pub weight: Option<i32>,
    /// `weight N reverse` (`Some(true)`) or `weight N noreverse` (`Some(false)`); `None`:
    /// the tracked block's own `weight ... reverse` (not for interfaces).
    pub reverse: Option<bool>,
    /// Where it is written.
    pub loc: Location,
}

/// The notify hooks of an instance or a sync group.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Notify {
    /// `notify_master`.
    pub master: Option<Vec<String>>,
    /// `notify_backup`.
    pub backup: Option<Vec<String>>,
    /// `notify_fault`.
    pub fault: Option<Vec<String>>,
    /// `notify_stop`.
    pub stop: Option<Vec<String>>,
    /// `notify`: called with TYPE NAME STATE PRIORITY.
    pub any: Option<Vec<String>>,
    /// The `USER [GROUP]` written after a command, by keyword (`notify_master`, ...,
    /// `notify`).
    pub users: BTreeMap<String, ScriptUser>,
}

/// Per-instance gratuitous ARP overrides (the `garp_*` keywords).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GarpOverrides {
    /// `garp_master_delay`.
    pub master_delay: Option<Duration>,
    /// `garp_master_repeat`.
    pub master_repeat: Option<u32>,
    /// `garp_master_refresh`.
    pub master_refresh: Option<Duration>,
    /// `garp_master_refresh_repeat`.
    pub master_refresh_repeat: Option<u32>,
}

/// A `vrrp_instance` block.
#[derive(Debug, Clone, PartialEq)]
pub struct VrrpInstance {
    /// The block's name (`VI_1`).
    pub name: String,
    /// Where the block starts.
    pub loc: Location,
    /// `state`.
    pub state: InitialState,
    /// `interface`.
    pub interface: String,
    /// `virtual_router_id`.
    pub vrid: u8,
    /// `priority` (default 100).
    pub priority: u8,
    /// `advert_int` (default 1 s).
    pub advert_int: Duration,
    /// `version`, overriding the global one.
    pub version: Option<u8>,
    /// `nopreempt`.
    pub nopreempt: bool,
    /// `preempt_delay`.
    pub preempt_delay: Duration,
    /// `accept` (`Some(true)`) or `no_accept` (`Some(false)`).
    pub accept: Option<bool>,
    /// `mcast_src_ip`.
    pub mcast_src_ip: Option<IpAddr>,
    /// `unicast_src_ip`.
    pub unicast_src_ip: Option<IpAddr>,
    /// `unicast_peer` entries with their optional `min_ttl` / `max_ttl`.
    pub unicast_peers: Vec<UnicastPeer>,
    /// `check_unicast_src`: adverts from sources that are not peers are dropped.
    pub check_unicast_src: bool,
    /// `unicast_ttl`: TTL / hop limit of unicast adverts (default 255).
    pub unicast_ttl: Option<u8>,
    /// `authentication { auth_type PASS; auth_pass X }`.
    pub auth_pass: Option<String>,
    /// `virtual_ipaddress`.
    pub vips: Vec<VipSpec>,
    /// `virtual_ipaddress_excluded`.
    pub vips_excluded: Vec<VipSpec>,
    /// `virtual_routes`: installed while master.
    pub routes: Vec<RouteSpec>,
    /// `virtual_rules`: installed while master.
    pub rules: Vec<RuleSpec>,
    /// `track_interface`.
    pub track_interfaces: Vec<Tracked>,
    /// `track_script`.
    pub track_scripts: Vec<Tracked>,
    /// `track_process` (names of `vrrp_track_process` blocks).
    pub track_processes: Vec<Tracked>,
    /// `track_file` (names of top-level `track_file` blocks).
    pub track_files: Vec<Tracked>,
    /// `use_vmac [NAME]`: `Some(None)` for the default name.
    pub use_vmac: Option<Option<String>>,
    /// `garp_*`.
    pub garp: GarpOverrides,
    /// `notify_*`.
    pub notify: Notify,
    /// `old_unicast_checksum`: VRRPv3 checksum without the pseudo-header for unicast.
    pub old_unicast_checksum: bool,
}

/// A `vrrp_sync_group` block.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncGroup {
    /// The block's name.
    pub name: String,
    /// Where the block starts.
    pub loc: Location,
    /// The `group { ... }` member instance names.
    pub members: Vec<String>,
    /// `notify_*`.
    pub notify: Notify,
}
