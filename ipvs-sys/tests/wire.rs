//! Codec tests against ipvsadm 1.31's exchange with a real 6.1 kernel, captured in the IPVS VM
//! by `tests/vm/capture-fixtures.sh` (strace hex dumps): every message parses, re-emits to the
//! same bytes, and the typed layer reads and builds what ipvsadm and the kernel exchanged.

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;

use ipvs_sys::nla::{CmdAttr, DestAttr, ServiceAttr};
use ipvs_sys::{
    Command, DaemonState, Destination, ForwardMethod, IpvsCmd, IpvsMessage, Scheduler, Service,
    ServiceFlags, ServiceKey, Tunnel, TunnelCsum, TunnelType,
};
use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_generic::GenlMessage;

const EXCHANGE: &str = include_str!("fixtures/ipvsadm-exchange.txt");
/// The IPVS family id the kernel assigned in the capture.
const FAMILY: u16 = 0x20;

type Msg = NetlinkMessage<GenlMessage<IpvsMessage>>;

struct Line {
    command: String,
    sent: bool,
    bytes: Vec<u8>,
}

fn lines() -> Vec<Line> {
    let mut command = String::new();
    let mut out = Vec::new();
    for l in EXCHANGE.lines() {
        if let Some(c) = l.strip_prefix("# ipvsadm ") {
            command = c.to_owned();
        } else if let Some((dir, hex)) = l.split_once(' ') {
            let datagram: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            // A datagram may hold several netlink messages (dumps): one line per message.
            let mut off = 0;
            while off + 4 <= datagram.len() {
                let len = u32::from_ne_bytes(datagram[off..off + 4].try_into().unwrap()) as usize;
                let bytes = datagram[off..off + len].to_vec();
                out.push(Line {
                    command: command.clone(),
                    sent: dir == ">",
                    bytes,
                });
                off += (len + 3) & !3;
            }
        }
    }
    out
}

fn messages(command: &str, sent: bool) -> Vec<(Vec<u8>, Msg)> {
    lines()
        .into_iter()
        .filter(|l| l.command == command && l.sent == sent)
        .map(|l| {
            let msg = Msg::deserialize(&l.bytes).unwrap();
            (l.bytes, msg)
        })
        .collect()
}

fn ipvs(msg: &Msg) -> &IpvsMessage {
    match &msg.payload {
        NetlinkPayload::InnerMessage(genl) => &genl.payload,
        other => panic!("not an IPVS message: {other:?}"),
    }
}

fn serialize(msg: &Msg) -> Vec<u8> {
    let mut buf = vec![0; msg.buffer_len()];
    msg.serialize(&mut buf);
    buf
}

/// Clears NLA_F_NESTED on first-level attributes: the kernel's replies do not set it, this
/// crate's emission (like ipvsadm's) does.
fn without_nested_flags(bytes: &[u8]) -> Vec<u8> {
    let mut b = bytes.to_vec();
    let mut off = 20; // nlmsghdr + genlmsghdr
    while off + 4 <= b.len() {
        let len = u16::from_ne_bytes([b[off], b[off + 1]]) as usize;
        b[off + 3] &= 0x7f;
        off += (len + 3) & !3;
        if len == 0 {
            break;
        }
    }
    b
}

/// Emits `command` with the header of a captured request.
fn emit_like(command: &Command, captured: &Msg) -> Vec<u8> {
    let mut genl = GenlMessage::from_payload(command.to_message());
    genl.set_resolved_family_id(FAMILY);
    let mut msg = NetlinkMessage::from(genl);
    msg.header.flags = captured.header.flags;
    msg.header.sequence_number = captured.header.sequence_number;
    msg.header.port_number = captured.header.port_number;
    msg.finalize();
    serialize(&msg)
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[test]
fn every_captured_message_parses_and_re_emits_identically() {
    let all = lines();
    assert!(all.len() > 60, "fixture too small: {}", all.len());
    for l in &all {
        let msg = Msg::deserialize(&l.bytes)
            .unwrap_or_else(|e| panic!("{}: {e}: {:02x?}", l.command, l.bytes));
        let again = serialize(&msg);
        if l.sent {
            assert_eq!(again, l.bytes, "request of `ipvsadm {}`", l.command);
        } else {
            assert_eq!(
                without_nested_flags(&again),
                l.bytes,
                "reply to `ipvsadm {}`",
                l.command
            );
        }
        assert_eq!(Msg::deserialize(&again).unwrap(), msg);
    }
}

#[test]
fn every_command_of_the_header_appears_in_the_capture() {
    let mut seen = std::collections::HashSet::new();
    for l in lines() {
        if let NetlinkPayload::InnerMessage(g) = Msg::deserialize(&l.bytes).unwrap().payload {
            seen.insert(g.payload.cmd);
        }
    }
    use IpvsCmd::*;
    for cmd in [
        NewService, SetService, DelService, GetService, NewDest, SetDest, DelDest, GetDest,
        NewDaemon, DelDaemon, GetDaemon, SetConfig, GetConfig, SetInfo, GetInfo, Zero, Flush,
    ] {
        assert!(seen.contains(&cmd), "{cmd:?} not captured");
    }
}

#[test]
fn add_service_request_is_byte_identical_to_ipvsadm() {
    let cases = [
        (
            "-A -t 192.0.2.10:80 -s wrr -p 300",
            Service::new(
                ServiceKey::tcp(addr("192.0.2.10:80")),
                Scheduler::WeightedRoundRobin,
            )
            .persistent(300),
        ),
        ("-A -u [2001:db8::10]:53 -s sh -b sh-fallback,sh-port -o", {
            let mut s = Service::new(
                ServiceKey::udp(addr("[2001:db8::10]:53")),
                Scheduler::SourceHashing,
            );
            s.flags = ServiceFlags::SH_FALLBACK | ServiceFlags::SH_PORT | ServiceFlags::ONEPACKET;
            s
        }),
        ("-A -f 7 -s mh -b mh-port", {
            let mut s = Service::new(
                ServiceKey::fwmark(ipvs_sys::Family::Inet, 7),
                Scheduler::MaglevHashing,
            );
            s.flags = ServiceFlags::MH_PORT;
            s
        }),
        (
            "-A --sctp-service 192.0.2.11:3868 -s rr -p 60 -M 255.255.255.0",
            {
                let mut s = Service::new(
                    ServiceKey::sctp(addr("192.0.2.11:3868")),
                    Scheduler::RoundRobin,
                )
                .persistent(60);
                s.netmask = 0xffff_ff00;
                s
            },
        ),
    ];
    for (line, service) in cases {
        let sent = messages(line, true);
        let (bytes, captured) = sent.last().unwrap();
        assert_eq!(
            emit_like(&Command::AddService(service), captured),
            *bytes,
            "ipvsadm {line}"
        );
    }
    let sent = messages("-E -t 192.0.2.10:80 -s wlc", true);
    let (bytes, captured) = sent.last().unwrap();
    let svc = Service::new(
        ServiceKey::tcp(addr("192.0.2.10:80")),
        Scheduler::WeightedLeastConnection,
    );
    assert_eq!(emit_like(&Command::UpdateService(svc), captured), *bytes);
}

/// ipvsadm sends a whole service with destination requests; the kernel reads only its key.
fn service_key_attrs(msg: &IpvsMessage) -> Vec<ServiceAttr> {
    let Some(CmdAttr::Service(attrs)) = msg.attrs.first() else {
        panic!("no service: {msg:?}")
    };
    attrs
        .iter()
        .filter(|a| {
            matches!(
                a,
                ServiceAttr::Af(_)
                    | ServiceAttr::Protocol(_)
                    | ServiceAttr::Addr(_)
                    | ServiceAttr::Port(_)
                    | ServiceAttr::Fwmark(_)
            )
        })
        .cloned()
        .collect()
}

#[test]
fn destination_requests_carry_the_attributes_ipvsadm_sends() {
    let key = ServiceKey::tcp(addr("192.0.2.10:80"));
    let mut nat = Destination::new(addr("198.51.100.1:8080")).weight(3);
    nat.upper_threshold = 100;
    nat.lower_threshold = 10;
    let gue = Destination::new(addr("198.51.100.2:80")).forward(ForwardMethod::Tunnel(Tunnel {
        kind: TunnelType::Gue,
        port: 6080,
        csum: TunnelCsum::Csum,
    }));
    let cases = [
        (
            "-a -t 192.0.2.10:80 -r 198.51.100.1:8080 -m -w 3 -x 100 -y 10",
            Command::AddDestination(key, nat),
        ),
        (
            "-a -t 192.0.2.10:80 -r 198.51.100.2 -i --tun-type gue --tun-port 6080 --tun-csum",
            Command::AddDestination(key, gue),
        ),
        (
            "-e -t 192.0.2.10:80 -r 198.51.100.1:8080 -m -w 0",
            Command::UpdateDestination(key, Destination::new(nat.addr).weight(0)),
        ),
        (
            "-a -u [2001:db8::10]:53 -r [2001:db8::20]:53 -m",
            Command::AddDestination(
                ServiceKey::udp(addr("[2001:db8::10]:53")),
                Destination::new(addr("[2001:db8::20]:53")),
            ),
        ),
        (
            "-d -t 192.0.2.10:80 -r 198.51.100.2",
            Command::DeleteDestination(key, gue.addr),
        ),
    ];
    for (line, command) in cases {
        let sent = messages(line, true);
        let theirs = ipvs(&sent.last().unwrap().1);
        let ours = command.to_message();
        assert_eq!(ours.cmd, theirs.cmd, "{line}");
        assert_eq!(
            service_key_attrs(&ours),
            service_key_attrs(theirs),
            "{line}"
        );
        let delete = matches!(command, Command::DeleteDestination(..));
        let dest = |m: &IpvsMessage| -> Vec<DestAttr> {
            let attrs = m
                .attrs
                .iter()
                .find_map(|a| match a {
                    CmdAttr::Dest(d) => Some(d.clone()),
                    _ => None,
                })
                .unwrap();
            // A delete selects by family, address and port; ipvsadm sends the rest too.
            attrs
                .into_iter()
                .filter(|a| {
                    !delete
                        || matches!(
                            a,
                            DestAttr::AddrFamily(_) | DestAttr::Addr(_) | DestAttr::Port(_)
                        )
                })
                .collect()
        };
        assert_eq!(dest(&ours), dest(theirs), "{line}");
    }
}

#[test]
fn simple_requests_are_byte_identical_to_ipvsadm() {
    let key = ServiceKey::tcp(addr("192.0.2.10:80"));
    let cases = [
        ("-C", Command::Flush),
        ("-Z", Command::Zero(None)),
        (
            "--set 900 60 120",
            Command::SetTimeouts(ipvs_sys::Timeouts {
                tcp: 900,
                tcp_fin: 60,
                udp: 120,
            }),
        ),
    ];
    for (line, command) in cases {
        let sent = messages(line, true);
        let (bytes, captured) = sent.last().unwrap();
        assert_eq!(emit_like(&command, captured), *bytes, "ipvsadm {line}");
    }
    // ipvsadm also sends an empty interface and sync id 0 to stop a daemon; the state selects.
    let sent = messages("--stop-daemon master", true);
    let theirs = ipvs(&sent.last().unwrap().1);
    let ours = Command::StopDaemon(DaemonState::Master).to_message();
    let (Some(CmdAttr::Daemon(t)), Some(CmdAttr::Daemon(o))) =
        (theirs.attrs.first(), ours.attrs.first())
    else {
        panic!("no daemon attributes")
    };
    assert_eq!((ours.cmd, o.first()), (theirs.cmd, t.first()));
    // -Z/-D of one service: ipvsadm sends the whole service, the kernel reads the key.
    for (line, command) in [
        ("-Z -t 192.0.2.10:80", Command::Zero(Some(key))),
        ("-D -t 192.0.2.10:80", Command::DeleteService(key)),
    ] {
        let sent = messages(line, true);
        let theirs = ipvs(&sent.last().unwrap().1);
        assert_eq!(
            (
                command.to_message().cmd,
                service_key_attrs(&command.to_message())
            ),
            (theirs.cmd, service_key_attrs(theirs))
        );
    }
}

#[test]
fn kernel_replies_read_as_typed_values() {
    // GET_INFO reply.
    let replies = messages("-L -n", false);
    let info = replies
        .iter()
        .find(|(_, m)| ipvs_cmd(m) == Some(IpvsCmd::SetInfo))
        .unwrap();
    let attrs = &ipvs(&info.1).attrs;
    assert!(
        attrs.contains(&CmdAttr::InfoVersion(0x010201))
            && attrs.contains(&CmdAttr::InfoConnTabSize(4096))
    );
    // Service dump: three services, the TCP one with wlc (after -E) and kernel-set HASHED.
    let services: Vec<&Vec<ServiceAttr>> = replies
        .iter()
        .flat_map(|(_, m)| ipvs_attrs(m))
        .filter_map(|a| match a {
            CmdAttr::Service(s) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(services.len(), 4);
    let tcp = services
        .iter()
        .find(|s| s.contains(&ServiceAttr::Port(80)))
        .unwrap();
    assert!(tcp.contains(&ServiceAttr::SchedName("wlc".into())));
    assert!(tcp.iter().any(|a| matches!(a, ServiceAttr::Stats64(_))));
    // Destination dump: weight 0 after -e, thresholds reset by -e.
    let dests: Vec<&Vec<DestAttr>> = replies
        .iter()
        .flat_map(|(_, m)| ipvs_attrs(m))
        .filter_map(|a| match a {
            CmdAttr::Dest(d) => Some(d),
            _ => None,
        })
        .collect();
    let first = dests
        .iter()
        .find(|d| d.contains(&DestAttr::Port(8080)))
        .unwrap();
    assert!(first.contains(&DestAttr::Weight(0)) && first.contains(&DestAttr::UThresh(0)));
    // Timeouts and daemon replies.
    let t = messages("-L --timeout", false);
    let t = t
        .iter()
        .flat_map(|(_, m)| ipvs_attrs(m))
        .collect::<Vec<_>>();
    assert!(t.contains(&&CmdAttr::TimeoutTcp(900)) && t.contains(&&CmdAttr::TimeoutUdp(120)));
    let d = messages("-L --daemon", false);
    let daemon = d
        .iter()
        .flat_map(|(_, m)| ipvs_attrs(m))
        .find_map(|a| match a {
            CmdAttr::Daemon(d) => Some(d),
            _ => None,
        })
        .unwrap();
    assert!(daemon.contains(&ipvs_sys::nla::DaemonAttr::McastIfn("dummy0".into())));
    assert!(daemon.contains(&ipvs_sys::nla::DaemonAttr::SyncId(5)));
}

#[test]
fn kernel_errors_carry_the_errno_of_the_missing_object() {
    let errno = |line: &str| -> i32 {
        messages(line, false)
            .iter()
            .find_map(|(_, m)| match &m.payload {
                NetlinkPayload::Error(e) if e.code.is_some() => Some(e.raw_code()),
                _ => None,
            })
            .unwrap_or(0)
    };
    assert_eq!(
        errno("-d -t 192.0.2.10:80 -r 198.51.100.9"),
        -2,
        "ENOENT: no such destination"
    );
    assert_eq!(
        errno("-A -t 192.0.2.10:80 -s rr"),
        -17,
        "EEXIST: service exists"
    );
}

fn ipvs_cmd(m: &Msg) -> Option<IpvsCmd> {
    match &m.payload {
        NetlinkPayload::InnerMessage(g) => Some(g.payload.cmd),
        _ => None,
    }
}

fn ipvs_attrs(m: &Msg) -> Vec<&CmdAttr> {
    match &m.payload {
        NetlinkPayload::InnerMessage(g) => g.payload.attrs.iter().collect(),
        _ => Vec::new(),
    }
}

#[test]
fn truncated_or_corrupted_messages_fail_to_parse_without_panicking() {
    for l in lines() {
        for cut in 0..l.bytes.len() {
            let mut b = l.bytes[..cut].to_vec();
            if b.len() >= 4 {
                // Keep nlmsg_len consistent so the attribute parsers see the short buffer.
                b[..4].copy_from_slice(&(cut as u32).to_ne_bytes());
            }
            let _ = Msg::deserialize(&b);
        }
        for i in 16..l.bytes.len() {
            let mut b = l.bytes.clone();
            b[i] ^= 0xff;
            let _ = Msg::deserialize(&b);
        }
    }
}

#[test]
fn unknown_attributes_are_kept_and_re_emitted() {
    // A service dump entry with a first-level attribute 42 and a service attribute 99 that
    // this crate does not know, as a newer kernel might send.
    let (bytes, _) = messages("-L -n", false)
        .into_iter()
        .find(|(_, m)| ipvs_cmd(m) == Some(IpvsCmd::NewService))
        .unwrap();
    let mut msg = Msg::deserialize(&bytes).unwrap();
    let NetlinkPayload::InnerMessage(genl) = &mut msg.payload else {
        unreachable!()
    };
    let unknown_top = netlink_packet_core::DefaultNla::new(42, vec![1, 2, 3, 4]);
    let unknown_svc = netlink_packet_core::DefaultNla::new(99, vec![5, 6]);
    if let Some(CmdAttr::Service(attrs)) = genl.payload.attrs.first_mut() {
        attrs.push(ServiceAttr::Other(unknown_svc.clone()));
    }
    genl.payload.attrs.push(CmdAttr::Other(unknown_top.clone()));
    msg.finalize();
    let parsed = Msg::deserialize(&serialize(&msg)).unwrap();
    let attrs = ipvs_attrs(&parsed);
    assert!(attrs.contains(&&CmdAttr::Other(unknown_top)));
    let CmdAttr::Service(svc) = attrs[0] else {
        panic!("no service")
    };
    assert!(svc.contains(&ServiceAttr::Other(unknown_svc)));
}

#[test]
fn raw_decoder_reads_the_same_configuration_as_the_attribute_enums() {
    let (mut services, mut dests) = (0, 0);
    for l in lines().into_iter().filter(|l| !l.sent) {
        let msg = Msg::deserialize(&l.bytes).unwrap();
        let Some(cmd) = ipvs_cmd(&msg) else { continue };
        let attrs = &l.bytes[20..];
        for attr in ipvs(&msg).attrs.iter() {
            match (cmd, attr) {
                (IpvsCmd::NewService, CmdAttr::Service(s)) => {
                    let full = ipvs_sys::ServiceEntry::from_attrs(s).unwrap().service;
                    assert_eq!(ipvs_sys::raw::service_config(attrs).unwrap(), Some(full));
                    services += 1;
                }
                (IpvsCmd::NewDest, CmdAttr::Dest(d)) => {
                    let family = ipvs_sys::Family::Inet6; // the message's own family wins
                    let full = ipvs_sys::DestinationEntry::from_attrs(d, family)
                        .unwrap()
                        .destination;
                    assert_eq!(
                        ipvs_sys::raw::destination_config(attrs, family).unwrap(),
                        Some(full)
                    );
                    dests += 1;
                }
                _ => {}
            }
        }
    }
    assert!(
        services >= 4 && dests >= 3,
        "{services} services, {dests} destinations"
    );
}

#[test]
fn raw_decoder_rejects_overrunning_attributes() {
    let (bytes, _) = messages("-L -n", false)
        .into_iter()
        .find(|(_, m)| ipvs_cmd(m) == Some(IpvsCmd::NewService))
        .unwrap();
    let mut attrs = bytes[20..].to_vec();
    attrs[0] = 0xff; // the service nest claims more bytes than there are
    attrs[1] = 0x7f;
    assert!(ipvs_sys::raw::service_config(&attrs).is_err());
    for cut in 0..attrs.len() {
        let _ = ipvs_sys::raw::service_config(&bytes[20..20 + cut]);
    }
}
