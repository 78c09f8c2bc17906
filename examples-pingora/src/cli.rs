//! The command line (the same options as the `vip-proxy` example, plus `--threads`) and
//! what is built from it before pingora starts.

use crate::{Error, INSTANCE, POOL};
use clap::Parser;
use examples::proxy::{BackendSpec, parse_advert_interval, parse_duration, parse_vip, parse_vrid};
use healthcheck::checkers::{HttpCheck, Url};
use healthcheck::{Health, Schedule, Scheduler, Target};
use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use vrrp_core::{Centisecs, Family, RouterConfig, TrackedObject, VirtualAddress, Vrid};
use vrrp_net::driver::{Instance, primary_address};

/// A pingora HTTP reverse proxy that owns its virtual IP through embedded VRRP and routes
/// only to backends its embedded health checks find healthy.
#[derive(Debug, Parser)]
#[command(name = "pingora-vip-proxy", version)]
pub struct Args {
    /// TCP port to listen on, on the VIP.
    #[arg(long, default_value_t = 80)]
    pub listen_port: u16,
    /// The virtual IP with its prefix length, e.g. 192.0.2.100/24.
    #[arg(long, value_parser = parse_vip)]
    pub vip: VirtualAddress,
    /// Interface VRRP runs on and the VIP goes on.
    #[arg(long)]
    pub interface: String,
    /// Virtual router id, 1-255 (the same on both nodes).
    #[arg(long, value_parser = parse_vrid)]
    pub vrid: Vrid,
    /// Base VRRP priority, 1-254 (the preferred node gets the higher one).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u8).range(1..=254))]
    pub priority: u8,
    /// Advertisement interval (`0.1`, `100ms`, `1s`); 10 ms steps.
    #[arg(long, default_value = "1s", value_parser = parse_advert_interval)]
    pub advert_interval: Centisecs,
    /// Send adverts to this peer instead of multicast (repeat for several peers).
    #[arg(long = "unicast-peer", value_name = "IP")]
    pub unicast_peers: Vec<IpAddr>,
    /// Do not take the VIP from a lower-priority master (RFC 9568 Preempt_Mode false).
    #[arg(long)]
    pub no_preempt: bool,
    /// How much the priority drops while no backend is healthy.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u8).range(1..=254))]
    pub down_penalty: u8,
    /// A backend, `http://IP:PORT[,WEIGHT]` (weight 1 by default); repeat for each backend.
    #[arg(long = "backend", value_name = "URL[,WEIGHT]", required = true)]
    pub backends: Vec<BackendSpec>,
    /// Path of the HTTP health check; a 2xx answer passes.
    #[arg(long, default_value = "/")]
    pub check_path: String,
    /// Time between two health checks of a backend.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub check_interval: Duration,
    /// Limit on one health check.
    #[arg(long, default_value = "500ms", value_parser = parse_duration)]
    pub check_timeout: Duration,
    /// Consecutive passing checks before a backend is used.
    #[arg(long, default_value_t = 2)]
    pub rise: u32,
    /// Consecutive failing checks before a backend is dropped.
    #[arg(long, default_value_t = 2)]
    pub fall: u32,
    /// Limit on connecting to a backend; the request then tries another one.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub connect_timeout: Duration,
    /// Limit on finishing in-flight requests after the VIP is handed over on SIGTERM.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub drain_timeout: Duration,
    /// Worker threads of the proxy service (pingora's `threads`); 0: one per CPU.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

impl Args {
    /// The listening address: the VIP and `--listen-port`.
    pub fn listen(&self) -> SocketAddr {
        SocketAddr::new(self.vip.address, self.listen_port)
    }
}

/// Checks that pingora will be able to bind `addr` (the VIP, which this host may not hold
/// yet): a plain bind, released at once. Pingora's listener has no `IP_FREEBIND`, so a VIP
/// this host does not hold needs the `ip_nonlocal_bind` sysctl ([`Error::NonLocalBind`]).
pub fn check_bind(addr: SocketAddr) -> Result<(), Error> {
    match std::net::TcpListener::bind(addr) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == ErrorKind::AddrNotAvailable => Err(Error::NonLocalBind { addr }),
        Err(source) => Err(Error::Bind { addr, source }),
    }
}

/// The VRRP instance: the VIP, tracking the backend pool (down at start, so this node
/// cannot become master before a backend is healthy). Reads the interface's primary
/// address, so it needs a tokio runtime.
pub async fn instance(args: &Args) -> Result<Instance, Error> {
    let family = Family::of(&args.vip.address);
    let primary = primary_address(&args.interface, family)
        .await
        .map_err(|source| Error::Interface {
            interface: args.interface.clone(),
            source,
        })?;
    let pool = TrackedObject::new(POOL, -i32::from(args.down_penalty)).starting_down();
    let config = RouterConfig::builder(INSTANCE, args.vrid.get(), primary)
        .priority(args.priority)
        .advert_interval(args.advert_interval)
        .preempt(!args.no_preempt)
        .virtual_address(args.vip)
        .track(pool)
        .build()?;
    Ok(Instance::new(config, &args.interface).unicast_peers(args.unicast_peers.iter().copied()))
}

/// One HTTP check per backend, with the command line's timing and rise/fall; every backend
/// starts down.
pub fn health_checks(args: &Args) -> Result<Scheduler, Error> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use examples::proxy::SpecError;

    #[test]
    fn backends_and_durations() {
        assert_eq!(
            "http://192.0.2.21:8080,3".parse(),
            Ok(BackendSpec {
                addr: SocketAddr::from(([192, 0, 2, 21], 8080)),
                weight: 3
            })
        );
        assert!(matches!(
            "https://192.0.2.21:443".parse::<BackendSpec>(),
            Err(SpecError::Backend(_))
        ));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn command_line_parses() {
        let args = Args::try_parse_from([
            "pingora-vip-proxy",
            "--vip",
            "192.0.2.100/24",
            "--interface",
            "eth0",
            "--vrid",
            "51",
            "--advert-interval",
            "100ms",
            "--backend",
            "http://192.0.2.21:8080,2",
        ]);
        let args = args.map_err(|e| e.to_string());
        assert_eq!(
            args.as_ref().map(Args::listen),
            Ok(SocketAddr::from(([192, 0, 2, 100], 80)))
        );
        assert_eq!(
            args.map(|a| a.advert_interval),
            Ok(Centisecs::new(10)),
            "advert interval in centiseconds"
        );
        let bad = Args::try_parse_from(["pingora-vip-proxy", "--vip", "192.0.2.100"]);
        assert!(bad.is_err());
    }
}
