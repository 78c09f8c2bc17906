//! A keepalived-compatible daemon built only from this project's crates.
//!
//! Reads a keepalived.conf (`global_defs`, `vrrp_script`, `vrrp_instance`, `vrrp_sync_group`,
//! `virtual_server`, `virtual_server_group`, `track_file`, `include`) and runs it, so the
//! same file can drive keepalived or this daemon, side by side:
//!
//! ```text
//! keepalived-compat -f /etc/keepalived/keepalived.conf -n -l --pid /run/kc.pid
//! keepalived-compat -f lvs.conf -n -l --no-ipvs      # checkers only report, no IPVS
//! keepalived-compat -t -f /etc/keepalived/keepalived.conf   # check as a start would
//! kill -s $(keepalived-compat --signum=JSON) $(cat /run/kc.pid)  # /tmp/keepalived.json
//! keepalived-compat --genhash -s 192.0.2.21 -p 80 -u /index.html
//! ```
//!
//! The command line is keepalived 2.2.7's, every option of it ([`cli`]). Without `-n` it
//! checks the configuration and the pid file, then detaches (a new process group, its
//! output to the log only). Config errors exit with status 1 and a message naming the file,
//! line and keyword; `-t` also builds every instance's core configuration, looks its
//! interface up and checks scripts and regexes ([`check`]).
//!
//! As a service ([`pidfile`], [`systemd`], [`logging`]): the pid file (`/run/keepalived.pid`
//! unless `-p`) is locked for the daemon's life and a second daemon with it exits with
//! status 3; `$NOTIFY_SOCKET` gets `READY=1` once the configuration is applied,
//! `RELOADING=1` / `READY=1` around a reload and `STOPPING=1`, so keepalived.service's
//! `Type=notify` works; the log goes through `tracing` to syslog (`-S` facility, `-G` off),
//! stderr (`-l`) and a file (`-g`), the libraries' warnings included.
//!
//! Signals are keepalived 2.2.7's ([`signals`]): SIGTERM / SIGINT stop gracefully (priority
//! 0 adverts, VIPs removed); SIGHUP reloads; SIGUSR1, SIGUSR2, SIGSTATS_CLEAR and SIGJSON
//! write keepalived's `keepalived.data`, `.stats` and `.json` dumps to `$TMPDIR` or `/tmp`
//! ([`dump`]); none of them kills the daemon. `--signum=NAME` prints a signal's number as
//! keepalived does.
//!
//! Features: `vrrp` (the VRRP instances), `health` (the `virtual_server` checkers and
//! `--genhash`) and `ipvs` (programming IPVS from the checkers), all on by default.

#![forbid(unsafe_code)]

mod check;
mod cli;
mod daemon;
#[cfg(feature = "vrrp")]
mod dump;
#[cfg(any(feature = "vrrp", feature = "health"))]
mod fifo;
#[cfg(feature = "health")]
mod genhash;
mod logging;
#[cfg(feature = "health")]
mod lvs;
#[cfg(feature = "vrrp")]
mod mapping;
#[cfg(feature = "vrrp")]
mod netconf;
#[cfg(any(feature = "vrrp", feature = "health"))]
mod notify;
mod pidfile;
#[cfg(feature = "vrrp")]
mod reload;
#[cfg(feature = "vrrp")]
mod scripts;
#[cfg(any(feature = "vrrp", feature = "health"))]
mod security;
mod signals;
mod syncd;
mod systemd;
#[cfg(feature = "vrrp")]
mod track_file;
#[cfg(feature = "vrrp")]
mod track_process;
#[cfg(feature = "vrrp")]
mod tracking;

use std::fs::OpenOptions;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};

use nix::libc;
use nix::sched::{CloneFlags, setns};
use nix::sys::stat::{Mode, umask};

use cli::{Options, USAGE};

/// A panic anywhere ends the process at once (after the usual message): a daemon with a
/// half-dead task must not keep its VIPs. The crash supervisor then sends the masters'
/// priority-0 adverts and removes their addresses, and the exit status (SIGABRT) tells
/// systemd to restart it.
fn abort_on_panic() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        report(info);
        std::process::abort();
    }));
}

fn main() -> ExitCode {
    abort_on_panic();
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("keepalived-compat: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if let Some(args) = &options.genhash {
        for w in &options.warnings {
            eprintln!("keepalived-compat: {w}");
        }
        return genhash(args);
    }
    if options.help {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if options.version {
        // keepalived prints its version on stderr; its first line is what tools match.
        eprintln!(
            "Keepalived v2.2.7 compatible: keepalived-compat {}",
            env!("CARGO_PKG_VERSION")
        );
        return ExitCode::SUCCESS;
    }
    if let Some(name) = &options.signum {
        return signum(name);
    }
    if let Some(log) = options
        .config_test_log
        .as_deref()
        .filter(|_| options.config_test)
        && let Err(e) = report_to(log)
    {
        eprintln!("Unable to open config-test log file {}: {e}", log.display());
        return ExitCode::FAILURE;
    }
    let settings = if options.config_test {
        logging::Settings::console_only(&options)
    } else {
        logging::Settings::of(&options)
    };
    if let Err(e) = logging::install(&settings) {
        eprintln!("keepalived-compat: {e}");
    }
    for w in &options.warnings {
        tracing::warn!("{w}");
    }
    // keepalived's file creation mask: 0177 unless `-u` (or, below, the `umask` keyword)
    // says otherwise, so dumps and FIFOs are the daemon's alone.
    umask(Mode::from_bits_truncate(
        options.umask.unwrap_or(keepalived_conf::umask::DEFAULT),
    ));
    // Process events come from the initial network namespace only (keepalived too opens
    // this socket before changing namespace).
    #[cfg(feature = "vrrp")]
    if options.namespace.is_some() && !options.config_test {
        track_process::open_before_namespace();
    }
    // While this is the only thread: every thread made later is in the namespace too.
    if let Some(name) = &options.namespace
        && let Err(e) = enter_namespace(name)
    {
        tracing::error!("Unable to set network namespace {name} - exiting: {e}");
        eprintln!("keepalived-compat: cannot enter network namespace {name}: {e}");
        return ExitCode::FAILURE;
    }
    let conf = match daemon::load(&options) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("keepalived-compat: {e}");
            return ExitCode::FAILURE;
        }
    };
    if options.config_test {
        return config_test(&options, &conf);
    }
    // The command line's `-u` wins over the file, as in keepalived.
    match (options.umask, conf.global.umask) {
        (None, Some(mask)) => {
            umask(Mode::from_bits_truncate(mask));
        }
        (Some(_), Some(_)) => {
            tracing::info!("umask command line option specified, ignoring config option");
        }
        _ => {}
    }
    if options.namespace.is_some() && options.pid.is_none() {
        prepare_pid_dir(&options);
    }
    // As keepalived: a running daemon is found before detaching, so that whoever started
    // this one sees the refusal.
    for path in options.pid_files() {
        if let Err(e) = pidfile::check(&path) {
            return refused(&e);
        }
    }
    if !options.foreground {
        return detach();
    }
    tracing::info!(
        "Starting keepalived-compat {} (keepalived 2.2.7 compatible)",
        env!("CARGO_PKG_VERSION")
    );
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    runtime.block_on(daemon::run(options, conf))
}

/// A pid file that cannot be taken: said on stderr and in the log, and the exit status.
fn refused(e: &pidfile::PidFileError) -> ExitCode {
    tracing::error!("{e}");
    eprintln!("keepalived-compat: {e}");
    if e.is_running() {
        ExitCode::from(pidfile::ALREADY_RUNNING)
    } else {
        ExitCode::FAILURE
    }
}

/// `-tFILE`: the report is appended to FILE instead of going to stderr, as keepalived does
/// (no symbolic link followed, created 0644).
fn report_to(log: &Path) -> std::io::Result<()> {
    let file = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW)
        .open(log)?;
    nix::unistd::dup2_stderr(&file)?;
    Ok(())
}

/// `-s NAME`: joins the network namespace `ip netns` made as NAME.
fn enter_namespace(name: &str) -> std::io::Result<()> {
    let file = std::fs::File::open(Path::new("/run/netns").join(name))?;
    setns(&file, CloneFlags::CLONE_NEWNET)?;
    Ok(())
}

/// keepalived's pid directory (`/run/keepalived`, 0755) for the default pid file with `-s`.
fn prepare_pid_dir(options: &Options) {
    if let Some(dir) = options.main_pid_file().parent()
        && let Err(e) = std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(dir)
    {
        tracing::warn!("Unable to create directory {}: {e}", dir.display());
    }
}

/// `--signum=NAME`: the signal's number on stdout, or keepalived's message and status 1.
fn signum(name: &str) -> ExitCode {
    match signals::signum(name) {
        Some(number) => {
            println!("{number}");
            ExitCode::SUCCESS
        }
        None => {
            eprintln!("Unknown sigfunc {name}");
            ExitCode::FAILURE
        }
    }
}

/// `-t`: every problem a start would meet, located, and status 1 if there is one.
fn config_test(options: &Options, conf: &keepalived_conf::KeepalivedConf) -> ExitCode {
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    let problems = runtime.block_on(check::run(options, conf));
    for p in &problems {
        eprintln!("keepalived-compat: {p}");
    }
    if !problems.is_empty() {
        eprintln!(
            "keepalived-compat: {}: {} problem(s)",
            options.config.display(),
            problems.len()
        );
        return ExitCode::FAILURE;
    }
    println!(
        "keepalived-compat: {} is valid ({} instances, {} virtual servers)",
        options.config.display(),
        conf.instances.len(),
        conf.virtual_servers.len()
    );
    ExitCode::SUCCESS
}

/// The daemon's single-threaded tokio runtime; `None` (said on stderr) if it cannot start.
fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => Some(rt),
        Err(e) => {
            tracing::error!("cannot start the runtime: {e}");
            eprintln!("keepalived-compat: cannot start the runtime: {e}");
            None
        }
    }
}

/// `--genhash ...` in a build without the `health` feature.
#[cfg(not(feature = "health"))]
fn genhash(_: &[String]) -> ExitCode {
    eprintln!("keepalived-compat: --genhash needs the `health` feature, left out of this build");
    ExitCode::from(2)
}

/// `--genhash ...` (`-T ...`): prints the MD5 digest of a URL's body as keepalived's genhash
/// does.
#[cfg(feature = "health")]
fn genhash(args: &[String]) -> ExitCode {
    let g = match genhash::Genhash::parse(args.iter().cloned()) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("keepalived-compat: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    match runtime.block_on(g.digest()) {
        Ok(digest) => {
            println!("{digest}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("keepalived-compat: genhash: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Starts this program again with `-n` in a new process group, detached from the terminal;
/// from there on it is heard through its log (syslog by default).
fn detach() -> ExitCode {
    let spawned = std::env::current_exe().and_then(|exe| {
        Command::new(exe)
            .arg("-n")
            .args(std::env::args().skip(1))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
    });
    match spawned {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keepalived-compat: cannot detach: {e}");
            ExitCode::FAILURE
        }
    }
}
