//! tcpdump on the bridge, with timestamps, for "seen on the wire" checks.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running capture; stopped on drop.
pub struct Capture {
    child: Child,
    out: PathBuf,
}

impl Capture {
    /// Starts `tcpdump -i br0 FILTER` in the switch namespace and waits until it listens.
    pub fn start(lab: &super::Lab, name: &str, filter: &str) -> Capture {
        Self::start_with(lab, name, &[], filter)
    }

    /// Like [`Capture::start`] with extra tcpdump options (`-e` for link-level headers).
    pub fn start_with(lab: &super::Lab, name: &str, options: &[&str], filter: &str) -> Capture {
        let out = lab.path(&format!("{name}.cap"));
        let err = lab.path(&format!("{name}.cap.err"));
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &lab.switch,
                "tcpdump",
                "-i",
                "br0",
                "-n",
                "-tt",
                "-l",
            ])
            .args(options)
            .arg(filter)
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let listening = super::wait_until(Duration::from_secs(5), || {
            std::fs::read_to_string(&err).is_ok_and(|s| s.contains("listening on"))
        });
        assert!(
            listening,
            "tcpdump did not start: {}",
            std::fs::read_to_string(&err).unwrap_or_default()
        );
        Capture { child, out }
    }

    /// The lines captured so far.
    pub fn lines(&self) -> Vec<String> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Waits up to `limit` for a line containing every one of `needles`.
    pub fn wait_for(&self, limit: Duration, needles: &[&str]) -> Option<String> {
        let mut found = None;
        super::wait_until(limit, || {
            found = self
                .lines()
                .into_iter()
                .find(|l| needles.iter().all(|n| l.contains(n)));
            found.is_some()
        });
        found
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
