//! Real-kernel tests. `kernel_suite_runs_in_vm` (host side) boots Debian's kernel under qemu
//! with `tests/vm/ipvs-vm.sh`, re-runs this test binary inside with `--ignored`, and fails if
//! any in-VM test fails. The ignored tests are that in-VM suite: they refuse to run outside
//! the VM.

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::process::Command as Process;

use testbed::ipvs_vm::{self, VmRun};
use testbed::privileged;

use ipvs_sys::{
    Command, DaemonState, Desired, DesiredService, Destination, Error, Family, ForwardMethod,
    IpvsHandle, Scheduler, Service, ServiceFlags, ServiceKey, SyncDaemon, Timeouts, Tunnel,
    TunnelCsum, TunnelType,
};

const IN_VM: &str = "runs inside the IPVS test VM, started by kernel_suite_runs_in_vm";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn ipvsadm(args: &[&str]) -> String {
    let out = Process::new("/usr/sbin/ipvsadm")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ipvsadm {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `ipvsadm -S -n` as a sorted list of lines (the kernel lists in hash order).
fn saved() -> Vec<String> {
    let mut lines: Vec<String> = ipvsadm(&["-S", "-n"]).lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

async fn fresh() -> IpvsHandle {
    ipvs_vm::require_vm();
    let ipvs = IpvsHandle::new().await.unwrap();
    ipvs.flush().await.unwrap();
    ipvs
}

#[test]
fn kernel_suite_runs_in_vm() {
    if ipvs_vm::in_vm() {
        return; // this is the guest's copy of the binary: the suite itself is --ignored.
    }
    if let Some(reason) = ipvs_vm::unavailable(&[]) {
        return privileged::skip(&reason);
    }
    let exe = std::env::current_exe().unwrap();
    let exe = exe.to_str().unwrap();
    VmRun::new()
        .file(exe)
        .run(&format!("{exe} --ignored --test-threads=1"))
        .assert_suite_passed(None);
}

/// The ipvsadm example, built now for this test binary's profile and target directory
/// (`cargo build -p examples --no-default-features --features ipvs --example ipvsadm`), so it is
/// never a stale one; `IPVSADM_RS_BIN` gives a prebuilt one instead.
fn ipvsadm_example() -> std::path::PathBuf {
    match std::env::var("IPVSADM_RS_BIN") {
        Ok(path) => path.into(),
        Err(_) => testbed::example::build("ipvsadm", "ipvs"),
    }
}

/// Boots the VM and runs `tests/vm/compare-ipvsadm.sh` there: the ipvsadm example must
/// list, save and restore like ipvsadm 1.31 after the scenario (sync daemons included) run by
/// either tool, and fail every line of `ipvsadm-errors.txt` with ipvsadm's exit status.
/// ~100 s with an emulated CPU: each of the ~400 processes started in the guest costs ~0.2 s.
#[test]
fn ipvsadm_example_lists_saves_and_restores_like_ipvsadm_in_vm() {
    if ipvs_vm::in_vm() {
        return;
    }
    if let Some(reason) = ipvs_vm::unavailable(&[]) {
        return privileged::skip(&reason);
    }
    let example = ipvsadm_example();
    let vm = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vm");
    let adds = [
        format!("{}:/usr/local/bin/ipvsadm-rs", example.display()),
        format!(
            "{}:/root/compare.sh",
            vm.join("compare-ipvsadm.sh").display()
        ),
        format!(
            "{}:/root/scenario.txt",
            vm.join("ipvsadm-scenario.txt").display()
        ),
        format!(
            "{}:/root/errors.txt",
            vm.join("ipvsadm-errors.txt").display()
        ),
    ];
    let run = adds.iter().fold(VmRun::new(), |run, add| run.file(add));
    let out = run.run(
        "IPVSADM_RS=/usr/local/bin/ipvsadm-rs sh /root/compare.sh /root/scenario.txt \
         /root/errors.txt",
    );
    let (code, output) = (out.code, out.text);
    println!("{output}");
    assert_eq!(
        code, 0,
        "the example differs from ipvsadm (exit {code}), output above"
    );
    assert!(output.contains("compare-ipvsadm: PASS"));
}

#[tokio::test]
#[ignore = "runs inside the IPVS test VM, started by kernel_suite_runs_in_vm"]
async fn info_reports_version_and_table_size() {
    let ipvs = fresh().await;
    let info = ipvs.info().await.unwrap();
    assert_eq!(info.version_triple(), (1, 2, 1));
    assert_eq!(info.conn_tab_size, 4096);
    let _ = IN_VM;
}

#[tokio::test]
#[ignore = "runs inside the IPVS test VM, started by kernel_suite_runs_in_vm"]
async fn every_scheduler_is_accepted_and_listed() {
    let ipvs = fresh().await;
    let modules = std::fs::read_to_string(format!(
        "/lib/modules/{}/modules.dep",
        String::from_utf8(Process::new("uname").arg("-r").output().unwrap().stdout)
            .unwrap()
            .trim()
    ))
    .unwrap();
    for (i, sched) in Scheduler::KNOWN.iter().enumerate() {
        let key = ServiceKey::tcp(addr(&format!("192.0.2.10:{}", 1000 + i)));
        let result = ipvs.add_service(&Service::new(key, sched.clone())).await;
        if modules.contains(&format!("ip_vs_{}.ko", sched.name())) {
            result.unwrap();
            assert_eq!(ipvs.service(&key).await.unwrap().service.scheduler, *sched);
        } else {
            // Debian 12 builds without ip_vs_twos: the kernel refuses, the error names it.
            let err = result.unwrap_err().to_string();
            assert!(
                err.contains(sched.name()) && err.contains(&key.to_string()),
                "{err}"
            );
        }
    }
}

#[tokio::test]
#[ignore = "runs inside the IPVS test VM, started by kernel_suite_runs_in_vm"]
async fn every_forwarding_method_round_trips() {
    let ipvs = fresh().await;
    let key = ServiceKey::tcp(addr("192.0.2.10:80"));
    ipvs.add_service(&Service::new(key, Scheduler::WeightedLeastConnection))
        .await
        .unwrap();
    let methods = [
        ForwardMethod::Masquerade,
        ForwardMethod::DirectRoute,
        ForwardMethod::Local,
        ForwardMethod::Bypass,
        ForwardMethod::Tunnel(Tunnel::default()),
        ForwardMethod::Tunnel(Tunnel {
            kind: TunnelType::Gue,
            port: 6080,
            csum: TunnelCsum::Csum,
        }),
        ForwardMethod::Tunnel(Tunnel {
            kind: TunnelType::Gre,
            port: 0,
            csum: TunnelCsum::RemCsum,
        }),
    ];
    let mut want = Vec::new();
    for (i, forward) in methods.iter().enumerate() {
        let mut d = Destination::new(addr(&format!("198.51.100.{}:80", i + 1))).forward(*forward);
        d.weight = i as u32;
        d.upper_threshold = 100 + i as u32;
        d.lower_threshold = i as u32;
        ipvs.add_destination(&key, &d).await.unwrap();
        want.push(d);
    }
    // The kernel keeps a routed destination's own port (ipvsadm is what forces the service's),
    // so apply() compares like with like.
    let routed = Destination::new(addr("198.51.100.99:8080")).forward(ForwardMethod::DirectRoute);
    ipvs.add_destination(&key, &routed).await.unwrap();
    want.push(routed);
    let mut got: Vec<Destination> = ipvs
        .destinations(&key)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.destination)
        .collect();
    got.sort_by_key(|d| d.addr);
    assert_eq!(got, want);
}

#[tokio::test]
#[ignore = "runs inside the IPVS test VM, started by kernel_suite_runs_in_vm"]
async fn ipv6_udp_sctp_and_fwmark_services_round_trip() {
    let ipvs = fresh().await;
    let services = [
        Service::new(
            ServiceKey::udp(addr("[2001:db8::10]:53")),
            Scheduler::RoundRobin,
        ),
        Service::new(
            ServiceKey::sctp(addr("192.0.2.10:3868")),
            Scheduler::SourceHashing,
        ),
        Service::new(
            ServiceKey::fwmark(Family::Inet, 7),
            Scheduler::MaglevHashing,
        ),
        Service::new(
            ServiceKey::fwmark(Family::Inet6, 8),
            Scheduler::WeightedRoundRobin,
        )
        .persistent(600),
    ];
    for s in &services {
        ipvs.add_service(s).await.unwrap();
    }
    let v6 = Destination::new(addr("[2001:db8::20]:53"));
    ipvs.add_destination(&services[0].key, &v6).await.unwrap();
    let fwm4 = Destination::new(addr("198.51.100.7:0")).forward(ForwardMethod::DirectRoute);
    ipvs.add_destination(&services[2].key, &fwm4).await.unwrap();
    let mut listed: Vec<Service> = ipvs
        .services()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.service)
        .collect();
    for s in &mut listed {
        s.flags = s.flags.without(ServiceFlags::HASHED);
    }
    for s in &services {
        assert!(listed.contains(s), "{s:?} not in {listed:?}");
    }
    let got = ipvs.destinations(&services[0].key).await.unwrap();
    assert_eq!(got[0].destination, v6);
    let got = ipvs.destinations(&services[2].key).await.unwrap();
    assert_eq!(got[0].destination, fwm4);
    let save = saved().join("\n");
    assert!(save.contains("-A -u [2001:db8::10]:53 -s rr"), "{save}");
    assert!(save.contains("-A -f 8 -6 -s wrr -p 600"), "{save}");
}

#[tokio::test]
#[ignore = "runs inside the IPVS test VM, started by kernel_suite_runs_in_vm"]
async fn service_flags_persistence_and_pe_update_in_place() {
    let ipvs = fresh().await;
    let key = ServiceKey::udp(addr("192.0.2.10:5060"));
    let mut svc = Service::new(key, Scheduler::SourceHashing);
    svc.flags = ServiceFlags::SH_FALLBACK | ServiceFlags::SH_PORT | ServiceFlags::ONEPACKET;
    ipvs.add_service(&svc).await.unwrap();
    let d = Destination::new(addr("198.51.100.1:5060"));
    ipvs.add_destination(&key, &d).await.unwrap();

    let mut changed = svc.clone().persistent(120);
    changed.scheduler = Scheduler::MaglevHashing;
    changed.flags = ServiceFlags::PERSISTENT | ServiceFlags::MH_PORT;
    changed.netmask = 0xffff_ff00;
    changed.pe_name = Some("sip".into());
    ipvs.update_service(&changed).await.unwrap();
    let got = ipvs.service(&key).await.unwrap().service;
    assert_eq!(got.scheduler, Scheduler::MaglevHashing);
    assert_eq!(got.flags.without(ServiceFlags::HASHED), changed.flags);
    assert_eq!((got.timeout, got.netmask), (120, 0xffff_ff00));
    assert_eq!(got.pe_name.as_deref(), Some("sip"));
    // The destination survived the service update.
    assert_eq!(ipvs.destinations(&key).await.unwrap().len(), 1);
}

#[tokio::test]
#[ignore = "runs inside the IPVS test VM, started by kernel_suite_runs_in_vm"]
async fn destination_update_and_delete() {
    let ipvs = fresh().await;
    let key = ServiceKey::tcp(addr("192.0.2.10:80"));
    ipvs.add_service(&Service::new(key, Scheduler::WeightedRoundRobin))
        .await
        .unwrap();
    let d = Destination::new(addr("198.51.100.1:8080")).weight(5);
    ipvs.add_destination(&key, &d).await.unwrap();
    ipvs.update_destination(&key, &d.weight(0)).await.unwrap();
    assert_eq!(
        ipvs.destinations(&key).await.unwrap()[0].destination.weight,
        0
    );
    ipvs.delete_destination(&key, d.addr).await.unwrap();
    assert!(ipvs.destinations(&key).await.unwrap().is_empty());
    ipvs.delete_service(&key).await.unwrap();
    assert!(ipvs.services().await.unwrap().is_empty());
}

#[tokio::test]
#[ignore = "runs inside the IPVS test VM, started by kernel_suite_runs_in_vm"]
async fn duplicate_and_missing_objects_give_typed_errors() {
    let ipvs = fresh().await;
    let key = ServiceKey::tcp(addr("192.0.2.10:80"));
    let missing = ServiceKey::tcp(addr("192.0.2.11:80"));
    let svc = Service::new(key, Scheduler::RoundRobin);
    let d = Destination::new(addr("198.51.100.1:80"));
    ipvs.add_service(&svc).await.unwrap();
    ipvs.add_destination(&key, &d).await.unwrap();

    let e = ipvs.add_service(&svc).await.unwrap_err();
    assert!(matches!(e, Error::ServiceExists(k) if k == key), "{e:?}");
    assert_eq!(e.to_string(), "service tcp 192.0.2.10:80 already exists");
    let e = ipvs.delete_service(&missing).await.unwrap_err();
    assert!(
        matches!(e, Error::NoSuchService(k) if k == missing),
        "{e:?}"
    );
    let e = ipvs.service(&missing).await.unwrap_err();
    assert!(matches!(e, Error::NoSuchService(_)), "{e:?}");
    let e = ipvs.destinations(&missing).await.unwrap_err();
    assert!(matches!(e, Error::NoSuchService(_)), "{e:?}");
    let e = ipvs.add_destination(&missing, &d).await.unwrap_err();
    assert!(matches!(e, Error::NoSuchService(_)), "{e:?}");
    let e = ipvs.add_destination(&key, &d).await.unwrap_err();
    assert!(
        matches!(e, Error::DestinationExists { dest, .. } if dest == d.addr),
        "{e:?}"
    );
    let other = addr("198.51.100.2:80");
    let e = ipvs.delete_destination(&key, other).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "no such destination 198.51.100.2:80 in service tcp 192.0.2.10:80"
    );
    let e = ipvs
        .update_destination(&key, &Destination::new(other))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NoSuchDestination { .. }), "{e:?}");
    let e = ipvs.stop_daemon(DaemonState::Backup).await.unwrap_err();
    assert!(
        matches!(e, Error::NoSuchDaemon(DaemonState::Backup)),
        "{e:?}"
    );
    // Bad input is refused before anything is sent.
    let e = ipvs
        .add_destination(&key, &Destination::new(other).weight(u32::MAX))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Invalid {
                field: "weight",
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(ipvs.destinations(&key).await.unwrap().len(), 1);
}

#[tokio::test]
#[ignore = "runs inside the IPVS test VM, started by kernel_suite_runs_in_vm"]
async fn zero_clears_counters_of_one_service_or_all() {
    let ipvs = fresh().await;
    let a = ServiceKey::tcp(addr("192.0.2.10:80"));
    let b = ServiceKey::tcp(addr("192.0.2.10:81"));
    for k in [a, b] {
        ipvs.add_service(&Service::new(k, Scheduler::RoundRobin))
            .await
            .unwrap();
    }
    ipvs.zero(Some(&a)).await.unwrap();
    ipvs.zero(None).await.unwrap();
    for e in ipvs.services().await.unwrap() {
        assert_eq!(e.stats, Default::default());
    }
    let e = ipvs
        .zero(Some(&ServiceKey::tcp(addr("192.0.2.10:82"))))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NoSuchService(_)), "{e:?}");
}

#[tokio::test]
#[ignore = "runs inside the IPVS test VM, started by kernel_suite_runs_in_vm"]
async fn flush_removes_every_service() {
    let ipvs = fresh().await;
    for port in 1..=5 {
        let k = ServiceKey::tcp(addr(&format!("192.0.2.10:{port}")));
        ipvs.add_service(&Service::new(k, Scheduler::RoundRobin))
            .await
            .unwrap();
    }
    assert_eq!(ipvs.services().await.unwrap().len(), 5);
    ipvs.flush().await.unwrap();
    assert!(ipvs.services().await.unwrap().is_empty());
    assert_eq!(ipvsadm(&["-S", "-n"]), "");
}

#[tokio::test]
#[ignore = "runs inside the IPVS test VM, started by kernel_suite_runs_in_vm"]
async fn timeouts_set_and_read_back() {
    let ipvs = fresh().await;
    ipvs.set_timeouts(&Timeouts {
        tcp: 900,
        tcp_fin: 60,
        udp: 120,
    })
    .await
    .unwrap();
    assert_eq!(
        ipvs.timeouts().await.unwrap(),
        Timeouts {
            tcp: 900,
            tcp_fin: 60,
            udp: 120
        }
    );
    // Zero leaves a timeout unchanged.
    ipvs.set_timeouts(&Timeouts {
        tcp: 0,
        tcp_fin: 30,
        udp: 0,
    })
    .await
    .unwrap();
    assert_eq!(
        ipvs.timeouts().await.unwrap(),
        Timeouts {
            tcp: 900,
            tcp_fin: 30,
            udp: 120
        }
    );
    assert_eq!(
        ipvsadm(&["-L", "--timeout"]),
        "Timeout (tcp tcpfin udp): 900 30 120\n"
    );
}

#[tokio::test]
#[ignore = "runs inside the IPVS test VM, started by kernel_suite_runs_in_vm"]
async fn sync_daemons_start_list_and_stop() {
    let ipvs = fresh().await;
    let mut master = SyncDaemon::new(DaemonState::Master, "dummy0", 9);
    master.max_len = 1400;
    master.group = Some("239.0.2.81".parse().unwrap());
    master.port = 8850;
    master.ttl = 3;
    ipvs.start_daemon(&master).await.unwrap();
    ipvs.start_daemon(&SyncDaemon::new(DaemonState::Backup, "dummy0", 9))
        .await
        .unwrap();
    let e = ipvs.start_daemon(&master).await.unwrap_err();
    assert!(
        matches!(e, Error::DaemonExists(DaemonState::Master)),
        "{e:?}"
    );
    let daemons = ipvs.daemons().await.unwrap();
    assert!(daemons.contains(&master), "{daemons:?}");
    let backup = daemons
        .iter()
        .find(|d| d.state == DaemonState::Backup)
        .unwrap();
    assert_eq!((backup.interface.as_str(), backup.sync_id), ("dummy0", 9));
    assert!(ipvsadm(&["-L", "--daemon"]).contains("master sync daemon (mcast=dummy0, syncid=9"));
    ipvs.stop_daemon(DaemonState::Master).await.unwrap();
    ipvs.stop_daemon(DaemonState::Backup).await.unwrap();
    assert!(ipvs.daemons().await.unwrap().is_empty());
}

/// `ipvsadm -S -n` lines for a desired state (the subset used below), sorted.
fn save_lines(desired: &Desired) -> Vec<String> {
    let mut lines = Vec::new();
    for ds in &desired.services {
        let ServiceKey::Inet { addr, .. } = ds.service.key else {
            unreachable!()
        };
        lines.push(format!("-A -t {addr} -s {}", ds.service.scheduler));
        for d in &ds.destinations {
            let fwd = match d.forward {
                ForwardMethod::DirectRoute => "-g",
                _ => "-m",
            };
            lines.push(format!("-a -t {addr} -r {} {fwd} -w {}", d.addr, d.weight));
        }
    }
    lines.sort();
    lines
}

/// Port, scheduler, and (last address byte, weight) per destination.
type ServiceSpec<'a> = (u16, Scheduler, &'a [(u8, u32)]);

fn desired_of(services: &[ServiceSpec<'_>]) -> Desired {
    Desired {
        services: services
            .iter()
            .map(|(port, sched, dests)| DesiredService {
                service: Service::new(
                    ServiceKey::tcp(addr(&format!("192.0.2.10:{port}"))),
                    sched.clone(),
                ),
                destinations: dests
                    .iter()
                    .map(|(last, w)| {
                        Destination::new(addr(&format!("198.51.100.{last}:{port}"))).weight(*w)
                    })
                    .collect(),
            })
            .collect(),
    }
}

#[tokio::test]
#[ignore = "runs inside the IPVS test VM, started by kernel_suite_runs_in_vm"]
async fn apply_converges_step_by_step_matching_ipvsadm_save() {
    use Scheduler::{RoundRobin as Rr, WeightedRoundRobin as Wrr};
    let ipvs = fresh().await;

    let step1 = desired_of(&[(80, Wrr, &[(1, 1), (2, 1)]), (443, Rr, &[(1, 1)])]);
    let changes = ipvs.apply(&step1).await.unwrap();
    assert_eq!(changes.commands.len(), 5);
    assert_eq!(saved(), save_lines(&step1));

    assert!(
        ipvs.apply(&step1).await.unwrap().is_empty(),
        "no-op apply changed something"
    );

    let step2 = desired_of(&[(80, Wrr, &[(1, 5), (2, 0)]), (443, Rr, &[(1, 1)])]);
    let changes = ipvs.apply(&step2).await.unwrap();
    assert!(
        changes
            .commands
            .iter()
            .all(|c| matches!(c, Command::UpdateDestination(..)))
    );
    assert_eq!(changes.commands.len(), 2);
    assert_eq!(saved(), save_lines(&step2));

    let step3 = desired_of(&[(80, Wrr, &[(2, 0), (3, 2), (4, 2)]), (443, Rr, &[(1, 1)])]);
    let changes = ipvs.apply(&step3).await.unwrap();
    assert_eq!(changes.commands.len(), 3, "{:?}", changes.commands);
    assert_eq!(saved(), save_lines(&step3));

    let step4 = desired_of(&[(80, Rr, &[(2, 0), (3, 2), (4, 2)])]);
    let changes = ipvs.apply(&step4).await.unwrap();
    assert_eq!(changes.commands.len(), 2, "{:?}", changes.commands);
    assert_eq!(saved(), save_lines(&step4));

    assert!(ipvs.apply(&step4).await.unwrap().is_empty());
    assert!(
        ipvs.apply(&Desired::default())
            .await
            .unwrap()
            .commands
            .len()
            == 1
    );
    assert!(saved().is_empty());
}

#[tokio::test]
#[ignore = "runs inside the IPVS test VM, started by kernel_suite_runs_in_vm"]
async fn apply_service_reconciles_one_service_and_leaves_the_others() {
    use Scheduler::{RoundRobin as Rr, WeightedRoundRobin as Wrr};
    let ipvs = fresh().await;
    // Someone else's service, which apply_service must never touch.
    let others = [(443, Rr, &[(9, 1)][..]), (8443, Wrr, &[][..])];
    ipvs.apply(&desired_of(&others)).await.unwrap();
    let mine = |dests: &[(u8, u32)], sched: Scheduler| {
        desired_of(&[(80, sched, dests)]).services.remove(0)
    };
    let with_others = |dests: &[(u8, u32)], sched: Scheduler| {
        let mut all = vec![(80, sched, dests)];
        all.extend(others.iter().cloned());
        save_lines(&desired_of(&all))
    };
    let key = ServiceKey::tcp(addr("192.0.2.10:80"));

    // Missing: created with its destinations.
    let step1 = mine(&[(1, 1), (2, 1)], Wrr);
    let changes = ipvs.apply_service(&step1).await.unwrap();
    assert_eq!(changes.commands.len(), 3, "{:?}", changes.commands);
    assert!(matches!(changes.commands[0], Command::AddService(_)));
    assert_eq!(saved(), with_others(&[(1, 1), (2, 1)], Wrr));
    assert!(ipvs.apply_service(&step1).await.unwrap().is_empty());

    // A leftover in the service is removed, a staying destination is updated in place (never
    // deleted), a new one added.
    ipvs.add_destination(&key, &Destination::new(addr("198.51.100.7:80")))
        .await
        .unwrap();
    let step2 = mine(&[(2, 5), (3, 1)], Wrr);
    let mut cmds = ipvs.apply_service(&step2).await.unwrap().commands;
    cmds[..2].sort_by_key(|c| format!("{c:?}")); // deletions come in the kernel's order
    assert_eq!(
        cmds,
        vec![
            Command::DeleteDestination(key, addr("198.51.100.1:80")),
            Command::DeleteDestination(key, addr("198.51.100.7:80")),
            Command::UpdateDestination(key, Destination::new(addr("198.51.100.2:80")).weight(5)),
            Command::AddDestination(key, Destination::new(addr("198.51.100.3:80"))),
        ]
    );
    assert_eq!(saved(), with_others(&[(2, 5), (3, 1)], Wrr));

    // Settings change in place; an empty list empties the service but keeps it.
    let step3 = mine(&[], Rr);
    let cmds = ipvs.apply_service(&step3).await.unwrap().commands;
    assert!(
        matches!(&cmds[0], Command::UpdateService(s) if s.scheduler == Rr),
        "{cmds:?}"
    );
    assert_eq!(cmds.len(), 3, "{cmds:?}");
    assert_eq!(saved(), with_others(&[], Rr));
    assert!(ipvs.apply_service(&step3).await.unwrap().is_empty());

    // Invalid input changes nothing.
    let bad = mine(&[(4, 1), (4, 2)], Rr);
    let e = ipvs.apply_service(&bad).await.unwrap_err();
    assert!(e.to_string().contains("198.51.100.4:80"), "{e}");
    assert_eq!(saved(), with_others(&[], Rr));
}

#[tokio::test]
#[ignore = "runs inside the IPVS test VM, started by kernel_suite_runs_in_vm"]
async fn batch_reports_each_command_result_in_order() {
    let ipvs = fresh().await;
    let key = ServiceKey::tcp(addr("192.0.2.10:80"));
    let mut cmds = vec![Command::AddService(Service::new(
        key,
        Scheduler::RoundRobin,
    ))];
    for i in 0..300u32 {
        let d = Destination::new(addr(&format!("198.51.100.{}:{}", i % 250 + 1, 1000 + i)));
        cmds.push(Command::AddDestination(key, d));
    }
    cmds.push(cmds[1].clone()); // a duplicate in the middle of a window
    let results = ipvs.execute_batch(&cmds).await.unwrap();
    assert_eq!(results.len(), 302);
    assert!(results[..301].iter().all(Result::is_ok));
    assert!(matches!(results[301], Err(Error::DestinationExists { .. })));
    assert_eq!(ipvs.destinations(&key).await.unwrap().len(), 300);
}

#[tokio::test]
#[ignore = "runs inside the IPVS test VM, started by kernel_suite_runs_in_vm"]
async fn handle_opened_in_another_netns_sees_only_that_namespace() {
    let host = fresh().await;
    let mut child = Process::new("unshare")
        .args(["-n", "sleep", "30"])
        .spawn()
        .unwrap();
    let ns = format!("/proc/{}/ns/net", child.id());
    // unshare execs sleep once the namespace exists; wait until the link differs from ours.
    for _ in 0..100 {
        if std::fs::read_link(&ns).ok() != std::fs::read_link("/proc/self/ns/net").ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let inner = IpvsHandle::new_in_netns(&ns).await.unwrap();
    let key = ServiceKey::tcp(addr("192.0.2.99:80"));
    inner
        .add_service(&Service::new(key, Scheduler::RoundRobin))
        .await
        .unwrap();
    assert_eq!(inner.services().await.unwrap().len(), 1);
    assert!(host.services().await.unwrap().is_empty());
    child.kill().unwrap();
    child.wait().unwrap();
    let e = IpvsHandle::new_in_netns("/nonexistent/ns")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("/nonexistent/ns"), "{e}");
}

#[tokio::test]
async fn handle_reports_not_loaded_where_the_kernel_has_no_ipvs() {
    if ipvs_vm::in_vm() || std::path::Path::new("/proc/net/ip_vs").exists() {
        eprintln!("SKIPPED: this kernel has IPVS (the VM suite covers a kernel with it)");
        return;
    }
    match IpvsHandle::new().await {
        Err(Error::NotLoaded) => {}
        // The kernel may load ip_vs on demand for the family lookup.
        Ok(_) => assert!(std::path::Path::new("/proc/net/ip_vs").exists()),
        Err(e) => panic!("expected NotLoaded, got {e:?}"),
    }
}

#[test]
#[ignore = "runs inside the IPVS test VM, started by kernel_suite_runs_in_vm"]
fn without_cap_net_admin_every_operation_is_permission_denied() {
    use rustix::thread::{CapabilitySet, capabilities, set_capabilities};
    ipvs_vm::require_vm();
    // Capabilities are per thread: this one drops CAP_NET_ADMIN, the test process keeps it.
    let (add, list) = std::thread::spawn(|| {
        let mut caps = capabilities(None).unwrap();
        caps.effective.remove(CapabilitySet::NET_ADMIN);
        set_capabilities(None, caps).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let ipvs = IpvsHandle::new().await.unwrap();
            let key = ServiceKey::tcp(addr("192.0.2.10:80"));
            let add = ipvs
                .add_service(&Service::new(key, Scheduler::RoundRobin))
                .await;
            (add.unwrap_err(), ipvs.services().await.unwrap_err())
        })
    })
    .join()
    .unwrap();
    assert!(matches!(add, Error::PermissionDenied { .. }), "{add:?}");
    assert_eq!(
        add.to_string(),
        "add service tcp 192.0.2.10:80 (scheduler rr): permission denied"
    );
    assert_eq!(list.to_string(), "list services: permission denied");
}
