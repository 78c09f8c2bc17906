//! Firewall rules VRRP needs beyond addresses: Accept_Mode false (RFC 9568 §6.1) and silent
//! virtual MAC interfaces (RFC 9568 §7.3), through nftables.
//!
//! [`Nftables`] owns one pair of tables (`ip NAME`, `ip6 NAME`; see [`script`] for the
//! rules), driven through the `nft` tool as keepalived drives libnftnl: created fresh when
//! opened (so a run that crashed leaves nothing behind once the next one starts) and deleted
//! by [`Nftables::close`]. The driver uses it when built with
//! [`crate::driver::DriverBuilder::firewall`]: [`crate::vip::NoAcceptVips`] puts the
//! addresses of routers without Accept_Mode in the drop set while they are installed, and
//! every virtual MAC interface is registered so a backup's macvlan never speaks.

use std::collections::HashSet;
use std::net::IpAddr;
use std::process::Stdio;
use std::sync::{Mutex, PoisonError};

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use crate::error::FirewallError;

pub mod script;

pub use script::DEFAULT_TABLE;

/// One pair of nftables tables owned by this process.
#[derive(Debug)]
pub struct Nftables {
    table: String,
    program: String,
    blocked: Mutex<HashSet<IpAddr>>,
}

impl Nftables {
    /// Creates the tables `ip TABLE` and `ip6 TABLE` afresh (removing what an earlier run
    /// left). `TABLE` must be a plain identifier ([`script::valid_table_name`]).
    pub async fn open(table: &str) -> Result<Self, FirewallError> {
        Self::open_with(table, "nft").await
    }

    /// Like [`Nftables::open`] with another `nft` executable.
    pub async fn open_with(table: &str, program: &str) -> Result<Self, FirewallError> {
        if !script::valid_table_name(table) {
            return Err(FirewallError::TableName(table.to_owned()));
        }
        let nft = Self {
            table: table.to_owned(),
            program: program.to_owned(),
            blocked: Mutex::new(HashSet::new()),
        };
        nft.run("create the tables", &script::setup(table)).await?;
        Ok(nft)
    }

    /// Whether the `nft` tool can be run here (`nft --version` succeeds).
    pub async fn available() -> bool {
        Command::new("nft")
            .arg("--version")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await
            .is_ok_and(|s| s.success())
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Drops traffic to and from `addr` (ND excepted). Idempotent.
    pub async fn block(&self, addr: IpAddr) -> Result<(), FirewallError> {
        self.run("block an address", &script::vip(&self.table, "add", addr))
            .await?;
        self.lock().insert(addr);
        Ok(())
    }

    /// Lets traffic to and from `addr` through again. Idempotent.
    pub async fn unblock(&self, addr: IpAddr) -> Result<(), FirewallError> {
        if !self.lock().contains(&addr) {
            return Ok(());
        }
        self.run(
            "unblock an address",
            &script::vip(&self.table, "delete", addr),
        )
        .await?;
        self.lock().remove(&addr);
        Ok(())
    }

    /// Keeps the macvlan `vmac` (on `parent`) from sending IGMP / MLD reports (they leave
    /// through `parent` instead) and router solicitations.
    pub async fn silence_vmac(&self, vmac: &str, parent: &str) -> Result<(), FirewallError> {
        for name in [vmac, parent] {
            if !script::valid_ifname(name) {
                return Err(FirewallError::InterfaceName(name.to_owned()));
            }
        }
        self.run(
            "silence a virtual mac interface",
            &script::vmac(&self.table, "add", vmac, parent),
        )
        .await
    }

    /// Deletes both tables.
    pub async fn close(&self) -> Result<(), FirewallError> {
        self.run("delete the tables", &script::teardown(&self.table))
            .await?;
        self.lock().clear();
        Ok(())
    }

    /// The addresses currently blocked.
    pub fn blocked(&self) -> Vec<IpAddr> {
        let mut v: Vec<IpAddr> = self.lock().iter().copied().collect();
        v.sort();
        v
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<IpAddr>> {
        self.blocked.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `nft -f -` with `text` on its standard input (one transaction).
    async fn run(&self, action: &'static str, text: &str) -> Result<(), FirewallError> {
        let spawn_err = |source| FirewallError::Spawn {
            program: self.program.clone(),
            source,
        };
        let mut child = Command::new(&self.program)
            .args(["-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(spawn_err)?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(text.as_bytes()).await.map_err(spawn_err)?;
        }
        let out = child.wait_with_output().await.map_err(spawn_err)?;
        if out.status.success() {
            Ok(())
        } else {
            Err(FirewallError::Refused {
                action,
                table: self.table.clone(),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_bad_table_name_is_refused_before_anything_runs() {
        let err = Nftables::open_with("no such", "/nonexistent/nft").await;
        assert!(matches!(err, Err(FirewallError::TableName(n)) if n == "no such"));
    }

    #[tokio::test]
    async fn a_missing_nft_is_a_typed_error() {
        let err = Nftables::open_with("vrrp_net", "/nonexistent/nft").await;
        assert!(
            matches!(&err, Err(FirewallError::Spawn { program, .. }) if program == "/nonexistent/nft"),
            "{err:?}"
        );
    }
}
