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
//! Without `-n` it detaches (a new process group, output discarded) after checking the
//! configuration. Config errors exit with status 1 and a message naming the file, line and
//! keyword; `-t` also builds every instance's core configuration, looks its interface up and
//! checks scripts and regexes ([`check`]).
//!
//! Signals are keepalived 2.2.7's ([`signals`]): SIGTERM / SIGINT stop gracefully (priority
//! 0 adverts, VIPs removed); SIGUSR1, SIGUSR2, SIGSTATS_CLEAR and SIGJSON write keepalived's
//! `keepalived.data`, `.stats` and `.json` dumps to `$TMPDIR` or `/tmp` ([`dump`]); SIGHUP
//! is accepted and logged (the reload itself is not implemented yet); none of them kills the
//! daemon. `--signum=NAME` prints a signal's number as keepalived does.
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
#[cfg(feature = "health")]
mod lvs;
#[cfg(feature = "vrrp")]
mod mapping;
#[cfg(any(feature = "vrrp", feature = "health"))]
mod notify;
#[cfg(feature = "vrrp")]
mod reload;
#[cfg(feature = "vrrp")]
mod scripts;
#[cfg(any(feature = "vrrp", feature = "health"))]
mod security;
mod signals;

use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode, Stdio};

use cli::{Options, USAGE};

fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("--genhash") {
        return genhash();
    }
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("keepalived-compat: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if options.help {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if let Some(name) = &options.signum {
        return signum(name);
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
    if !options.foreground {
        return detach();
    }
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    runtime.block_on(daemon::run(options, conf))
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
            eprintln!("keepalived-compat: cannot start the runtime: {e}");
            None
        }
    }
}

/// `--genhash ...` in a build without the `health` feature.
#[cfg(not(feature = "health"))]
fn genhash() -> ExitCode {
    eprintln!("keepalived-compat: --genhash needs the `health` feature, left out of this build");
    ExitCode::from(2)
}

/// `--genhash ...`: prints the MD5 digest of a URL's body as keepalived's genhash does.
#[cfg(feature = "health")]
fn genhash() -> ExitCode {
    let g = match genhash::Genhash::parse(std::env::args().skip(2)) {
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

/// Starts this program again with `-n` in a new process group, detached from the terminal.
fn detach() -> ExitCode {
    let spawned = std::env::current_exe().and_then(|exe| {
        Command::new(exe)
            .args(std::env::args().skip(1))
            .arg("-n")
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
