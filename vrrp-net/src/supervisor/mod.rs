//! Crash-safe handover: a supervisor process that carries out the protected process's last
//! will when that process dies without a graceful stop.
//!
//! When a master process dies (panic with `abort`, OOM kill, SIGKILL) while its host stays up,
//! its peers only notice after Master_Down_Interval (RFC 9568 §6.4.2: 3 × the advert interval
//! plus Skew_Time). A priority-0 advert means "the master stops participating" (RFC 9568
//! §6.4.3), and a backup hearing it takes over after Skew_Time alone. The supervisor sends
//! exactly that on the dead process's behalf, and removes its addresses.
//!
//! How it works:
//! - [`Supervisor::spawn`] forks a small child. The child keeps a pidfd of the protected
//!   process, raw sockets (IPv4 and IPv6, protocol 112, receiving nothing) and a
//!   NETLINK_ROUTE socket, closes every other descriptor, blocks every signal and waits.
//! - The protected process [`Supervisor::publish`]es a [`Will`] on every change: for each
//!   master, the priority-0 adverts its router would send on shutdown (already encoded and
//!   checksummed) and the RTM_DELADDR requests of its addresses. It is written into memory
//!   shared with the child (two slots, one published atomically), so the death path does no
//!   allocation, parsing of configuration or netlink lookup: a few `sendmsg` calls.
//! - The child wakes when the protected process has exited (its pidfd is readable) or when
//!   the `Supervisor` object is dropped without [`Supervisor::retire`] (a panicking driver
//!   task); a process that is only slow never wakes it. Unless a graceful stop disarmed it, it
//!   carries out the will and exits.
//! - A supervisor that dies disturbs nothing: [`Supervisor::exited`] reports it and the
//!   owner may spawn another (the driver does, once a second).
//!
//! The driver turns it on with [`crate::driver::DriverBuilder::crash_supervisor`]; programs
//! that own addresses some other way (an anycast VIP on `lo`) can use it directly.
//!
//! Limits: the supervisor shares the protected process's fate when the whole cgroup is
//! killed (`systemctl kill`, an OOM kill of a cgroup with `memory.oom.group`), and a host
//! crash takes both; peers then wait Master_Down_Interval as before. It keeps, copy-on-write,
//! the memory pages the protected process had when it was forked and has changed since.

mod child;
mod shared;
mod will;

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use socket2::{Domain, Protocol, SockFilter, Socket, Type};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use crate::error::SupervisorError;
use crate::transport::{IPPROTO_VRRP, VRRP_TTL};
use child::ChildFds;
use shared::Shared;
pub use will::Will;

/// Default room for a will: 64 KiB, about 600 masters with one address each.
pub const DEFAULT_CAPACITY: usize = 64 * 1024;

/// How long [`Supervisor::retire`] waits for the disarmed child to exit.
const RETIRE_WAIT: Duration = Duration::from_secs(1);

/// The protected process's side of a running supervisor (see the module docs).
#[derive(Debug)]
pub struct Supervisor {
    shared: Shared,
    /// Write end of the pipe the child polls; dropping it without disarming wakes the child.
    pipe: Option<OwnedFd>,
    /// A pidfd of the child, readable once it has exited.
    child: AsyncFd<OwnedFd>,
    pid: u32,
    /// How the child ended, once reaped.
    exit: Option<SupervisorExit>,
}

/// How a supervisor process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SupervisorExit {
    /// It exited with this status (0: nothing to do or everything sent; 1: some record was
    /// refused by the kernel; 2: it could not wait).
    Exited(i32),
    /// A signal killed it.
    Killed(i32),
    /// It is gone, but another part of the program reaped it (`waitpid(-1)`), so how it
    /// ended is not known.
    Unknown,
}

impl std::fmt::Display for SupervisorExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Exited(code) => write!(f, "exited with status {code}"),
            Self::Killed(signal) => write!(f, "killed by signal {signal}"),
            Self::Unknown => f.write_str("reaped elsewhere"),
        }
    }
}

impl Supervisor {
    /// Forks the supervisor with room for a [`Will`] of `capacity` bytes. Must be called
    /// inside a tokio runtime; needs `CAP_NET_RAW` and `CAP_NET_ADMIN` for the will to work.
    pub fn spawn(capacity: usize) -> Result<Self, SupervisorError> {
        let shared = Shared::new(capacity).map_err(SupervisorError::Memory)?;
        let raw4 = raw_socket(Domain::IPV4).ok();
        let raw6 = raw_socket(Domain::IPV6).ok();
        if raw4.is_none() && raw6.is_none() {
            return Err(SupervisorError::Socket(io::Error::last_os_error()));
        }
        let netlink = netlink_socket().map_err(SupervisorError::Socket)?;
        let (pipe_read, pipe_write) = pipe().map_err(SupervisorError::Spawn)?;
        let me = pidfd_open(std::process::id()).map_err(SupervisorError::Spawn)?;
        let fds = ChildFds {
            pipe: pipe_read.as_raw_fd(),
            parent: me.as_raw_fd(),
            raw4: raw4.as_ref().map_or(-1, AsRawFd::as_raw_fd),
            raw6: raw6.as_ref().map_or(-1, AsRawFd::as_raw_fd),
            netlink: netlink.as_raw_fd(),
        };
        // SAFETY: the child runs `child::main` only, which makes async-signal-safe system
        // calls on memory prepared above and never returns (it ends with `_exit`).
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            child::main(fds, &shared);
        }
        if pid < 0 {
            return Err(SupervisorError::Spawn(io::Error::last_os_error()));
        }
        // The child's copies are the ones that matter; ours close here.
        drop((pipe_read, me, raw4, raw6, netlink));
        let pid = pid.unsigned_abs();
        let child = pidfd_open(pid).map_err(SupervisorError::Spawn)?;
        // SAFETY: `child` owns its descriptor, which only this `AsyncFd` reaches from now on.
        let child = unsafe { AsyncFd::register_with_interest(child, Interest::READABLE) }
            .map_err(|e| SupervisorError::Spawn(io::Error::from(e)))?;
        tracing::debug!(pid, "crash supervisor started");
        Ok(Self {
            shared,
            pipe: Some(pipe_write),
            child,
            pid,
            exit: None,
        })
    }

    /// The supervisor's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Makes `will` what happens if this process dies from now on. A will larger than the
    /// capacity given to [`Supervisor::spawn`] is refused and the previous one stays.
    pub fn publish(&mut self, will: &Will) -> Result<(), SupervisorError> {
        self.shared
            .publish(will.bytes())
            .map_err(|size| SupervisorError::WillTooLarge {
                size,
                capacity: self.shared.capacity(),
            })
    }

    /// Waits until the supervisor process has exited (it should not before [`Supervisor::retire`]:
    /// something killed it) and reaps it.
    pub async fn exited(&mut self) -> SupervisorExit {
        loop {
            if let Some(exit) = self.try_reap() {
                return exit;
            }
            match self.child.readable().await {
                Ok(mut guard) => guard.clear_ready(),
                // The pidfd cannot fail to poll; if it did, nothing will ever be reported.
                Err(_) => std::future::pending::<()>().await,
            }
        }
    }

    /// Graceful stop: the will is not carried out, the supervisor exits and is reaped.
    pub async fn retire(mut self) {
        self.shared.disarm();
        self.pipe = None;
        if let Ok(exit) = tokio::time::timeout(RETIRE_WAIT, self.exited()).await {
            tracing::debug!(pid = self.pid, %exit, "crash supervisor retired");
        }
    }

    /// Reaps the child if it has exited.
    fn try_reap(&mut self) -> Option<SupervisorExit> {
        if self.exit.is_some() {
            return self.exit;
        }
        // SAFETY: `siginfo_t` is plain data filled by the kernel; the pidfd is ours.
        let (result, info) = unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            let r = libc::waitid(
                libc::P_PIDFD,
                self.child.get_ref().as_raw_fd() as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOHANG,
            );
            (r, info)
        };
        if result != 0 {
            // ECHILD: someone else's `waitpid(-1)` reaped it; the status is lost.
            if io::Error::last_os_error().raw_os_error() == Some(libc::ECHILD) {
                self.exit = Some(SupervisorExit::Unknown);
                return self.exit;
            }
            return None;
        }
        // SAFETY: waitid succeeded, so `si_pid` is valid (0 when the child still runs).
        if unsafe { info.si_pid() } == 0 {
            return None;
        }
        // SAFETY: `si_status` is valid for the CLD_* codes waitid reports.
        let status = unsafe { info.si_status() };
        self.exit = Some(if info.si_code == libc::CLD_EXITED {
            SupervisorExit::Exited(status)
        } else {
            SupervisorExit::Killed(status)
        });
        self.exit
    }
}

/// A raw socket for protocol 112 that only sends (a filter drops everything it would receive).
fn raw_socket(domain: Domain) -> io::Result<Socket> {
    let socket = Socket::new(
        domain,
        Type::RAW,
        Some(Protocol::from(i32::from(IPPROTO_VRRP))),
    )?;
    // BPF_RET | BPF_K with 0: accept no byte of any packet.
    socket.attach_filter(&[SockFilter::new(0x06, 0, 0, 0)])?;
    if domain == Domain::IPV4 {
        socket.set_multicast_ttl_v4(u32::from(VRRP_TTL))?;
        socket.set_ttl_v4(u32::from(VRRP_TTL))?;
        socket.set_multicast_loop_v4(false)?;
    } else {
        socket.set_multicast_hops_v6(u32::from(VRRP_TTL))?;
        socket.set_unicast_hops_v6(u32::from(VRRP_TTL))?;
        socket.set_multicast_loop_v6(false)?;
    }
    Ok(socket)
}

fn netlink_socket() -> io::Result<OwnedFd> {
    let socket = Socket::new(
        Domain::from(libc::AF_NETLINK),
        Type::RAW,
        Some(Protocol::from(libc::NETLINK_ROUTE)),
    )?;
    Ok(OwnedFd::from(socket))
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds: [RawFd; 2] = [-1; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded: both are fresh descriptors owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes plain integers and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = RawFd::try_from(fd).map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?;
    // SAFETY: the kernel just returned this descriptor to us alone.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}
