//! keepalived-compat's health-checking part end to end, with no root: the daemon runs with
//! `--no-ipvs -n -l` against real servers that are tiny TCP/HTTP servers on 127.0.0.x
//! started here, and its `lvs_notify_fifo` lines are read in order; `--genhash` is compared
//! with an MD5 computed here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use md5::{Digest, Md5};

/// The daemon, built by cargo for this test with the same features.
fn daemon_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_keepalived-compat"))
}

fn md5_hex(data: &[u8]) -> String {
    Md5::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Opens `fifo` for reading (in a thread: the open waits for a writer) and sends each line.
fn read_lines(fifo: PathBuf) -> mpsc::Receiver<String> {
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        let file = std::fs::File::open(fifo).unwrap();
        for line in BufReader::new(file).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    lines
}

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("kc-lvs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A server answering every connection with `response`, until stopped (then connections
/// are refused).
struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start(addr: SocketAddr, response: &'static [u8]) -> Server {
        let listener = TcpListener::bind(addr).unwrap();
        let addr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((mut s, _)) => {
                        s.set_nonblocking(false).unwrap();
                        s.set_read_timeout(Some(Duration::from_millis(200)))
                            .unwrap();
                        let mut buf = [0u8; 1024];
                        // A TCP_CHECK closes at once; an HTTP client sends its request.
                        let _ = s.read(&mut buf);
                        let _ = s.write_all(response);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Server {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The daemon, killed on drop.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const HTTP_OK: &[u8] = b"HTTP/1.0 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello\n";

#[test]
fn real_server_down_and_up_are_notified_in_order_with_quorum() {
    let dir = Scratch::new("e2e");
    let mut a = Server::start("127.0.0.2:0".parse().unwrap(), HTTP_OK);
    let b = Server::start("127.0.0.3:0".parse().unwrap(), HTTP_OK);
    let fifo = dir.0.join("lvs.fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let conf = dir.0.join("keepalived.conf");
    let body_md5 = md5_hex(b"hello\n");
    std::fs::write(
        &conf,
        format!(
            "global_defs {{\n    lvs_notify_fifo {fifo}\n}}\n\
             virtual_server 192.0.2.15 80 {{\n    delay_loop 0.1\n    quorum 2\n    \
             lb_kind NAT\n    warmup 0\n    retry 0\n    connect_timeout 0.5\n    \
             real_server {a_ip} {a_port} {{\n        TCP_CHECK {{\n        }}\n    }}\n    \
             real_server {b_ip} {b_port} {{\n        HTTP_GET {{\n            url {{\n                \
             path /\n                digest {body_md5}\n            }}\n        }}\n    }}\n}}\n",
            fifo = fifo.display(),
            a_ip = a.addr.ip(),
            a_port = a.addr.port(),
            b_ip = b.addr.ip(),
            b_port = b.addr.port(),
        ),
    )
    .unwrap();
    // The reader is started first: it holds the FIFO open for reading all along.
    let lines = read_lines(fifo.clone());
    let log = std::fs::File::create(dir.0.join("daemon.log")).unwrap();
    let mut daemon = Daemon(
        Command::new(daemon_binary())
            .args(["--no-ipvs", "-n", "-l", "-p"])
            .arg(dir.0.join("k.pid"))
            .arg("-f")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let rs_a = format!("[{}]:tcp:{}", a.addr.ip(), a.addr.port());
    let vs = "[192.0.2.15]:tcp:80";
    let next = |what: &str| {
        lines
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| {
                let log = std::fs::read_to_string(dir.0.join("daemon.log")).unwrap_or_default();
                panic!("no fifo line while waiting for {what}; daemon log:\n{log}")
            })
    };
    // Both servers pass: no notification until one fails.
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        lines.try_recv().is_err(),
        "a notification while all servers are up"
    );
    a.stop();
    assert_eq!(next("RS DOWN"), format!("RS {rs_a} {vs} DOWN"));
    assert_eq!(next("VS DOWN"), format!("VS {vs} DOWN"));
    let a2 = Server::start(a.addr, HTTP_OK);
    assert_eq!(next("RS UP"), format!("RS {rs_a} {vs} UP"));
    assert_eq!(next("VS UP"), format!("VS {vs} UP"));
    drop(a2);
    // SIGTERM stops it cleanly.
    let pid = nix::unistd::Pid::from_raw(i32::try_from(daemon.0.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let mut waited = 0;
    let status = loop {
        if let Some(status) = daemon.0.try_wait().unwrap() {
            break status;
        }
        assert!(waited < 100, "the daemon ignored SIGTERM");
        waited += 1;
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    let log = std::fs::read_to_string(dir.0.join("daemon.log")).unwrap();
    assert!(log.contains("Stopped"), "{log}");
    assert!(log.contains("--no-ipvs"), "{log}");
    assert!(log.contains(&format!("RS {rs_a} {vs} DOWN")), "{log}");
}

#[test]
fn notify_fifo_receives_the_checker_lines_too() {
    let dir = Scratch::new("notify-fifo");
    // Nothing listens there: the real server goes down at its first check.
    let gone = TcpListener::bind("127.0.0.5:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let fifo = dir.0.join("notify.fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let conf = dir.0.join("keepalived.conf");
    std::fs::write(
        &conf,
        format!(
            "global_defs {{\n    notify_fifo {}\n}}\n\
             virtual_server fwmark 3 {{\n    delay_loop 0.1\n    warmup 0\n    retry 0\n    \
             real_server {} {} {{\n        TCP_CHECK\n    }}\n}}\n",
            fifo.display(),
            gone.ip(),
            gone.port()
        ),
    )
    .unwrap();
    let lines = read_lines(fifo);
    let _daemon = Daemon(
        Command::new(daemon_binary())
            .args(["--no-ipvs", "-n", "-p"])
            .arg(dir.0.join("k.pid"))
            .arg("-f")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let next = || lines.recv_timeout(Duration::from_secs(10)).unwrap();
    let rs = format!("[{}]:tcp:{}", gone.ip(), gone.port());
    assert_eq!(next(), format!("RS {rs} FWM 3 DOWN"));
    assert_eq!(next(), "VS FWM 3 DOWN");
}

#[test]
fn genhash_prints_the_md5_of_the_body() {
    let server = Server::start("127.0.0.4:0".parse().unwrap(), HTTP_OK);
    let out = Command::new(daemon_binary())
        .args(["--genhash", "-s", "127.0.0.4", "-p"])
        .arg(server.addr.port().to_string())
        .args(["-u", "/index.html", "-V", "www.example.org"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let expected = format!("{}\n", md5_hex(b"hello\n"));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);
    // Nothing listening: an error naming the server, and a failure status.
    let mut gone = server;
    gone.stop();
    let out = Command::new(daemon_binary())
        .args(["--genhash", "-s", "127.0.0.4", "-p"])
        .arg(gone.addr.port().to_string())
        .args(["-u", "/"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains(&format!("genhash: {}/: connection refused", gone.addr)),
        "{err}"
    );
}

/// `ha_suspend` in a network namespace of its own (root, `ip`): the checkers of a virtual
/// server whose address is on no interface make no connection; they start when the
/// address appears, keep running while a second interface still has it, and stop when the
/// last one loses it; a real server added by a SIGHUP reload while suspended starts
/// suspended too.
#[cfg(feature = "vrrp")]
mod ha_suspend {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Instant;

    use nix::sched::{CloneFlags, setns};
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;

    const VIP: &str = "203.0.113.10";

    /// A network namespace with a veth pair, deleted on drop.
    struct Netns(String);

    impl Netns {
        fn new() -> Netns {
            let name = format!("kc-hasusp-{}", std::process::id());
            let _ = Command::new("ip")
                .args(["netns", "del", &name])
                .stderr(Stdio::null())
                .status();
            let ns = Netns(name);
            ns.ip(&["netns", "add", &ns.0], false);
            ns.ip(&["link", "set", "lo", "up"], true);
            // A veth pair inside: the host kernel may have no dummy interfaces.
            ns.ip(
                &["link", "add", "d0", "type", "veth", "peer", "name", "d1"],
                true,
            );
            ns.ip(&["link", "set", "d0", "up"], true);
            ns.ip(&["link", "set", "d1", "up"], true);
            ns
        }

        /// Runs `ip ARGS`, inside the namespace when `inside`.
        fn ip(&self, args: &[&str], inside: bool) {
            let mut cmd = Command::new("ip");
            if inside {
                cmd.args(["-n", &self.0]);
            }
            let status = cmd.args(args).status().unwrap();
            assert!(status.success(), "ip {args:?} failed");
        }
    }

    impl Drop for Netns {
        fn drop(&mut self) {
            let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
        }
    }

    /// A listener on 127.0.0.1 inside the namespace that counts the connections it accepts.
    struct Counter {
        port: u16,
        accepted: Arc<AtomicUsize>,
        stop: Arc<AtomicBool>,
    }

    impl Counter {
        fn start(ns: &Netns) -> Counter {
            let path = Path::new("/run/netns").join(&ns.0);
            // A socket stays in the namespace it was made in.
            let listener = std::thread::spawn(move || {
                let file = std::fs::File::open(path).unwrap();
                setns(file, CloneFlags::CLONE_NEWNET).unwrap();
                TcpListener::bind("127.0.0.1:0").unwrap()
            })
            .join()
            .unwrap();
            listener.set_nonblocking(true).unwrap();
            let port = listener.local_addr().unwrap().port();
            let accepted = Arc::new(AtomicUsize::new(0));
            let stop = Arc::new(AtomicBool::new(false));
            let (count, flag) = (accepted.clone(), stop.clone());
            std::thread::spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok(_) => {
                            count.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            });
            Counter {
                port,
                accepted,
                stop,
            }
        }

        fn count(&self) -> usize {
            self.accepted.load(Ordering::SeqCst)
        }
    }

    impl Drop for Counter {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::Relaxed);
        }
    }

    fn conf(ports: &[u16]) -> String {
        let mut text = format!(
            "virtual_server {VIP} 80 {{\n    ha_suspend\n    delay_loop 0.1\n    warmup 0\n    \
             retry 0\n    connect_timeout 0.5\n"
        );
        for port in ports {
            text.push_str(&format!(
                "    real_server 127.0.0.1 {port} {{\n        TCP_CHECK {{\n        }}\n    }}\n"
            ));
        }
        text.push_str("}\n");
        text
    }

    /// Waits until the daemon's log has `count` lines containing `what`.
    fn wait_log(log: &Path, what: &str, count: usize) {
        let start = Instant::now();
        loop {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            if text.lines().filter(|l| l.contains(what)).count() >= count {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "no {count}× {what:?} in the log:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until `counter` has accepted more than `than` connections.
    fn wait_connections(counter: &Counter, than: usize) {
        let start = Instant::now();
        while counter.count() <= than {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "no connection from the checker"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Checks that `counter` sees no connection for a while.
    fn assert_quiet(counter: &Counter, what: &str) {
        let before = counter.count();
        std::thread::sleep(Duration::from_millis(800));
        assert_eq!(counter.count(), before, "connections while {what}");
    }

    #[test]
    fn checkers_follow_the_virtual_address() {
        if !testbed::privileged::require("ha_suspend", &["ip"]) {
            return;
        }
        let dir = Scratch::new("ha-suspend");
        let ns = Netns::new();
        let first = Counter::start(&ns);
        let second = Counter::start(&ns);
        let conf_path = dir.0.join("keepalived.conf");
        std::fs::write(&conf_path, conf(&[first.port])).unwrap();
        let log_path = dir.0.join("daemon.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let daemon = Daemon(
            Command::new("ip")
                .args(["netns", "exec", &ns.0])
                .arg(daemon_binary())
                .args(["--no-ipvs", "-n", "-l", "-p"])
                .arg(dir.0.join("k.pid"))
                .arg("-f")
                .arg(&conf_path)
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap(),
        );
        let vs = format!("[{VIP}]:tcp:80");
        let rs1 = format!("service [127.0.0.1]:tcp:{} for VS {vs}", first.port);
        let rs2 = format!("service [127.0.0.1]:tcp:{} for VS {vs}", second.port);
        wait_log(
            &log_path,
            &format!("Deactivating healthchecker for {rs1}"),
            1,
        );
        assert_quiet(&first, "the address is absent");
        let text = std::fs::read_to_string(&log_path).unwrap();
        assert!(
            !text.contains(" is Up") && !text.contains(" is Down"),
            "{text}"
        );

        // The address appears: the checks start.
        ns.ip(&["addr", "add", &format!("{VIP}/32"), "dev", "d0"], true);
        wait_log(&log_path, &format!("Activating healthchecker for {rs1}"), 1);
        wait_connections(&first, 0);
        // On a second interface too, then gone from the first: they go on.
        ns.ip(&["addr", "add", &format!("{VIP}/32"), "dev", "lo"], true);
        ns.ip(&["addr", "del", &format!("{VIP}/32"), "dev", "d0"], true);
        let seen = first.count();
        wait_connections(&first, seen + 2);
        // Gone from the last one: they stop.
        ns.ip(&["addr", "del", &format!("{VIP}/32"), "dev", "lo"], true);
        wait_log(&log_path, &format!("Suspending healthchecker for {rs1}"), 1);
        std::thread::sleep(Duration::from_millis(100));
        assert_quiet(&first, "suspended");
        let text = std::fs::read_to_string(&log_path).unwrap();
        assert_eq!(
            text.matches("Suspending healthchecker").count(),
            1,
            "suspended once, when the last interface lost it:\n{text}"
        );

        // A reload adds a real server: it starts suspended, like the first.
        std::fs::write(&conf_path, conf(&[first.port, second.port])).unwrap();
        let pid = Pid::from_raw(i32::try_from(daemon.0.id()).unwrap());
        kill(pid, Signal::SIGHUP).unwrap();
        wait_log(
            &log_path,
            &format!("Deactivating healthchecker for {rs2}"),
            1,
        );
        wait_log(
            &log_path,
            &format!("Deactivating healthchecker for {rs1}"),
            2,
        );
        assert_quiet(&second, "suspended after the reload");
        ns.ip(&["addr", "add", &format!("{VIP}/32"), "dev", "d0"], true);
        wait_log(&log_path, &format!("Activating healthchecker for {rs2}"), 1);
        wait_connections(&second, 0);
        let seen = first.count();
        wait_connections(&first, seen);
        drop(daemon);
    }
}
