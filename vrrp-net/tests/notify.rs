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

/// `vrrp_notify_fifo PATH USER` with `vrrp_notify_fifo_script "CMD ARG"`: the same reader
/// arguments, the same lines read, the FIFO owned by USER while the daemon runs and removed
/// when it stops, and no reader left behind, for keepalived 2.2.7 and for ours. One
/// difference, deliberate: keepalived's reader dies with keepalived (SIGTERM by
/// PR_SET_PDEATHSIG), possibly before reading the last lines; ours sees the FIFO close after
/// the STOP line and ends by itself (killed only if it is still there after the grace).
#[test]
fn notify_fifo_script_and_owner_match_keepalived() {
    if !require(
        "notify_fifo_script_and_owner_match_keepalived",
        &["ip", "keepalived", "pgrep"],
    ) {
        return;
    }
    let lab = Lab::new(1);
    let h = &lab.hosts[0];
    let fifo = lab.path("vrrp.fifo");
    let reader = lab.path("reader.sh");
    let nobody = nix::unistd::User::from_name("nobody").unwrap().unwrap();
    let reader_running = || {
        std::process::Command::new("pgrep")
            .args(["-f", &reader.display().to_string()])
            .output()
            .is_ok_and(|o| o.status.success())
    };

    let run = |who: &str, start: &dyn Fn(&RouterConf) -> Box<dyn FnOnce()>| {
        let out = lab.path(&format!("{who}-reader.out"));
        std::fs::write(
            &reader,
            format!(
                "#!/bin/sh\necho \"args: $*\" > {out}\nwhile read line; do echo \"$line\" >> {out}; done < \"$2\"\necho eof >> {out}\n",
                out = out.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&reader, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut c = RouterConf::v3(200);
        c.global_extra = vec![
            "script_user root".into(),
            "enable_script_security".into(),
            format!("vrrp_notify_fifo {} nobody", fifo.display()),
            format!("vrrp_notify_fifo_script \"{} tagged\"", reader.display()),
        ];
        let stop = start(&c);
        assert!(wait_until(Duration::from_secs(10), || h.has_addr("192.0.2.100")));
        assert!(wait_until(Duration::from_secs(5), || {
            std::fs::read_to_string(&out)
                .unwrap_or_default()
                .contains("MASTER")
        }));
        let meta = std::fs::metadata(&fifo).unwrap();
        // The mode too: keepalived's default umask (0177) applies to the FIFO it makes.
        let owner = (
            std::os::unix::fs::MetadataExt::uid(&meta),
            std::os::unix::fs::MetadataExt::mode(&meta) & 0o777,
        );
        assert!(reader_running(), "{who}: no reader running");
        stop();
        let gone = wait_until(Duration::from_secs(5), || !reader_running());
        let read: Vec<String> = std::fs::read_to_string(&out)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        (owner, fifo.exists(), gone, read)
    };
    let ka = run("ka", &|c| {
        let mut k = Keepalived::start(&lab, h, c);
        Box::new(move || k.stop())
    });
    let ours = run("ours", &|c| {
        let mut d = Daemon::start(&lab, h, c);
        Box::new(move || d.stop())
    });
    eprintln!("keepalived: {ka:?}\nours: {ours:?}");
    assert_eq!(
        ka.0,
        (nobody.uid.as_raw(), 0o600),
        "keepalived gave the FIFO to nobody, mode 0644 under its umask 0177"
    );
    assert_eq!(ours.0, ka.0, "FIFO owner and mode");
    assert!(
        !ka.1 && !ours.1,
        "a FIFO the daemon made is removed when it stops"
    );
    assert!(ka.2 && ours.2, "a reader outlived its daemon");
    assert_eq!(ka.3[0], format!("args: tagged {}", fifo.display()));
    assert_eq!(ours.3[0], ka.3[0], "reader arguments");
    let ka_lines: Vec<&String> = ka.3.iter().filter(|l| *l != "eof").collect();
    assert_eq!(
        ours.3[..ka_lines.len()].iter().collect::<Vec<_>>(),
        ka_lines,
        "lines read"
    );
    assert_eq!(
        ours.3[ka_lines.len()..],
        ["INSTANCE \"VI_1\" STOP 200".to_owned(), "eof".to_owned()],
        "ours: the STOP line, then the end of the FIFO"
    );
}
