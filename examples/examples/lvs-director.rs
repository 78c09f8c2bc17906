//! An LVS director in one process: keepalived's best-known setup, written against the
//! crates' Rust APIs instead of `keepalived.conf`.
//!
//! - **VRRP** ([`vrrp_net::driver`], the default `--mode vrrp`): the virtual address
//!   follows mastership between two or more directors;
//! - or **anycast** (`--mode anycast`, [`vrrp_net::anycast`]): every director is active;
//!   each holds the VIP on `lo` (or `--interface`, a dummy interface) while at least one real
//!   server is healthy, for the node's BGP speaker to announce to ECMP routers, and withdraws
//!   it otherwise;
//! - **IPVS** ([`ipvs_sys`]): one virtual service `VIP:PORT` (TCP, direct routing, `wrr` by
//!   default, optional persistence; in anycast mode `mh` with `mh-fallback`, see
//!   [`examples::lvs::scheduling`]) whose real servers are
//! - **health checked** ([`healthcheck`]): TCP connects or HTTP GETs with rise/fall
//!   hysteresis, feeding a [`healthcheck::sink::Pool`] (keepalived's quorum, hysteresis,
//!   sorry server and `inhibit_on_failure`) that edits the kernel table through
//!   [`healthcheck::sink::IpvsPool`], which owns the virtual service: it is created at
//!   start (or adopted and cleaned if an earlier run left it), and the whole table is
//!   reconciled again after a failed update ([`healthcheck::sink::PoolSink::resync`]);
//! - **quorum tracking** ([`healthcheck::sink::QuorumTrack`]): with `--quorum-track-weight
//!   -60` a VRRP director whose pool lost quorum runs at priority - 60, so a peer that still
//!   reaches its real servers takes the VIP (keepalived's `quorum_down` wired to VRRP); an
//!   anycast director always withdraws while its pool has no quorum;
//! - **connection sync** (`--sync-interface`, [`ipvs_sys::sync_daemons`]): the kernel's sync
//!   daemons follow the VRRP state as keepalived's `lvs_sync_daemon` does (master daemon in
//!   MASTER, backup otherwise), or, in anycast mode, run as master and backup at once, so an
//!   established connection whose packets move to another director keeps its real server;
//! - **sloppy TCP** (`--sloppy-tcp`): `net.ipv4.vs.sloppy_tcp=1` in the director's network
//!   namespace, so IPVS also schedules a flow from a packet that is not a SYN: a connection
//!   moved to this director before sync brought its entry (or from a director that does not
//!   sync) goes on to the real server `mh` picks, the one it had.
//!
//! As with keepalived, the IPVS table is built at start and kept up to date in every VRRP
//! state: a backup director has a warm table, so a takeover is only VRRP + gratuitous ARP.
//! On SIGTERM or Ctrl-C it stops gracefully: VRRP priority 0 (the backup takes over at once)
//! or an anycast withdraw (answering for `--withdraw-drain` while the routers converge), VIP
//! removed, sync daemons stopped, virtual service deleted.
//!
//! ```text
//! lvs-director -i eth0 --vip 192.0.2.100/24 --vrid 51 --priority 150 \
//!     --real 192.0.2.21 --real 192.0.2.22@2 --port 80 --check http --http-path /health \
//!     --sync-interface eth0
//! lvs-director --mode anycast --vip 203.0.113.10/32 --real 192.0.2.21 --real 192.0.2.22 \
//!     --mh-port --sync-interface eth0
//! ```
//!
//! The real servers carry the VIP on `lo` with `arp_ignore=1` and `arp_announce=2` (direct
//! routing rewrites only the destination MAC address, so the real server port is the
//! virtual port).
//!
//! The director reports its view on stdout, one line per change, for people and tests:
//! ```text
//! sysctl net.ipv4.vs.sloppy_tcp=1
//! sync backup
//! vrrp VI_51 BACKUP -> MASTER
//! sync master
//! anycast ANNOUNCED 203.0.113.10 (healthy)
//! check 192.0.2.22:80 DOWN (connection refused)
//! quorum DOWN live_weight=0
//! table tcp 192.0.2.100:80 wrr 192.0.2.21:80=1 192.0.2.22:80=2
//! stopped
//! ```
//! A `table` line lists the scheduler as `ipvsadm -L -n` does (`mh (mh-fallback,mh-port)`)
//! and the destinations (address=weight, sorted) the kernel holds after each change; it is
//! printed after the kernel accepted the change. A `sync` line names the sync daemons
//! running after each change.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use examples::lvs::front::{Front, FrontError, QUORUM_OBJECT, anycast_config};
use examples::lvs::scheduling::{Mode, Requested, Scheduling, SchedulingError, scheduler_text};
use futures::StreamExt;
use healthcheck::checkers::{HttpCheck, TcpCheck, Url};
use healthcheck::sink::{Dest, IpvsPool, Pool, PoolConfig, PoolSink, QuorumTrack, TrackState};
use healthcheck::{Health, Schedule, Scheduler, Target};
use ipvs_sys::sync_daemons::{Roles, SyncConfig, SyncDaemons, SyncError};
use ipvs_sys::{ForwardMethod, IpvsHandle, Service, ServiceKey};
use tokio::signal::unix::{SignalKind, signal};
use vrrp_core::{Centisecs, Family, RouterConfig, TrackedObject, VirtualAddress};
use vrrp_net::driver::{Instance, primary_address};

/// What the director was asked to do.
#[derive(Debug, Parser)]
#[command(
    name = "lvs-director",
    about = "VRRP or anycast + IPVS direct routing + health checks + connection sync"
)]
struct Cli {
    /// How the VIP is owned: `vrrp` (one active director) or `anycast` (every director with
    /// a healthy real server; the VIP on `lo` for the node's BGP speaker, the service on
    /// `mh` with `mh-fallback`, failed real servers kept at weight 0 so every director has
    /// the same table).
    #[arg(long, value_enum, default_value_t = Mode::Vrrp)]
    mode: Mode,
    /// VRRP: the interface for adverts and the VIP (required). Anycast: the interface the VIP
    /// goes on (`lo` by default, or a dummy interface).
    #[arg(short, long)]
    interface: Option<String>,
    /// The virtual address, ADDR/PREFIX (VRRP: the prefix of the interface's subnet;
    /// anycast: usually /32 or /128).
    #[arg(long, value_parser = parse_vip)]
    vip: VirtualAddress,
    /// VRRP: virtual router ID, 1-255.
    #[arg(long, default_value_t = 51, value_parser = clap::value_parser!(u8).range(1..))]
    vrid: u8,
    /// VRRP: priority, 1-254 (highest becomes master).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u8).range(1..=254))]
    priority: u8,
    /// VRRP: advertisement interval, seconds (0.01-40.95).
    #[arg(long, default_value = "1", value_parser = parse_advert_int)]
    advert_int: Centisecs,
    /// A real server, ADDR or ADDR@WEIGHT (weight 1 by default); repeat for each.
    #[arg(long = "real", required = true, value_parser = parse_real)]
    reals: Vec<(IpAddr, u32)>,
    /// The virtual service's TCP port (and the real servers' port: direct routing).
    #[arg(long, default_value_t = 80)]
    port: u16,
    /// IPVS scheduler (rr, wrr, lc, wlc, sh, mh...); `wrr` by default, `mh` (the only one)
    /// in anycast mode.
    #[arg(long)]
    scheduler: Option<ipvs_sys::Scheduler>,
    /// mh: hash the source port too, not only the source address (ipvsadm's `-b mh-port`).
    #[arg(long)]
    mh_port: bool,
    /// mh: send a flow whose real server is unavailable to the next one of its hash chain
    /// instead of refusing it (ipvsadm's `-b mh-fallback`; always on in anycast mode).
    #[arg(long)]
    mh_fallback: bool,
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
    /// Keep failed real servers at weight 0 instead of removing them (always on in anycast
    /// mode).
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
    /// VRRP: track the quorum with this weight, -254..=254: a negative weight lowers the
    /// priority while quorum is lost (so a director that cannot reach its real servers
    /// hands the VIP over), 0 puts the instance in fault, a positive one raises it while
    /// quorum holds. Not tracked by default. (Anycast always withdraws without quorum.)
    #[arg(long, allow_negative_numbers = true,
          value_parser = clap::value_parser!(i32).range(-254..=254))]
    quorum_track_weight: Option<i32>,
    /// Anycast: seconds the director keeps answering for the VIP after withdrawing it
    /// (no quorum, or SIGTERM) while the routers converge.
    #[arg(long, default_value = "1", value_parser = parse_secs)]
    withdraw_drain: Duration,
    /// Anycast: do not start the crash supervisor (by default a small second process
    /// removes the VIP if this one dies, so the speaker stops announcing it).
    #[arg(long)]
    no_crash_supervisor: bool,
    /// Run IPVS connection sync daemons on this interface (ipvsadm's `--mcast-interface`,
    /// keepalived's `lvs_sync_daemon`): VRRP: master daemon while MASTER, backup otherwise;
    /// anycast: both.
    #[arg(long, visible_alias = "mcast-interface")]
    sync_interface: Option<String>,
    /// Sync id, 0-255 (default: the VRID in VRRP mode, as keepalived; 0 in anycast mode).
    /// A backup daemon takes only messages of its id (every id with 0).
    #[arg(long, requires = "sync_interface")]
    syncid: Option<u8>,
    /// Largest sync message payload, bytes (default: from the interface's MTU).
    #[arg(long, requires = "sync_interface")]
    sync_maxlen: Option<u16>,
    /// Sync multicast group (default 224.0.0.81).
    #[arg(long, requires = "sync_interface")]
    mcast_group: Option<IpAddr>,
    /// Sync UDP port (default 8848).
    #[arg(long, requires = "sync_interface")]
    mcast_port: Option<u16>,
    /// Sync multicast TTL (default 1).
    #[arg(long, requires = "sync_interface")]
    mcast_ttl: Option<u8>,
    /// Set `net.ipv4.vs.sloppy_tcp=1` in this director's network namespace: IPVS then
    /// creates a connection entry from any TCP packet, not only a SYN, so a flow that
    /// reaches this director without an entry (moved here before connection sync brought
    /// it, or from a director that does not sync) continues to the real server the
    /// scheduler picks; with anycast's `mh` tables, the one it had. A setting of the whole
    /// namespace, left set on exit.
    #[arg(long)]
    sloppy_tcp: bool,
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
    Link(#[from] vrrp_net::LinkError),
    #[error(transparent)]
    Front(#[from] FrontError),
    #[error(transparent)]
    Ipvs(#[from] ipvs_sys::Error),
    #[error(transparent)]
    Scheduling(#[from] SchedulingError),
    #[error("connection sync")]
    Sync(#[from] SyncError),
    #[error(transparent)]
    Health(#[from] healthcheck::ConfigError),
    #[error("bad check schedule (--check-interval, --check-timeout, --rise, --fall)")]
    Schedule(#[source] healthcheck::ConfigError),
    #[error("--mode vrrp needs --interface")]
    NoInterface,
    #[error("--quorum-track-weight is for --mode vrrp (anycast withdraws without quorum)")]
    QuorumTrackInAnycast,
    #[error("cannot handle sigterm")]
    Signal(#[source] std::io::Error),
    #[error("--sloppy-tcp: cannot write 1 to {path}")]
    SloppyTcp {
        path: &'static str,
        #[source]
        source: std::io::Error,
    },
}

/// `net.ipv4.vs.sloppy_tcp` of the network namespace of whoever opens it; there once the
/// IPVS module is loaded.
const SLOPPY_TCP: &str = "/proc/sys/net/ipv4/vs/sloppy_tcp";

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
    /// Refuses option combinations the mode cannot use, before anything touches the kernel.
    fn validate(&self) -> Result<(), DirectorError> {
        match self.mode {
            Mode::Vrrp if self.interface.is_none() => Err(DirectorError::NoInterface),
            Mode::Anycast if self.quorum_track_weight.is_some() => {
                Err(DirectorError::QuorumTrackInAnycast)
            }
            _ => Ok(()),
        }
    }

    /// The scheduling the mode allows for what was asked.
    fn scheduling(&self) -> Result<Scheduling, DirectorError> {
        let mut requested = Requested::default();
        requested.scheduler.clone_from(&self.scheduler);
        requested.mh_port = self.mh_port;
        requested.mh_fallback = self.mh_fallback;
        requested.inhibit_on_failure = self.inhibit_on_failure;
        Ok(Scheduling::for_mode(self.mode, &requested)?)
    }

    fn service(&self, scheduling: &Scheduling) -> Service {
        let key = ServiceKey::tcp(SocketAddr::new(self.vip.address, self.port));
        let service = scheduling.apply(Service::new(key, scheduling.scheduler.clone()));
        match self.persistence {
            Some(timeout) => service.persistent(timeout),
            None => service,
        }
    }

    /// The real servers' check schedule, validated (`--rise 0` is refused here).
    fn schedule(&self) -> Result<Schedule, DirectorError> {
        // VRRP: keepalived's start, real servers alive until a check says otherwise. Anycast:
        // a director announces the VIP only after a check found a live real server.
        let initial = match self.mode {
            Mode::Anycast => Health::Down,
            _ => Health::Up,
        };
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
            .initial(initial)
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
    fn pool(&self, initial: Health, inhibit_on_failure: bool) -> Result<Pool, DirectorError> {
        let mut config = PoolConfig::default()
            .quorum(self.quorum)
            .hysteresis(self.hysteresis)
            .inhibit_on_failure(inhibit_on_failure);
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
        let interface = self
            .interface
            .as_deref()
            .ok_or(DirectorError::NoInterface)?;
        let family = Family::of(&self.vip.address);
        let primary = primary_address(interface, family).await?;
        let mut config = RouterConfig::builder(format!("VI_{}", self.vrid), self.vrid, primary)
            .priority(self.priority)
            .advert_interval(self.advert_int)
            .virtual_address(self.vip);
        if let Some(weight) = self.quorum_track_weight {
            config = config.track(TrackedObject::new(QUORUM_OBJECT, weight));
        }
        Ok(Instance::new(config.build()?, interface))
    }

    /// The sync daemons' settings, if `--sync-interface` asks for them.
    fn sync_config(&self) -> Option<SyncConfig> {
        let interface = self.sync_interface.as_deref()?;
        let default_id = match self.mode {
            Mode::Vrrp => self.vrid,
            _ => 0,
        };
        Some(
            SyncConfig::new(interface, self.syncid.unwrap_or(default_id))
                .max_len(self.sync_maxlen)
                .group(self.mcast_group)
                .port(self.mcast_port)
                .ttl(self.mcast_ttl),
        )
    }

    /// Starts the VIP's owner, told the pool's quorum at start.
    async fn front(
        &self,
        quorum: TrackState,
    ) -> Result<(Front, examples::lvs::front::Reports), DirectorError> {
        Ok(match self.mode {
            Mode::Anycast => {
                let interface = self.interface.as_deref().unwrap_or("lo");
                let config = anycast_config(self.vip, interface, self.withdraw_drain);
                Front::anycast(config, quorum, !self.no_crash_supervisor).await?
            }
            _ => Front::vrrp(self.vrrp_instance().await?, quorum).await?,
        })
    }
}

/// The `table` line: the service and its destinations as `addr=weight`, sorted.
fn table_line(service: &Service, pool: &Pool) -> String {
    let mut dests = pool.desired();
    dests.sort_by_key(|d| d.addr);
    let mut line = format!("table {} {}", service.key, scheduler_text(service));
    for d in dests {
        let _ = write!(line, " {}={}", d.addr, d.weight);
    }
    line
}

fn quorum_state(pool: &Pool) -> TrackState {
    if pool.has_quorum() {
        TrackState::Up
    } else {
        TrackState::Down
    }
}

/// Prints a change of the pool's quorum and hands it to the VIP's owner. A stopped owner
/// is reported here and handled where its report stream ends.
fn report_quorum(quorum: &mut QuorumTrack, pool: &Pool, front: Option<&Front>) {
    if let Some((_, state)) = quorum.handle_pool(pool) {
        let word = if state == TrackState::Up {
            "UP"
        } else {
            "DOWN"
        };
        println!("quorum {word} live_weight={}", pool.live_weight());
        if let Some(Err(error)) = front.map(|f| f.set_quorum(state)) {
            eprintln!("lvs-director: quorum not passed on: {}", chain(&error));
        }
    }
}

/// Moves the sync daemons to `roles`, printing the result; a failure is reported and the
/// director goes on (keepalived logs it too), with the `sync` line telling what runs.
async fn follow(sync: &mut SyncDaemons, roles: Roles) {
    match sync.set_roles(roles).await {
        Ok(false) => {}
        Ok(true) => println!("sync {}", sync.roles()),
        Err(error) => {
            eprintln!("lvs-director: {}", chain(&error));
            println!("sync {}", sync.roles());
        }
    }
}

async fn run(cli: Cli) -> Result<(), DirectorError> {
    let mut sigterm = signal(SignalKind::terminate()).map_err(DirectorError::Signal)?;
    // Validated before anything touches the kernel.
    cli.validate()?;
    let scheduling = cli.scheduling()?;
    let schedule = cli.schedule()?;
    let service = cli.service(&scheduling);
    let ipvs = IpvsHandle::new().await?;
    // IPVS is loaded once its netlink family resolves: its settings exist from here on.
    if cli.sloppy_tcp {
        std::fs::write(SLOPPY_TCP, "1").map_err(|source| DirectorError::SloppyTcp {
            path: SLOPPY_TCP,
            source,
        })?;
        println!("sysctl net.ipv4.vs.sloppy_tcp=1");
    }
    let pool = IpvsPool::new(ipvs.clone(), service.clone(), ForwardMethod::DirectRoute);

    // The table first, in every state: a VRRP backup or a withdrawn anycast director keeps it
    // warm. Startup creates the service, or adopts and cleans the one an earlier run left.
    let mut sink = PoolSink::new(
        cli.pool(schedule.initial, scheduling.inhibit_on_failure)?,
        pool,
    );
    sink.startup().await?;
    println!("{}", table_line(&service, sink.pool()));
    let mut checks = cli.checks(&schedule)?.start()?;

    // The backup daemon runs before the VIP is owned (keepalived starts it with the
    // instance); anycast sends and learns from the start.
    let mut sync = match cli.sync_config() {
        Some(config) => {
            let roles = match cli.mode {
                Mode::Vrrp => Roles::BACKUP,
                _ => Roles::BOTH,
            };
            let daemons = SyncDaemons::start(ipvs.clone(), config, roles).await?;
            println!("sync {}", daemons.roles());
            Some(daemons)
        }
        None => None,
    };

    let mut quorum = QuorumTrack::new(QUORUM_OBJECT);
    report_quorum(&mut quorum, sink.pool(), None);
    let (front, mut reports) = cli.front(quorum_state(sink.pool())).await?;

    loop {
        tokio::select! {
            event = checks.next_event() => {
                match &event.reason {
                    Some(reason) => println!("check {} {:?} ({reason})", event.addr, event.health),
                    None => println!("check {} {:?}", event.addr, event.health),
                }
                let applied = sink.handle_event(&event).await;
                report_quorum(&mut quorum, sink.pool(), Some(&front));
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
            report = reports.next() => {
                let Some(report) = report else { break };
                if let Some(line) = report.line {
                    println!("{line}");
                }
                if let Some(warning) = report.warning {
                    eprintln!("lvs-director: {warning}");
                }
                if let (Some(state), Some(sync)) = (report.vrrp_state, sync.as_mut()) {
                    follow(sync, Roles::following(state == vrrp_core::State::Master)).await;
                }
            }
            _ = sigterm.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
        }
    }

    // Graceful stop: the VIP goes first (priority 0, or withdrawn and drained while still
    // answering, the master sync daemon still sending), then the sync daemons, then the
    // service, even if the owner had already stopped.
    let front_stopped = front.shutdown().await;
    let _ = tokio::time::timeout(Duration::from_millis(200), async {
        while let Some(report) = reports.next().await {
            if let Some(line) = report.line {
                println!("{line}");
            }
        }
    })
    .await;
    let sync_stopped = match sync.as_mut() {
        Some(sync) => {
            let stopped = sync.stop().await;
            println!("sync {}", sync.roles());
            stopped
        }
        None => Ok(()),
    };
    sink.backend().delete_service().await?;
    front_stopped?;
    sync_stopped?;
    println!("stopped");
    Ok(())
}

/// An error and its causes on one line.
fn chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = write!(message, ": {cause}");
        source = cause.source();
    }
    message
}

#[tokio::main]
async fn main() -> ExitCode {
    examples::init_tracing();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("lvs-director: {}", chain(&error));
            ExitCode::FAILURE
        }
    }
}
