//! The daemon proper: reads a keepalived.conf, runs its VRRP instances on
//! `vrrp_net::driver` (feature `vrrp`), runs `vrrp_script`s and notifies like keepalived, and
//! health-checks its `virtual_server`s ([`crate::lvs`], feature `health`) with `healthcheck`,
//! programming IPVS (feature `ipvs`) or only reporting (`--no-ipvs`). Signals are handled in
//! one place ([`crate::signals`]) from the start on, so none that keepalived handles kills it.

use std::process::ExitCode;

#[cfg(feature = "vrrp")]
use futures::StreamExt;
#[cfg(feature = "vrrp")]
use vrrp_net::driver::{Driver, Event, Fault, Handle};

use crate::cli::Options;
#[cfg(feature = "vrrp")]
use crate::dump::{self, Dumps};
#[cfg(feature = "health")]
use crate::lvs;
#[cfg(feature = "vrrp")]
use crate::notify::Notifier;
use crate::pidfile::{self, PidFiles};
use crate::signals::{Request, Signals};
use crate::systemd;
#[cfg(feature = "vrrp")]
use crate::{reload, scripts};
use keepalived_conf::KeepalivedConf;

/// The nftables tables' name when `nftables NAME` does not give one: not keepalived's
/// `keepalived`, so both daemons can share a host.
#[cfg(feature = "vrrp")]
const NFTABLES_TABLE: &str = "keepalived_compat";

/// Logs `message` at INFO, where the command line sends the log ([`crate::logging`]:
/// syslog, and stderr with `-l`).
pub(crate) fn log(options: &Options, message: &str) {
    let _ = options;
    tracing::info!("{message}");
}

/// An error and its sources, `: `-separated.
#[cfg(any(feature = "vrrp", feature = "ipvs"))]
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
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
        // Addresses installed or removed, instances added or removed: the one-line form.
        other => other.to_string(),
    }
}

/// Reads and checks the configuration, printing warnings; `Err` carries the message. A part
/// the options ask to run but this build left out (feature `vrrp` or `health`) is an error.
pub(crate) fn load(options: &Options) -> Result<KeepalivedConf, String> {
    #[cfg_attr(
        not(any(feature = "vrrp", feature = "health")),
        expect(unused_mut, reason = "only script security changes it")
    )]
    let mut conf = options
        .read_options()
        .read(&options.config)
        .map_err(|e| e.to_string())?;
    for warning in &conf.warnings {
        tracing::warn!("warning: {warning}");
    }
    // keepalived 2.2.7's script security: users resolved (unknown ones are errors), unsafe
    // or missing scripts disabled, logged as keepalived logs it. `-t` keeps the scripts as
    // written so that its own checks report the missing ones.
    #[cfg(any(feature = "vrrp", feature = "health"))]
    {
        let mut secured = conf.clone();
        for line in crate::security::apply(&mut secured)? {
            tracing::warn!("{line}");
        }
        if !options.config_test {
            conf = secured;
        }
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
    // First, so that no signal keepalived handles can kill the daemon while it starts.
    let mut signals = match Signals::install() {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("cannot install signal handlers: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Before anything touches the system, so that a second daemon changes nothing.
    let pid_files = match PidFiles::acquire(&options.pid_files()) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!("{e}");
            if e.is_running() {
                return ExitCode::from(pidfile::ALREADY_RUNNING);
            }
            return ExitCode::FAILURE;
        }
    };
    let mut syncd = crate::syncd::Syncd::start(&options, &conf).await;
    #[cfg(feature = "health")]
    let mut checkers: LvsPart = if !options.vrrp_only && !conf.virtual_servers.is_empty() {
        let table = if options.no_ipvs {
            lvs::Table::Report
        } else {
            lvs::Table::Ipvs
        };
        match lvs::run(&options, &conf, table).await {
            Ok(task) => Some(task),
            Err(e) => {
                tracing::error!("{e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        None
    };
    #[cfg(not(feature = "health"))]
    let mut checkers: LvsPart = ();
    #[cfg(feature = "vrrp")]
    let code = if options.check_only || conf.instances.is_empty() {
        run_checkers_only(&options, &mut signals, &mut checkers, &mut syncd).await
    } else {
        run_vrrp(options, conf, &mut signals, &mut checkers, &mut syncd).await
    };
    // `load` refused instances this build cannot run.
    #[cfg(not(feature = "vrrp"))]
    let code = {
        let _ = conf;
        run_checkers_only(&options, &mut signals, &mut checkers, &mut syncd).await
    };
    #[cfg(feature = "health")]
    if let Some(checkers) = checkers {
        checkers.stop().await;
    }
    syncd.stop().await;
    pid_files.release();
    code
}

/// The health-checking part: the running checkers, if any (feature `health`).
#[cfg(feature = "health")]
type LvsPart = Option<lvs::Checkers>;
/// The health-checking part: nothing in a build without the `health` feature.
#[cfg(not(feature = "health"))]
type LvsPart = ();

/// Applies a reloaded `conf` to the virtual servers: the running checkers reconcile (a
/// refused configuration leaves them as they are); if none ran and `conf` has virtual
/// servers now, they start.
async fn reload_lvs(options: &Options, checkers: &mut LvsPart, conf: &KeepalivedConf) {
    #[cfg(feature = "health")]
    match checkers {
        Some(running) => {
            if let Err(e) = running.reload(options, conf).await {
                log(
                    options,
                    &format!("virtual servers: reload refused, unchanged: {e}"),
                );
            }
        }
        None if !options.vrrp_only && !conf.virtual_servers.is_empty() => {
            let table = if options.no_ipvs {
                lvs::Table::Report
            } else {
                lvs::Table::Ipvs
            };
            match lvs::run(options, conf, table).await {
                Ok(started) => *checkers = Some(started),
                Err(e) => log(options, &format!("virtual servers: cannot start: {e}")),
            }
        }
        None => {}
    }
    #[cfg(not(feature = "health"))]
    let _ = (options, checkers, conf);
}

/// Logs what a request the running part cannot serve does (keepalived's parent process
/// without a VRRP child passes SIGUSR2 and SIGJSON to nobody), or the reload hook's line.
fn log_unserved(options: &Options, request: Request) {
    let message = match request {
        Request::Stop => return,
        // Served by both loops; never passed here.
        Request::Reload => return,
        Request::DataDump => {
            "Printing checker data on signal: not implemented (keepalived writes \
             keepalived.check): nothing written"
        }
        Request::StatsDump { .. } | Request::JsonDump => {
            "VRRP stats/JSON dump requested, but no VRRP instance runs: nothing written"
        }
        Request::CpuLimit => {
            "process has used too much CPU time, its rlimit_rttime may need to be increased"
        }
    };
    log(options, message);
}

/// Serves signals with the pid files written, until SIGTERM or SIGINT.
async fn run_checkers_only(
    options: &Options,
    signals: &mut Signals,
    checkers: &mut LvsPart,
    syncd: &mut crate::syncd::Syncd,
) -> ExitCode {
    systemd::ready(&format!(
        "Running the checkers of {}",
        options.config.display()
    ));
    loop {
        match signals.next().await {
            Request::Stop => {
                systemd::stopping("Stopping");
                break;
            }
            Request::Reload => {
                log(options, "Reloading");
                systemd::reloading("Reloading");
                let status = match load(options) {
                    Ok(conf) => {
                        reload_lvs(options, checkers, &conf).await;
                        syncd.reload(options, &conf).await;
                        format!("Reloaded {}", options.config.display())
                    }
                    Err(e) => {
                        let line = format!("Reload failed, configuration unchanged: {e}");
                        log(options, &line);
                        line
                    }
                };
                systemd::ready(&status);
            }
            other => log_unserved(options, other),
        }
    }
    log(options, "Stopped");
    #[cfg(any(feature = "vrrp", feature = "health"))]
    crate::notify::finish(crate::notify::STOP_GRACE).await;
    ExitCode::SUCCESS
}

/// Writes the dump `kind` asks for, logging as keepalived does.
#[cfg(feature = "vrrp")]
async fn write_dump(options: &Options, dumps: &mut Dumps, handle: &Handle, kind: dump::Kind) {
    let what = match kind {
        dump::Kind::Data => "Printing VRRP data",
        dump::Kind::Stats { clear: false } => "Printing VRRP stats",
        dump::Kind::Stats { clear: true } => "Printing and clearing VRRP stats",
        dump::Kind::Json => "Printing VRRP as json",
    };
    match dumps.write(kind, handle).await {
        Ok(path) => log(
            options,
            &format!(
                "{what} for process({}) on signal to {}",
                std::process::id(),
                path.display()
            ),
        ),
        Err(e) => tracing::error!("{what}: {e}"),
    }
}

#[cfg(feature = "vrrp")]
async fn run_vrrp(
    options: Options,
    conf: KeepalivedConf,
    signals: &mut Signals,
    checkers: &mut LvsPart,
    syncd: &mut crate::syncd::Syncd,
) -> ExitCode {
    let mut plan = match reload::plan(&options, &conf).await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    // Tracked processes and files in their present state before any instance starts.
    crate::track_file::initialise(&conf, false);
    let mut processes = crate::track_process::Processes::open(&conf);
    crate::tracking::prepare(
        &conf,
        &mut plan.desired.instances,
        &processes.states(),
        &crate::track_file::values(&conf),
    );
    let mut builder = Driver::builder().crash_supervisor(options.crash_supervisor);
    for i in plan.desired.instances {
        builder = builder.instance(i);
    }
    for (name, members) in plan.desired.sync_groups {
        builder = builder.sync_group(name, members);
    }
    // As keepalived: no_accept (explicit, or strict mode's default) and use_vmac need the
    // firewall; its tables are named so they never collide with keepalived's own.
    let mut firewall = false;
    if plan.needs_firewall && !vrrp_net::firewall::Nftables::available().await {
        // keepalived's behaviour without a firewall: warn and run unenforced.
        log(
            &options,
            "Warning - firewall needed due to use_vmac or no_accept/strict but nft is not \
             installed: no_accept is not enforced and virtual MACs are not kept silent",
        );
    } else if plan.needs_firewall {
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
        firewall = true;
    }
    // keepalived installs the static addresses, routes and rules before any instance runs.
    let mut net = match crate::netconf::NetConf::start(&conf).await {
        Ok(n) => n,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let notifier = match Notifier::new(&conf) {
        Ok(n) => n,
        Err(e) => {
            tracing::error!("notify_fifo: {e}");
            return ExitCode::FAILURE;
        }
    };
    // VRRP on a thread and runtime of its own (keepalived: its own process): checkers,
    // scripts, notifications and reloads on this runtime cannot delay an advert.
    let (driver_thread, handle, mut events) = match builder.spawn_thread("vrrp").await {
        Ok(parts) => parts,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    log(
        &options,
        &format!(
            "Starting VRRP with {} instance(s) from {}",
            conf.instances.len(),
            options.config.display()
        ),
    );
    let mut scripts = scripts::Scripts::default();
    scripts.sync(&conf, &handle);
    processes.run(&handle);
    let mut files = crate::track_file::Files::default();
    files.sync(&conf, &handle).await;
    let mut dumps = Dumps::new(&conf, plan.configured);
    let mut vrrp = reload::Running {
        handle: handle.clone(),
        scripts,
        processes,
        files,
        notifier,
        firewall,
        conf: conf.clone(),
        waiting: plan.waiting.clone(),
    };
    for w in &plan.waiting {
        log(
            &options,
            &format!(
                "({}) WARNING - {}: FAULT until it appears",
                w.name, w.reason
            ),
        );
        vrrp.notifier.fault(&w.name, w.priority);
    }
    systemd::ready(&format!(
        "Running {} VRRP instance(s) ({} waiting for their interface) from {}",
        conf.instances.len().saturating_sub(plan.waiting.len()),
        plan.waiting.len(),
        options.config.display()
    ));
    // Instances waiting for their interface are planned again every second.
    let mut retry = tokio::time::interval(std::time::Duration::from_secs(1));
    retry.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut stopping = false;
    loop {
        tokio::select! {
            _ = retry.tick(), if !vrrp.waiting.is_empty() && !stopping => {
                match vrrp.retry(&options).await {
                    Some(Ok(done)) => {
                        log(&options, &done.summary);
                        for w in &done.newly_waiting {
                            vrrp.notifier.fault(&w.name, w.priority);
                        }
                        dumps.reload(&done.conf, done.configured);
                    }
                    Some(Err(e)) => log(&options, &format!("cannot start a waiting instance: {e}")),
                    None => {}
                }
            }
            event = events.next() => {
                let Some(event) = event else { break };
                log(&options, &describe(&event));
                net.on_event(&event).await;
                vrrp.notifier.on_event(&event);
                syncd.on_event(&event).await;
                dumps.on_event(&event);
                if matches!(event, Event::Stopped) {
                    break;
                }
            }
            request = signals.next() => match request {
                Request::Stop if !stopping => {
                    stopping = true;
                    systemd::stopping("Stopping: priority 0 adverts, VIPs removed");
                    let stopper = handle.clone();
                    // If the driver is already gone there is nothing left to stop.
                    tokio::spawn(async move { stopper.shutdown().await });
                }
                Request::Stop => {}
                Request::Reload if !stopping => {
                    log(&options, "Reloading");
                    systemd::reloading("Reloading");
                    let status = match vrrp.reload(&options).await {
                        Ok(done) => {
                            log(&options, &done.summary);
                            for w in &done.newly_waiting {
                                log(&options, &format!("({}) WARNING - {}: FAULT until it appears", w.name, w.reason));
                                vrrp.notifier.fault(&w.name, w.priority);
                            }
                            net.reload(&done.conf).await;
                            reload_lvs(&options, checkers, &done.conf).await;
                            syncd.reload(&options, &done.conf).await;
                            dumps.reload(&done.conf, done.configured);
                            done.summary
                        }
                        Err(e) => {
                            let line = format!("Reload failed, configuration unchanged: {e}");
                            log(&options, &line);
                            line
                        }
                    };
                    systemd::ready(&status);
                }
                Request::Reload => {}
                Request::DataDump => {
                    write_dump(&options, &mut dumps, &handle, dump::Kind::Data).await;
                }
                Request::StatsDump { clear } => {
                    write_dump(&options, &mut dumps, &handle, dump::Kind::Stats { clear }).await;
                }
                Request::JsonDump => {
                    write_dump(&options, &mut dumps, &handle, dump::Kind::Json).await;
                }
                Request::CpuLimit => log_unserved(&options, Request::CpuLimit),
            },
        }
    }
    for (path, dropped) in vrrp.notifier.drops() {
        log(
            &options,
            &format!("{path}: {dropped} notification(s) dropped: nobody read the fifo"),
        );
    }
    // The instances' routes and rules left, then the static ones (keepalived's stop_vrrp).
    net.stop().await;
    vrrp.notifier.close_fifos();
    // notify_stop and any other notify script still running (FIFO readers, which have just
    // seen their FIFO close, among them): a short grace, then their process groups are
    // killed.
    crate::notify::finish(crate::notify::STOP_GRACE).await;
    // A shutdown that could not clean up (virtual MAC or firewall tables left) fails the exit.
    match driver_thread.join().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("the vrrp driver failed: {e}");
            ExitCode::FAILURE
        }
    }
}
