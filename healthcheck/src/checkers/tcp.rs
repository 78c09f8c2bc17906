//! keepalived's `TCP_CHECK`: the service is up when a TCP connection is accepted.

use super::connect::connect;
use crate::{Check, Outcome, Reason};
use async_trait::async_trait;
use std::net::SocketAddr;
use tokio::time::Instant;

/// Connects and closes.
///
/// `connect` is keepalived's `connect_ip`/`connect_port` (usually the target's own
/// address); `bind` is `bindto`/`bind_port`.
#[derive(Debug, Clone)]
pub struct TcpCheck {
    connect: SocketAddr,
    bind: Option<SocketAddr>,
    reset: bool,
}

impl TcpCheck {
    /// Probes `connect`.
    pub fn new(connect: SocketAddr) -> Self {
        TcpCheck {
            connect,
            bind: None,
            reset: false,
        }
    }

    /// Originates the connection from `bind`.
    pub fn bind(mut self, bind: SocketAddr) -> Self {
        self.bind = Some(bind);
        self
    }

    /// Closes with a reset (`SO_LINGER` 0) instead of a FIN, as HAProxy does for its
    /// checks: no TIME_WAIT socket is left behind and fewer packets are exchanged,
    /// which matters at thousands of checks per second. The server sees a reset.
    pub fn reset_on_close(mut self) -> Self {
        self.reset = true;
        self
    }
}

#[async_trait]
impl Check for TcpCheck {
    async fn check(&self, _deadline: Instant) -> Outcome {
        match connect(self.connect, self.bind).await {
            Ok(stream) => {
                if self.reset {
                    // Best effort: a failure only means a normal close.
                    let _ = stream.set_zero_linger();
                }
                Outcome::UP
            }
            Err(e) => Outcome::Down(Reason::from_io(&e)),
        }
    }
}
