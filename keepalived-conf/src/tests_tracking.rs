//! `vrrp_track_process`, `track_file` and the instance keywords that track them.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use super::*;

fn parse(text: &str) -> Result<KeepalivedConf, String> {
    parse_str("k.conf", text).map_err(|e| e.to_string())
}

fn with_instance(blocks: &str, tracking: &str) -> Result<KeepalivedConf, String> {
    parse(&format!(
        "{blocks}\nvrrp_instance VI {{\ninterface eth0\nvirtual_router_id 7\n\
         virtual_ipaddress {{\n192.0.2.7\n}}\n{tracking}\n}}\n"
    ))
}

fn process(body: &str) -> Result<TrackProcess, String> {
    with_instance(&format!("vrrp_track_process P {{\n{body}\n}}"), "")
        .map(|c| c.track_processes[0].clone())
}

#[test]
fn track_process_defaults_are_keepalived_s() {
    let p = process("process nginx").unwrap();
    assert_eq!(p.process, "nginx");
    assert!(p.params.is_empty() && !p.full_command);
    assert_eq!(p.param_match, ParamMatch::None);
    assert_eq!((p.weight, p.weight_reverse), (0, false));
    assert_eq!((p.quorum, p.quorum_max), (1, u32::MAX));
    assert_eq!(
        (p.fork_delay, p.terminate_delay),
        (Duration::ZERO, Duration::ZERO)
    );
    assert!(!p.has_quorum(0) && p.has_quorum(1) && p.has_quorum(1000));
}

#[test]
fn track_process_arguments_imply_exact_full_command_match() {
    let p = process("process /usr/sbin/sleep 1000 x").unwrap();
    assert_eq!(p.params, ["1000", "x"]);
    assert_eq!(p.param_match, ParamMatch::Exact);
    assert!(p.full_command);
    let p = process("param_match partial\nprocess sleep 10").unwrap();
    assert_eq!(p.param_match, ParamMatch::Partial);
    let p = process("process sleep\nparam_match initial").unwrap();
    assert_eq!((p.param_match, p.full_command), (ParamMatch::Initial, true));
    let p = process("process sleep\nfull_command").unwrap();
    assert_eq!((p.param_match, p.full_command), (ParamMatch::None, true));
    assert!(process("process sleep\nparam_match sloppy").is_err());
}

#[test]
fn track_process_weight_quorum_and_delays() {
    let p = process(
        "process sleep\nweight -30 reverse\nquorum 2\nquorum_max 3\nfork_delay 0.5\n\
         terminate_delay 2",
    )
    .unwrap();
    assert_eq!((p.weight, p.weight_reverse), (-30, true));
    assert_eq!((p.quorum, p.quorum_max), (2, 3));
    assert!(!p.has_quorum(1) && p.has_quorum(2) && p.has_quorum(3) && !p.has_quorum(4));
    assert_eq!(p.fork_delay, Duration::from_millis(500));
    assert_eq!(p.terminate_delay, Duration::from_secs(2));
    let p = process("process sleep\ndelay 1.5").unwrap();
    assert_eq!(
        (p.fork_delay, p.terminate_delay),
        (Duration::from_millis(1500), Duration::from_millis(1500))
    );
    // quorum_max 0: up while no copy runs.
    let p = process("process sleep\nquorum_max 0").unwrap();
    assert_eq!((p.quorum, p.quorum_max), (0, 0));
    assert!(p.has_quorum(0) && !p.has_quorum(1));
}

#[test]
fn track_process_refuses_what_keepalived_ignores() {
    for body in [
        "weight 3",
        "process a\nprocess b",
        "process a\nweight 255",
        "process a\nweight 3 sideways",
        "process a\nquorum 0",
        "process a\nquorum_max 2\nquorum 3",
        "process a\nquorum 3\nquorum_max 2",
        "process a\ndelay 0",
        "process a\nfork_delay 3601",
    ] {
        assert!(process(body).is_err(), "{body}");
    }
}

#[test]
fn instances_track_processes_and_files_by_name() {
    let c = with_instance(
        "vrrp_track_process P {\nprocess sleep\nweight 10\n}\n\
         vrrp_track_file F {\nfile /run/f\nweight -3 reverse\ninit_file 5 overwrite\n}",
        "track_process {\nP weight 254 reverse\n}\ntrack_file {\nF\n}",
    )
    .unwrap();
    let i = &c.instances[0];
    assert_eq!(i.track_processes[0].name, "P");
    assert_eq!(
        (i.track_processes[0].weight, i.track_processes[0].reverse),
        (Some(254), Some(true))
    );
    assert_eq!(
        (i.track_files[0].name.as_str(), i.track_files[0].weight),
        ("F", None)
    );
    let f = &c.track_files[0];
    assert_eq!((f.weight, f.reverse), (3, true));
    assert_eq!(
        f.init,
        Some(TrackFileInit {
            value: 5,
            overwrite: true
        })
    );
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn init_file_defaults_to_zero_without_overwrite() {
    let c = parse("track_file F {\nfile /run/f\ninit_file\n}\n").unwrap();
    assert_eq!(
        c.track_files[0].init,
        Some(TrackFileInit {
            value: 0,
            overwrite: false
        })
    );
    let c = parse("track_file F {\nfile /run/f\ninit_file 300\n}\n").unwrap();
    assert_eq!(c.track_files[0].init.map(|i| i.value), Some(300));
    assert_eq!(c.warnings.len(), 1);
    assert!(parse("track_file F {\nfile /run/f\ninit_file soon\n}\n").is_err());
}

#[test]
fn unknown_or_repeated_tracked_names_are_refused() {
    let blocks = "vrrp_track_process P {\nprocess sleep\n}\ntrack_file F {\nfile /run/f\n}";
    for tracking in [
        "track_process {\nQ\n}",
        "track_file {\nG\n}",
        "track_process {\nP\nP weight 2\n}",
        "track_file {\nF weight 255\n}",
        "track_file {\nF weight 2 sideways\n}",
    ] {
        assert!(with_instance(blocks, tracking).is_err(), "{tracking}");
    }
}
