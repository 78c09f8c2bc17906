//! The daemon proper: reads a keepalived.conf, runs its VRRP instances on
//! `vrrp_net::driver` (feature `vrrp`), runs `vrrp_script`s and notifies like keepalived, and
//! health-checks its `virtual_server`s ([`crate::lvs`], feature `health`) with `healthcheck`,
//! programming IPVS (feature `ipvs`) or only reporting (`--no-ipvs`).

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

#[cfg(feature = "vrrp")]
use futures::StreamExt;
use tokio::signal::unix::{Signal, SignalKind, signal};
#[cfg(feature = "vrrp")]
use vrrp_net::driver::{Driver, Event, Fault, primary_address};

use crate::cli::Options;
#[cfg(feature = "health")]
use crate::lvs;
#[cfg(feature = "vrrp")]
use crate::mapping::{self, instance};
#[cfg(feature = "vrrp")]
use crate::notify::Notifier;
#[cfg(feature = "vrrp")]
use crate::scripts;
use keepalived_conf::KeepalivedConf;

/// The nftables tables' name when `nftables NAME` does not give one: not keepalived's
/// `keepalived`, so both daemons can share a host.
#[cfg(feature = "vrrp")]
const NFTABLES_TABLE: &str = "keepalived_compat";

/// Prints `message` on stderr, timestamped like keepalived's console log, when `-l` is given.
pub(crate) fn log(options: &Options, message: &str) {
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
#[cfg(feature = "vrrp")]
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

#[cfg(feature = "vrrp")]
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
        Event::Fault { instance, fault } => {
            // A fault of the shared socket (Receive) belongs to no instance.
            let who = instance
                .as_deref()
                .map(|i| format!("({i}) "))
                .unwrap_or_default();
            match fault {
                Fault::VipAdd { error, .. } | Fault::VipRemove { error, .. } => {
                    format!("{who}{}", chain(error.as_ref()))
                }
                Fault::VipRemovedExternally { vip } => {
                    format!("{who}{vip} was removed by someone else")
                }
                Fault::Send { error, .. } | Fault::Receive { error } => {
                    format!("{who}{}", chain(error.as_ref()))
                }
                Fault::Announce { error } => format!("{who}{}", chain(error.as_ref())),
                other => format!("{who}{other:?}"),
            }
        }
        Event::Stopped => "Stopped".to_owned(),
        other => format!("{other:?}"),
    }
}

/// Reads and checks the configuration, printing warnings; `Err` carries the message. A part
/// the options ask to run but this build left out (feature `vrrp` or `health`) is an error.
pub(crate) fn load(options: &Options) -> Result<KeepalivedConf, String> {
    let conf = keepalived_conf::read(&options.config).map_err(|e| e.to_string())?;
    for warning in &conf.warnings {
        eprintln!("keepalived-compat: warning: {warning}");
    }
    if !cfg!(feature = "vrrp") && !options.check_only && !conf.instances.is_empty() {
        return Err(format!(
            "{}: vrrp_instance: this keepalived-compat was built without the `vrrp` feature \
             (run only the checkers with -C)",
            options.config.display()
        ));
    }
    if !cfg!(feature = "health") && !options.vrrp_only && !conf.virtual_servers.is_empty() {
        return Err(format!(
            "{}: virtual_server: this keepalived-compat was built without the `health` feature \
             (run only VRRP with -P)",
            options.config.display()
        ));
    }
    Ok(conf)
}

/// Runs the daemon in the foreground until SIGTERM or SIGINT: the health checkers of the
/// `virtual_server`s (unless `-P`) and the VRRP instances (unless `-C`; graceful stop:
/// priority 0 and VIPs removed). Must be called inside a tokio runtime.
pub(crate) async fn run(options: Options, conf: KeepalivedConf) -> ExitCode {
    #[cfg(feature = "health")]
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
    #[cfg(feature = "vrrp")]
    let code = if options.check_only || conf.instances.is_empty() {
        run_checkers_only(&options).await
    } else {
        run_vrrp(options, conf).await
    };
    // `load` refused instances this build cannot run.
    #[cfg(not(feature = "vrrp"))]
    let code = {
        let _ = conf;
        run_checkers_only(&options).await
    };
    #[cfg(feature = "health")]
    if let Some(checkers) = checkers {
        checkers.stop().await;
    }
    code
}

/// SIGTERM and SIGINT, the signals that stop the daemon; `None` (said on stderr) when they
/// cannot be caught.
fn stop_signals() -> Option<(Signal, Signal)> {
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(t), Ok(i)) => Some((t, i)),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("keepalived-compat: cannot install signal handlers: {e}");
            None
        }
    }
}

/// Waits for SIGTERM or SIGINT with the pid files written.
async fn run_checkers_only(options: &Options) -> ExitCode {
    let Some((mut term, mut int)) = stop_signals() else {
        return ExitCode::FAILURE;
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

#[cfg(feature = "vrrp")]
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
    let driver_task = tokio::spawn(driver.run());
    for script in &conf.scripts {
        let used = conf
            .instances
            .iter()
            .any(|i| i.track_scripts.iter().any(|t| t.name == script.name));
        if used {
            tokio::spawn(scripts::watch(script.clone(), handle.clone()));
        }
    }
    let Some((mut term, mut int)) = stop_signals() else {
        return ExitCode::FAILURE;
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
    for (path, dropped) in notifier.drops() {
        log(
            &options,
            &format!("{path}: {dropped} notification(s) dropped: nobody read the fifo"),
        );
    }
    for pid in &options.pid_files {
        // Already gone is fine: the file only has to be absent once we are.
        let _ = std::fs::remove_file(pid);
    }
    // A shutdown that could not clean up (virtual MAC or firewall tables left) fails the exit.
    match driver_task.await {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("keepalived-compat: {e}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("keepalived-compat: the vrrp driver failed: {e}");
            ExitCode::FAILURE
        }
    }
}
