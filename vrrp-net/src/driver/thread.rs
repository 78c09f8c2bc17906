//! Running the driver on a thread of its own, so that nothing else the program does can delay
//! an advertisement.
//!
//! A tokio runtime serves its tasks in turn: a health check that parses a large response, a
//! script's output being read, a slow log sink, all run between two of the driver's timer
//! wake-ups. At `advert_int 0.01` (RFC 9568 §5.2.7 allows a centisecond) a few milliseconds of
//! someone else's work is a late advert, and three late ones are a failover. keepalived gets
//! its isolation from a separate VRRP process; here the driver gets a thread with a
//! single-threaded runtime that runs nothing else. The driver is built on that thread, so its
//! sockets and its timer are registered with that runtime's reactor and are woken by it alone.
//! [`Handle`] and [`Events`] are channels: the program uses them from its own runtime.

use std::thread;

use tokio::sync::oneshot;

use super::builder::DriverBuilder;
use super::event::Events;
use super::handle::Handle;
use crate::error::DriverError;

/// The driver running on its own thread ([`DriverBuilder::spawn_thread`]).
///
/// Dropping it detaches the thread: the driver keeps running until [`Handle::shutdown`].
#[derive(Debug)]
pub struct DriverThread {
    done: oneshot::Receiver<Result<(), DriverError>>,
    thread: thread::JoinHandle<()>,
}

impl DriverThread {
    /// The OS thread the driver runs on (to set its scheduling policy or CPU affinity, say).
    pub fn thread(&self) -> &thread::Thread {
        self.thread.thread()
    }

    /// Waits until the driver has returned ([`Driver::run`](super::Driver::run)'s result).
    /// A driver thread that panicked is [`DriverError::Stopped`].
    pub async fn join(self) -> Result<(), DriverError> {
        let result = self.done.await.unwrap_or(Err(DriverError::Stopped));
        // The thread has nothing left to do but return; joining it cannot wait long.
        let _ = tokio::task::spawn_blocking(move || self.thread.join()).await;
        result
    }
}

impl DriverBuilder {
    /// Builds the driver on a new thread named `name` with a runtime of its own and runs it
    /// there; returns once the build is done (or failed, with the same errors as
    /// [`DriverBuilder::build`]). Needs no runtime on the calling side but for awaiting.
    ///
    /// Use it when the program's own tasks (proxying, health checks, scripts) share a runtime
    /// that could keep the driver from its timers: adverts then leave on time whatever the
    /// rest of the program does.
    pub async fn spawn_thread(
        self,
        name: impl Into<String>,
    ) -> Result<(DriverThread, Handle, Events), DriverError> {
        let (built_tx, built_rx) = oneshot::channel();
        let (done_tx, done_rx) = oneshot::channel();
        let thread = thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = built_tx.send(Err(DriverError::Runtime(e)));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match self.build().await {
                        Ok((driver, handle, events)) => {
                            if built_tx.send(Ok((handle, events))).is_err() {
                                // Nobody waits for this driver: it has never started a
                                // router, so there is nothing to hand over.
                                return;
                            }
                            let _ = done_tx.send(driver.run().await);
                        }
                        Err(e) => {
                            let _ = built_tx.send(Err(e));
                        }
                    }
                });
            })
            .map_err(DriverError::Runtime)?;
        let (handle, events) = built_rx.await.unwrap_or(Err(DriverError::Stopped))?;
        Ok((
            DriverThread {
                done: done_rx,
                thread,
            },
            handle,
            events,
        ))
    }
}
