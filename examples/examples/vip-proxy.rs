//! vip-proxy: an HTTP/1.1 reverse proxy that owns its own virtual IP.
//!
//! One process, no keepalived, no notify or tracking scripts:
//! - `vrrp-net`'s driver runs one VRRP instance for the VIP; if this process dies, its
//!   adverts stop and the peer takes the VIP over within Master_Down_Interval;
//! - `healthcheck` probes every backend over HTTP with rise/fall and keeps the healthy set;
//! - the pool is a tracked object of the VRRP instance: with no healthy backend the priority
//!   drops by `--down-penalty`, below the peer's, and the VIP moves (and moves back when
//!   the backends recover, if the peer preempts);
//! - the listener is bound on the VIP before this node owns it (`IP_FREEBIND`);
//! - SIGTERM / SIGINT: the VIP is handed over first (this node lowers its priority to 1,
//!   keeps serving until the peer has taken over, then stops VRRP), then in-flight requests
//!   drain under `--drain-timeout`, then the process exits.
//!
//! `--mode anycast` replaces VRRP for active-active nodes behind ECMP routers: the VIP is on
//! `lo` while at least one backend is healthy, and the node's BGP speaker (FRR bgpd
//! redistributing connected routes through a route map) announces it; with no healthy
//! backend it is withdrawn. SIGTERM withdraws first, keeps answering for `--withdraw-drain`
//! while the routers converge, then drains in-flight requests and exits. A killed process's
//! VIP is removed at once by its crash supervisor, else by the next start or by
//! `--withdraw-stale` (for systemd's `ExecStopPost=`).
//!
//! ```text
//! vip-proxy --vip 192.0.2.100/24 --interface eth0 --vrid 51 --priority 150 \
//!     --advert-interval 0.1 --backend http://192.0.2.21:8080 --backend http://192.0.2.22:8080,2
//! ```
//! vip-proxy --mode anycast --vip 203.0.113.10/32 --backend http://198.51.100.21:8080
//! ```
//! Needs CAP_NET_RAW and CAP_NET_ADMIN (VRRP sockets, the VIP, gratuitous ARP).

use clap::{Parser, ValueEnum};
use examples::proxy::anycast::{self, Gate};
use examples::proxy::{
    BackendSpec, forward, parse_advert_interval, parse_duration, parse_vip, parse_vrid,
};
use futures::StreamExt;
use healthcheck::checkers::{HttpCheck, Url};
use healthcheck::sink::Picker;
use healthcheck::sink::backend_set;
use healthcheck::{Health, Schedule, Scheduler, Target};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use std::error::Error;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio::time::{sleep, timeout};
use vrrp_core::{Centisecs, Family, RouterConfig, TrackState, TrackedObject};
use vrrp_core::{VirtualAddress, Vrid};
use vrrp_net::bind::{VipBind, bind_tokio_tcp};
use vrrp_net::driver::{Driver, Handle, Instance, primary_address};

/// The VRRP instance's name in events and handle calls.
const INSTANCE: &str = "vip-proxy";
/// The tracked object standing for "at least one healthy backend".
const POOL: &str = "pool";

/// An HTTP/1.1 reverse proxy that owns its virtual IP through embedded VRRP and routes
/// only to backends its embedded health checks find healthy.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// How the VIP is owned: `vrrp` (one active node) or `anycast` (every healthy node, on
    /// `lo`, announced by the node's BGP speaker).
    #[arg(long, value_enum, default_value_t = Mode::Vrrp)]
    mode: Mode,
    /// TCP port to listen on, on the VIP.
    #[arg(long, default_value_t = 80)]
    listen_port: u16,
    /// The virtual IP with its prefix length, e.g. 192.0.2.100/24.
    #[arg(long, value_parser = parse_vip)]
    vip: VirtualAddress,
    /// Interface VRRP runs on and the VIP goes on (needed for VRRP; anycast: `lo` by default).
    #[arg(long)]
    interface: Option<String>,
    /// Virtual router id, 1-255 (the same on both nodes; needed for VRRP).
    #[arg(long, value_parser = parse_vrid)]
    vrid: Option<Vrid>,
    /// Base VRRP priority, 1-254 (the preferred node gets the higher one).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u8).range(1..=254))]
    priority: u8,
    /// Advertisement interval (`0.1`, `100ms`, `1s`); 10 ms steps.
    #[arg(long, default_value = "1s", value_parser = parse_advert_interval)]
    advert_interval: Centisecs,
    /// Send adverts to this peer instead of multicast (repeat for several peers).
    #[arg(long = "unicast-peer", value_name = "IP")]
    unicast_peers: Vec<IpAddr>,
    /// Do not take the VIP from a lower-priority master (RFC 9568 Preempt_Mode false).
    #[arg(long)]
    no_preempt: bool,
    /// How much the priority drops while no backend is healthy.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u8).range(1..=254))]
    down_penalty: u8,
    /// A backend, `http://IP:PORT[,WEIGHT]` (weight 1 by default); repeat for each backend.
    #[arg(long = "backend", value_name = "URL[,WEIGHT]", required = true)]
    backends: Vec<BackendSpec>,
    /// Path of the HTTP health check; a 2xx answer passes.
    #[arg(long, default_value = "/")]
    check_path: String,
    /// Time between two health checks of a backend.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    check_interval: Duration,
    /// Limit on one health check.
    #[arg(long, default_value = "500ms", value_parser = parse_duration)]
    check_timeout: Duration,
    /// Consecutive passing checks before a backend is used.
    #[arg(long, default_value_t = 2)]
    rise: u32,
    /// Consecutive failing checks before a backend is dropped.
    #[arg(long, default_value_t = 2)]
    fall: u32,
    /// Limit on connecting to a backend; an idempotent request then tries another one.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    connect_timeout: Duration,
    /// Limit on finishing in-flight requests after the VIP is handed over on SIGTERM.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    drain_timeout: Duration,
    /// Do not start the crash supervisor (by default a small second process sends the
    /// priority-0 advert and removes the VIP if this one dies without a graceful stop).
    #[arg(long)]
    no_crash_supervisor: bool,
    /// Anycast: how long the node keeps answering after withdrawing the VIP (health or
    /// SIGTERM) while the routers converge.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    withdraw_drain: Duration,
    /// Anycast: remove the VIP a dead vip-proxy left on the interface, and exit.
    #[arg(long)]
    withdraw_stale: bool,
}

/// How the VIP is owned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// VRRP: one active node, the peer takes over.
    Vrrp,
    /// Anycast: every healthy node, announced over BGP by the node's speaker.
    Anycast,
}

#[tokio::main]
async fn main() -> ExitCode {
    examples::init_tracing();
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vip-proxy: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn Error>> {
    if args.withdraw_stale {
        if args.mode != Mode::Anycast {
            return Err("--withdraw-stale is for --mode anycast".into());
        }
        let found = vrrp_net::anycast::withdraw_stale(&anycast_config(&args)).await?;
        eprintln!("vip-proxy: removed stale {found:?}");
        return Ok(());
    }
    // Listen first: the socket waits on the VIP whoever owns it.
    let listen = SocketAddr::new(args.vip.address, args.listen_port);
    // Transparent too: responses in flight still leave after a handover removed the VIP.
    let bind = VipBind::new().backlog(4096).transparent(true);
    let listener = bind_tokio_tcp(listen, bind).map_err(|e| format!("listen on {listen}: {e}"))?;

    // Health checks -> the healthy set (read by requests) and the pool's track state.
    let (mut writer, healthy) = backend_set();
    let pool = Picker::follow(healthy.clone());
    let mut running = health_checks(&args)?.start()?;

    let gate = match args.mode {
        Mode::Vrrp => Gate::Vrrp(start_vrrp(&args).await?, INSTANCE),
        Mode::Anycast => {
            Gate::Anycast(anycast::start(anycast_config(&args), !args.no_crash_supervisor).await?)
        }
    };
    let track = gate.clone();
    tokio::spawn(async move {
        let mut pool_up = false;
        loop {
            let event = running.next_event().await;
            if let Some(reason) = event
                .reason
                .as_ref()
                .filter(|_| event.health == Health::Down)
            {
                eprintln!("vip-proxy: backend {} down: {reason}", event.name);
            }
            writer.handle_event(&event);
            let up = healthy.current().iter().any(|b| b.weight > 0);
            if up != pool_up {
                pool_up = up;
                let state = if up { TrackState::Up } else { TrackState::Down };
                eprintln!("vip-proxy: pool {state:?}");
                if !track.set_track_state(POOL, state) {
                    return; // the driver stopped
                }
            }
        }
    });

    // Serve until SIGTERM / SIGINT; keep accepting while the VIP is handed over.
    let graceful = GracefulShutdown::new();
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let accept = tokio::spawn(accept_loop(
        listener,
        pool,
        args.connect_timeout,
        graceful,
        stopping,
    ));
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    match &gate {
        Gate::Vrrp(vrrp, _) => {
            eprintln!("vip-proxy: stopping: handing the vip over");
            hand_over(vrrp, args.advert_interval.as_duration()).await;
        }
        Gate::Anycast(anycast) => {
            // Withdrawn, still answering while the routers converge, then the VIP goes.
            eprintln!("vip-proxy: stopping: withdrawing the vip");
            if let Err(e) = anycast.shutdown().await {
                eprintln!("vip-proxy: anycast shutdown: {e}");
            }
        }
    }
    // Connections the kernel completed before the VIP left are still queued: take them.
    sleep(Duration::from_millis(20)).await;
    let _ = stop.send(true);
    let graceful = accept.await?;
    eprintln!("vip-proxy: draining {} connections", graceful.count());
    if timeout(args.drain_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        eprintln!("vip-proxy: drain deadline passed, exiting anyway");
    }
    Ok(())
}

/// One HTTP check per backend, with the command line's timing and rise/fall.
fn health_checks(args: &Args) -> Result<Scheduler, Box<dyn Error>> {
    let schedule = Schedule::builder()
        .interval(args.check_interval)
        .timeout(args.check_timeout)
        .warmup(args.check_interval)
        .rise(args.rise)
        .fall(args.fall)
        .initial(Health::Down)
        .build()?;
    let mut scheduler = Scheduler::new();
    for b in &args.backends {
        let check = HttpCheck::new(b.addr, vec![Url::new(&args.check_path)?])?;
        let target = Target::new(format!("http://{}", b.addr), b.addr)
            .weight(b.weight)
            .schedule(schedule.clone())
            .check(check);
        scheduler.add(target)?;
    }
    Ok(scheduler)
}

/// VRRP: one instance for the VIP, tracking the pool.
async fn start_vrrp(args: &Args) -> Result<Handle, Box<dyn Error>> {
    let (driver, vrrp, mut events) = Driver::builder()
        .instance(instance(args).await?)
        .crash_supervisor(!args.no_crash_supervisor)
        .build()
        .await?;
    tokio::spawn(driver.run());
    tokio::spawn(async move {
        while let Some(event) = events.next().await {
            eprintln!("vip-proxy: vrrp {event}");
        }
    });
    Ok(vrrp)
}

/// Anycast: the VIP on `--interface` (default `lo`) while the pool is up.
fn anycast_config(args: &Args) -> vrrp_net::anycast::Anycast {
    let interface = args.interface.as_deref().unwrap_or("lo");
    anycast::config(args.vip, interface, POOL, args.withdraw_drain)
}

async fn instance(args: &Args) -> Result<Instance, Box<dyn Error>> {
    let (Some(interface), Some(vrid)) = (&args.interface, args.vrid) else {
        return Err("--mode vrrp needs --interface and --vrid".into());
    };
    let family = Family::of(&args.vip.address);
    let primary = primary_address(interface, family).await?;
    let pool = TrackedObject::new(POOL, -i32::from(args.down_penalty)).starting_down();
    let config = RouterConfig::builder(INSTANCE, vrid.get(), primary)
        .priority(args.priority)
        .advert_interval(args.advert_interval)
        .preempt(!args.no_preempt)
        .virtual_address(args.vip)
        .track(pool)
        .build()?;
    let mut instance = Instance::new(config, interface);
    instance.unicast_peers.clone_from(&args.unicast_peers);
    Ok(instance)
}

/// Accepts until `stop`, serving each connection under `graceful`, which it returns.
async fn accept_loop(
    listener: TcpListener,
    pool: Arc<Picker>,
    connect_timeout: Duration,
    graceful: GracefulShutdown,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> GracefulShutdown {
    loop {
        let (stream, client) = tokio::select! {
            _ = stop.changed() => return graceful,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    eprintln!("vip-proxy: accept: {e}");
                    sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let pool = pool.clone();
        let service = service_fn(move |request| {
            let pool = pool.clone();
            async move {
                let response = forward(request, &pool, client, connect_timeout).await;
                Ok::<_, std::convert::Infallible>(response)
            }
        });
        let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
        });
    }
}

/// A planned handover without a gap ([`Handle::hand_over`]): as master, drop to priority 1
/// and keep the VIP (and keep serving) until the peer takes over; then stop VRRP. Without a
/// peer willing to preempt, the priority-0 advert of the shutdown hands over after the peer's
/// Skew_Time.
async fn hand_over(vrrp: &Handle, advert_interval: Duration) {
    // The peer takes over a Master_Down_Interval (< 4 intervals) after our last full-priority
    // advert.
    let timeout = advert_interval * 4 + Duration::from_millis(200);
    if let Err(e) = vrrp.hand_over(INSTANCE, timeout).await {
        eprintln!("vip-proxy: vrrp hand over: {e}");
    }
    if let Err(e) = vrrp.shutdown().await {
        eprintln!("vip-proxy: vrrp shutdown: {e}");
    }
}
