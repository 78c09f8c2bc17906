//! An open-loop client: a fixed request rate, a new TCP connection per request
//! (1 s connect / 2 s total timeout), one record per request with its times.

use super::{Host, spawn_in_netns};
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const TOTAL_TIMEOUT: Duration = Duration::from_secs(2);

/// How one request ended.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// `200`.
    Ok,
    /// Connection refused (RST to the SYN).
    Refused,
    /// No answer to the SYN within 1 s.
    ConnectTimeout,
    /// No complete answer within 2 s.
    Timeout,
    /// Reset after connecting.
    Reset,
    /// Closed without an answer.
    Empty,
    /// Another status.
    Http(u16),
    /// Any other error.
    Other(String),
}

/// One request.
#[derive(Debug, Clone)]
pub struct Record {
    /// When the schedule said to start it.
    pub scheduled: Instant,
    /// When it started.
    pub start: Instant,
    /// When it ended.
    pub end: Instant,
    /// How.
    pub outcome: Outcome,
    /// The body of a 200 (the backend's name).
    pub backend: String,
}

/// A load run in progress.
pub struct Load {
    thread: JoinHandle<Vec<Record>>,
}

impl Load {
    /// Sends `rate` requests per second to `target` from `client` for `duration`.
    pub fn start(client: &Host, target: SocketAddr, rate: u32, duration: Duration) -> Load {
        let thread = spawn_in_netns(&client.ns, move || async move {
            let records = Arc::new(Mutex::new(Vec::new()));
            let period = Duration::from_secs(1) / rate;
            let count = (duration.as_secs_f64() * f64::from(rate)) as u32;
            let begin = tokio::time::Instant::now() + Duration::from_millis(5);
            let mut tasks = Vec::with_capacity(count as usize);
            for i in 0..count {
                let at = begin + period * i;
                tokio::time::sleep_until(at).await;
                let records = records.clone();
                tasks.push(tokio::spawn(async move {
                    let start = Instant::now();
                    let (outcome, backend) = request(target).await;
                    let record = Record {
                        scheduled: at.into_std(),
                        start,
                        end: Instant::now(),
                        outcome,
                        backend,
                    };
                    records.lock().unwrap().push(record);
                }));
            }
            for t in tasks {
                let _ = t.await;
            }
            let mut records = std::mem::take(&mut *records.lock().unwrap());
            records.sort_by_key(|r| r.scheduled);
            records
        });
        Load { thread }
    }

    /// Waits for the run to end.
    pub fn finish(self) -> Report {
        Report {
            records: self.thread.join().unwrap(),
        }
    }
}

async fn request(target: SocketAddr) -> (Outcome, String) {
    let deadline = tokio::time::Instant::now() + TOTAL_TIMEOUT;
    let mut stream = match timeout(CONNECT_TIMEOUT, TcpStream::connect(target)).await {
        Err(_) => return (Outcome::ConnectTimeout, String::new()),
        Ok(Err(e)) => return (io_outcome(&e), String::new()),
        Ok(Ok(s)) => s,
    };
    let exchange = async {
        let head = format!("GET / HTTP/1.1\r\nhost: {target}\r\nconnection: close\r\n\r\n");
        stream.write_all(head.as_bytes()).await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        Ok::<_, std::io::Error>(answer)
    };
    match tokio::time::timeout_at(deadline, exchange).await {
        Err(_) => (Outcome::Timeout, String::new()),
        Ok(Err(e)) => (io_outcome(&e), String::new()),
        Ok(Ok(answer)) => parse(&answer),
    }
}

fn io_outcome(e: &std::io::Error) -> Outcome {
    match e.kind() {
        ErrorKind::ConnectionRefused => Outcome::Refused,
        ErrorKind::ConnectionReset | ErrorKind::BrokenPipe => Outcome::Reset,
        _ => Outcome::Other(e.to_string()),
    }
}

fn parse(answer: &[u8]) -> (Outcome, String) {
    if answer.is_empty() {
        return (Outcome::Empty, String::new());
    }
    let text = String::from_utf8_lossy(answer);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    match status {
        200 => (Outcome::Ok, body),
        s => (Outcome::Http(s), body),
    }
}

/// The records of one run and the figures taken from them.
#[derive(Debug)]
pub struct Report {
    /// Every request, by schedule.
    pub records: Vec<Record>,
}

impl Report {
    /// Requests that did not end in a `200`.
    pub fn failed(&self) -> usize {
        self.records
            .iter()
            .filter(|r| r.outcome != Outcome::Ok)
            .count()
    }

    /// Successful requests.
    pub fn ok(&self) -> usize {
        self.records.len() - self.failed()
    }

    /// The client-observed outage of `event`: the longest interval between two
    /// consecutive successful completions that ends after the event and, when requests
    /// failed, starts before the last failed request started.
    pub fn outage(&self, event: Instant) -> Duration {
        let mut ends: Vec<Instant> = self
            .records
            .iter()
            .filter(|r| r.outcome == Outcome::Ok)
            .map(|r| r.end)
            .collect();
        ends.sort();
        let last_fail = self
            .records
            .iter()
            .filter(|r| r.outcome != Outcome::Ok)
            .map(|r| r.start)
            .max();
        ends.windows(2)
            .filter(|w| w[1] > event && last_fail.is_none_or(|f| w[0] <= f))
            .map(|w| w[1] - w[0])
            .max()
            .unwrap_or_default()
    }

    /// The longest request that started after `event`.
    pub fn max_latency_after(&self, event: Instant) -> Duration {
        self.records
            .iter()
            .filter(|r| r.start >= event)
            .map(|r| r.end - r.start)
            .max()
            .unwrap_or_default()
    }

    /// `outcome count` for every failure kind, for messages.
    pub fn kinds(&self) -> String {
        let mut counts = std::collections::BTreeMap::new();
        for r in self.records.iter().filter(|r| r.outcome != Outcome::Ok) {
            *counts.entry(format!("{:?}", r.outcome)).or_insert(0) += 1;
        }
        counts
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A one-line summary for the test log.
    pub fn summary(&self, event: Instant) -> String {
        format!(
            "{} requests, {} failed ({}), outage {:.1} ms, max latency after the event {:.1} ms",
            self.records.len(),
            self.failed(),
            self.kinds(),
            self.outage(event).as_secs_f64() * 1e3,
            self.max_latency_after(event).as_secs_f64() * 1e3
        )
    }
}
