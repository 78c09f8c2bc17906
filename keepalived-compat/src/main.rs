//! A keepalived-compatible daemon built only from this project's crates.
//!
//! Reads a keepalived.conf (`global_defs`, `vrrp_script`, `vrrp_instance`, `vrrp_sync_group`,
//! `virtual_server`, `virtual_server_group`, `track_file`, `include`) and runs it, so the
//! same file can drive keepalived or this daemon, side by side:
//!
//! ```text
//! keepalived-compat -f /etc/keepalived/keepalived.conf -n -l --pid /run/kc.pid
//! keepalived-compat -f lvs.conf -n -l --no-ipvs      # checkers only report, no IPVS
//! keepalived-compat --genhash -s 192.0.2.21 -p 80 -u /index.html
//! ```
//!
//! Without `-n` it detaches (a new process group, output discarded) after checking the
//! configuration. Config errors exit with status 1 and a message naming the file, line and
//! keyword; SIGTERM / SIGINT stop gracefully (priority 0 adverts, VIPs removed).
//!
//! Features: `vrrp` (the VRRP instances), `health` (the `virtual_server` checkers and
//! `--genhash`) and `ipvs` (programming IPVS from the checkers), all on by default.

#![forbid(unsafe_code)]

mod cli;
mod daemon;
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
mod scripts;

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
    let conf = match daemon::load(&options) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("keepalived-compat: {e}");
            return ExitCode::FAILURE;
        }
    };
    if options.config_test {
        println!(
            "keepalived-compat: {} is valid ({} instances, {} virtual servers)",
            options.config.display(),
            conf.instances.len(),
            conf.virtual_servers.len()
        );
        return ExitCode::SUCCESS;
    }
    if !options.foreground {
        return detach();
    }
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    runtime.block_on(daemon::run(options, conf))
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
