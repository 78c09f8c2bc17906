//! keepalived-compat's `--signum` and `-t` (no privileges needed: nothing touches the
//! network; interfaces are only looked up).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use nix::libc;

/// The daemon, built by cargo for this test with the same features.
fn daemon_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_keepalived-compat"))
}

/// Runs the daemon with `args`: exit status, stdout, stderr.
fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(daemon_binary()).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Writes `text` as `name` in this test process's scratch directory.
fn conf(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kc-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `-t -f PATH`: exit status and stderr.
fn config_test(path: &Path) -> (i32, String) {
    let (code, _, err) = run(&["-t", "-f", path.to_str().unwrap()]);
    (code, err)
}

#[test]
fn signum_prints_keepalived_s_numbers() {
    let expected = [
        ("STOP", libc::SIGTERM),
        ("RELOAD", libc::SIGHUP),
        ("DATA", libc::SIGUSR1),
        ("STATS", libc::SIGUSR2),
        ("STATS_CLEAR", libc::SIGRTMAX() - 1),
        ("JSON", libc::SIGRTMIN() + 2),
    ];
    for (name, number) in expected {
        let (code, out, err) = run(&[&format!("--signum={name}")]);
        assert_eq!((code, out), (0, format!("{number}\n")), "{name}: {err}");
    }
    let (code, out, err) = run(&["--signum", "TDUMP"]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert_eq!(err, "Unknown sigfunc TDUMP\n");
}

/// An instance on `lo` advertising from a configured address, with `extra` lines.
fn instance(extra: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n    interface lo\n    virtual_router_id 51\n    \
         unicast_src_ip 192.0.2.1\n{extra}    virtual_ipaddress {{\n        192.0.2.100/24\n    \
         }}\n}}\n"
    )
}

#[test]
fn config_test_reports_a_missing_script_where_it_is_defined() {
    let path = conf(
        "script.conf",
        &format!(
            "vrrp_script chk {{\n    script \"/nonexistent/chk.sh\"\n}}\n{}",
            instance("    track_script {\n        chk\n    }\n    notify_master /nonexistent/up\n")
        ),
    );
    let (code, err) = config_test(&path);
    assert_ne!(code, 0, "{err}");
    let p = path.display();
    assert!(
        err.contains(&format!(
            "{p}:1: script: /nonexistent/chk.sh not found or not executable"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{p}:4: notify_master: /nonexistent/up not found or not executable"
        )),
        "{err}"
    );
}

#[test]
fn config_test_reports_what_the_core_refuses() {
    // Parsed fine, but vrrp_strict refuses unicast (RFC 9568 has none).
    let path = conf(
        "core.conf",
        &format!(
            "global_defs {{\n    vrrp_strict\n}}\n{}",
            instance("    version 3\n    unicast_peer {\n        192.0.2.2\n    }\n")
        ),
    );
    let (code, err) = config_test(&path);
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains(&format!("{}:4: vrrp_instance: VI_1: ", path.display())),
        "{err}"
    );
}

#[test]
fn config_test_reports_a_missing_interface_as_keepalived_does() {
    let text = instance("").replace("interface lo", "interface kcnosuch0");
    let path = conf("interface.conf", &text);
    let (code, err) = config_test(&path);
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains(&format!(
            "{}:1: interface: interface kcnosuch0 for vrrp_instance VI_1 doesn't exist",
            path.display()
        )),
        "{err}"
    );
}

#[test]
fn config_test_reports_a_bad_regex() {
    let path = conf(
        "regex.conf",
        "virtual_server 192.0.2.100 80 {\n    lb_kind NAT\n    protocol TCP\n    \
         real_server 192.0.2.2 80 {\n        HTTP_GET {\n            url {\n                \
         path /\n                regex \"a(b\"\n            }\n        }\n    }\n}\n",
    );
    let (code, err) = config_test(&path);
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains(&format!("{}:6: regex: \"a(b\": ", path.display())),
        "{err}"
    );
}

#[test]
fn config_test_accepts_a_good_configuration() {
    let path = conf("good.conf", &instance("    notify_master /bin/true\n"));
    let (code, out, err) = run(&["-t", "-f", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("is valid (1 instances, 0 virtual servers)"),
        "{out}"
    );
}

#[test]
fn config_test_builds_the_lvs_plan_as_a_start_does() {
    // A misc_timeout of 0 parses, but the checker schedule a start builds refuses it.
    let path = conf(
        "plan.conf",
        "virtual_server 192.0.2.100 80 {\n    lb_kind NAT\n    protocol TCP\n    \
         real_server 192.0.2.2 80 {\n        MISC_CHECK {\n            misc_path /bin/true\n            \
         misc_timeout 0\n        }\n    }\n}\n",
    );
    let (code, err) = config_test(&path);
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains(&format!("{}:4: real_server: ", path.display())),
        "{err}"
    );
}

/// A configuration using keepalived 2.2.7's preprocessing: `@ID` / `@^ID` lines (after a
/// brace too), `$NAME` definitions chosen by them, a multiline definition, `${_INSTANCE}`,
/// and `$NAME"` (no reference) next to `${NAME}` inside quotes.
const PREPROCESSED: &str = r#"$PRIO=120
@lb1 $PRIO=150
@^lb1 $ADV=2
@lb1 $ADV=3
$VIPS=\
    192.0.2.100 \
    192.0.2.101

global_defs {
    router_id r_${_INSTANCE}
}
vrrp_instance VI_1 { @lb1 advert_int $ADV
    interface ka0
    virtual_router_id 51
    priority $PRIO
    @^lb1 advert_int $ADV
    notify_master "/usr/bin/echo ${PRIO} $PRIO"
    virtual_ipaddress {
        $VIPS
        @lb1 192.0.2.102
    }
}
"#;

/// A network namespace with a veth pair `ka0` (192.0.2.1/24) / `ka1`, deleted when dropped.
struct Netns(String);

impl Netns {
    fn new(name: &str) -> Netns {
        let ip = |args: &str| {
            let ok = Command::new("ip")
                .args(args.split(' '))
                .status()
                .unwrap()
                .success();
            assert!(ok, "ip {args}");
        };
        ip(&format!("netns add {name}"));
        let ns = Netns(name.to_owned());
        ip(&format!("-n {name} link add ka0 type veth peer name ka1"));
        ip(&format!("-n {name} addr add 192.0.2.1/24 dev ka0"));
        ip(&format!("-n {name} link set ka0 up"));
        ip(&format!("-n {name} link set ka1 up"));
        ns
    }

    fn exec(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.0, program]);
        c
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// What keepalived 2.2.7's start-up dump (`-d`) says of the configuration: router id,
/// priority, advert interval, addresses and master script, one string each.
fn keepalived_dump(ns: &Netns, path: &Path, id: &str) -> Vec<String> {
    let dir = path.parent().unwrap();
    let child = ns
        .exec("keepalived")
        .args([
            "-f",
            path.to_str().unwrap(),
            "-l",
            "-n",
            "-d",
            "-P",
            "-G",
            "-i",
            id,
        ])
        .args(["-p", dir.join("ka.pid").to_str().unwrap()])
        .args(["-r", dir.join("kav.pid").to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap()),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let mut facts = Vec::new();
    for line in text.lines() {
        // Each line is "DATE: text".
        let Some((_, body)) = line.split_once(": ") else {
            continue;
        };
        let body = body.trim();
        if let Some(v) = body.strip_prefix("Router ID = ") {
            facts.push(format!("router_id {v}"));
        } else if let Some(v) = body.strip_prefix("Priority = ") {
            facts.push(format!("priority {v}"));
        } else if let Some(v) = body.strip_prefix("Advert interval = ") {
            facts.push(format!("advert_int {}", v.trim_end_matches(" sec")));
        } else if let Some(v) = body.strip_suffix(" dev ka0 scope global") {
            facts.push(format!("vip {v}"));
        } else if let Some(v) = body.strip_prefix("Master state transition script = ") {
            let words: Vec<&str> = v
                .split(", uid:gid")
                .next()
                .unwrap()
                .split(' ')
                .map(|w| w.trim_matches('\''))
                .collect();
            facts.push(format!("notify_master {}", words.join(" ")));
        }
    }
    facts
}

/// The same facts from keepalived-conf, read as keepalived-compat reads it.
fn our_facts(path: &Path, id: &str) -> Vec<String> {
    let conf = keepalived_conf::ReadOptions::new()
        .config_id(id)
        .read(path)
        .unwrap();
    let i = &conf.instances[0];
    let mut facts = vec![
        format!(
            "router_id {}",
            conf.global.router_id.as_deref().unwrap_or("")
        ),
        format!("priority {}", i.priority),
        format!("advert_int {}", i.advert_int.as_secs()),
    ];
    facts.extend(i.vips.iter().map(|v| format!("vip {}", v.addr)));
    facts.push(format!(
        "notify_master {}",
        i.notify.master.as_deref().unwrap_or_default().join(" ")
    ));
    facts
}

#[test]
fn preprocessing_reads_as_keepalived_2_2_7_reads_it() {
    let test = "preprocessing_reads_as_keepalived_2_2_7_reads_it";
    if !testbed::privileged::require(test, &["keepalived", "ip"]) {
        return;
    }
    let path = conf("preprocessed.conf", PREPROCESSED);
    let ns = Netns::new(&format!("kcpre{}", std::process::id()));
    for id in ["lb1", "lb2"] {
        let theirs = keepalived_dump(&ns, &path, id);
        let mut ours = our_facts(&path, id);
        // Compared in a fixed order: the dump's order is keepalived's own.
        ours.sort();
        let mut sorted = theirs.clone();
        sorted.sort();
        assert_eq!(ours, sorted, "config id {id}: keepalived said {theirs:?}");
        // And the daemon's own `-t` accepts it with that id.
        let out = ns
            .exec(daemon_binary().to_str().unwrap())
            .args(["-t", "-i", id, "-f", path.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "-t -i {id}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The ids really chose different lines.
    assert_ne!(our_facts(&path, "lb1"), our_facts(&path, "lb2"));
}

#[test]
fn config_test_reads_at_lines_with_the_config_id() {
    // Only the `@^lb1` line is broken: `-i lb1` drops it, any other id keeps it.
    let path = conf(
        "config-id.conf",
        &instance("@lb1    priority 150\n@^lb1   priority 0\n"),
    );
    let path = path.to_str().unwrap();
    let (code, _, err) = run(&["-t", "-i", "lb1", "-f", path]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(&["-t", "--config-id=lb2", "-f", path]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains(&format!("{path}:6: priority")), "{err}");
}
