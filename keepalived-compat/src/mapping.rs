//! From a keepalived.conf model to driver instances, the way keepalived reads each keyword.

use std::net::IpAddr;
use std::time::Duration;

use vrrp_core::config::{AddressCheck, AnnounceConfig, Profile, StartupState};
use vrrp_core::strict::StrictAdjustment;
use vrrp_core::wire::ChecksumMode;
use vrrp_core::{Centisecs, Family, RouterConfig, TrackedObject, Version, VirtualAddress};
use vrrp_net::driver::{Instance, VipPlacement};
use vrrp_net::transport::{VRRP_GROUP_V4, VRRP_GROUP_V6};
use vrrp_net::vip::VipScope;

use keepalived_conf::{GlobalDefs, InitialState, KeepalivedConf, VipSpec, VrrpInstance};

/// A model that the core refuses (the message names the instance and the reason).
#[derive(Debug, thiserror::Error)]
#[error("{loc}: vrrp_instance {instance}: {source}")]
pub(crate) struct MappingError {
    /// Where the instance is defined.
    pub(crate) loc: keepalived_conf::Location,
    /// The instance.
    pub(crate) instance: String,
    /// What the core said.
    #[source]
    pub(crate) source: vrrp_core::ConfigError,
}

/// The primary address each instance advertises from: `unicast_src_ip` / `mcast_src_ip` if
/// given, otherwise the caller looks it up on the interface (see [`instances`]).
pub(super) fn configured_source(instance: &VrrpInstance) -> Option<IpAddr> {
    instance.unicast_src_ip.or(instance.mcast_src_ip)
}

/// The family of an instance (that of its virtual addresses).
pub(super) fn family(instance: &VrrpInstance) -> Family {
    match instance.vips.first().map(|v| v.addr) {
        Some(IpAddr::V6(_)) => Family::V6,
        _ => Family::V4,
    }
}

fn announce(global: &GlobalDefs, i: &VrrpInstance) -> AnnounceConfig {
    let delay = i.garp.master_delay.unwrap_or(global.garp_master_delay);
    AnnounceConfig {
        repeat: i
            .garp
            .master_repeat
            .unwrap_or(global.garp_master_repeat)
            .max(1),
        interval: Duration::ZERO,
        second_round_delay: (!delay.is_zero()).then_some(delay),
        refresh: i
            .garp
            .master_refresh
            .or(global.garp_master_refresh)
            .filter(|d| !d.is_zero()),
        refresh_repeat: i
            .garp
            .master_refresh_repeat
            .unwrap_or(global.garp_master_refresh_repeat)
            .max(1),
    }
}

fn virtual_address(v: &VipSpec) -> VirtualAddress {
    VirtualAddress::with_prefix(v.addr, v.prefix_len)
}

fn placement(v: &VipSpec) -> VipPlacement {
    let mut placement = VipPlacement::new(v.addr).scope(
        v.scope
            .as_deref()
            .and_then(VipScope::from_name)
            .unwrap_or_default(),
    );
    if let Some(dev) = &v.dev {
        placement = placement.dev(dev.clone());
    }
    if let Some(label) = &v.label {
        placement = placement.label(label.clone());
    }
    placement.options(crate::netconf::vip_options(v))
}

/// Builds one driver instance from `i`, advertising from `primary`. Under `vrrp_strict`, what
/// keepalived 2.2.7 resets instead of refusing is reset too and returned, for the caller to
/// log as keepalived does.
pub(crate) fn instance(
    conf: &KeepalivedConf,
    i: &VrrpInstance,
    primary: IpAddr,
) -> Result<(Instance, Vec<StrictAdjustment>), MappingError> {
    let g = &conf.global;
    let version = if i.version == Some(2) {
        Version::V2
    } else {
        Version::V3
    };
    let centis = u16::try_from(i.advert_int.as_millis() / 10).unwrap_or(u16::MAX);
    let profile = if g.strict {
        Profile::Strict
    } else {
        Profile::Keepalived
    };
    let unicast = !i.unicast_peers.is_empty();
    let mut b = RouterConfig::builder(i.name.clone(), i.vrid, primary)
        .profile(profile)
        .version(version)
        .priority(i.priority)
        .advert_interval(Centisecs::new(centis))
        .preempt(!i.nopreempt)
        .preempt_delay(i.preempt_delay)
        .announce(announce(g, i))
        .unicast(unicast)
        .higher_prio_send_advert(g.higher_prio_send_advert);
    if g.lower_prio_no_advert {
        b = b.lower_prio_advert(false);
    }
    // keepalived: Accept_Mode defaults to on, except under vrrp_strict where only the address
    // owner gets it; `accept` / `no_accept` override (and strict VRRPv2 resets `accept`).
    b = b.accept_mode(i.accept.unwrap_or(!g.strict || i.priority == 255));
    if unicast && (g.check_unicast_src || i.check_unicast_src) {
        b = b.check_unicast_source(i.unicast_peers.iter().copied());
    }
    if g.skip_check_adv_addr {
        b = b.address_check(AddressCheck::SkipSameMaster);
    }
    let group = match family(i) {
        Family::V4 => (g.mcast_group4 != VRRP_GROUP_V4).then_some(IpAddr::V4(g.mcast_group4)),
        Family::V6 => (g.mcast_group6 != VRRP_GROUP_V6).then_some(IpAddr::V6(g.mcast_group6)),
    };
    if g.v3_checksum_as_v2 {
        b = b.checksum_mode(ChecksumMode::NoPseudoHeader);
    }
    // keepalived's old_unicast_checksum: the pseudo-header names the multicast group.
    if unicast && i.old_unicast_checksum && version == Version::V3 {
        b = b.checksum_mode(ChecksumMode::PseudoHeaderTo(group.unwrap_or(
            match family(i) {
                Family::V4 => IpAddr::V4(g.mcast_group4),
                Family::V6 => IpAddr::V6(g.mcast_group6),
            },
        )));
    }
    if i.state == InitialState::Master {
        b = b.startup(StartupState::Master);
    }
    if let Some(pass) = &i.auth_pass {
        // keepalived truncates PASS to 8 bytes.
        let cut = pass
            .char_indices()
            .map(|(k, c)| k + c.len_utf8())
            .take_while(|end| *end <= 8)
            .last()
            .unwrap_or(0);
        b = b.password(&pass[..cut]);
    }
    for v in &i.vips {
        b = b.virtual_address(virtual_address(v));
    }
    for v in &i.vips_excluded {
        b = b.excluded_address(virtual_address(v));
    }
    for t in &i.track_interfaces {
        b = b.track(TrackedObject::new(t.name.clone(), t.weight.unwrap_or(0)));
    }
    // keepalived tracks the interfaces of the addresses, routes and rules placed elsewhere
    // (weight 0: down is FAULT), unless they are no_track.
    let extra_tracked = crate::netconf::tracked_devices(i);
    for dev in &extra_tracked {
        b = b.track(TrackedObject::new(dev.clone(), 0));
    }
    for t in &i.track_scripts {
        let script = conf.scripts.iter().find(|s| s.name == t.name);
        let weight = t.weight.unwrap_or(script.map_or(0, |s| s.weight));
        let reverse = t
            .reverse
            .unwrap_or(script.is_some_and(|s| s.weight_reverse));
        // keepalived's `reverse` multiplies the script's effect by -1 (with weight 0: a
        // success is a fault). That is the opposite state with the opposite weight: the
        // script watcher tells this object the opposite state (`scripts::reversed_name`).
        let mut object = if reverse {
            TrackedObject::new(crate::scripts::reversed_name(&t.name), -weight)
        } else {
            TrackedObject::new(t.name.clone(), weight)
        };
        // Until the script's first result, keepalived's init state (`scripts::unreported`);
        // after it (an instance added by a reload), the script's last state.
        object.initial = crate::scripts::initial_state(&t.name, object.weight, reverse);
        b = b.track(object);
    }
    for object in crate::tracking::objects(conf, i) {
        b = b.track(object);
    }
    if conf.sync_groups.iter().any(|g| g.members.contains(&i.name)) {
        b = b.sync_group(true);
    }
    let built = if g.strict {
        b.build_strict_adjusted()
    } else {
        b.build().map(|c| (c, Vec::new()))
    };
    let (config, adjustments) = built.map_err(|source| MappingError {
        loc: i.loc.clone(),
        instance: i.name.clone(),
        source,
    })?;
    let mut out = Instance::new(config, i.interface.clone());
    out.unicast_peers = i.unicast_peers.iter().map(|p| p.address).collect();
    out.unicast_ttl = i.unicast_ttl;
    out.group = group;
    out.placements = i
        .vips
        .iter()
        .chain(&i.vips_excluded)
        .map(placement)
        .collect();
    out.track_interfaces = i.track_interfaces.iter().map(|t| t.name.clone()).collect();
    out.track_interfaces.extend(extra_tracked);
    out.vmac = i.use_vmac.as_ref().map(|name| {
        name.clone().unwrap_or_else(|| {
            let family = match family(i) {
                Family::V4 => vrrp_net::transport::AddressFamily::Inet,
                Family::V6 => vrrp_net::transport::AddressFamily::Inet6,
            };
            vrrp_net::vmac::default_name(i.vrid, family)
        })
    });
    Ok((out, adjustments))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use keepalived_conf::parse_str;

    fn conf(text: &str) -> KeepalivedConf {
        parse_str("k.conf", text).unwrap()
    }

    const V3: &str = r#"
global_defs {
    vrrp_version 3
    vrrp_garp_master_delay 0
    vrrp_garp_master_repeat 2
}
vrrp_script chk {
    script "/bin/true"
    weight -30
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 0.1
    nopreempt
    unicast_src_ip 192.0.2.11
    unicast_peer {
        192.0.2.12
    }
    old_unicast_checksum
    virtual_ipaddress {
        192.0.2.100/24 dev eth0 label eth0:v scope link
    }
    track_script {
        chk
    }
    track_interface {
        eth1 weight -10
    }
}
"#;

    #[test]
    fn keywords_map_to_core_options() {
        let c = conf(V3);
        let (i, _) = instance(&c, &c.instances[0], "192.0.2.11".parse().unwrap()).unwrap();
        let r = &i.config;
        assert_eq!(
            (r.version, r.priority.get(), r.advert_interval.get()),
            (Version::V3, 150, 10)
        );
        assert!(!r.preempt && r.unicast);
        assert_eq!(r.startup, StartupState::Master);
        assert_eq!(
            r.checksum_mode,
            ChecksumMode::PseudoHeaderTo("224.0.0.18".parse().unwrap())
        );
        assert_eq!(r.announce.repeat, 2);
        assert_eq!(r.announce.second_round_delay, None);
        assert_eq!(
            r.track
                .iter()
                .map(|t| (t.name.as_str(), t.weight))
                .collect::<Vec<_>>(),
            [("eth1", -10), ("chk", -30)]
        );
        assert_eq!(i.unicast_peers, ["192.0.2.12".parse::<IpAddr>().unwrap()]);
        assert_eq!(i.placements[0].scope, VipScope::Link);
        assert_eq!(i.placements[0].label.as_deref(), Some("eth0:v"));
        assert_eq!(i.track_interfaces, ["eth1"]);
    }

    #[test]
    fn v2_password_is_cut_to_eight_bytes_like_keepalived() {
        let c = conf(
            "vrrp_instance V { \ninterface eth0\nvirtual_router_id 7\nauthentication {\nauth_type PASS\nauth_pass 0123456789\n}\nvirtual_ipaddress {\n192.0.2.7\n}\n}\n",
        );
        let (i, _) = instance(&c, &c.instances[0], "192.0.2.11".parse().unwrap()).unwrap();
        assert_eq!(i.config.version, Version::V2);
        assert_eq!(
            i.config.auth,
            vrrp_core::wire::Auth::SimpleText(vrrp_core::wire::Password::new(b"01234567").unwrap())
        );
    }

    #[test]
    fn core_refusals_name_the_instance() {
        let c = conf(
            "global_defs {\nvrrp_strict\n}\nvrrp_instance V { \ninterface eth0\nvirtual_router_id 7\nversion 3\nunicast_peer {\n192.0.2.12\n}\nvirtual_ipaddress {\n192.0.2.7\n}\n}\n",
        );
        let e = instance(&c, &c.instances[0], "192.0.2.11".parse().unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("k.conf:4: vrrp_instance V:"), "{e}");
    }

    fn strict(instance_lines: &str) -> Result<(Instance, Vec<StrictAdjustment>), String> {
        let c = conf(&format!(
            "global_defs {{\nvrrp_strict\n}}\nvrrp_instance V {{\ninterface eth0\n\
             virtual_router_id 7\n{instance_lines}\nvirtual_ipaddress {{\n192.0.2.7\n}}\n}}\n"
        ));
        instance(&c, &c.instances[0], "192.0.2.11".parse().unwrap()).map_err(|e| e.to_string())
    }

    #[test]
    fn strict_resets_what_keepalived_resets_and_says_so() {
        let (i, adjusted) = strict(
            "state MASTER\npriority 100\nversion 2\naccept\npreempt_delay 5\n\
             authentication {\nauth_type PASS\nauth_pass x\n}",
        )
        .unwrap();
        assert_eq!(
            adjusted,
            [
                StrictAdjustment::StartupMaster,
                StrictAdjustment::Authentication,
                StrictAdjustment::PreemptDelay,
                StrictAdjustment::AcceptModeV2,
            ]
        );
        assert_eq!(i.config.startup, StartupState::Rfc);
        assert_eq!(i.config.auth, vrrp_core::wire::Auth::None);
        assert!(i.config.preempt_delay.is_zero());
        assert!(!i.config.accept_mode);
        assert_eq!(
            adjusted[0].to_string(),
            "State MASTER must match being address owner"
        );
    }

    #[test]
    fn accept_mode_defaults_follow_keepalived() {
        // Strict: off unless owner; `accept` honoured in v3.
        assert!(!strict("version 3").unwrap().0.config.accept_mode);
        assert!(
            strict("version 3\npriority 255")
                .unwrap()
                .0
                .config
                .accept_mode
        );
        let (i, adjusted) = strict("version 3\naccept").unwrap();
        assert!(i.config.accept_mode && adjusted.is_empty());
        // Not strict: on unless no_accept.
        let plain = |lines: &str| {
            let c = conf(&format!(
                "vrrp_instance V {{\ninterface eth0\nvirtual_router_id 7\n{lines}\n\
                 virtual_ipaddress {{\n192.0.2.7\n}}\n}}\n"
            ));
            instance(&c, &c.instances[0], "192.0.2.11".parse().unwrap())
                .unwrap()
                .0
                .config
                .accept_mode
        };
        assert!(plain(""));
        assert!(!plain("no_accept"));
    }

    #[test]
    fn strict_still_refuses_an_instance_without_addresses() {
        let e = parse_str(
            "k.conf",
            "global_defs {\nvrrp_strict\n}\nvrrp_instance V {\ninterface eth0\nvirtual_router_id 7\n}\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("has no virtual_ipaddress"), "{e}");
    }
}
