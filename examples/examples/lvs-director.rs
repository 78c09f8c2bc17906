//! An LVS director in one process: keepalived's best-known setup, written against the
//! crates' Rust APIs instead of `keepalived.conf`.
//!
//! - **VRRP** ([`vrrp_net::driver`]): the virtual address follows mastership between two or
//!   more directors;
//! - **IPVS** ([`ipvs_sys`]): one virtual service `VIP:PORT` (TCP, direct routing, `wrr` by
//!   default, optional persistence) whose real servers are
//! - **health checked** ([`healthcheck`]): TCP connects or HTTP GETs with rise/fall
//!   hysteresis, feeding a [`healthcheck::sink::Pool`] (keepalived's quorum, hysteresis,
//!   sorry server and `inhibit_on_failure`) that edits the kernel table through
//!   [`healthcheck::sink::IpvsPool`], which owns the virtual service: it is created at
//!   start (or adopted and cleaned if an earlier run left it), and the whole table is
//!   reconciled again after a failed update ([`healthcheck::sink::PoolSink::resync`]);
//! - **quorum tracking** ([`healthcheck::sink::QuorumTrack`], optional): with
//!   `--quorum-track-weight -60` a director whose pool lost quorum runs at priority - 60,
//!   so a peer that still reaches its real servers takes the VIP (keepalived's
//!   `quorum_down` wired to VRRP).
//!
//! As with keepalived, the IPVS table is built at start and kept up to date in every VRRP
//! state: a backup director has a warm table, so a takeover is only VRRP + gratuitous ARP.
//! On SIGTERM or Ctrl-C it stops gracefully: VRRP priority 0 (the backup takes over at once),
//! VIP removed, virtual service deleted.
//!
//! ```text
//! lvs-director -i eth0 --vip 192.0.2.100/24 --vrid 51 --priority 150 \
//!     --real 192.0.2.21 --real 192.0.2.22@2 --port 80 --check http --http-path /health
//! ```
//!
//! The real servers carry the VIP on `lo` with `arp_ignore=1` and `arp_announce=2` (direct
//! routing rewrites only the destination MAC address, so the real server port is the
//! virtual port).
//!
//! The director reports its view on stdout, one line per change, for people and tests:
//! ```text
//! vrrp VI_51 BACKUP -> MASTER
//! check 192.0.2.22:80 DOWN (connection refused)
//! quorum DOWN live_weight=0
//! table tcp 192.0.2.100:80 wrr 192.0.2.21:80=1 192.0.2.22:80=2
//! stopped
//! ```
//! A `table` line lists the destinations (address=weight, sorted) the kernel holds after
//! each change; it is printed after the kernel accepted the change.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use futures::StreamExt;
use healthcheck::checkers::{HttpCheck, TcpCheck, Url};
use healthcheck::sink::{Dest, IpvsPool, Pool, PoolConfig, PoolSink, QuorumTrack, TrackState};
use healthcheck::{Health, Schedule, Scheduler, Target};
use ipvs_sys::{ForwardMethod, IpvsHandle, Service, ServiceKey};
use tokio::signal::unix::{SignalKind, signal};
use vrrp_core::{Centisecs, Family, RouterConfig, TrackedObject, VirtualAddress};
use vrrp_net::driver::{Driver, Event, Handle, Instance, primary_address};

/// The VRRP tracked object that follows the pool's quorum.
const QUORUM_OBJECT: &str = "quorum";

/// What the director was asked to do.
#[derive(Debug, Parser)]
#[command(
    name = "lvs-director",
    about = "VRRP + IPVS direct routing + health checks"
)]
struct Cli {
    /// Interface for VRRP adverts and the VIP.
    #[arg(short, long)]
    interface: String,
    /// The virtual address, ADDR/PREFIX (the prefix of the interface's subnet).
    #[arg(long, value_parser = parse_vip)]
    vip: VirtualAddress,
    /// Virtual router ID, 1-255.
    #[arg(long, default_value_t = 51, value_parser = clap::value_parser!(u8).range(1..))]
    vrid: u8,
    /// VRRP priority, 1-254 (highest becomes master).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u8).range(1..=254))]
    priority: u8,
    /// VRRP advertisement interval, seconds (0.01-40.95).
    #[arg(long, default_value = "1", value_parser = parse_advert_int)]
    advert_int: Centisecs,
    /// A real server, ADDR or ADDR@WEIGHT (weight 1 by default); repeat for each.
    #[arg(long = "real", required = true, value_parser = parse_real)]
    reals: Vec<(IpAddr, u32)>,
    /// The virtual service's TCP port (and the real servers' port: direct routing).
    #[arg(long, default_value_t = 80)]
    port: u16,
    /// IPVS scheduler (rr, wrr, lc, wlc, sh, mh...).
    #[arg(long, default_value = "wrr")]
    scheduler: ipvs_sys::Scheduler,
    /// Persistence timeout, seconds (none by default).
    #[arg(long)]
    persistence: Option<u32>,
    /// How real servers are checked.
    #[arg(long, value_enum, default_value_t = CheckKind::Tcp)]
    check: CheckKind,
    /// Request path of the HTTP check (a 2xx answer is healthy).
    #[arg(long, default_value = "/")]
    http_path: String,
    /// Seconds between checks of one real server.
    #[arg(long, default_value = "1", value_parser = parse_secs)]
    check_interval: Duration,
    /// Seconds one check may take (default: the interval, at most 5).
    #[arg(long, value_parser = parse_secs)]
    check_timeout: Option<Duration>,
    /// Consecutive successes that bring a failed real server back.
    #[arg(long, default_value_t = 1)]
    rise: u32,
    /// Consecutive failures that take a real server out.
    #[arg(long, default_value_t = 1)]
    fall: u32,
    /// Keep failed real servers at weight 0 instead of removing them.
    #[arg(long)]
    inhibit_on_failure: bool,
    /// Minimum sum of live weights for the service to be up.
    #[arg(long, default_value_t = 1)]
    quorum: u32,
    /// Quorum hysteresis (gained at quorum + h, lost below quorum - h).
    #[arg(long, default_value_t = 0)]
    hysteresis: u32,
    /// Sorry server address, replacing the real servers while quorum is lost.
    #[arg(long)]
    sorry_server: Option<IpAddr>,
    /// Track the quorum in VRRP with this weight, -254..=254: a negative weight lowers the
    /// priority while quorum is lost (so a director that cannot reach its real servers
    /// hands the VIP over), 0 puts the instance in fault, a positive one raises it while
    /// quorum holds. Not tracked by default.
    #[arg(long, allow_negative_numbers = true,
          value_parser = clap::value_parser!(i32).range(-254..=254))]
    quorum_track_weight: Option<i32>,
}

/// The probe run against each real server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CheckKind {
    /// A TCP connect (keepalived's `TCP_CHECK`).
    Tcp,
    /// An HTTP GET expecting 2xx (keepalived's `HTTP_GET`).
    Http,
}

/// Why the director could not start or keep running.
#[derive(Debug, thiserror::Error)]
enum DirectorError {
    #[error(transparent)]
    Vrrp(#[from] vrrp_core::ConfigError),
    #[error(transparent)]
    Driver(#[from] vrrp_net::DriverError),
    #[error(transparent)]
    Link(#[from] vrrp_net::LinkError),
    #[error(transparent)]
    Ipvs(#[from] ipvs_sys::Error),
    #[error(transparent)]
    Health(#[from] healthcheck::ConfigError),
    #[error("bad check schedule (--check-interval, --check-timeout, --rise, --fall)")]
    Schedule(#[source] healthcheck::ConfigError),
    #[error("cannot handle sigterm")]
    Signal(#[source] std::io::Error),
}

fn parse_secs(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .parse()
        .map_err(|_| format!("not a number of seconds: {s}"))?;
    Duration::try_from_secs_f64(secs)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("not a positive number of seconds: {s}"))
}

fn parse_advert_int(s: &str) -> Result<Centisecs, String> {
    let cs = parse_secs(s)?.as_millis() / 10;
    match u16::try_from(cs) {
        Ok(cs) if (1..=Centisecs::MAX_V3.get()).contains(&cs) => Ok(Centisecs::new(cs)),
        _ => Err(format!("advert interval {s} s is outside 0.01-40.95 s")),
    }
}

fn parse_vip(s: &str) -> Result<VirtualAddress, String> {
    let (addr, prefix) = s
        .split_once('/')
        .ok_or_else(|| format!("vip {s} has no /PREFIX"))?;
    let addr: IpAddr = addr
        .parse()
        .map_err(|_| format!("bad vip address {addr}"))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    match prefix.parse::<u8>() {
        Ok(p) if p <= max => Ok(VirtualAddress::with_prefix(addr, p)),
        _ => Err(format!("bad vip prefix length {prefix}")),
    }
}

fn parse_real(s: &str) -> Result<(IpAddr, u32), String> {
    let (addr, weight) = s.split_once('@').unwrap_or((s, "1"));
    let addr = addr
        .parse()
        .map_err(|_| format!("bad real server address {addr}"))?;
    let weight = weight
        .parse()
        .map_err(|_| format!("bad real server weight {weight}"))?;
    Ok((addr, weight))
}

impl Cli {
    fn service(&self) -> Service {
        let key = ServiceKey::tcp(SocketAddr::new(self.vip.address, self.port));
        let service = Service::new(key, self.scheduler.clone());
        match self.persistence {
            Some(timeout) => service.persistent(timeout),
            None => service,
        }
    }

    /// The real servers' check schedule, validated (`--rise 0` is refused here).
    fn schedule(&self) -> Result<Schedule, DirectorError> {
        Schedule::builder()
            .interval(self.check_interval)
            .timeout(
                self.check_timeout
                    .unwrap_or_else(|| self.check_interval.min(Duration::from_secs(5))),
            )
            .retries(0)
            .delay_before_retry(Duration::ZERO)
            .warmup(self.check_interval)
            .rise(self.rise)
            .fall(self.fall)
            // keepalived: real servers are assumed alive until a check says otherwise
            .initial(Health::Up)
            .build()
            .map_err(DirectorError::Schedule)
    }

    fn dests(&self) -> Vec<Dest> {
        self.reals
            .iter()
            .map(|&(ip, weight)| Dest {
                addr: SocketAddr::new(ip, self.port),
                weight,
            })
            .collect()
    }

    fn checks(&self, schedule: &Schedule) -> Result<Scheduler, DirectorError> {
        let mut scheduler = Scheduler::new();
        for dest in self.dests() {
            let target = Target::new(dest.addr.to_string(), dest.addr)
                .weight(dest.weight)
                .schedule(schedule.clone());
            let target = match self.check {
                CheckKind::Tcp => target.check(TcpCheck::new(dest.addr)),
                CheckKind::Http => {
                    target.check(HttpCheck::new(dest.addr, vec![Url::new(&self.http_path)?])?)
                }
            };
            scheduler.add(target)?;
        }
        Ok(scheduler)
    }

    /// The pool, its real servers starting at `initial` (the checks' starting health).
    fn pool(&self, initial: Health) -> Result<Pool, DirectorError> {
        let mut config = PoolConfig::default()
            .quorum(self.quorum)
            .hysteresis(self.hysteresis)
            .inhibit_on_failure(self.inhibit_on_failure);
        if let Some(ip) = self.sorry_server {
            config = config.sorry_server(Dest {
                addr: SocketAddr::new(ip, self.port),
                weight: 1,
            });
        }
        Ok(Pool::new(
            config,
            self.dests().into_iter().map(|d| (d, initial)),
        )?)
    }

    async fn vrrp_instance(&self) -> Result<Instance, DirectorError> {
        let family = Family::of(&self.vip.address);
        let primary = primary_address(&self.interface, family).await?;
        let mut config = RouterConfig::builder(format!("VI_{}", self.vrid), self.vrid, primary)
            .priority(self.priority)
            .advert_interval(self.advert_int)
            .virtual_address(self.vip);
        if let Some(weight) = self.quorum_track_weight {
            config = config.track(TrackedObject::new(QUORUM_OBJECT, weight));
        }
        Ok(Instance::new(config.build()?, &self.interface))
    }
}

/// The `table` line: the service and its destinations as `addr=weight`, sorted.
fn table_line(service: &Service, pool: &Pool) -> String {
    let mut dests = pool.desired();
    dests.sort_by_key(|d| d.addr);
    let mut line = format!("table {} {}", service.key, service.scheduler.name());
    for d in dests {
        let _ = write!(line, " {}={}", d.addr, d.weight);
    }
    line
}

/// Prints a change of the pool's quorum and hands it to VRRP (no instance tracks it unless
/// `--quorum-track-weight` made `quorum` a tracked object). A stopped driver is reported
/// here and handled where its event stream ends.
fn report_quorum(quorum: &mut QuorumTrack, pool: &Pool, vrrp: &Handle) {
    if let Some((name, state)) = quorum.handle_pool(pool) {
        let word = if state == TrackState::Up {
            "UP"
        } else {
            "DOWN"
        };
        println!("quorum {word} live_weight={}", pool.live_weight());
        match vrrp.set_track_state(&name, state) {
            // Without --quorum-track-weight no instance tracks the quorum.
            Ok(()) | Err(vrrp_net::DriverError::UnknownTrack(_)) => {}
            Err(error) => eprintln!("lvs-director: quorum not passed to vrrp: {error}"),
        }
    }
}

async fn run(cli: Cli) -> Result<(), DirectorError> {
    let mut sigterm = signal(SignalKind::terminate()).map_err(DirectorError::Signal)?;
    // Validated before anything touches the kernel.
    let schedule = cli.schedule()?;
    let service = cli.service();
    let ipvs = IpvsPool::new(
        IpvsHandle::new().await?,
        service.clone(),
        ForwardMethod::DirectRoute,
    );

    // The table first, in every VRRP state: a backup keeps it warm. Startup creates the
    // service, or adopts and cleans the one an earlier run left.
    let mut sink = PoolSink::new(cli.pool(schedule.initial)?, ipvs);
    sink.startup().await?;
    println!("{}", table_line(&service, sink.pool()));
    let mut checks = cli.checks(&schedule)?.start()?;

    let (driver, vrrp, mut vrrp_events) = Driver::builder()
        .instance(cli.vrrp_instance().await?)
        .build()
        .await?;
    // Queued before the driver runs: a pool without quorum at start never advertises its
    // full priority.
    let mut quorum = QuorumTrack::new(QUORUM_OBJECT);
    report_quorum(&mut quorum, sink.pool(), &vrrp);
    tokio::spawn(driver.run());

    loop {
        tokio::select! {
            event = checks.next_event() => {
                match &event.reason {
                    Some(reason) => println!("check {} {:?} ({reason})", event.addr, event.health),
                    None => println!("check {} {:?}", event.addr, event.health),
                }
                let applied = sink.handle_event(&event).await;
                report_quorum(&mut quorum, sink.pool(), &vrrp);
                match applied {
                    Ok(ops) if ops.is_empty() => continue,
                    Ok(_) => {}
                    Err(error) => {
                        eprintln!("lvs-director: ipvs update failed: {error}; resynchronising");
                        sink.resync().await?;
                    }
                }
                println!("{}", table_line(&service, sink.pool()));
            }
            event = vrrp_events.next() => match event {
                Some(Event::StateChanged { instance, from, to, .. }) => {
                    println!("vrrp {instance} {from} -> {to}");
                }
                Some(Event::Fault { instance, fault }) => {
                    let instance = instance.as_deref().unwrap_or("(shared)");
                    eprintln!("lvs-director: vrrp {instance} fault: {fault:?}");
                }
                Some(_) => {}
                None => break,
            },
            _ = sigterm.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
        }
    }

    // Graceful stop: priority 0 and VIP gone first, so the backup takes over at once; the
    // service goes even if the VRRP driver had already stopped.
    let vrrp_stopped = vrrp.shutdown().await;
    sink.backend().delete_service().await?;
    vrrp_stopped?;
    println!("stopped");
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    examples::init_tracing();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let mut message = format!("lvs-director: {error}");
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                let _ = write!(message, ": {cause}");
                source = cause.source();
            }
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}
