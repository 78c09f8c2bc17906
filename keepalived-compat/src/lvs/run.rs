//! The health-checking loop: probes, pools, notifications and, with IPVS, the kernel.

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::events::{Lvs, Notice};
use super::ha_suspend::AddressWatch;
use super::plan::{self, ServicePlan};
use super::reload::ReloadSummary;
use crate::cli::Options;
use crate::daemon::log;
use crate::fifo::Fifo;
use crate::notify::spawn;
use healthcheck::Change;
use keepalived_conf::KeepalivedConf;

/// Where pool changes go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Table {
    /// Only the log and the FIFOs (`--no-ipvs`).
    Report,
    /// The kernel's IPVS table too (needs the `ipvs` feature).
    Ipvs,
}

/// A reload, sent to the loop: the new configuration, its plan, and where to answer.
struct Reload {
    conf: KeepalivedConf,
    plans: Vec<ServicePlan>,
    reply: oneshot::Sender<Result<ReloadSummary, String>>,
}

/// The running checkers.
#[derive(Debug)]
pub(crate) struct Checkers {
    task: JoinHandle<()>,
    stop: oneshot::Sender<()>,
    reload: mpsc::Sender<Reload>,
}

impl Checkers {
    /// Reconciles the running virtual servers with `conf`, a newly parsed configuration
    /// (SIGHUP), without a flap: virtual and real servers added or removed, real servers
    /// whose weight or checkers changed. A real server that stays keeps its IPVS
    /// destination (and connections) and, with unchanged checkers, its checker state; only
    /// a new weight is an edit. The returned summary is one log line (`Display`).
    ///
    /// A configuration the checkers refuse changes nothing and is the error. The FIFOs and
    /// the table mode (`--no-ipvs`) stay as started.
    pub(crate) async fn reload(
        &mut self,
        options: &Options,
        conf: &KeepalivedConf,
    ) -> Result<ReloadSummary, String> {
        let (plans, warnings) = plan::services(conf).map_err(|e| e.to_string())?;
        for w in &warnings {
            tracing::warn!("warning: {w}");
        }
        let (reply, answer) = oneshot::channel();
        let request = Reload {
            conf: conf.clone(),
            plans,
            reply,
        };
        let gone = || "the health checkers stopped".to_owned();
        self.reload.send(request).await.map_err(|_| gone())?;
        let summary = answer.await.map_err(|_| gone())??;
        log(options, &summary.to_string());
        Ok(summary)
    }

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
        tracing::warn!("warning: {w}");
    }
    // The parser already dropped an lvs_notify_fifo naming the global one.
    let fifos = [&conf.global.lvs_notify_fifo, &conf.global.notify_fifo]
        .into_iter()
        .flatten()
        .map(Fifo::open)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    #[cfg(not(feature = "ipvs"))]
    if table == Table::Ipvs {
        return Err("this build has no ipvs support (feature ipvs): run with --no-ipvs".to_owned());
    }
    let count = plans.len();
    let mut watch = AddressWatch::start(&plans).await?;
    let (mut lvs, mut scheduler) = Lvs::new(plans).map_err(|e| e.to_string())?;
    let activations = watch.startup(&lvs, &mut scheduler);
    #[cfg(feature = "ipvs")]
    let mut kernel = match table {
        Table::Ipvs => Some(super::kernel::start(conf, &lvs).await?),
        Table::Report => None,
    };
    let (control, mut events) = scheduler.start().map_err(|e| e.to_string())?.into_parts();
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
    for line in &activations {
        log(&options, line);
    }
    let (stop, mut stopped) = oneshot::channel();
    let (reload, mut reloads) = mpsc::channel::<Reload>(1);
    let task = tokio::spawn(async move {
        let startup = lvs.startup();
        deliver(&options, &fifos, &startup);
        loop {
            let event = tokio::select! {
                event = events.next_event() => event,
                update = watch.next() => {
                    for line in watch.apply(update, &lvs, &control) {
                        log(&options, &line);
                    }
                    continue;
                }
                Some(request) = reloads.recv() => {
                    let result = match watch.reload(&request.plans).await {
                        Ok(()) => lvs
                            .reload(request.plans, &control, &|plan| !watch.active(plan))
                            .map_err(|e| e.to_string()),
                        Err(e) => Err(e),
                    };
                    let result = match result {
                        Ok((summary, notices, _origins)) => {
                            for line in watch.reloaded(&lvs, &control) {
                                log(&options, &line);
                            }
                            deliver(&options, &fifos, &notices);
                            #[cfg(feature = "ipvs")]
                            if let Some(kernel) = &mut kernel {
                                for e in kernel.reload(&request.conf, &lvs, &_origins).await {
                                    tracing::warn!("reload: {e}");
                                }
                            }
                            Ok(summary)
                        }
                        Err(e) => Err(e),
                    };
                    #[cfg(not(feature = "ipvs"))]
                    let _ = &request.conf;
                    // The caller may have given up waiting: nothing to answer then.
                    let _ = request.reply.send(result);
                    continue;
                }
                _ = &mut stopped => break,
            };
            let notices = lvs.handle_event(&event);
            let what = match event.change {
                Change::Added => "starts",
                Change::Replaced => "is replaced,",
                Change::Removed => {
                    log(&options, &format!("check of {} removed", event.name));
                    continue;
                }
                _ => "is",
            };
            match &event.reason {
                Some(healthcheck::Reason::Initial) | None => log(
                    &options,
                    &format!("check of {} {what} {:?}", event.name, event.health),
                ),
                Some(reason) => log(
                    &options,
                    &format!(
                        "check of {} {what} {:?}: {reason}",
                        event.name, event.health
                    ),
                ),
            }
            deliver(&options, &fifos, &notices);
            #[cfg(feature = "ipvs")]
            if let Some(sinks) = lvs
                .service_of(event.target)
                .and_then(|s| kernel.as_mut()?.tables_mut(s))
            {
                for sink in sinks {
                    if let Err(e) = sink.handle_event(&event).await {
                        tracing::warn!("ipvs: {e}");
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
        if let Some(kernel) = &kernel {
            kernel.stop().await;
        }
    });
    Ok(Checkers { task, stop, reload })
}

fn deliver(options: &Options, fifos: &[Fifo], notices: &[Notice]) {
    for n in notices {
        log(options, &n.line);
        let line = format!("{}\n", n.line);
        for fifo in fifos {
            fifo.send(line.clone());
        }
        if let Some(script) = &n.script {
            spawn(script);
        }
    }
}
