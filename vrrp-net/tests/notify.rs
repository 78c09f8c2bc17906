//! Notifications: the same keepalived.conf run by our daemon and by keepalived 2.2.7 gives the
//! same notify-FIFO lines in the same order and the same notify script arguments.
//! Privileged: see `harness::require`.
#![allow(clippy::unwrap_used)]

mod harness;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use harness::{Daemon, Keepalived, Lab, RouterConf, fifo_reader, require, wait_until};

fn conf(lab: &Lab, who: &str) -> (RouterConf, Arc<Mutex<Vec<String>>>, std::path::PathBuf) {
    let script = lab.path(&format!("{who}-notify.sh"));
    let out = lab.path(&format!("{who}-notify.out"));
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$@\" >> {}\n", out.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let fifo = lab.path(&format!("{who}.fifo"));
    let lines = fifo_reader(&fifo);
    let mut c = RouterConf::v3(200);
    c.notify_fifo = Some(fifo);
    c.global_extra = vec!["script_user root".into(), "enable_script_security".into()];
    c.extra = vec![
        format!("notify {}", script.display()),
        format!("notify_master \"{} master-hook\"", script.display()),
        format!("notify_stop \"{} stop-hook\"", script.display()),
    ];
    (c, lines, out)
}

fn sorted_lines(path: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect();
    v.sort();
    v
}

#[test]
fn notify_fifo_lines_and_script_arguments_match_keepalived() {
    if !require(
        "notify_fifo_lines_and_script_arguments_match_keepalived",
        &["ip", "keepalived", "mkfifo"],
    ) {
        return;
    }
    let lab = Lab::new(1);
    let h = &lab.hosts[0];

    let (c, ka_fifo, ka_out) = conf(&lab, "ka");
    let mut ka = Keepalived::start(&lab, h, &c);
    assert!(wait_until(Duration::from_secs(10), || h.has_addr("192.0.2.100")));
    ka.stop();
    std::thread::sleep(Duration::from_millis(500));

    let (c, ours_fifo, ours_out) = conf(&lab, "ours");
    let mut ours = Daemon::start(&lab, h, &c);
    assert!(wait_until(Duration::from_secs(10), || h.has_addr("192.0.2.100")));
    ours.stop();
    std::thread::sleep(Duration::from_millis(500));

    let ka_lines = ka_fifo.lock().unwrap().clone();
    let ours_lines = ours_fifo.lock().unwrap().clone();
    assert!(
        ka_lines.iter().any(|l| l == "INSTANCE \"VI_1\" MASTER 200"),
        "keepalived wrote {ka_lines:?}"
    );
    eprintln!("fifo: {ours_lines:?}");
    assert_eq!(ours_lines, ka_lines, "fifo lines differ from keepalived's");
    let (ka_args, ours_args) = (sorted_lines(&ka_out), sorted_lines(&ours_out));
    assert!(
        ka_args.iter().any(|l| l == "master-hook"),
        "keepalived's scripts saw {ka_args:?}"
    );
    assert_eq!(
        ours_args, ka_args,
        "notify script arguments differ from keepalived's"
    );
}
