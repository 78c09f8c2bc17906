//! Advertisements captured from keepalived 2.2.7 (see `tests/vectors/capture.sh`), checked in
//! both directions: the bytes parse to the fields keepalived was configured with and verify
//! only under the right checksum rule, and emitting those fields reproduces the bytes exactly,
//! from a bare [`AdvertRepr`] and from a [`VirtualRouter`] configured like keepalived was.
// An `Instant` is only an epoch here: every time the routers see is derived from it.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use vrrp_core::config::StartupState;
use vrrp_core::wire::{
    AddressList, AdvertRepr, Auth, ChecksumContext, ChecksumMode, Packet, Password,
};
use vrrp_core::{
    Centisecs, Demux, Family, Input, Output, ParseError, Priority, RouterConfig, RxError, RxMeta,
    State, Version, VirtualAddress, VirtualRouter, Vrid,
};

/// The checksum rule a capture verifies under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// VRRPv2: over the message only (RFC 3768 §5.3.8).
    MessageOnly,
    /// VRRPv3: with the IP pseudo-header (RFC 9568 §5.2.8).
    PseudoHeader,
    /// VRRPv3 unicast with keepalived's `old_unicast_checksum`: the pseudo-header names the
    /// multicast group as destination, not the peer the packet is sent to.
    PseudoHeaderMulticastDst,
    /// VRRPv3 over IPv4 with keepalived's `v3_checksum_as_v2` (keepalived 2.2.8 and later;
    /// `capture.sh` records it when the installed keepalived knows the keyword).
    NoPseudoHeader,
}

impl Rule {
    /// The checksum mode a router must be configured with to send and accept these bytes.
    fn mode(self) -> ChecksumMode {
        match self {
            Rule::NoPseudoHeader => ChecksumMode::NoPseudoHeader,
            Rule::PseudoHeaderMulticastDst => ChecksumMode::PseudoHeaderTo(MCAST_V4),
            Rule::MessageOnly | Rule::PseudoHeader => ChecksumMode::PseudoHeader,
        }
    }
}

/// IPv4 VRRP multicast group (RFC 9568 §5.1.1.2).
const MCAST_V4: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(224, 0, 0, 18));

/// One captured advert and what keepalived's configuration says it carries.
#[derive(Debug, Clone)]
struct Vector {
    origin: String,
    version: Version,
    family: Family,
    rule: Rule,
    src: IpAddr,
    dst: IpAddr,
    ttl: u8,
    vrid: u8,
    priority: u8,
    max_adver_int: u16,
    auth: Auth,
    addresses: Vec<IpAddr>,
    payload: Vec<u8>,
}

impl Vector {
    fn ctx(&self, mode: ChecksumMode) -> ChecksumContext {
        ChecksumContext {
            src: self.src,
            dst: self.dst,
            mode,
        }
    }

    /// The destination the checksum was computed for.
    fn checksum_dst(&self) -> IpAddr {
        match self.rule {
            Rule::PseudoHeaderMulticastDst => MCAST_V4,
            Rule::MessageOnly | Rule::PseudoHeader | Rule::NoPseudoHeader => self.dst,
        }
    }

    fn right_ctx(&self) -> ChecksumContext {
        ChecksumContext {
            src: self.src,
            dst: self.checksum_dst(),
            mode: self.rule.mode(),
        }
    }

    fn meta(&self) -> RxMeta {
        RxMeta {
            src: self.src,
            dst: self.dst,
            ttl: self.ttl,
        }
    }

    fn expected_repr(&self) -> AdvertRepr<'_> {
        AdvertRepr {
            version: self.version,
            vrid: Vrid::new(self.vrid).unwrap(),
            priority: Priority(self.priority),
            max_adver_int: Centisecs::new(self.max_adver_int),
            family: self.family,
            addresses: AddressList::Slice(&self.addresses),
            auth: self.auth,
        }
    }

    /// A router configured as the capturing keepalived was, at `primary` with `priority`.
    fn router_config(&self, primary: IpAddr, priority: u8) -> RouterConfig {
        let mut builder = RouterConfig::builder("vector", self.vrid, primary)
            .version(self.version)
            .priority(priority)
            .advert_interval(Centisecs::new(self.max_adver_int))
            .checksum_mode(self.rule.mode());
        for address in &self.addresses {
            builder = builder.virtual_address(VirtualAddress::host(*address));
        }
        if let Auth::SimpleText(password) = self.auth {
            let text = password
                .data()
                .iter()
                .take_while(|b| **b != 0)
                .map(|b| char::from(*b))
                .collect::<String>();
            builder = builder.password(&text);
        }
        builder.build().unwrap()
    }
}

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("vectors")
}

fn parse_hex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "odd hex length in {text}");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn parse_record(origin: String, lines: &[(&str, &str)]) -> Vector {
    let field = |key: &str| -> &str {
        lines
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .unwrap_or_else(|| panic!("{origin}: no `{key}`"))
    };
    let auth = match field("auth") {
        "none" => Auth::None,
        other => {
            let text = other
                .strip_prefix("simple:")
                .unwrap_or_else(|| panic!("{origin}: auth {other}"));
            Auth::SimpleText(Password::new(text.as_bytes()).unwrap())
        }
    };
    Vector {
        version: match field("version") {
            "2" => Version::V2,
            "3" => Version::V3,
            other => panic!("{origin}: version {other}"),
        },
        family: match field("family") {
            "ipv4" => Family::V4,
            "ipv6" => Family::V6,
            other => panic!("{origin}: family {other}"),
        },
        rule: match field("checksum") {
            "message-only" => Rule::MessageOnly,
            "pseudo-header" => Rule::PseudoHeader,
            "pseudo-header-multicast-dst" => Rule::PseudoHeaderMulticastDst,
            "no-pseudo-header" => Rule::NoPseudoHeader,
            other => panic!("{origin}: checksum {other}"),
        },
        src: field("src").parse().unwrap(),
        dst: field("dst").parse().unwrap(),
        ttl: field("ttl").parse().unwrap(),
        vrid: field("vrid").parse().unwrap(),
        priority: field("priority").parse().unwrap(),
        max_adver_int: field("max_adver_int").parse().unwrap(),
        auth,
        addresses: field("addresses")
            .split_whitespace()
            .map(|a| a.parse().unwrap())
            .collect(),
        payload: parse_hex(field("payload")),
        origin,
    }
}

/// Every record of every `*.vec` file, in a stable order.
fn load() -> Vec<Vector> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(vectors_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "vec"))
        .collect();
    files.sort();
    let mut vectors = Vec::new();
    for file in files {
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&file).unwrap();
        for (index, block) in text.split("\n\n").enumerate() {
            let lines: Vec<(&str, &str)> = block
                .lines()
                .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                .map(|l| l.split_once(' ').unwrap_or((l, "")))
                .collect();
            if !lines.is_empty() {
                vectors.push(parse_record(format!("{name}#{index}"), &lines));
            }
        }
    }
    vectors
}

fn load_file(name: &str) -> Vec<Vector> {
    load()
        .into_iter()
        .filter(|v| v.origin.starts_with(&format!("{name}#")))
        .collect()
}

#[test]
fn every_configuration_was_captured_running_and_stopping() {
    for name in [
        "v2-noauth",
        "v2-pass",
        "v3-ipv4",
        "v3-ipv4-unicast",
        "v3-ipv4-unicast-old-checksum",
        "v3-ipv6",
    ] {
        let vectors = load_file(name);
        assert!(
            vectors.iter().any(|v| v.priority != 0),
            "{name}: no running advert"
        );
        assert!(
            vectors.iter().any(|v| v.priority == 0),
            "{name}: no priority-0 advert"
        );
    }
}

#[test]
fn captured_bytes_parse_to_the_configured_fields() {
    for v in load() {
        let packet = Packet::new_checked(&v.payload[..], v.family).unwrap();
        let parsed = AdvertRepr::parse(&packet, v.family, Some(&v.right_ctx()))
            .unwrap_or_else(|e| panic!("{}: {e}", v.origin));
        assert_eq!(parsed, v.expected_repr(), "{}", v.origin);
        assert_eq!(
            parsed.addresses.iter().collect::<Vec<_>>(),
            v.addresses,
            "{}",
            v.origin
        );
        assert_eq!(
            v.ttl, 255,
            "{}: keepalived sends with TTL / hop limit 255",
            v.origin
        );
    }
}

#[test]
fn captured_checksums_verify_only_under_their_rule() {
    for v in load() {
        let packet = Packet::new_checked(&v.payload[..], v.family).unwrap();
        assert!(
            packet.verify_checksum(v.version, &v.right_ctx()),
            "{}",
            v.origin
        );
        match (v.rule, v.family) {
            (Rule::MessageOnly, _) => {
                // VRRPv2 never takes a pseudo-header, whatever the mode says...
                assert!(
                    packet.verify_checksum(v.version, &v.ctx(ChecksumMode::NoPseudoHeader)),
                    "{}",
                    v.origin
                );
                // ...and the same bytes checked as VRRPv3 with a pseudo-header fail.
                assert_ne!(
                    v.ctx(ChecksumMode::PseudoHeader)
                        .compute(Version::V3, &v.payload),
                    0,
                    "{}",
                    v.origin
                );
            }
            (Rule::PseudoHeader, Family::V4) => {
                let wrong = v.ctx(ChecksumMode::NoPseudoHeader);
                assert!(!packet.verify_checksum(v.version, &wrong), "{}", v.origin);
                let err = AdvertRepr::parse(&packet, v.family, Some(&wrong)).unwrap_err();
                assert!(
                    matches!(err, ParseError::Checksum { computed } if computed != 0),
                    "{}: {err}",
                    v.origin
                );
            }
            (Rule::NoPseudoHeader, _) => {
                let wrong = v.ctx(ChecksumMode::PseudoHeader);
                assert!(!packet.verify_checksum(v.version, &wrong), "{}", v.origin);
                let err = AdvertRepr::parse(&packet, v.family, Some(&wrong)).unwrap_err();
                assert!(
                    matches!(err, ParseError::Checksum { .. }),
                    "{}: {err}",
                    v.origin
                );
            }
            (Rule::PseudoHeaderMulticastDst, _) => {
                // Neither the address the packet really went to, nor no pseudo-header at all.
                let real_dst = v.ctx(ChecksumMode::PseudoHeader);
                for wrong in [real_dst, v.ctx(ChecksumMode::NoPseudoHeader)] {
                    assert!(!packet.verify_checksum(v.version, &wrong), "{}", v.origin);
                    let err = AdvertRepr::parse(&packet, v.family, Some(&wrong)).unwrap_err();
                    assert!(
                        matches!(err, ParseError::Checksum { .. }),
                        "{}: {err}",
                        v.origin
                    );
                }
            }
            (Rule::PseudoHeader, Family::V6) => {
                // IPv6 always has the pseudo-header (the mode is ignored), so only the
                // addresses can be wrong: a different source breaks it.
                assert!(
                    packet.verify_checksum(v.version, &v.ctx(ChecksumMode::NoPseudoHeader)),
                    "{}",
                    v.origin
                );
                let other = ChecksumContext {
                    src: "fe80::99".parse().unwrap(),
                    ..v.right_ctx()
                };
                assert!(!packet.verify_checksum(v.version, &other), "{}", v.origin);
            }
        }
    }
}

#[test]
fn emitting_the_configured_fields_reproduces_the_captured_bytes() {
    for v in load() {
        let repr = v.expected_repr();
        assert_eq!(repr.buffer_len(), v.payload.len(), "{}", v.origin);
        let mut buffer = vec![0xa5; repr.buffer_len()];
        repr.emit(&mut Packet::new_unchecked(&mut buffer[..]), &v.right_ctx());
        assert_eq!(buffer, v.payload, "{}", v.origin);
    }
}

#[test]
fn reemitting_a_parsed_advert_reproduces_the_captured_bytes() {
    for v in load() {
        let packet = Packet::new_checked(&v.payload[..], v.family).unwrap();
        let parsed = AdvertRepr::parse(&packet, v.family, None).unwrap();
        let mut buffer = vec![0; parsed.buffer_len()];
        parsed.emit(&mut Packet::new_unchecked(&mut buffer[..]), &v.right_ctx());
        assert_eq!(buffer, v.payload, "{}", v.origin);
    }
}

/// The same primary address keepalived had, so the router's checksum context matches.
#[test]
fn a_router_configured_like_keepalived_sends_the_captured_bytes() {
    let epoch = Instant::now();
    for v in load().into_iter().filter(|v| v.priority != 0) {
        let mut config = v.router_config(v.src, v.priority);
        config.startup = StartupState::Master;
        let mut router = VirtualRouter::new(config).unwrap();
        router.handle(epoch, Input::Startup);
        // keepalived's `state MASTER`: one interval in Backup first, then Master.
        let wait = router.poll_timeout().unwrap();
        router.handle(wait, Input::Timeout);
        assert_eq!(router.state(), State::Master, "{}", v.origin);
        router.handle(epoch + Duration::from_secs(1), Input::Shutdown);
        let sent: Vec<Vec<u8>> = std::iter::from_fn(|| router.poll())
            .filter_map(|out| match out {
                Output::Transmit(advert) => {
                    let mut buffer = vec![0; 1500];
                    let len = advert.emit_into(v.checksum_dst(), &mut buffer).unwrap();
                    buffer.truncate(len);
                    Some(buffer)
                }
                _ => None,
            })
            .collect();
        let stop = load_file(v.origin.split('#').next().unwrap())
            .into_iter()
            .find(|s| s.priority == 0)
            .unwrap();
        assert_eq!(sent, vec![v.payload.clone(), stop.payload], "{}", v.origin);
    }
}

/// A lower-priority backup at the other end of the capture link (192.0.2.12 / fe80::12).
fn backup_for(v: &Vector) -> (Demux, VirtualRouter) {
    let primary: IpAddr = match v.family {
        Family::V4 => "192.0.2.12".parse().unwrap(),
        Family::V6 => "fe80::12".parse().unwrap(),
    };
    let router = VirtualRouter::new(v.router_config(primary, 10)).unwrap();
    let mut demux = Demux::new(v.family);
    demux.register(v.vrid, 0, router.rx_policy()).unwrap();
    (demux, router)
}

#[test]
fn captured_adverts_pass_the_receive_path_and_drive_a_backup() {
    let epoch = Instant::now();
    for v in load() {
        let (mut demux, mut router) = backup_for(&v);
        router.handle(epoch, Input::Startup);
        assert_eq!(router.state(), State::Backup);
        let now = epoch + Duration::from_millis(500);
        let dispatch = demux
            .receive(v.meta(), &v.payload)
            .unwrap_or_else(|e| panic!("{}: {e}", v.origin));
        assert_eq!(dispatch.slot, 0);
        router.handle(
            now,
            Input::Advert {
                meta: dispatch.meta,
                advert: dispatch.advert,
            },
        );
        assert_eq!(router.state(), State::Backup, "{}", v.origin);
        let expected_wake = if v.priority == 0 {
            // RFC 9568 §6.4.2: a priority-0 advert sets Master_Down_Timer to Skew_Time.
            now + router.skew_time()
        } else {
            // RFC 9568 §6.4.2: Master_Adver_Interval is learned (v3), the timer restarts.
            assert_eq!(
                router.master_adver_interval(),
                Centisecs::new(v.max_adver_int),
                "{}",
                v.origin
            );
            now + router.master_down_interval()
        };
        assert_eq!(router.poll_timeout(), Some(expected_wake), "{}", v.origin);
        assert_eq!(demux.router_stats(v.vrid).unwrap().accepted, 1);
    }
}

#[test]
fn a_backup_with_the_other_checksum_mode_drops_and_counts_v3_ipv4_adverts() {
    for v in load().into_iter().filter(|v| {
        v.family == Family::V4 && matches!(v.rule, Rule::PseudoHeader | Rule::NoPseudoHeader)
    }) {
        let (_, router) = backup_for(&v);
        let mut policy = router.rx_policy();
        policy.checksum_mode = match v.rule {
            Rule::NoPseudoHeader => ChecksumMode::PseudoHeader,
            _ => ChecksumMode::NoPseudoHeader,
        };
        let mut demux = Demux::new(v.family);
        demux.register(v.vrid, 0, policy).unwrap();
        let err = demux.receive(v.meta(), &v.payload).unwrap_err();
        assert!(
            matches!(err, RxError::Parse(ParseError::Checksum { .. })),
            "{}: {err}",
            v.origin
        );
        assert_eq!(demux.stats().checksum_errors, 1, "{}", v.origin);
    }
}

/// keepalived's `old_unicast_checksum` adverts fail the RFC checksum for the address they were
/// sent to: an RFC router drops and counts them; one configured with
/// `ChecksumMode::PseudoHeaderTo(224.0.0.18)` accepts them.
#[test]
fn old_unicast_checksum_adverts_need_the_matching_mode() {
    for v in load_file("v3-ipv4-unicast-old-checksum") {
        let rfc = Vector {
            rule: Rule::PseudoHeader,
            ..v.clone()
        };
        let (mut demux, _) = backup_for(&rfc);
        let err = demux.receive(v.meta(), &v.payload).unwrap_err();
        assert!(
            matches!(err, RxError::Parse(ParseError::Checksum { .. })),
            "{}: {err}",
            v.origin
        );
        assert_eq!(demux.stats().checksum_errors, 1, "{}", v.origin);
        let (mut demux, _) = backup_for(&v);
        demux
            .receive(v.meta(), &v.payload)
            .unwrap_or_else(|e| panic!("{}: {e}", v.origin));
    }
}

#[test]
fn a_backup_with_another_password_rejects_the_keepalived_pass_advert() {
    for v in load_file("v2-pass") {
        let (_, router) = backup_for(&v);
        let mut policy = router.rx_policy();
        policy.auth = Auth::SimpleText(Password::new(b"s3cr3T").unwrap());
        let mut demux = Demux::new(v.family);
        demux.register(v.vrid, 0, policy).unwrap();
        assert_eq!(
            demux.receive(v.meta(), &v.payload).unwrap_err(),
            RxError::AuthFailure,
            "{}",
            v.origin
        );
        assert_eq!(demux.router_stats(v.vrid).unwrap().auth_failures, 1);
    }
}

#[test]
fn a_captured_advert_with_one_flipped_bit_is_dropped() {
    for v in load() {
        for bit in 0..v.payload.len() * 8 {
            let mut bytes = v.payload.clone();
            bytes[bit / 8] ^= 1 << (bit % 8);
            let (mut demux, _) = backup_for(&v);
            assert!(
                demux.receive(v.meta(), &bytes).is_err(),
                "{}: bit {bit} flipped was accepted",
                v.origin
            );
        }
    }
}
