//! The keepalived-compatible daemon behind `examples/keepalived-compat.rs`: reads a
//! keepalived.conf, runs its VRRP instances on [`vrrp_net::driver`], runs `vrrp_script`s and
//! notifies like keepalived, and health-checks its `virtual_server`s ([`lvs`]) with
//! `healthcheck`, programming IPVS (feature `ipvs`) or only reporting (`--no-ipvs`).

mod cli;
mod genhash;
pub mod lvs;
mod mapping;
mod notify;
mod scripts;

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use vrrp_net::driver::{Driver, Event, Fault, primary_address};

pub use cli::{Options, USAGE};
pub use genhash::Genhash;
pub use mapping::{MappingError, instance};
pub use notify::Notifier;
pub use scripts::Threshold;

use crate::keepalived_conf::{self, KeepalivedConf};

/// The nftables tables' name when `nftables NAME` does not give one: not keepalived's
/// `keepalived`, so both daemons can share a host.
const NFTABLES_TABLE: &str = "keepalived_compat";

fn log(options: &Options, message: &str) {
    if options.log_console {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        eprintln!(
            "{}.{:06} keepalived-compat: {message}",
            now.as_secs(),
            now.subsec_micros()
        );
    }
}

/// An error and its sources, `: `-separated.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

fn describe(event: &Event) -> String {
    match event {
        Event::StateChanged {
            instance,
            to,
            reason,
            priority,
            ..
        } => {
            format!(
                "({instance}) Entering {to} STATE ({reason}, priority {})",
                priority.get()
            )
        }
        Event::PriorityChanged { instance, from, to } => {
            format!(
                "({instance}) priority changed from {} to {}",
                from.get(),
                to.get()
            )
        }
        Event::Fault { instance, fault } => match fault {
            Fault::VipAdd { error, .. } => format!("({instance}) {}", chain(error.as_ref())),
            Fault::VipRemove { error, .. } => format!("({instance}) {}", chain(error.as_ref())),
            Fault::VipRemovedExternally { vip } => {
                format!("({instance}) {vip} was removed by someone else")
            }
            Fault::Send { error, .. } => format!("({instance}) {}", chain(error.as_ref())),
            Fault::Receive { error } => chain(error.as_ref()),
            Fault::Announce { error } => format!("({instance}) {}", chain(error.as_ref())),
        },
        Event::Stopped => "Stopped".to_owned(),
    }
}

/// Reads and checks the configuration, printing warnings; `Err` carries the message.
pub fn load(options: &Options) -> Result<KeepalivedConf, String> {
    let conf = keepalived_conf::read(&options.config).map_err(|e| e.to_string())?;
    for warning in &conf.warnings {
        eprintln!("keepalived-compat: warning: {warning}");
    }
    Ok(conf)
}

/// Runs the daemon in the foreground until SIGTERM or SIGINT: the health checkers of the
/// `virtual_server`s (unless `-P`) and the VRRP instances (unless `-C`; graceful stop:
/// priority 0 and VIPs removed). Must be called inside a tokio runtime.
pub async fn run(options: Options, conf: KeepalivedConf) -> ExitCode {
    let checkers = if !options.vrrp_only && !conf.virtual_servers.is_empty() {
        let table = if options.no_ipvs {
            lvs::Table::Report
        } else {
            lvs::Table::Ipvs
        };
        match lvs::run(&options, &conf, table).await {
            Ok(task) => Some(task),
            Err(e) => {
                eprintln!("keepalived-compat: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        None
    };
    let code = if options.check_only || conf.instances.is_empty() {
        run_checkers_only(&options).await
    } else {
        run_vrrp(options, conf).await
    };
    if let Some(checkers) = checkers {
        checkers.stop().await;
    }
    code
}

/// Waits for SIGTERM or SIGINT with the pid files written.
async fn run_checkers_only(options: &Options) -> ExitCode {
    let (mut term, mut int) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(t), Ok(i)) => (t, i),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("keepalived-compat: cannot install signal handlers: {e}");
            return ExitCode::FAILURE;
        }
    };
    for pid in &options.pid_files {
        if let Err(e) = std::fs::write(pid, format!("{}\n", std::process::id())) {
            eprintln!("keepalived-compat: cannot write {}: {e}", pid.display());
            return ExitCode::FAILURE;
        }
    }
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    log(options, "Stopped");
    for pid in &options.pid_files {
        // Already gone is fine: the file only has to be absent once we are.
        let _ = std::fs::remove_file(pid);
    }
    ExitCode::SUCCESS
}

async fn run_vrrp(options: Options, conf: KeepalivedConf) -> ExitCode {
    let mut builder = Driver::builder();
    let mut needs_firewall = false;
    for i in &conf.instances {
        let primary = match mapping::configured_source(i) {
            Some(a) => a,
            None => match primary_address(&i.interface, mapping::family(i)).await {
                Ok(a) => a,
                Err(e) => {
                    eprintln!(
                        "keepalived-compat: {}: vrrp_instance {}: interface {}: {e}",
                        i.loc, i.name, i.interface
                    );
                    return ExitCode::FAILURE;
                }
            },
        };
        match instance(&conf, i, primary) {
            Ok((inst, adjusted)) => {
                for a in adjusted {
                    log(&options, &format!("({}) {a}", i.name));
                }
                needs_firewall |= !inst.config.accept_mode || inst.vmac.is_some();
                builder = builder.instance(inst);
            }
            Err(e) => {
                eprintln!("keepalived-compat: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    for g in &conf.sync_groups {
        builder = builder.sync_group(g.name.clone(), g.members.clone());
    }
    // As keepalived: no_accept (explicit, or strict mode's default) and use_vmac need the
    // firewall; its tables are named so they never collide with keepalived's own.
    if needs_firewall && !vrrp_net::firewall::Nftables::available().await {
        // keepalived's behaviour without a firewall: warn and run unenforced.
        log(
            &options,
            "Warning - firewall needed due to use_vmac or no_accept/strict but nft is not \
             installed: no_accept is not enforced and virtual MACs are not kept silent",
        );
    } else if needs_firewall {
        let table = conf
            .global
            .nftables
            .clone()
            .unwrap_or_else(|| NFTABLES_TABLE.to_owned());
        log(
            &options,
            &format!("use_vmac or no_accept/strict specified - using nftables table {table}"),
        );
        builder = builder.firewall(table);
    }
    let mut notifier = match Notifier::new(&conf) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("keepalived-compat: notify_fifo: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (driver, handle, mut events) = match builder.build().await {
        Ok(parts) => parts,
        Err(e) => {
            eprintln!("keepalived-compat: {e}");
            return ExitCode::FAILURE;
        }
    };
    for pid in &options.pid_files {
        if let Err(e) = std::fs::write(pid, format!("{}\n", std::process::id())) {
            eprintln!("keepalived-compat: cannot write {}: {e}", pid.display());
            return ExitCode::FAILURE;
        }
    }
    log(
        &options,
        &format!(
            "Starting VRRP with {} instance(s) from {}",
            conf.instances.len(),
            options.config.display()
        ),
    );
    tokio::spawn(driver.run());
    for script in &conf.scripts {
        let used = conf
            .instances
            .iter()
            .any(|i| i.track_scripts.iter().any(|t| t.name == script.name));
        if used {
            tokio::spawn(scripts::watch(script.clone(), handle.clone()));
        }
    }
    let (mut term, mut int) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(t), Ok(i)) => (t, i),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("keepalived-compat: cannot install signal handlers: {e}");
            return ExitCode::FAILURE;
        }
    };
    let stopper = handle.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        // If the driver is already gone there is nothing left to stop.
        let _ = stopper.shutdown().await;
    });
    while let Some(event) = events.next().await {
        log(&options, &describe(&event));
        notifier.on_event(&event);
        if matches!(event, Event::Stopped) {
            break;
        }
    }
    for pid in &options.pid_files {
        // Already gone is fine: the file only has to be absent once we are.
        let _ = std::fs::remove_file(pid);
    }
    ExitCode::SUCCESS
}
