//! pingora-vip-proxy: a pingora HTTP reverse proxy that owns its own virtual IP.
//!
//! ```text
//! sysctl -w net.ipv4.ip_nonlocal_bind=1   # pingora binds the VIP before owning it
//! pingora-vip-proxy --vip 192.0.2.100/24 --interface eth0 --vrid 51 --priority 150 \
//!     --advert-interval 100ms --backend http://192.0.2.21:8080 --backend http://192.0.2.22:8080,2
//! ```
//! Needs CAP_NET_RAW and CAP_NET_ADMIN (VRRP sockets, the VIP, gratuitous ARP). Logs go to
//! stderr; `RUST_LOG` filters them (default `info`). See the library docs for the design.

use clap::Parser;
use healthcheck::sink::backend_set;
use pingora::lb::{Backends, LoadBalancer};
use pingora::prelude::http_proxy_service;
use pingora::server::configuration::ServerConf;
use pingora::server::{RunArgs, Server};
use pingora::services::background::background_service;
use pingora_vip_proxy::cli::{self, Args};
use pingora_vip_proxy::discovery::HealthyBackends;
use pingora_vip_proxy::health::HealthService;
use pingora_vip_proxy::proxy::{InFlight, VipProxy};
use pingora_vip_proxy::shutdown::HandOverOnSignal;
use pingora_vip_proxy::vrrp::VrrpService;
use pingora_vip_proxy::{Error, Fatal, VrrpSlot};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pingora-vip-proxy: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), Error> {
    let listen = args.listen();
    cli::check_bind(listen)?;
    let scheduler = cli::health_checks(&args)?;
    // Only the interface's primary address needs a runtime here; the driver itself is
    // built in its pingora service's runtime.
    let startup = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    let instance = startup.block_on(cli::instance(&args))?;
    drop(startup);

    let mut conf = ServerConf::default();
    if args.threads > 0 {
        conf.threads = args.threads;
    } else {
        conf.threads = std::thread::available_parallelism().map_or(1, usize::from);
    }
    // HandOverOnSignal drains before it lets pingora stop: no extra grace period.
    conf.grace_period_seconds = Some(0);
    conf.graceful_shutdown_timeout_seconds = Some(1);
    let mut server = Server::new_with_opt_and_conf(None, conf);
    server.bootstrap();

    let fatal = Fatal::new();
    let slot = VrrpSlot::default();
    let in_flight = InFlight::new();

    // Health checks -> healthy set -> pingora discovery -> load balancer.
    let (writer, healthy) = backend_set();
    let discovery = HealthyBackends::new(healthy.clone());
    let balancer = Arc::new(LoadBalancer::from_backends(Backends::new(Box::new(
        discovery,
    ))));

    let vrrp = server.add_service(background_service(
        "vrrp",
        VrrpService::new(instance, slot.clone(), fatal.clone()),
    ));
    let health = server.add_service(background_service(
        "health checks",
        HealthService::new(
            scheduler,
            (writer, healthy),
            balancer.clone(),
            slot.clone(),
            fatal.clone(),
        ),
    ));
    health.add_dependency(&vrrp);

    let proxy = VipProxy::new(
        balancer,
        args.connect_timeout,
        in_flight.clone(),
        listen.is_ipv6(),
    );
    let mut service = http_proxy_service(&server.configuration, proxy);
    service.add_tcp(&listen.to_string());
    server.add_service(service);

    let shutdown = HandOverOnSignal::new(
        slot,
        args.advert_interval.as_duration(),
        args.drain_timeout,
        in_flight,
        fatal.clone(),
    );
    server.run(RunArgs {
        shutdown_signal: Box::new(shutdown),
    });
    match fatal.reason() {
        Some(reason) => Err(Error::Fatal(reason.to_owned())),
        None => Ok(()),
    }
}
