//! FRR daemons of one network namespace: zebra, bfdd and bgpd for the anycast bed, zebra and
//! vrrpd for VRRP interop.
//!
//! Each daemon runs as `ip netns exec NS /usr/lib/frr/DAEMON -f DIR/DAEMON.conf -i
//! DIR/DAEMON.pid -z DIR/zserv.api --vty_socket DIR -P 0 --log stdout` (bfdd also
//! `--bfdctl DIR/bfdd.sock`): the pid file, the vty sockets and zebra's API socket (which
//! bgpd and bfdd share with their zebra) keep the instances apart; `-P 0` opens no TCP vty.
//! bgpd asks bfdd for sessions through zebra, so the order is zebra, bfdd, bgpd. The daemons
//! drop to user `frr`, so DIR belongs to it. vtysh reaches them with `--vty_socket DIR`.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian installs the daemons.
pub const FRR_DIR: &str = "/usr/lib/frr";

/// The FRR daemons of one namespace; killed on drop.
pub struct Frr {
    /// The namespace.
    pub ns: String,
    /// Configuration, sockets, pid files and logs.
    pub dir: PathBuf,
    children: Vec<(&'static str, Child)>,
}

impl Frr {
    /// Writes `zebra.conf`, `bfdd.conf` and `bgpd.conf` into `dir` (created, given to user
    /// `frr`) and starts the three daemons in namespace `ns`, each waited for until its vty
    /// socket exists.
    pub fn start(ns: &str, dir: &Path, zebra: &str, bfdd: &str, bgpd: &str) -> Frr {
        Self::start_daemons(ns, dir, &[("zebra", zebra), ("bfdd", bfdd), ("bgpd", bgpd)])
    }

    /// Writes `DAEMON.conf` for each of `daemons` (name, configuration) into `dir` and starts
    /// them in that order in namespace `ns` (zebra first: the others connect to it).
    pub fn start_daemons(ns: &str, dir: &Path, daemons: &[(&'static str, &str)]) -> Frr {
        std::fs::create_dir_all(dir).unwrap();
        for (name, text) in daemons {
            std::fs::write(dir.join(format!("{name}.conf")), text).unwrap();
        }
        let owner = Command::new("chown")
            .args(["-R", "frr:frr"])
            .arg(dir)
            .status()
            .unwrap();
        assert!(owner.success(), "chown frr:frr {}", dir.display());
        let mut frr = Frr {
            ns: ns.to_owned(),
            dir: dir.to_owned(),
            children: Vec::new(),
        };
        for (daemon, _) in daemons {
            frr.spawn(daemon);
        }
        frr
    }

    fn spawn(&mut self, daemon: &'static str) {
        let d = &self.dir;
        let log = std::fs::File::create(d.join(format!("{daemon}.log"))).unwrap();
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.ns])
            .arg(Path::new(FRR_DIR).join(daemon))
            .arg("-f")
            .arg(d.join(format!("{daemon}.conf")))
            .arg("-i")
            .arg(d.join(format!("{daemon}.pid")))
            .arg("-z")
            .arg(d.join("zserv.api"))
            .arg("--vty_socket")
            .arg(d)
            .args(["-P", "0", "--log", "stdout"]);
        if daemon == "bfdd" {
            cmd.arg("--bfdctl").arg(d.join("bfdd.sock"));
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            // Its own process group: a terminal's signals are the test's, not FRR's.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("{daemon}: {e}"));
        self.children.push((daemon, child));
        let vty = d.join(format!("{daemon}.vty"));
        let end = Instant::now() + Duration::from_secs(10);
        while !vty.exists() {
            assert!(
                Instant::now() < end,
                "{daemon} did not start in {}: {}",
                self.ns,
                self.log(daemon)
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Runs vtysh `commands` against these daemons; stdout.
    pub fn vtysh(&self, commands: &[&str]) -> String {
        let mut cmd = Command::new("vtysh");
        cmd.arg("--vty_socket").arg(&self.dir);
        for c in commands {
            cmd.args(["-c", c]);
        }
        let out = cmd.output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// How many BGP sessions are established.
    pub fn bgp_established(&self) -> usize {
        count(
            &self.vtysh(&["show bgp ipv4 unicast summary json"]),
            "\"state\":\"Established\"",
        )
    }

    /// How many BFD sessions are up.
    pub fn bfd_up(&self) -> usize {
        count(&self.vtysh(&["show bfd peers json"]), "\"status\":\"up\"")
    }

    /// A daemon's log so far.
    pub fn log(&self, daemon: &str) -> String {
        std::fs::read_to_string(self.dir.join(format!("{daemon}.log"))).unwrap_or_default()
    }

    /// SIGKILLs every daemon (a crashed node's routing stack).
    pub fn kill(&mut self) {
        // bgpd first: its peers see the session end before BFD does.
        for (_, child) in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.children.clear();
    }
}

/// Occurrences of `needle` in `text` with its whitespace removed (JSON of any layout).
fn count(text: &str, needle: &str) -> usize {
    let compact: String = text.split_whitespace().collect();
    compact.matches(needle).count()
}

impl Drop for Frr {
    fn drop(&mut self) {
        self.kill();
    }
}
