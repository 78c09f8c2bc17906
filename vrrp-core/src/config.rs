//! Router configuration, its builder and its validation.
//!
//! Defaults follow RFC 9568. Every behaviour where keepalived deviates from the RFC is a typed
//! field here, and [`Profile::Keepalived`] sets them the way keepalived 2.x does by default, so
//! a keepalived user gets the same behaviour one call away. [`Profile::Strict`] is keepalived's
//! `vrrp_strict`: RFC behaviour plus validation that refuses non-RFC features.

use core::net::IpAddr;
use std::time::Duration;

use crate::error::ConfigError;
use crate::track::TrackedObject;
use crate::types::{Centisecs, Family, Priority, Version, VirtualAddress, Vrid};
use crate::unicast::{TtlRange, UnicastPeer, UnicastReceive};
use crate::wire::{Auth, ChecksumMode, Password};

/// How a router enters the protocol on Startup (RFC 9568 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum StartupState {
    /// RFC: the owner (priority 255) becomes master at once, every other router backup.
    #[default]
    Rfc,
    /// keepalived's `state MASTER`: become master at once and let the election sort it out.
    Master,
}

/// Which received address lists are checked against the configured virtual addresses
/// (RFC 9568 §7.1 "MAY verify").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AddressCheck {
    /// Every advert; a mismatch drops the advert and counts an address-list error.
    #[default]
    Always,
    /// keepalived's `vrrp_skip_check_adv_addr`: skip the check when the sender is the master
    /// whose advert was accepted last.
    SkipSameMaster,
    /// Never check.
    Never,
}

/// Gratuitous ARP / unsolicited NA pacing after becoming master (keepalived's `garp_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnnounceConfig {
    /// Announcements per round (`garp_master_repeat`), at least 1.
    pub repeat: u32,
    /// Gap between announcements of a round (`garp_interval` / `gna_interval`).
    pub interval: Duration,
    /// Delay of the second round after becoming master (`garp_master_delay`); `None`: no second round.
    pub second_round_delay: Option<Duration>,
    /// Period of refresh rounds while master (`garp_master_refresh`); `None`: no refresh.
    pub refresh: Option<Duration>,
    /// Announcements per refresh round (`garp_master_refresh_repeat`), at least 1.
    pub refresh_repeat: u32,
}

impl AnnounceConfig {
    /// One announcement on becoming master (RFC 9568 §6.4.1, §6.4.2).
    pub const RFC: AnnounceConfig = AnnounceConfig {
        repeat: 1,
        interval: Duration::ZERO,
        second_round_delay: None,
        refresh: None,
        refresh_repeat: 1,
    };

    /// keepalived 2.x defaults: 5 at once, 5 more after 5 s, no refresh.
    pub const KEEPALIVED: AnnounceConfig = AnnounceConfig {
        repeat: 5,
        interval: Duration::ZERO,
        second_round_delay: Some(Duration::from_secs(5)),
        refresh: None,
        refresh_repeat: 1,
    };
}

impl Default for AnnounceConfig {
    fn default() -> Self {
        AnnounceConfig::RFC
    }
}

/// A set of defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Profile {
    /// RFC 9568 / RFC 3768 behaviour.
    #[default]
    Rfc,
    /// keepalived 2.x defaults (lower-priority re-advert, 5+5 gratuitous ARPs, accept mode on).
    Keepalived,
    /// keepalived's `vrrp_strict`: RFC behaviour, and validation rejects unicast peers,
    /// authentication, accept mode off only, and the no-pseudo-header checksum.
    Strict,
}

/// Configuration of one virtual router: one (interface, family, VRID).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RouterConfig {
    /// Instance name, used in events (keepalived's `vrrp_instance NAME`).
    pub name: String,
    /// Virtual Rtr ID.
    pub vrid: Vrid,
    /// Protocol version.
    pub version: Version,
    /// Address family.
    pub family: Family,
    /// Configured priority (1..=255).
    pub priority: Priority,
    /// Advertisement_Interval (v2: whole seconds).
    pub advert_interval: Centisecs,
    /// This router's primary address on the interface: the advert source, the tie-breaker
    /// (RFC 9568 §6.4.3) and how own adverts are recognised. Link-local for v3 over IPv6.
    pub primary_address: IpAddr,
    /// Addresses advertised and installed when master (`virtual_ipaddress`).
    pub virtual_addresses: Vec<VirtualAddress>,
    /// Addresses installed but not advertised (`virtual_ipaddress_excluded`).
    pub excluded_addresses: Vec<VirtualAddress>,
    /// Preempt_Mode (RFC 9568 §6.1). `false` is keepalived's `nopreempt`.
    pub preempt: bool,
    /// keepalived's `preempt_delay`: a backup accepts a lower-priority master for this long
    /// after it first sees one before preempting it.
    pub preempt_delay: Duration,
    /// Accept_Mode (RFC 9568 §6.1), passed to the glue with the addresses.
    pub accept_mode: bool,
    /// VRRPv2 authentication (`authentication { auth_type PASS }`).
    pub auth: Auth,
    /// VRRPv3 IPv4 checksum (keepalived's `v3_checksum_as_v2` is [`ChecksumMode::NoPseudoHeader`]).
    pub checksum_mode: ChecksumMode,
    /// Startup behaviour.
    pub startup: StartupState,
    /// keepalived default: a master answers a lower-priority advert with its own advert
    /// (RFC 9568 §6.4.3 says discard; `vrrp_lower_prio_no_advert` turns this off).
    pub lower_prio_advert: bool,
    /// keepalived's `vrrp_higher_prio_send_advert`: send one advert before yielding to a
    /// higher-priority master.
    pub higher_prio_send_advert: bool,
    /// Adverts missed before the master is declared down: the 3 of
    /// Master_Down_Interval (keepalived's `down_timer_adverts`).
    pub down_timer_adverts: u8,
    /// Address list verification policy.
    pub address_check: AddressCheck,
    /// Announcement pacing.
    pub announce: AnnounceConfig,
    /// Tracked objects.
    pub track: Vec<TrackedObject>,
    /// Whether this router is a member of a sync group (it then asks the group before
    /// becoming master, see [`crate::group`]).
    pub sync_group: bool,
    /// The defaults profile the validation applies.
    pub profile: Profile,
    /// Unicast peers configured in the glue (validation only: strict mode refuses them).
    pub unicast: bool,
    /// What a unicast router accepts on receipt (TTL range, source check); ignored by a
    /// multicast router, which always requires TTL / Hop Limit 255 (RFC 9568 §7.1).
    pub unicast_receive: UnicastReceive,
}

impl RouterConfig {
    /// Starts a builder with RFC defaults.
    pub fn builder(
        name: impl Into<String>,
        vrid: u8,
        primary_address: IpAddr,
    ) -> RouterConfigBuilder {
        RouterConfigBuilder::new(name.into(), vrid, primary_address)
    }

    /// Checks every field; the error names the field and the value.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.priority == Priority::STOP {
            return Err(ConfigError::Priority);
        }
        let centis = self.advert_interval.get();
        match self.version {
            Version::V2 => {
                if centis == 0 || !centis.is_multiple_of(100) || centis > 25500 {
                    return Err(ConfigError::V2Interval { centis });
                }
                if self.family == Family::V6 {
                    return Err(ConfigError::V2Ipv6);
                }
            }
            Version::V3 => {
                if centis == 0 || centis > Centisecs::MAX_V3.get() {
                    return Err(ConfigError::V3Interval { centis });
                }
                if self.auth != Auth::None {
                    return Err(ConfigError::AuthWithV3);
                }
            }
        }
        if Family::of(&self.primary_address) != self.family {
            return Err(ConfigError::PrimaryFamily {
                address: self.primary_address,
                family: self.family,
            });
        }
        // RFC 9568 §5.1.2.1 wants the link-local address as source; keepalived also accepts a
        // global `unicast_src_ip` for unicast, so unicast lifts the rule.
        if let (Version::V3, IpAddr::V6(a), false) =
            (self.version, self.primary_address, self.unicast)
            && !a.is_unicast_link_local()
        {
            return Err(ConfigError::PrimaryNotLinkLocal {
                address: self.primary_address,
            });
        }
        if self.virtual_addresses.is_empty() {
            return Err(ConfigError::NoVirtualAddress);
        }
        let max = match self.family {
            Family::V4 => 255,
            // 16-byte addresses: 255 would not fit an Ethernet frame; keep the advert in 1280 bytes.
            Family::V6 => 78,
        };
        if self.virtual_addresses.len() > max {
            return Err(ConfigError::TooManyAddresses {
                count: self.virtual_addresses.len(),
                max,
            });
        }
        for vip in &self.virtual_addresses {
            if Family::of(&vip.address) != self.family {
                return Err(ConfigError::AddressFamily {
                    address: vip.address,
                    family: self.family,
                });
            }
        }
        for vip in self
            .virtual_addresses
            .iter()
            .chain(&self.excluded_addresses)
        {
            let max_len = (Family::of(&vip.address).addr_len() * 8) as u8;
            if vip.prefix_len > max_len {
                return Err(ConfigError::PrefixLen {
                    address: vip.address,
                    prefix_len: vip.prefix_len,
                });
            }
        }
        if !self.preempt && self.priority.is_owner() {
            return Err(ConfigError::NopreemptOwner);
        }
        if self.down_timer_adverts == 0 {
            return Err(ConfigError::Zero {
                field: "down_timer_adverts",
            });
        }
        if self.announce.repeat == 0 {
            return Err(ConfigError::Zero {
                field: "garp_master_repeat",
            });
        }
        if self.announce.refresh_repeat == 0 {
            return Err(ConfigError::Zero {
                field: "garp_master_refresh_repeat",
            });
        }
        crate::track::TrackSet::new(&self.track)?;
        if self.profile == Profile::Strict {
            if self.unicast {
                return Err(ConfigError::Strict("unicast peers are not allowed"));
            }
            if self.auth != Auth::None {
                return Err(ConfigError::Strict("authentication is not allowed"));
            }
            if self.checksum_mode != ChecksumMode::PseudoHeader {
                return Err(ConfigError::Strict("v3_checksum_as_v2 is not allowed"));
            }
            if self.lower_prio_advert {
                return Err(ConfigError::Strict(
                    "a master must not answer lower-priority adverts",
                ));
            }
            if self.startup == StartupState::Master && !self.priority.is_owner() {
                return Err(ConfigError::Strict(
                    "only the address owner may start as master",
                ));
            }
        }
        Ok(())
    }
}

/// Builder for [`RouterConfig`]. Starts from RFC defaults: VRRPv3, priority 100, 1 s interval,
/// preempt on, accept mode off.
#[derive(Debug, Clone)]
pub struct RouterConfigBuilder {
    config: RouterConfig,
    vrid: u8,
    password_len: Option<usize>,
}

impl RouterConfigBuilder {
    fn new(name: String, vrid: u8, primary_address: IpAddr) -> Self {
        let family = Family::of(&primary_address);
        RouterConfigBuilder {
            vrid,
            password_len: None,
            config: RouterConfig {
                name,
                vrid: Vrid::new(vrid).unwrap_or(Vrid::MIN),
                version: Version::V3,
                family,
                priority: Priority::DEFAULT,
                advert_interval: Centisecs::ONE_SECOND,
                primary_address,
                virtual_addresses: Vec::new(),
                excluded_addresses: Vec::new(),
                preempt: true,
                preempt_delay: Duration::ZERO,
                accept_mode: false,
                auth: Auth::None,
                checksum_mode: ChecksumMode::PseudoHeader,
                startup: StartupState::Rfc,
                lower_prio_advert: false,
                higher_prio_send_advert: false,
                down_timer_adverts: 3,
                address_check: AddressCheck::Always,
                announce: AnnounceConfig::RFC,
                track: Vec::new(),
                sync_group: false,
                profile: Profile::Rfc,
                unicast: false,
                unicast_receive: UnicastReceive::rfc(),
            },
        }
    }

    /// Applies a profile's defaults (call it first; later calls override single fields).
    pub fn profile(mut self, profile: Profile) -> Self {
        let c = &mut self.config;
        c.profile = profile;
        match profile {
            Profile::Rfc | Profile::Strict => {
                c.lower_prio_advert = false;
                c.announce = AnnounceConfig::RFC;
                c.accept_mode = false;
                c.unicast_receive.ttl = TtlRange::RFC;
            }
            Profile::Keepalived => {
                c.lower_prio_advert = true;
                c.announce = AnnounceConfig::KEEPALIVED;
                c.accept_mode = true;
                // keepalived 2.2.7 checks no TTL on unicast adverts, and sends IPv6 ones with
                // the kernel's default hop limit.
                c.unicast_receive.ttl = TtlRange::ANY;
            }
        }
        self
    }

    /// Protocol version.
    pub fn version(mut self, version: Version) -> Self {
        self.config.version = version;
        self
    }

    /// Priority (1..=255).
    pub fn priority(mut self, priority: u8) -> Self {
        self.config.priority = Priority(priority);
        self
    }

    /// Advertisement_Interval.
    pub fn advert_interval(mut self, interval: Centisecs) -> Self {
        self.config.advert_interval = interval;
        self
    }

    /// Adds an advertised virtual address.
    pub fn virtual_address(mut self, vip: VirtualAddress) -> Self {
        self.config.virtual_addresses.push(vip);
        self
    }

    /// Adds an installed, not advertised, address.
    pub fn excluded_address(mut self, vip: VirtualAddress) -> Self {
        self.config.excluded_addresses.push(vip);
        self
    }

    /// Preempt_Mode.
    pub fn preempt(mut self, preempt: bool) -> Self {
        self.config.preempt = preempt;
        self
    }

    /// keepalived's `preempt_delay`.
    pub fn preempt_delay(mut self, delay: Duration) -> Self {
        self.config.preempt_delay = delay;
        self
    }

    /// Accept_Mode.
    pub fn accept_mode(mut self, accept: bool) -> Self {
        self.config.accept_mode = accept;
        self
    }

    /// VRRPv2 simple-text password; longer than 8 bytes is a validation error at build.
    pub fn password(mut self, text: &str) -> Self {
        match Password::new(text.as_bytes()) {
            Some(p) => self.config.auth = Auth::SimpleText(p),
            None => self.password_len = Some(text.len()),
        }
        self
    }

    /// Checksum mode for VRRPv3 over IPv4.
    pub fn checksum_mode(mut self, mode: ChecksumMode) -> Self {
        self.config.checksum_mode = mode;
        self
    }

    /// Startup behaviour.
    pub fn startup(mut self, startup: StartupState) -> Self {
        self.config.startup = startup;
        self
    }

    /// Master answers lower-priority adverts (keepalived default).
    pub fn lower_prio_advert(mut self, on: bool) -> Self {
        self.config.lower_prio_advert = on;
        self
    }

    /// Master sends one advert before yielding to a higher priority.
    pub fn higher_prio_send_advert(mut self, on: bool) -> Self {
        self.config.higher_prio_send_advert = on;
        self
    }

    /// Missed adverts before Master_Down.
    pub fn down_timer_adverts(mut self, n: u8) -> Self {
        self.config.down_timer_adverts = n;
        self
    }

    /// Address list verification policy.
    pub fn address_check(mut self, check: AddressCheck) -> Self {
        self.config.address_check = check;
        self
    }

    /// Announcement pacing.
    pub fn announce(mut self, announce: AnnounceConfig) -> Self {
        self.config.announce = announce;
        self
    }

    /// Adds a tracked object.
    pub fn track(mut self, object: TrackedObject) -> Self {
        self.config.track.push(object);
        self
    }

    /// Marks the router as a sync-group member.
    pub fn sync_group(mut self, member: bool) -> Self {
        self.config.sync_group = member;
        self
    }

    /// Declares that the glue sends to unicast peers (strict mode refuses it).
    pub fn unicast(mut self, unicast: bool) -> Self {
        self.config.unicast = unicast;
        self
    }

    /// TTL / Hop Limit accepted on unicast adverts from any source (the profile sets RFC
    /// 9568's 255 or keepalived's "any"; keepalived has no keyword for it).
    pub fn unicast_ttl_check(mut self, accepted: TtlRange) -> Self {
        self.config.unicast_receive.ttl = accepted;
        self
    }

    /// keepalived's `check_unicast_src`: only adverts from `peers` are accepted, each within
    /// its own TTL range if it has one (`min_ttl` / `max_ttl`).
    pub fn check_unicast_source(mut self, peers: impl IntoIterator<Item = UnicastPeer>) -> Self {
        self.config.unicast_receive.check_source = true;
        self.config.unicast_receive.peers = peers.into_iter().collect();
        self
    }

    /// keepalived's `vrrp_strict`: applies the strict profile's validation after resetting
    /// what strict mode forbids the way keepalived 2.2.7 does (see [`crate::strict`]), and
    /// returns the configuration with what was reset.
    pub fn build_strict_adjusted(
        mut self,
    ) -> Result<(RouterConfig, Vec<crate::strict::StrictAdjustment>), ConfigError> {
        self.config.profile = Profile::Strict;
        let adjusted = crate::strict::adjust(&mut self.config);
        self.build().map(|c| (c, adjusted))
    }

    /// Validates and returns the configuration.
    pub fn build(self) -> Result<RouterConfig, ConfigError> {
        Vrid::new(self.vrid).ok_or(ConfigError::Vrid { value: self.vrid })?;
        if let Some(len) = self.password_len {
            return Err(ConfigError::PasswordLength { len });
        }
        self.config.validate()?;
        Ok(self.config)
    }
}
