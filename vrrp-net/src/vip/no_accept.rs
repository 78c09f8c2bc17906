//! Accept_Mode false (RFC 9568 §6.1) on top of any [`VipBackend`].

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::{Vip, VipBackend, VipNotice};
use crate::error::VipError;
use crate::firewall::Nftables;

/// A backend that also enforces no_accept: a [`Vip`] whose `accept` is false is put in the
/// firewall's drop set before it is installed and taken out after it is removed, so there is
/// no instant where the master owns it and accepts traffic for it. Addresses with `accept`
/// pass through untouched.
#[derive(Debug)]
pub struct NoAcceptVips<B: ?Sized> {
    inner: Arc<B>,
    firewall: Arc<Nftables>,
}

impl<B: VipBackend + ?Sized> NoAcceptVips<B> {
    /// Wraps `inner`, enforcing through `firewall`.
    pub fn new(inner: Arc<B>, firewall: Arc<Nftables>) -> Self {
        Self { inner, firewall }
    }
}

#[async_trait]
impl<B: VipBackend + ?Sized> VipBackend for NoAcceptVips<B> {
    async fn add(&self, vip: &Vip) -> Result<(), VipError> {
        let firewall_err = |source| VipError::Firewall {
            addr: vip.addr,
            source,
        };
        if !vip.accept {
            self.firewall.block(vip.addr).await.map_err(firewall_err)?;
        }
        match self.inner.add(vip).await {
            Ok(()) => Ok(()),
            Err(e) => {
                if !vip.accept
                    && let Err(undo) = self.firewall.unblock(vip.addr).await
                {
                    tracing::warn!(%vip, error = %undo, "cannot unblock an address that was not installed");
                }
                Err(e)
            }
        }
    }

    async fn remove(&self, vip: &Vip) -> Result<(), VipError> {
        self.inner.remove(vip).await?;
        if !vip.accept {
            self.firewall
                .unblock(vip.addr)
                .await
                .map_err(|source| VipError::Firewall {
                    addr: vip.addr,
                    source,
                })?;
        }
        Ok(())
    }

    fn take_notices(&self) -> Option<mpsc::UnboundedReceiver<VipNotice>> {
        self.inner.take_notices()
    }
}
