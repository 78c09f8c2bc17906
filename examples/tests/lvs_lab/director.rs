//! One `lvs-director` process in a lab namespace, and its stdout lines with arrival times.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::{ANYCAST_VIP, DIRECTOR_ENV, Lab, PREFIX, VIP};

type Lines = Arc<Mutex<Vec<(Instant, String)>>>;

/// A running director and what it printed.
#[derive(Debug)]
pub(crate) struct Director {
    /// Its host name in the lab.
    pub(crate) name: String,
    child: Child,
    lines: Lines,
}

impl Director {
    /// Starts `lvs-director` (VRRP) in host `name`'s namespace with `priority` and `extra`
    /// options (the VIP, VRID and interface are the lab's).
    pub(crate) fn start(lab: &Lab, name: &str, priority: u8, extra: &[&str]) -> Director {
        let vip = format!("{VIP}/{PREFIX}");
        let priority = priority.to_string();
        let mut args = vec!["-i", "eth0", "--vip", &vip, "--vrid", "51"];
        args.extend(["--priority", &priority]);
        args.extend(extra);
        Director::spawn(lab, name, &args)
    }

    /// Starts `lvs-director --mode anycast` for [`ANYCAST_VIP`] (on `lo`) in host `name`'s
    /// namespace with `extra` options.
    pub(crate) fn start_anycast(lab: &Lab, name: &str, extra: &[&str]) -> Director {
        let vip = format!("{ANYCAST_VIP}/32");
        let mut args = vec!["--mode", "anycast", "--vip", &vip];
        args.extend(extra);
        Director::spawn(lab, name, &args)
    }

    fn spawn(lab: &Lab, name: &str, args: &[&str]) -> Director {
        let program = std::env::var(DIRECTOR_ENV).unwrap();
        let mut child = lab
            .command_in(name, &program)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = Lines::default();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        for (stream, prefix) in [
            (Box::new(stdout) as Box<dyn std::io::Read + Send>, ""),
            (Box::new(stderr), "stderr: "),
        ] {
            let lines = Arc::clone(&lines);
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { return };
                    lines
                        .lock()
                        .unwrap()
                        .push((Instant::now(), format!("{prefix}{line}")));
                }
            });
        }
        Director {
            name: name.to_owned(),
            child,
            lines,
        }
    }

    /// The first line printed at or after `since` for which `pred` holds, waiting up to
    /// `timeout`.
    pub(crate) fn wait_line(
        &self,
        since: Instant,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> (Instant, String) {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(found) = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .find(|(t, l)| *t >= since && pred(l))
            {
                return found.clone();
            }
            assert!(
                Instant::now() < deadline,
                "{}: no matching line within {timeout:?}; output:\n{}",
                self.name,
                self.output()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The last `table` line: the director's view of its IPVS table.
    pub(crate) fn table(&self) -> String {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find(|(_, l)| l.starts_with("table "))
            .map(|(_, l)| l.clone())
            .unwrap_or_default()
    }

    /// Everything printed so far.
    pub(crate) fn output(&self) -> String {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .map(|(_, l)| format!("  {}: {l}\n", self.name))
            .collect()
    }

    /// Sends `signal` to the director.
    pub(crate) fn signal(&self, signal: Signal) {
        let pid = Pid::from_raw(i32::try_from(self.child.id()).unwrap());
        kill(pid, signal).unwrap();
    }

    /// Waits for the process to exit; returns whether it exited with status 0.
    pub(crate) fn wait_exit(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.success();
            }
            assert!(
                Instant::now() < deadline,
                "{} did not exit within {timeout:?}",
                self.name
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Director {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
