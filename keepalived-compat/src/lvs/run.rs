//! The health-checking loop: probes, pools, notifications and, with IPVS, the kernel.

use std::path::PathBuf;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::events::{Lvs, Notice};
use super::plan;
use crate::cli::Options;
use crate::daemon::log;
use crate::fifo::Fifo;
use crate::notify::spawn;
use keepalived_conf::KeepalivedConf;

/// Where pool changes go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Table {
    /// Only the log and the FIFOs (`--no-ipvs`).
    Report,
    /// The kernel's IPVS table too (needs the `ipvs` feature).
    Ipvs,
}

/// The running checkers.
#[derive(Debug)]
pub(crate) struct Checkers {
    task: JoinHandle<()>,
    stop: oneshot::Sender<()>,
}

impl Checkers {
    /// Stops the probes and, with IPVS, deletes the virtual services this daemon manages
    /// (as keepalived does when it stops).
    pub(crate) async fn stop(self) {
        // The loop may already be gone; then there is nothing left to stop.
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Checks the plan, opens the FIFOs, starts the probes and spawns the loop that reports
/// (and with [`Table::Ipvs`] applies) every change. Must be called inside a tokio runtime.
pub(crate) async fn run(
    options: &Options,
    conf: &KeepalivedConf,
    table: Table,
) -> Result<Checkers, String> {
    let (plans, warnings) = plan::services(conf).map_err(|e| e.to_string())?;
    for w in &warnings {
        eprintln!("keepalived-compat: warning: {w}");
    }
    let mut paths: Vec<&PathBuf> = Vec::new();
    for p in [&conf.global.lvs_notify_fifo, &conf.global.notify_fifo]
        .into_iter()
        .flatten()
    {
        if !paths.contains(&p) {
            paths.push(p);
        }
    }
    let mut fifos = Vec::new();
    for p in paths {
        fifos.push(Fifo::open(p).map_err(|e| e.to_string())?);
    }
    #[cfg(feature = "ipvs")]
    let mut kernel = match table {
        Table::Ipvs => super::kernel::start(conf, &plans).await?,
        Table::Report => Vec::new(),
    };
    #[cfg(not(feature = "ipvs"))]
    if table == Table::Ipvs {
        return Err("this build has no ipvs support (feature ipvs): run with --no-ipvs".to_owned());
    }
    let count = plans.len();
    let (mut lvs, scheduler) = Lvs::new(plans).map_err(|e| e.to_string())?;
    let mut running = scheduler.start().map_err(|e| e.to_string())?;
    let options = options.clone();
    log(
        &options,
        &format!(
            "Starting health checks of {count} virtual server(s){}",
            if table == Table::Report {
                " (--no-ipvs: changes are only reported)"
            } else {
                ""
            }
        ),
    );
    let (stop, mut stopped) = oneshot::channel();
    let task = tokio::spawn(async move {
        let startup = lvs.startup();
        deliver(&options, &fifos, &startup);
        loop {
            let event = tokio::select! {
                event = running.next_event() => event,
                _ = &mut stopped => break,
            };
            let notices = lvs.handle_event(&event);
            match &event.reason {
                Some(healthcheck::Reason::Initial) => log(
                    &options,
                    &format!("check of {} starts {:?}", event.name, event.health),
                ),
                Some(reason) => log(
                    &options,
                    &format!("check of {} is {:?}: {reason}", event.name, event.health),
                ),
                None => log(
                    &options,
                    &format!("check of {} is {:?}", event.name, event.health),
                ),
            }
            deliver(&options, &fifos, &notices);
            #[cfg(feature = "ipvs")]
            if let Some(sinks) = lvs.service_of(event.target).and_then(|s| kernel.get_mut(s)) {
                for sink in sinks {
                    if let Err(e) = sink.handle_event(&event).await {
                        eprintln!("keepalived-compat: ipvs: {e}");
                    }
                }
            }
        }
        for fifo in fifos.iter().filter(|f| f.dropped() > 0) {
            log(
                &options,
                &format!(
                    "{}: {} notification(s) dropped: nobody read the fifo",
                    fifo.path().display(),
                    fifo.dropped()
                ),
            );
        }
        #[cfg(feature = "ipvs")]
        for sink in kernel.iter().flatten() {
            if let Err(e) = sink.backend().delete_service().await {
                eprintln!("keepalived-compat: ipvs: {e}");
            }
        }
    });
    Ok(Checkers { task, stop })
}

fn deliver(options: &Options, fifos: &[Fifo], notices: &[Notice]) {
    for n in notices {
        log(options, &n.line);
        let line = format!("{}\n", n.line);
        for fifo in fifos {
            fifo.send(line.clone());
        }
        if let Some(argv) = &n.script {
            spawn(argv, &[]);
        }
    }
}
