//! Drives one [`VirtualRouter`] with a sequence of inputs decoded from arbitrary bytes and
//! checks its invariants after every step. Shared by `tests/router_inputs.rs` (proptest, runs
//! in CI) and the `router_inputs` cargo-fuzz target (`fuzz/fuzz_targets/router_inputs.rs`).
//!
//! Every byte sequence decodes to some run: a configuration first, then inputs until the
//! bytes run out. Adverts are mostly built from decoded fields and emitted with a correct
//! checksum, so they reach the state machine; some are raw bytes for the receive path.
//!
//! Invariants checked after each input (and its outputs drained):
//! - a router in Backup or Master has a timer armed (`poll_timeout().is_some()`);
//! - state changes come out in order: each `from` is the state the previous one went `to`,
//!   and the last `to` is the router's state;
//! - the virtual addresses are installed exactly while the router is Master;
//! - every advert it asks to send emits and parses back with its own checksum context, with
//!   the configured VRID, version and family;
//! - the effective priority is never 0; until the base priority is set at run time, it is 255
//!   for an owner and 1..=254 for any other router.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use vrrp_core::config::{Profile, StartupState};
use vrrp_core::wire::{AddressList, AdvertRepr, Auth, ChecksumContext, Packet, Password};
use vrrp_core::{
    Centisecs, Demux, Family, GroupCommand, Input, Output, Priority, RouterConfig, RxMeta, State,
    TrackState, TrackedObject, Version, VirtualAddress, VirtualRouter,
};

/// Names of the tracked objects the router is configured with; one more name is unknown.
const TRACK_NAMES: [&str; 3] = ["weighted", "fatal", "unknown"];

/// Reads decisions from the fuzz bytes; zeros once they run out.
struct Bytes<'a> {
    data: &'a [u8],
}

impl<'a> Bytes<'a> {
    fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((first, rest)) => {
                self.data = rest;
                *first
            }
            None => 0,
        }
    }

    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }

    fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        head
    }
}

/// The addresses of the LAN the router lives on.
struct Lan {
    family: Family,
    group: IpAddr,
    /// Index 0 is the router itself.
    hosts: [IpAddr; 3],
    vips: Vec<IpAddr>,
}

impl Lan {
    fn new(family: Family) -> Self {
        match family {
            Family::V4 => Lan {
                family,
                group: IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18)),
                hosts: [11, 12, 10].map(|h| IpAddr::V4(Ipv4Addr::new(192, 0, 2, h))),
                vips: vec![
                    IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100)),
                    IpAddr::V4(Ipv4Addr::new(192, 0, 2, 101)),
                ],
            },
            Family::V6 => Lan {
                family,
                group: IpAddr::V6(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12)),
                hosts: [0x11, 0x12, 0x10]
                    .map(|h| IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, h))),
                vips: vec![IpAddr::V6(Ipv6Addr::new(
                    0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100,
                ))],
            },
        }
    }
}

/// The configuration the first bytes choose. `None` when it does not validate (a rejected
/// configuration is a correct outcome, not a run).
fn config(bytes: &mut Bytes<'_>) -> Option<(RouterConfig, Lan)> {
    let b = bytes.u8();
    let (version, family) = match b % 3 {
        0 => (Version::V2, Family::V4),
        1 => (Version::V3, Family::V4),
        _ => (Version::V3, Family::V6),
    };
    let lan = Lan::new(family);
    let profile = match (b >> 2) % 3 {
        0 => Profile::Rfc,
        1 => Profile::Keepalived,
        _ => Profile::Strict,
    };
    let priority = match bytes.u8() {
        0 => 255,
        p => p,
    };
    let interval = match version {
        Version::V2 => Centisecs::from_secs(1 + bytes.u8() % 3),
        Version::V3 => Centisecs::new(1 + bytes.u16() % 400),
    };
    let flags = bytes.u8();
    let mut builder = RouterConfig::builder("fuzz", 51, lan.hosts[0])
        .profile(profile)
        .version(version)
        .priority(priority)
        .advert_interval(interval)
        .preempt(flags & 1 == 0 || priority == 255)
        .preempt_delay(Duration::from_millis(u64::from(flags >> 4) * 500))
        .startup(if flags & 2 == 0 {
            StartupState::Rfc
        } else {
            StartupState::Master
        })
        .higher_prio_send_advert(flags & 4 != 0)
        .down_timer_adverts(1 + (flags >> 3) % 4)
        .track(TrackedObject::new(TRACK_NAMES[0], -60))
        .track(TrackedObject::new(TRACK_NAMES[1], 0));
    for vip in &lan.vips {
        builder = builder.virtual_address(VirtualAddress::host(*vip));
    }
    if version == Version::V2 && profile != Profile::Strict && bytes.bool() {
        builder = builder.password("fuzz");
    }
    builder.build().ok().map(|c| (c, lan))
}

/// What the driver believes the router's observable state is, from its outputs alone.
struct Observed {
    state: State,
    installed: bool,
}

/// What a run went through, so callers can check the inputs reach the interesting states.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Coverage {
    /// Inputs applied.
    pub(crate) steps: usize,
    /// The router was Master after some step.
    pub(crate) master: bool,
    /// The router was Backup after some step.
    pub(crate) backup: bool,
    /// The router was in Fault after some step.
    pub(crate) fault: bool,
    /// Adverts that passed the receive path into the router.
    pub(crate) adverts: usize,
}

/// Runs the inputs the bytes decode to; `Err` names the first invariant broken.
pub(crate) fn run(epoch: Instant, data: &[u8]) -> Result<Coverage, String> {
    let mut bytes = Bytes { data };
    let mut coverage = Coverage::default();
    let Some((config, lan)) = config(&mut bytes) else {
        return Ok(coverage);
    };
    let owner = config.priority.is_owner();
    // Whether the base priority was set at run time (then any of 1..=255 is possible).
    let mut base_set = false;
    let auth = config.auth;
    let mut router =
        VirtualRouter::new(config).map_err(|e| format!("validated config refused: {e}"))?;
    let mut demux = Demux::new(lan.family);
    demux
        .register(51, 0, router.rx_policy())
        .map_err(|e| format!("register: {e}"))?;
    let mut observed = Observed {
        state: router.state(),
        installed: false,
    };
    let mut now = epoch;
    let mut buffer = [0u8; 1500];
    let mut step = 0usize;
    while !bytes.is_empty() {
        step += 1;
        now += Duration::from_millis(u64::from(bytes.u8()) * 4);
        let op = bytes.u8();
        let context = format!("step {step}, op {op}");
        match op % 12 {
            0..=2 => {
                // A well-formed advert from a peer (or, rarely, ourselves).
                let from = lan.hosts[usize::from(bytes.u8() % 3)];
                let priority = Priority(bytes.u8());
                let max_adver_int = match router.config().version {
                    Version::V2 => Centisecs::from_secs(1 + bytes.u8() % 3),
                    Version::V3 => Centisecs::new(bytes.u16() & 0x0fff),
                };
                let wrong_list = bytes.u8().is_multiple_of(8);
                let addresses = if wrong_list {
                    &lan.vips[..1]
                } else {
                    &lan.vips[..]
                };
                let advert_auth = match (auth, bytes.u8() % 8) {
                    (_, 0) => Auth::SimpleText(Password::from_data(*b"other\0\0\0")),
                    (a, _) => a,
                };
                let repr = AdvertRepr {
                    version: router.config().version,
                    vrid: router.config().vrid,
                    priority,
                    max_adver_int,
                    family: lan.family,
                    addresses: AddressList::Slice(addresses),
                    auth: if router.config().version == Version::V2 {
                        advert_auth
                    } else {
                        Auth::None
                    },
                };
                let len = repr.buffer_len();
                let ctx = ChecksumContext {
                    src: from,
                    dst: lan.group,
                    mode: router.config().checksum_mode,
                };
                repr.emit(&mut Packet::new_unchecked(&mut buffer[..len]), &ctx);
                let meta = RxMeta {
                    src: from,
                    dst: lan.group,
                    ttl: 255,
                };
                if let Ok(d) = demux.receive(meta, &buffer[..len]) {
                    coverage.adverts += 1;
                    router.handle(
                        now,
                        Input::Advert {
                            meta: d.meta,
                            advert: d.advert,
                        },
                    );
                }
            }
            3 => {
                // Raw bytes through the receive path.
                let n = usize::from(bytes.u8() % 64);
                let raw = bytes.take(n);
                let meta = RxMeta {
                    src: lan.hosts[1],
                    dst: lan.group,
                    ttl: 255,
                };
                if let Ok(d) = demux.receive(meta, raw) {
                    coverage.adverts += 1;
                    router.handle(
                        now,
                        Input::Advert {
                            meta: d.meta,
                            advert: d.advert,
                        },
                    );
                }
            }
            4..=6 => {
                // The timer the router asked for, on time (or now when it asked for none).
                if let Some(wake) = router.poll_timeout() {
                    now = now.max(wake);
                }
                router.handle(now, Input::Timeout);
            }
            7 => {
                // A late or spurious timeout.
                now += Duration::from_millis(u64::from(bytes.u16()));
                router.handle(now, Input::Timeout);
            }
            8 => {
                let name = TRACK_NAMES[usize::from(bytes.u8() % 3)];
                let state = if bytes.bool() {
                    TrackState::Up
                } else {
                    TrackState::Down
                };
                router.handle(now, Input::Track { name, state });
            }
            9 => {
                base_set = true;
                router.handle(now, Input::SetPriority(Priority(bytes.u8())));
            }
            10 => {
                let input = match bytes.u8() % 4 {
                    0 => Input::Link { up: bytes.bool() },
                    1 => Input::IoFault {
                        active: bytes.bool(),
                    },
                    2 => Input::Shutdown,
                    _ => Input::Startup,
                };
                router.handle(now, input);
            }
            _ => {
                let command = match bytes.u8() % 3 {
                    0 => GroupCommand::Master,
                    1 => GroupCommand::Backup,
                    _ => GroupCommand::Fault {
                        active: bytes.bool(),
                    },
                };
                router.handle(now, Input::Group(command));
            }
        }
        drain(&mut router, &mut observed, &lan, &mut buffer)
            .map_err(|e| format!("{context}: {e}"))?;
        check(&router, &observed, owner, base_set).map_err(|e| format!("{context}: {e}"))?;
        coverage.steps = step;
        match router.state() {
            State::Master => coverage.master = true,
            State::Backup => coverage.backup = true,
            State::Fault => coverage.fault = true,
            _ => {}
        }
    }
    Ok(coverage)
}

/// Takes every output, checking each against what came before.
fn drain(
    router: &mut VirtualRouter,
    observed: &mut Observed,
    lan: &Lan,
    buffer: &mut [u8],
) -> Result<(), String> {
    while let Some(out) = router.poll() {
        match out {
            Output::StateChanged { from, to, reason } => {
                if from != observed.state {
                    return Err(format!(
                        "state change {from} -> {to} ({reason}) but the router was {}",
                        observed.state
                    ));
                }
                if from == to {
                    return Err(format!(
                        "state change {from} -> {to} ({reason}) changes nothing"
                    ));
                }
                observed.state = to;
            }
            Output::InstallVips { .. } => observed.installed = true,
            Output::RemoveVips { .. } => observed.installed = false,
            Output::Transmit(advert) => {
                let len = advert
                    .emit_into(lan.group, buffer)
                    .ok_or_else(|| "advert does not fit 1500 bytes".to_string())?;
                let ctx = advert.checksum_context(lan.group);
                let packet = Packet::new_unchecked(&buffer[..len]);
                let parsed = AdvertRepr::parse(&packet, lan.family, Some(&ctx))
                    .map_err(|e| format!("own advert does not parse: {e}"))?;
                let config = router.config();
                if parsed.vrid != config.vrid
                    || parsed.version != config.version
                    || parsed.family != config.family
                {
                    return Err(format!(
                        "advert {parsed:?} does not match the configuration"
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn check(
    router: &VirtualRouter,
    observed: &Observed,
    owner: bool,
    base_set: bool,
) -> Result<(), String> {
    let state = router.state();
    if observed.state != state {
        return Err(format!(
            "outputs say {} but the router is {state}",
            observed.state
        ));
    }
    if matches!(state, State::Backup | State::Master) && router.poll_timeout().is_none() {
        return Err(format!("{state} with no timer armed"));
    }
    if observed.installed != (state == State::Master) {
        return Err(format!(
            "{state} with virtual addresses installed: {}",
            observed.installed
        ));
    }
    let priority = router.priority().get();
    let valid = match (base_set, owner) {
        (true, _) => priority != 0,
        (false, true) => priority == 255,
        (false, false) => (1..=254).contains(&priority),
    };
    if !valid {
        return Err(format!("effective priority {priority} (owner: {owner})"));
    }
    Ok(())
}
