//! `IpvsHandle::apply` when nothing has to change.
//!
//! - `apply_noop/*`: on whatever IPVS state the kernel holds. `benches/ipvs/restore-bench.sh`
//!   runs it inside the IPVS test VM after restoring 1,000 services x 10 destinations; on a
//!   host without IPVS it prints why it is skipped.
//! - `decode_state/*`: the user-space decoding part of that no-op, natively: the kernel's
//!   replies for 1,000 services x 10 destinations (messages captured from a real kernel) read
//!   into typed services and destinations, by `ipvs_sys::raw` (what `apply` uses) and by the
//!   full attribute enums (counters included).

use criterion::{Criterion, criterion_group, criterion_main};
use ipvs_sys::nla::CmdAttr;
use ipvs_sys::{
    Desired, DesiredService, DestinationEntry, Family, IpvsHandle, IpvsMessage, ServiceEntry,
};
use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_generic::GenlMessage;

const EXCHANGE: &str = include_str!("../../ipvs-sys/tests/fixtures/ipvsadm-exchange.txt");

type Msg = NetlinkMessage<GenlMessage<IpvsMessage>>;

/// The kernel's service and destination dump messages of `ipvsadm -L -n` in the capture.
fn captured_dump_messages() -> Vec<Vec<u8>> {
    let mut in_list = false;
    let mut out = Vec::new();
    for line in EXCHANGE.lines() {
        if let Some(cmd) = line.strip_prefix("# ") {
            in_list = cmd == "ipvsadm -L -n";
            continue;
        }
        let Some(hex) = line.strip_prefix("< ").filter(|_| in_list) else {
            continue;
        };
        let datagram: Vec<u8> = (0..hex.len())
            .step_by(2)
            .filter_map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
            .collect();
        let mut off = 0;
        while let Some(len) = datagram
            .get(off..off + 4)
            .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize)
        {
            if len < 16 || off + len > datagram.len() {
                break;
            }
            out.push(datagram[off..off + len].to_vec());
            off += (len + 3) & !3;
        }
    }
    out
}

fn decode_raw(bytes: &[u8]) -> usize {
    let attrs = bytes.get(20..).unwrap_or(&[]);
    let service = ipvs_sys::raw::service_config(attrs)
        .ok()
        .flatten()
        .is_some() as usize;
    let dest = ipvs_sys::raw::destination_config(attrs, Family::Inet)
        .ok()
        .flatten()
        .is_some();
    service + dest as usize
}

fn decode(bytes: &[u8]) -> usize {
    let Ok(msg) = Msg::deserialize(bytes) else {
        return 0;
    };
    let NetlinkPayload::InnerMessage(genl) = msg.payload else {
        return 0;
    };
    genl.payload
        .attrs
        .iter()
        .map(|a| match a {
            CmdAttr::Service(s) => ServiceEntry::from_attrs(s).is_ok() as usize,
            CmdAttr::Dest(d) => DestinationEntry::from_attrs(d, Family::Inet).is_ok() as usize,
            _ => 0,
        })
        .sum()
}

fn decode_state(c: &mut Criterion) {
    let messages = captured_dump_messages();
    let kind = |m: &Vec<u8>| {
        Msg::deserialize(m).ok().and_then(|m| match m.payload {
            NetlinkPayload::InnerMessage(g) => g.payload.attrs.first().map(|a| match a {
                CmdAttr::Service(_) => 1,
                CmdAttr::Dest(_) => 2,
                _ => 0,
            }),
            _ => None,
        })
    };
    let (Some(service), Some(dest)) = (
        messages.iter().find(|m| kind(m) == Some(1)),
        messages.iter().find(|m| kind(m) == Some(2)),
    ) else {
        return eprintln!("decode_state: skipped: no service/destination message in the capture");
    };
    for (name, decoder) in [("raw", decode_raw as fn(&[u8]) -> usize), ("full", decode)] {
        c.bench_function(
            &format!("decode_state/{name}/1000_services_10000_destinations"),
            |b| {
                b.iter(|| {
                    let mut n = 0;
                    for _ in 0..1000 {
                        n += decoder(service);
                        for _ in 0..10 {
                            n += decoder(dest);
                        }
                    }
                    n
                })
            },
        );
    }
}

fn apply_noop(c: &mut Criterion) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return eprintln!("ipvs_apply: skipped: no tokio runtime: {e}"),
    };
    let ipvs = match rt.block_on(IpvsHandle::new()) {
        Ok(ipvs) => ipvs,
        Err(e) => return eprintln!("ipvs_apply: skipped: {e}"),
    };
    let state = match rt.block_on(ipvs.state()) {
        Ok(state) => state,
        Err(e) => return eprintln!("ipvs_apply: skipped: cannot read IPVS state: {e}"),
    };
    let dests: usize = state.iter().map(|(_, d)| d.len()).sum();
    let desired = Desired {
        services: state
            .into_iter()
            .map(|(service, destinations)| DesiredService {
                service,
                destinations,
            })
            .collect(),
    };
    match rt.block_on(ipvs.apply(&desired)) {
        Ok(changes) if changes.is_empty() => {}
        Ok(changes) => {
            return eprintln!(
                "ipvs_apply: not a no-op: {} changes",
                changes.commands.len()
            );
        }
        Err(e) => return eprintln!("ipvs_apply: apply failed: {e}"),
    }
    let name = format!(
        "apply_noop/{}_services_{dests}_destinations",
        desired.services.len()
    );
    c.bench_function(&name, |b| b.iter(|| rt.block_on(ipvs.apply(&desired))));
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = apply_noop, decode_state
}
criterion_main!(benches);
