//! Load generator for the scheduler: N loopback TCP targets checked every second.
//!
//! ```text
//! tcp_fleet serve <count> <first-ip> <port>
//! tcp_fleet check <count> <first-ip> <port> <seconds> [rst]
//! tcp_fleet bare <count> <first-ip> <port> <seconds>
//! ```
//! `rst` closes probe connections with a reset (`TcpCheck::reset_on_close`); `bare`
//! is the baseline: one plain tokio interval task per address doing only the
//! connect, without the scheduler, thresholds or events.
//! `serve` binds `count` listeners on consecutive loopback addresses from `first-ip`
//! (which must be in 127.0.0.0/8) and accepts and closes connections; `check` runs
//! one TCP check per address every second on a current-thread runtime and prints
//! its own CPU time, peak RSS and the spread of probe start times.
//! `benches/healthcheck/tcp_fleet.sh` runs both.
#![allow(clippy::unwrap_used)]

use async_trait::async_trait;
use healthcheck::checkers::TcpCheck;
use healthcheck::{Check, Health, Outcome, Schedule, Scheduler, Target};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// Width of a histogram bucket of probe start times.
const BUCKET: Duration = Duration::from_millis(10);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: tcp_fleet serve|check <count> <first-ip> <port> [seconds]";
    if args.len() < 5 {
        eprintln!("{usage}");
        std::process::exit(2);
    }
    let count: u32 = args[2].parse().unwrap();
    let first: Ipv4Addr = args[3].parse().unwrap();
    let port: u16 = args[4].parse().unwrap();
    assert!(first.is_loopback(), "{first} is not in 127.0.0.0/8");
    let addrs: Vec<SocketAddr> = (0..count)
        .map(|i| SocketAddr::from((Ipv4Addr::from(u32::from(first) + i), port)))
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    match args[1].as_str() {
        "serve" => rt.block_on(serve(addrs)),
        "check" | "bare" => {
            let seconds: u64 = args.get(5).map_or(60, |s| s.parse().unwrap());
            let mode = match (args[1].as_str(), args.get(6).map(String::as_str)) {
                ("bare", _) => Mode::Bare,
                (_, Some("rst")) => Mode::Reset,
                _ => Mode::Scheduler,
            };
            rt.block_on(check(addrs, Duration::from_secs(seconds), mode));
        }
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Scheduler,
    Reset,
    Bare,
}

async fn serve(addrs: Vec<SocketAddr>) {
    for addr in addrs {
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                drop(stream);
            }
        });
    }
    println!("ready");
    std::future::pending::<()>().await;
}

/// Wraps a check, counting outcomes and bucketing start times.
#[derive(Debug)]
struct Timed {
    inner: TcpCheck,
    stats: Arc<Stats>,
    /// Start of every probe, in nanoseconds from `stats.start`.
    starts: std::sync::Mutex<Vec<u64>>,
}

#[derive(Debug)]
struct Stats {
    start: Instant,
    buckets: Vec<AtomicU32>,
    up: AtomicU64,
    down: AtomicU64,
}

#[async_trait]
impl Check for Timed {
    async fn check(&self, deadline: Instant) -> Outcome {
        let at = self.stats.start.elapsed();
        let i = (at.as_nanos() / BUCKET.as_nanos()) as usize;
        if let Some(b) = self.stats.buckets.get(i) {
            b.fetch_add(1, Ordering::Relaxed);
        }
        if let Ok(mut starts) = self.starts.lock() {
            starts.push(at.as_nanos() as u64);
        }
        let outcome = self.inner.check(deadline).await;
        let counter = if outcome.is_up() {
            &self.stats.up
        } else {
            &self.stats.down
        };
        counter.fetch_add(1, Ordering::Relaxed);
        outcome
    }
}

async fn check(addrs: Vec<SocketAddr>, run: Duration, mode: Mode) {
    let n = addrs.len();
    let stats = Arc::new(Stats {
        start: Instant::now(),
        buckets: (0..run.as_nanos() / BUCKET.as_nanos())
            .map(|_| AtomicU32::new(0))
            .collect(),
        up: AtomicU64::new(0),
        down: AtomicU64::new(0),
    });
    let schedule = Schedule::builder()
        .interval(Duration::from_secs(1))
        .timeout(Duration::from_secs(1))
        .retries(0)
        .delay_before_retry(Duration::from_secs(1))
        .warmup(Duration::from_secs(1))
        .rise(1)
        .fall(1)
        .initial(Health::Up)
        .build()
        .unwrap();
    let mut scheduler = Scheduler::new().max_in_flight(1024);
    let mut timed = Vec::new();
    for (i, addr) in addrs.into_iter().enumerate() {
        let check = Arc::new(Timed {
            inner: if mode == Mode::Reset {
                TcpCheck::new(addr).reset_on_close()
            } else {
                TcpCheck::new(addr)
            },
            stats: stats.clone(),
            starts: std::sync::Mutex::new(Vec::new()),
        });
        timed.push(check.clone());
        if mode == Mode::Bare {
            let phase = Duration::from_nanos(fastrand::u64(..1_000_000_000));
            tokio::spawn(async move {
                let mut tick =
                    tokio::time::interval_at(Instant::now() + phase, schedule_interval());
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                loop {
                    tick.tick().await;
                    let deadline = Instant::now() + Duration::from_secs(1);
                    let _ = tokio::time::timeout_at(deadline, check.check(deadline)).await;
                }
            });
            continue;
        }
        let mut target = Target::new(format!("t{i}"), addr).schedule(schedule.clone());
        target.checks.push(check);
        scheduler.add(target).unwrap();
    }
    let mut running = scheduler.start().unwrap();
    println!("mode {mode:?}");
    let mut events = 0u64;
    let warm = Duration::from_secs(5).min(run / 2);
    let mut cpu_at_warm = None;
    let end = stats.start + run;
    let warm_at = stats.start + warm;
    loop {
        tokio::select! {
            _ = running.next_event() => events += 1,
            () = tokio::time::sleep_until(warm_at), if cpu_at_warm.is_none() => {
                cpu_at_warm = Some(cpu_time());
            }
            () = tokio::time::sleep_until(end) => break,
        }
    }
    let cpu_end = cpu_time();
    let steady = cpu_end - cpu_at_warm.unwrap_or_default();
    let steady_secs = (run - warm).as_secs_f64();
    // spread over the steady-state window only
    let skip = (warm.as_nanos() / BUCKET.as_nanos()) as usize;
    let counts: Vec<f64> = stats.buckets[skip..]
        .iter()
        .map(|b| f64::from(b.load(Ordering::Relaxed)))
        .collect();
    let mean = counts.iter().sum::<f64>() / counts.len() as f64;
    let var = counts.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / counts.len() as f64;
    let max = counts.iter().cloned().fold(0.0, f64::max);
    let min = counts.iter().cloned().fold(f64::INFINITY, f64::min);
    println!(
        "targets {n}, run {:?}, steady window {steady_secs:.0} s",
        run
    );
    println!(
        "probes: up {} down {}, events {events} (initial {n})",
        stats.up.load(Ordering::Relaxed),
        stats.down.load(Ordering::Relaxed)
    );
    println!(
        "cpu: total {:.2} s over {:.0} s = {:.3} cores; steady {:.3} cores",
        cpu_end.as_secs_f64(),
        run.as_secs_f64(),
        cpu_end.as_secs_f64() / run.as_secs_f64(),
        steady.as_secs_f64() / steady_secs
    );
    let (user, sys) = cpu_split();
    println!(
        "cpu split: user {:.2} s, system {:.2} s",
        user.as_secs_f64(),
        sys.as_secs_f64()
    );
    println!(
        "run-queue wait (runnable, no CPU given): {:.2} s over {} s",
        run_queue_wait().as_secs_f64(),
        run.as_secs()
    );
    println!("peak rss: {:.1} MiB", peak_rss_kib() as f64 / 1024.0);
    println!(
        "probe starts per {} ms bucket: mean {mean:.1}, stddev {:.1}, min {min}, max {max} (max/mean {:.2})",
        BUCKET.as_millis(),
        var.sqrt(),
        max / mean
    );
    // Lateness of each probe against its slot: slot k of a target is phase + k s,
    // and the phase is the earliest (start - k s) seen, since timers never fire early.
    let mut late = Vec::new();
    for t in &timed {
        let starts: Vec<i64> = t.starts.lock().unwrap().iter().map(|&s| s as i64).collect();
        let Some(&first) = starts.first() else {
            continue;
        };
        let second = 1_000_000_000i64;
        let offset = |s: i64| s - ((s - first + second / 2).div_euclid(second)) * second;
        let phase = starts.iter().map(|&s| offset(s)).min().unwrap_or(first);
        late.extend(starts.iter().map(|&s| ((offset(s) - phase) / 1000) as u32));
    }
    late.sort_unstable();
    let pct = |p: f64| {
        late.get(((late.len() as f64 - 1.0) * p) as usize)
            .copied()
            .unwrap_or(0)
    };
    println!(
        "probe start vs its phase: p50 {} us, p90 {} us, p99 {} us, max {} us",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        late.last().copied().unwrap_or(0)
    );
}

fn schedule_interval() -> Duration {
    Duration::from_secs(1)
}

/// User + system CPU time of this process.
fn cpu_time() -> Duration {
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF).unwrap();
    let tv = |t: nix::sys::time::TimeVal| {
        Duration::from_secs(t.tv_sec() as u64) + Duration::from_micros(t.tv_usec() as u64)
    };
    tv(usage.user_time()) + tv(usage.system_time())
}

/// (user, system) CPU time of this process.
fn cpu_split() -> (Duration, Duration) {
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF).unwrap();
    let tv = |t: nix::sys::time::TimeVal| {
        Duration::from_secs(t.tv_sec() as u64) + Duration::from_micros(t.tv_usec() as u64)
    };
    (tv(usage.user_time()), tv(usage.system_time()))
}

/// Time this process's threads spent runnable but waiting for a CPU
/// (`/proc/self/schedstat`, second field): CPU contention from other processes.
fn run_queue_wait() -> Duration {
    let mut total = 0u64;
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let stat = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
        total += stat
            .split_whitespace()
            .nth(1)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
    }
    Duration::from_nanos(total)
}

/// VmHWM from /proc/self/status, in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
