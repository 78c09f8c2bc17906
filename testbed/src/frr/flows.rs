//! Long-lived flows through an anycast VIP, to see which of them an event moves.
//!
//! A [`Flows`] set is HTTP/1.1 keep-alive connections from the client to the VIP, each on its
//! own 5-tuple for its whole life. A [`probe`](Flows::probe) sends one request on every
//! connection and reads which backend answered (the body is its name, so it names the node
//! too). A flow the router sends to another node after a change is reset by that node (it has
//! no such connection), so comparing a probe before an event with one after it tells, per
//! node, how many of its flows stayed ([`tally`]).

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::mpsc as sync_mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::timeout;

use crate::proxy_bed::{Host, spawn_in_netns};

/// Limit on connecting, and on one request of a probe.
const LIMIT: Duration = Duration::from_secs(1);
/// Largest response head or body read.
const MAX_MESSAGE: usize = 16 * 1024;

/// What one flow answered to a probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A `200` with this body (the backend's name).
    Served(String),
    /// The connection failed (now or at an earlier probe): reset, closed, timed out, another
    /// status. A broken flow stays broken.
    Broken(String),
}

/// How one node's flows fared between two probes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fate {
    /// Flows the node served at the first probe.
    pub flows: usize,
    /// Of them, flows the same node served at the second.
    pub kept: usize,
}

impl Fate {
    /// Flows that moved or broke.
    pub fn disturbed(&self) -> usize {
        self.flows - self.kept
    }
}

/// Per answering backend of `before`, how many of its flows it served again in `after` (the
/// two probes of one [`Flows`] set, in its order).
pub fn tally(before: &[Answer], after: &[Answer]) -> BTreeMap<String, Fate> {
    let mut fates: BTreeMap<String, Fate> = BTreeMap::new();
    for (first, second) in before.iter().zip(after) {
        if let Answer::Served(name) = first {
            let fate = fates.entry(name.clone()).or_default();
            fate.flows += 1;
            if second == first {
                fate.kept += 1;
            }
        }
    }
    fates
}

enum Command {
    Probe(sync_mpsc::Sender<Vec<Answer>>),
}

/// A set of open flows in the client's namespace; closed on drop.
pub struct Flows {
    commands: Option<mpsc::UnboundedSender<Command>>,
    thread: Option<JoinHandle<()>>,
}

/// One flow: its connection while it works, else why it broke.
enum Flow {
    Live(BufReader<TcpStream>),
    Dead(String),
}

impl Flows {
    /// Opens `count` connections from `client` to `target` (one after the other, so each
    /// gets its own source port); a connection that fails is a broken flow from the start.
    pub fn open(client: &Host, target: SocketAddr, count: usize) -> Flows {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (opened, wait) = sync_mpsc::channel();
        let thread = spawn_in_netns(&client.ns, move || async move {
            let mut flows = Vec::with_capacity(count);
            for _ in 0..count {
                flows.push(match timeout(LIMIT, TcpStream::connect(target)).await {
                    Ok(Ok(stream)) => Flow::Live(BufReader::new(stream)),
                    Ok(Err(e)) => Flow::Dead(reason(&e)),
                    Err(_) => Flow::Dead("connect timeout".to_owned()),
                });
            }
            let _ = opened.send(());
            while let Some(Command::Probe(reply)) = rx.recv().await {
                let (next, answers) = probe_all(flows, target).await;
                flows = next;
                let _ = reply.send(answers);
            }
        });
        wait.recv()
            .expect("the flows' thread ended before opening them");
        Flows {
            commands: Some(tx),
            thread: Some(thread),
        }
    }

    /// One request on every flow at once; the answers in the set's order.
    pub fn probe(&self) -> Vec<Answer> {
        let (reply, answers) = sync_mpsc::channel();
        let commands = self.commands.as_ref().expect("flows are open");
        commands
            .send(Command::Probe(reply))
            .expect("the flows' thread ended");
        answers.recv().expect("the flows' thread ended")
    }
}

impl Drop for Flows {
    fn drop(&mut self) {
        self.commands.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Probes every flow concurrently; the flows as they are afterwards, and the answers.
async fn probe_all(flows: Vec<Flow>, target: SocketAddr) -> (Vec<Flow>, Vec<Answer>) {
    let count = flows.len();
    let mut tasks = JoinSet::new();
    for (i, flow) in flows.into_iter().enumerate() {
        tasks.spawn(async move {
            let (flow, answer) = match flow {
                Flow::Dead(why) => (Flow::Dead(why.clone()), Answer::Broken(why)),
                Flow::Live(mut stream) => {
                    match timeout(LIMIT, request(&mut stream, target)).await {
                        Ok(Ok(body)) => (Flow::Live(stream), Answer::Served(body)),
                        Ok(Err(why)) => (Flow::Dead(why.clone()), Answer::Broken(why)),
                        Err(_) => {
                            let why = "timeout".to_owned();
                            (Flow::Dead(why.clone()), Answer::Broken(why))
                        }
                    }
                }
            };
            (i, flow, answer)
        });
    }
    let mut done: Vec<(usize, Flow, Answer)> = Vec::with_capacity(count);
    while let Some(result) = tasks.join_next().await {
        done.push(result.expect("a probe task panicked"));
    }
    done.sort_by_key(|(i, _, _)| *i);
    done.into_iter()
        .map(|(_, flow, answer)| (flow, answer))
        .unzip()
}

/// One keep-alive `GET /`; the body of a `200`, else why the flow broke.
async fn request(stream: &mut BufReader<TcpStream>, target: SocketAddr) -> Result<String, String> {
    let head = format!("GET / HTTP/1.1\r\nhost: {target}\r\n\r\n");
    stream
        .get_mut()
        .write_all(head.as_bytes())
        .await
        .map_err(|e| reason(&e))?;
    let mut status = None;
    let mut length = None;
    let mut read = 0;
    loop {
        let mut line = String::new();
        let n = stream.read_line(&mut line).await.map_err(|e| reason(&e))?;
        read += n;
        if n == 0 {
            return Err("closed".to_owned());
        }
        if read > MAX_MESSAGE {
            return Err("response head too long".to_owned());
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if status.is_none() {
            status = line.split_whitespace().nth(1).map(str::to_owned);
        } else if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let length = length
        .filter(|&l| l <= MAX_MESSAGE)
        .ok_or("no usable content-length")?;
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await.map_err(|e| reason(&e))?;
    match status.as_deref() {
        Some("200") => Ok(String::from_utf8_lossy(&body).into_owned()),
        other => Err(format!("status {}", other.unwrap_or("missing"))),
    }
}

fn reason(e: &std::io::Error) -> String {
    match e.kind() {
        ErrorKind::ConnectionReset | ErrorKind::BrokenPipe => "reset".to_owned(),
        ErrorKind::UnexpectedEof => "closed".to_owned(),
        ErrorKind::ConnectionRefused => "refused".to_owned(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn served(name: &str) -> Answer {
        Answer::Served(name.to_owned())
    }

    #[test]
    fn a_flow_counts_as_kept_only_when_the_same_backend_answers_again() {
        let before = [
            served("b1"),
            served("b1"),
            served("b2"),
            Answer::Broken("x".into()),
        ];
        let after = [
            served("b1"),
            Answer::Broken("reset".into()),
            served("b2"),
            served("b1"),
        ];
        let fates = tally(&before, &after);
        assert_eq!(fates["b1"], Fate { flows: 2, kept: 1 });
        assert_eq!(fates["b2"].disturbed(), 0);
        assert_eq!(fates.len(), 2);
    }
}
