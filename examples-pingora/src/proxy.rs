//! The pingora `ProxyHttp`: pick a healthy backend, retry a failed connect once elsewhere,
//! keep responses leaving after the VIP moved, count requests in flight for the drain on
//! shutdown.

use crate::health::Balancer;
use async_trait::async_trait;
use pingora::lb::Backend;
use pingora::prelude::{HttpPeer, ProxyHttp, Session};
use pingora::{Error, ErrorType};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// How many times one request may connect to a backend (the first try and one retry on
/// another backend, as the `vip-proxy` example does).
const CONNECT_ATTEMPTS: u8 = 2;

/// Requests being proxied now; [`crate::shutdown::HandOverOnSignal`] waits for zero.
#[derive(Debug, Clone, Default)]
pub struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    /// A zero counter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requests in flight now.
    pub fn count(&self) -> usize {
        self.0.load(Ordering::Acquire)
    }

    fn enter(&self) -> InFlightGuard {
        self.0.fetch_add(1, Ordering::AcqRel);
        InFlightGuard(self.0.clone())
    }
}

/// Counts one request while it lives (it lives in the request's context, which pingora
/// drops when the request is done, whichever way it ended).
#[derive(Debug)]
pub struct InFlightGuard(Arc<AtomicUsize>);

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Per-request state.
#[derive(Debug)]
pub struct RequestCtx {
    _in_flight: InFlightGuard,
    /// The backend of the last connect attempt.
    tried: Option<Backend>,
    /// Connect attempts so far.
    attempts: u8,
}

/// Proxies every request to a backend the load balancer picks among the healthy ones.
pub struct VipProxy {
    balancer: Arc<Balancer>,
    connect_timeout: Duration,
    in_flight: InFlight,
    ipv6: bool,
}

impl VipProxy {
    /// A proxy over `balancer`, connecting to backends within `connect_timeout`, serving
    /// an IPv6 VIP if `ipv6`.
    pub fn new(
        balancer: Arc<Balancer>,
        connect_timeout: Duration,
        in_flight: InFlight,
        ipv6: bool,
    ) -> Self {
        Self {
            balancer,
            connect_timeout,
            in_flight,
            ipv6,
        }
    }
}

/// Sets `IP_TRANSPARENT` (`IPV6_TRANSPARENT`) on the client connection of `session`, so
/// that its packets still leave from the VIP after a handover removed it from this host
/// (without it, the kernel finds no route from a non-local source and a response in flight
/// is lost: the client waits for its timeout). `vrrp_net::bind` sets it on the listener,
/// which accepted sockets inherit; pingora binds its own listener without it, so it is set
/// here, on each connection, before any response byte is written. Needs `CAP_NET_ADMIN`.
/// HTTP/2 and subrequests have no plain TCP stream to set it on: they are left alone.
#[allow(unsafe_code)]
fn make_transparent(session: &Session, ipv6: bool) -> std::io::Result<()> {
    let Some(stream) = session.as_downstream().stream() else {
        return Ok(());
    };
    let Some(tcp) = stream
        .as_any()
        .downcast_ref::<pingora::protocols::l4::stream::Stream>()
    else {
        return Ok(());
    };
    // SAFETY: the descriptor is the open socket of `tcp`, which `session` owns and keeps
    // open for the whole borrow (this function's body); nothing closes or replaces it here.
    let fd = unsafe { BorrowedFd::borrow_raw(tcp.as_raw_fd()) };
    let socket = socket2::SockRef::from(&fd);
    if ipv6 {
        socket.set_ip_transparent_v6(true)
    } else {
        socket.set_ip_transparent_v4(true)
    }
}

#[async_trait]
impl ProxyHttp for VipProxy {
    type CTX = RequestCtx;

    fn new_ctx(&self) -> RequestCtx {
        RequestCtx {
            _in_flight: self.in_flight.enter(),
            tried: None,
            attempts: 0,
        }
    }

    async fn early_request_filter(
        &self,
        session: &mut Session,
        _ctx: &mut RequestCtx,
    ) -> pingora::Result<()> {
        if let Err(e) = make_transparent(session, self.ipv6) {
            tracing::debug!("IP_TRANSPARENT on a client connection: {e}");
        }
        Ok(())
    }

    async fn upstream_peer(
        &self,
        _session: &mut Session,
        ctx: &mut RequestCtx,
    ) -> pingora::Result<Box<HttpPeer>> {
        // A retry prefers another backend than the one that failed, if there is one.
        let tried = ctx.tried.take();
        let backend = self
            .balancer
            .select_with(b"", 256, |b, ready| ready && Some(b) != tried.as_ref())
            .or_else(|| self.balancer.select(b"", 256))
            .ok_or_else(|| Error::explain(ErrorType::HTTPStatus(502), "no healthy backend"))?;
        ctx.attempts += 1;
        let mut peer = HttpPeer::new(&backend, false, String::new());
        peer.options.connection_timeout = Some(self.connect_timeout);
        ctx.tried = Some(backend);
        Ok(Box::new(peer))
    }

    fn fail_to_connect(
        &self,
        _session: &mut Session,
        peer: &HttpPeer,
        ctx: &mut RequestCtx,
        mut e: Box<Error>,
    ) -> Box<Error> {
        // Nothing was sent yet: any request may go to another backend.
        if ctx.attempts < CONNECT_ATTEMPTS {
            tracing::debug!("connect to {peer} failed, retrying elsewhere: {e}");
            e.set_retry(true);
        }
        e
    }
}
