//! Telling a BGP speaker directly, for setups that do not announce connected routes.
//!
//! The default needs no speaker: the node's speaker redistributes the connected routes the
//! addresses make on `lo`, through a route map. With a [`Speaker`], the owner also tells it to
//! announce after installing the addresses, and to withdraw *before* anything else: the
//! addresses then stay on the node, answering, for the drain time, and no drain hold is
//! needed.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use async_trait::async_trait;
use tokio::process::Command;
use vrrp_core::VirtualAddress;

use super::error::SpeakerError;

/// A routing daemon that announces and withdraws prefixes on request.
#[async_trait]
pub trait Speaker: Send + Sync {
    /// Starts announcing `addresses` (their networks, with their prefix lengths).
    async fn announce(&self, addresses: &[VirtualAddress]) -> Result<(), SpeakerError>;

    /// Stops announcing `addresses`.
    async fn withdraw(&self, addresses: &[VirtualAddress]) -> Result<(), SpeakerError>;
}

/// FRR's bgpd through `vtysh`: `network PREFIX` / `no network PREFIX` under
/// `router bgp ASN`, in the address family of each prefix.
///
/// bgpd announces a `network` only while the prefix is in its RIB (FRR's default
/// `bgp network import-check`); the address on `lo` puts it there. That is also what
/// withdraws a dead program's announcement: its `network` statement stays in bgpd, but the
/// crash supervisor's removing the address takes the prefix out of the RIB, and the next
/// start removes the statement. With `no bgp network import-check` a crash would keep the
/// prefix announced.
///
/// Withdrawing is idempotent: bgpd refuses `no network` for a prefix it has no statement
/// for (which is what the owner's stale withdraw at start usually meets), and that counts as
/// withdrawn. vtysh stops at the first refused command, so each prefix is withdrawn in a run
/// of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FrrVtysh {
    /// The vtysh program.
    pub program: PathBuf,
    /// `--vty_socket DIR`, for a bgpd started with its own vty directory (one FRR per
    /// network namespace); `None` for the system's FRR.
    pub vty_socket: Option<PathBuf>,
    /// The AS of `router bgp`.
    pub asn: u32,
    /// Limit on one vtysh run.
    pub timeout: Duration,
}

impl FrrVtysh {
    /// `vtysh` from `PATH`, the system's FRR, AS `asn`, 5 s limit.
    pub fn new(asn: u32) -> Self {
        Self {
            program: PathBuf::from("vtysh"),
            vty_socket: None,
            asn,
            timeout: Duration::from_secs(5),
        }
    }

    /// Runs `program` instead of `vtysh`.
    pub fn program(mut self, program: impl Into<PathBuf>) -> Self {
        self.program = program.into();
        self
    }

    /// Talks to the daemons whose vty sockets are in `dir`.
    pub fn vty_socket(mut self, dir: impl Into<PathBuf>) -> Self {
        self.vty_socket = Some(dir.into());
        self
    }

    /// The vtysh arguments that announce (`no` = `""`) or withdraw (`no` = `"no "`).
    pub fn arguments(&self, addresses: &[VirtualAddress], no: &str) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(dir) = &self.vty_socket {
            args.push("--vty_socket".to_owned());
            args.push(dir.display().to_string());
        }
        let mut command = |c: String| {
            args.push("-c".to_owned());
            args.push(c);
        };
        command("configure terminal".to_owned());
        command(format!("router bgp {}", self.asn));
        for a in addresses {
            let family = if a.address.is_ipv4() { "ipv4" } else { "ipv6" };
            command(format!("address-family {family} unicast"));
            command(format!("{no}network {}", network(a)));
            command("exit-address-family".to_owned());
        }
        args
    }

    async fn run(&self, addresses: &[VirtualAddress], no: &str) -> Result<(), SpeakerError> {
        let args = self.arguments(addresses, no);
        let mut cmd = Command::new(&self.program);
        cmd.args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let output = match tokio::time::timeout(self.timeout, cmd.output()).await {
            Err(_) => {
                return Err(SpeakerError::Timeout {
                    program: self.program.clone(),
                    seconds: self.timeout.as_secs(),
                });
            }
            Ok(Err(e)) => {
                return Err(SpeakerError::Spawn {
                    program: self.program.clone(),
                    message: e.to_string(),
                });
            }
            Ok(Ok(output)) => output,
        };
        // vtysh prints `% ...` for a refused command, and does not always exit non-zero.
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        if !output.status.success() || text.lines().any(|l| l.trim_start().starts_with('%')) {
            return Err(SpeakerError::Refused {
                program: self.program.clone(),
                command: args.join(" "),
                output: text.trim().to_owned(),
            });
        }
        Ok(())
    }
}

/// bgpd's answer (FRR 8.4, `bgp_static_unset`) to `no network PREFIX` when it has no such
/// statement: already withdrawn.
const NOT_CONFIGURED: &str = "Can't find static route specified";

/// `203.0.113.10/32`, or the network of a shorter prefix (`198.51.100.0/24`).
fn network(a: &VirtualAddress) -> String {
    let masked: IpAddr = match a.address {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let mask = u32::MAX
                .checked_shl(32 - u32::from(a.prefix_len.min(32)))
                .unwrap_or(0);
            IpAddr::V4((bits & mask).into())
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let mask = u128::MAX
                .checked_shl(128 - u32::from(a.prefix_len.min(128)))
                .unwrap_or(0);
            IpAddr::V6((bits & mask).into())
        }
    };
    format!("{masked}/{}", a.prefix_len)
}

#[async_trait]
impl Speaker for FrrVtysh {
    async fn announce(&self, addresses: &[VirtualAddress]) -> Result<(), SpeakerError> {
        self.run(addresses, "").await
    }

    async fn withdraw(&self, addresses: &[VirtualAddress]) -> Result<(), SpeakerError> {
        let mut first_error = None;
        for a in addresses {
            match self.run(std::slice::from_ref(a), "no ").await {
                Ok(()) => {}
                Err(SpeakerError::Refused { output, .. }) if output.contains(NOT_CONFIGURED) => {}
                // Still withdraw the others.
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vip(s: &str, len: u8) -> VirtualAddress {
        VirtualAddress::with_prefix(s.parse().unwrap_or_else(|e| panic!("{e}")), len)
    }

    #[test]
    fn networks_are_masked() {
        assert_eq!(network(&vip("203.0.113.10", 32)), "203.0.113.10/32");
        assert_eq!(network(&vip("198.51.100.7", 24)), "198.51.100.0/24");
        assert_eq!(network(&vip("2001:db8::7", 128)), "2001:db8::7/128");
        assert_eq!(network(&vip("2001:db8::7", 32)), "2001:db8::/32");
        assert_eq!(network(&vip("192.0.2.1", 0)), "0.0.0.0/0");
    }

    #[test]
    fn vtysh_arguments_per_family() {
        let frr = FrrVtysh::new(65001).vty_socket("/run/frr/n1");
        let args = frr.arguments(&[vip("203.0.113.10", 32), vip("2001:db8::10", 128)], "no ");
        assert_eq!(
            args,
            [
                "--vty_socket",
                "/run/frr/n1",
                "-c",
                "configure terminal",
                "-c",
                "router bgp 65001",
                "-c",
                "address-family ipv4 unicast",
                "-c",
                "no network 203.0.113.10/32",
                "-c",
                "exit-address-family",
                "-c",
                "address-family ipv6 unicast",
                "-c",
                "no network 2001:db8::10/128",
                "-c",
                "exit-address-family",
            ]
        );
    }

    #[tokio::test]
    async fn a_refusal_is_an_error_naming_the_command() {
        // A stand-in for vtysh that refuses as vtysh does: `% ...` on stdout, exit status 0.
        let fake = std::env::temp_dir().join(format!("fake-vtysh-{}", std::process::id()));
        std::fs::write(&fake, "#!/bin/sh\necho '% Unknown command: network'\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let chmod = std::process::Command::new("chmod")
            .arg("755")
            .arg(&fake)
            .status();
        assert!(chmod.is_ok_and(|s| s.success()));
        let frr = FrrVtysh::new(65001).program(&fake);
        let err = frr.announce(&[vip("203.0.113.10", 32)]).await.err();
        let _ = std::fs::remove_file(&fake);
        assert!(
            matches!(&err, Some(SpeakerError::Refused { command, .. }) if command.contains("network 203.0.113.10/32")),
            "{err:?}"
        );
        let ok = FrrVtysh::new(65001).program("true");
        assert!(ok.withdraw(&[vip("203.0.113.10", 32)]).await.is_ok());
        let missing = FrrVtysh::new(65001).program("/nonexistent/vtysh");
        assert!(matches!(
            missing.announce(&[vip("203.0.113.10", 32)]).await,
            Err(SpeakerError::Spawn { .. })
        ));
    }

    #[tokio::test]
    async fn withdrawing_a_prefix_bgpd_does_not_have_is_done_and_the_others_still_go() {
        // As bgpd 8.4 answers: `no network` of a prefix without a statement is refused with
        // exit status 1, and vtysh runs no further command. This stand-in has no statement
        // for 203.0.113.10 and logs every run.
        let dir = std::env::temp_dir().join(format!("fake-vtysh-w-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let fake = dir.join("vtysh");
        let log = dir.join("runs");
        let script = format!(
            "#!/bin/sh\necho \"$*\" >> {log}\ncase \"$*\" in\n  *'no network 203.0.113.10/32'*) echo \"% Can't find static route specified\"; exit 1;;\n  *'no network 203.0.113.11/32'*) echo '% Unknown command'; exit 1;;\nesac\n",
            log = log.display()
        );
        std::fs::write(&fake, script).unwrap_or_else(|e| panic!("{e}"));
        let chmod = std::process::Command::new("chmod")
            .arg("755")
            .arg(&fake)
            .status();
        assert!(chmod.is_ok_and(|s| s.success()));
        let frr = FrrVtysh::new(65001).program(&fake);
        let absent_then_present = [vip("203.0.113.10", 32), vip("203.0.113.12", 32)];
        let done = frr.withdraw(&absent_then_present).await;
        let runs = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(done.is_ok(), "{done:?}");
        assert_eq!(runs.lines().count(), 2, "one run per prefix: {runs}");
        assert!(runs.contains("no network 203.0.113.12/32"), "{runs}");

        // Any other refusal is an error, after the remaining prefixes were withdrawn.
        let _ = std::fs::remove_file(&log);
        let refused = [vip("203.0.113.11", 32), vip("203.0.113.12", 32)];
        let err = frr.withdraw(&refused).await.err();
        let runs = std::fs::read_to_string(&log).unwrap_or_default();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            matches!(&err, Some(SpeakerError::Refused { command, .. }) if command.contains("203.0.113.11/32")),
            "{err:?}"
        );
        assert!(runs.contains("no network 203.0.113.12/32"), "{runs}");
    }
}
