//! A backend that records calls instead of touching the kernel, for tests.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::{Vip, VipBackend, VipNotice};
use crate::error::VipError;

/// One call made to a [`RecordingVips`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VipCall {
    /// `add` was called.
    Add(Vip),
    /// `remove` was called.
    Remove(Vip),
}

#[derive(Debug, Default)]
struct Inner {
    calls: Vec<VipCall>,
    present: Vec<Vip>,
    failing: HashSet<IpAddr>,
    notices: Option<mpsc::UnboundedSender<VipNotice>>,
    receiver: Option<mpsc::UnboundedReceiver<VipNotice>>,
}

/// Records every call, keeps the set of "installed" addresses, and can be told to fail or to
/// report an external removal. Clones share state.
#[derive(Debug, Clone)]
pub struct RecordingVips {
    inner: Arc<Mutex<Inner>>,
}

impl Default for RecordingVips {
    fn default() -> Self {
        Self::new()
    }
}

impl RecordingVips {
    /// An empty recorder.
    pub fn new() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let inner = Inner {
            notices: Some(tx),
            receiver: Some(rx),
            ..Inner::default()
        };
        Self {
            inner: Arc::new(Mutex::new(inner)),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<VipCall> {
        self.lock().calls.clone()
    }

    /// The addresses currently installed.
    pub fn present(&self) -> Vec<Vip> {
        self.lock().present.clone()
    }

    /// Makes every later `add` of `addr` fail (or succeed again with `fail = false`).
    pub fn set_failing(&self, addr: IpAddr, fail: bool) {
        let mut inner = self.lock();
        if fail {
            inner.failing.insert(addr);
        } else {
            inner.failing.remove(&addr);
        }
    }

    /// Removes `vip` as an administrator would and reports it as a [`VipNotice`].
    pub fn remove_externally(&self, vip: &Vip) {
        let mut inner = self.lock();
        inner.present.retain(|p| !p.same_address(vip));
        if let Some(tx) = &inner.notices {
            // No receiver means nobody is watching; the removal itself still happened.
            let _ = tx.send(VipNotice::RemovedExternally(vip.clone()));
        }
    }
}

#[async_trait]
impl VipBackend for RecordingVips {
    async fn add(&self, vip: &Vip) -> Result<(), VipError> {
        let mut inner = self.lock();
        inner.calls.push(VipCall::Add(vip.clone()));
        if inner.failing.contains(&vip.addr) {
            return Err(VipError::Backend {
                addr: vip.addr,
                source: "injected failure".into(),
            });
        }
        if !inner.present.iter().any(|p| p.same_address(vip)) {
            inner.present.push(vip.clone());
        }
        Ok(())
    }

    async fn remove(&self, vip: &Vip) -> Result<(), VipError> {
        let mut inner = self.lock();
        inner.calls.push(VipCall::Remove(vip.clone()));
        inner.present.retain(|p| !p.same_address(vip));
        Ok(())
    }

    fn take_notices(&self) -> Option<mpsc::UnboundedReceiver<VipNotice>> {
        self.lock().receiver.take()
    }
}
