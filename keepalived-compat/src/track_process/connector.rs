//! The kernel's process events connector (`NETLINK_CONNECTOR`, group `CN_IDX_PROC`, see
//! `linux/connector.h` and `linux/cn_proc.h`): one `proc_event` per netlink message.
//! Decoding is from bytes at fixed offsets, so the 4-byte misalignment of `proc_event`
//! after `nlmsghdr` and `cn_msg` needs no care; malformed messages are errors the caller
//! drops and counts.

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};

use nix::sys::socket::{MsgFlags, NetlinkAddr, bind, recvfrom, send};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::unix::AsyncFd;

/// `NETLINK_CONNECTOR` (`linux/netlink.h`).
const NETLINK_CONNECTOR: i32 = 11;
/// `CN_IDX_PROC`: the process events connector's index, and its multicast group.
pub(crate) const CN_IDX_PROC: u32 = 1;
/// `CN_VAL_PROC`.
pub(crate) const CN_VAL_PROC: u32 = 1;
/// `PROC_CN_MCAST_LISTEN`.
const PROC_CN_MCAST_LISTEN: u32 = 1;
/// `PROC_CN_MCAST_IGNORE`.
const PROC_CN_MCAST_IGNORE: u32 = 2;
/// `NLMSG_NOOP`.
const NLMSG_NOOP: u16 = 1;
/// `NLMSG_ERROR`.
const NLMSG_ERROR: u16 = 2;
/// `NLMSG_DONE`: the type of every connector message.
const NLMSG_DONE: u16 = 3;
/// `PROC_EVENT_NONE`: the acknowledgement of a listen request.
pub(crate) const PROC_EVENT_NONE: u32 = 0;
/// `PROC_EVENT_FORK`.
pub(crate) const PROC_EVENT_FORK: u32 = 0x1;
/// `PROC_EVENT_EXEC`.
pub(crate) const PROC_EVENT_EXEC: u32 = 0x2;
/// `PROC_EVENT_COMM`.
pub(crate) const PROC_EVENT_COMM: u32 = 0x200;
/// `PROC_EVENT_EXIT`.
pub(crate) const PROC_EVENT_EXIT: u32 = 0x8000_0000;

/// `sizeof(struct nlmsghdr)`.
const NLMSG_HDRLEN: usize = 16;
/// `sizeof(struct cn_msg)`.
const CN_MSG_LEN: usize = 20;
/// Offset of `proc_event.event_data` (after `what`, `cpu`, `timestamp_ns`).
const EVENT_DATA: usize = 16;
/// `sizeof(comm_proc_event.comm)`.
const COMM_LEN: usize = 16;

/// What a `proc_event` reports (only what process tracking needs; pids are tgids).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ProcEvent {
    /// `PROC_EVENT_NONE`: the kernel acknowledged the listen request.
    Ack,
    /// `PROC_EVENT_FORK` of a process (not a thread): `child` is a copy of `parent`.
    Fork {
        /// `parent_tgid`.
        parent: i32,
        /// `child_tgid`.
        child: i32,
    },
    /// `PROC_EVENT_EXEC` by a process's main thread.
    Exec {
        /// `process_tgid`.
        pid: i32,
    },
    /// `PROC_EVENT_COMM` (`prctl(PR_SET_NAME)`) of a process's main thread.
    Comm {
        /// `process_tgid`.
        pid: i32,
        /// The new `comm`.
        comm: Vec<u8>,
    },
    /// `PROC_EVENT_EXIT` of a process's main thread (the process ends).
    Exit {
        /// `process_tgid`.
        pid: i32,
    },
    /// Anything else: a thread's event, uid/gid/sid/ptrace/coredump changes.
    Ignored,
}

/// One decoded message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Message {
    /// `cn_msg.seq` (per CPU; a gap means lost messages).
    pub(crate) seq: u32,
    /// `proc_event.cpu`.
    pub(crate) cpu: u32,
    /// The event.
    pub(crate) event: ProcEvent,
}

/// Why a received datagram was dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DecodeError {
    /// Shorter than the headers its type needs.
    #[error("message of {len} bytes is too short for {what}")]
    Short {
        /// Bytes received.
        len: usize,
        /// What did not fit.
        what: &'static str,
    },
    /// `nlmsg_len` disagrees with the datagram.
    #[error("nlmsg_len {declared} does not fit the {len} bytes received")]
    Length {
        /// `nlmsg_len`.
        declared: u32,
        /// Bytes received.
        len: usize,
    },
    /// Not a connector message (`nlmsg_type`).
    #[error("unexpected netlink message type {0}")]
    Type(u16),
    /// From another connector than the process events one.
    #[error("connector message for {idx}:{val}, not the process events")]
    NotProc {
        /// `cn_msg.id.idx`.
        idx: u32,
        /// `cn_msg.id.val`.
        val: u32,
    },
    /// An acknowledgement that is not `PROC_EVENT_NONE`, or the reverse.
    #[error("proc_event {what:#x} with ack {ack}")]
    Ack {
        /// `proc_event.what`.
        what: u32,
        /// `cn_msg.ack`.
        ack: u32,
    },
}

fn u16_at(buf: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(buf.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(buf: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(buf.get(at..at + 4)?.try_into().ok()?))
}

fn i32_at(buf: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_ne_bytes(buf.get(at..at + 4)?.try_into().ok()?))
}

/// Decodes one datagram: `Ok(None)` for netlink's no-op and error messages (keepalived
/// skips them too).
pub(crate) fn decode(buf: &[u8]) -> Result<Option<Message>, DecodeError> {
    let short = |what| DecodeError::Short {
        len: buf.len(),
        what,
    };
    let declared = u32_at(buf, 0).ok_or(short("nlmsghdr"))?;
    let kind = u16_at(buf, 4).ok_or(short("nlmsghdr"))?;
    if buf.len() < NLMSG_HDRLEN {
        return Err(short("nlmsghdr"));
    }
    if (declared as usize) < NLMSG_HDRLEN || declared as usize > buf.len() {
        return Err(DecodeError::Length {
            declared,
            len: buf.len(),
        });
    }
    let buf = &buf[..declared as usize];
    match kind {
        NLMSG_NOOP | NLMSG_ERROR => return Ok(None),
        NLMSG_DONE => {}
        other => return Err(DecodeError::Type(other)),
    }
    let cn = NLMSG_HDRLEN;
    let (Some(idx), Some(val), Some(seq), Some(ack), Some(len)) = (
        u32_at(buf, cn),
        u32_at(buf, cn + 4),
        u32_at(buf, cn + 8),
        u32_at(buf, cn + 12),
        u16_at(buf, cn + 16),
    ) else {
        return Err(short("cn_msg"));
    };
    if idx != CN_IDX_PROC || val != CN_VAL_PROC {
        return Err(DecodeError::NotProc { idx, val });
    }
    let ev = cn + CN_MSG_LEN;
    let data = buf
        .get(ev..ev + usize::from(len))
        .ok_or(short("cn_msg.len"))?;
    let (Some(what), Some(cpu)) = (u32_at(data, 0), u32_at(data, 4)) else {
        return Err(short("proc_event"));
    };
    if (what == PROC_EVENT_NONE) != (ack != 0) {
        return Err(DecodeError::Ack { what, ack });
    }
    let pid = |at: usize| i32_at(data, EVENT_DATA + at).ok_or(short("event_data"));
    let event = match what {
        PROC_EVENT_NONE => ProcEvent::Ack,
        PROC_EVENT_FORK => {
            // A new thread has child_pid != child_tgid.
            let (parent, child_pid, child) = (pid(4)?, pid(8)?, pid(12)?);
            if child_pid == child {
                ProcEvent::Fork { parent, child }
            } else {
                ProcEvent::Ignored
            }
        }
        PROC_EVENT_EXEC | PROC_EVENT_EXIT | PROC_EVENT_COMM => {
            let (thread, process) = (pid(0)?, pid(4)?);
            if thread != process {
                ProcEvent::Ignored
            } else if what == PROC_EVENT_EXEC {
                ProcEvent::Exec { pid: process }
            } else if what == PROC_EVENT_EXIT {
                ProcEvent::Exit { pid: process }
            } else {
                let raw = data
                    .get(EVENT_DATA + 8..EVENT_DATA + 8 + COMM_LEN)
                    .ok_or(short("comm"))?;
                let end = raw.iter().position(|b| *b == 0).unwrap_or(raw.len());
                ProcEvent::Comm {
                    pid: process,
                    comm: raw[..end].to_vec(),
                }
            }
        }
        _ => ProcEvent::Ignored,
    };
    Ok(Some(Message { seq, cpu, event }))
}

/// The listen (or ignore) request: `nlmsghdr` + `cn_msg` + `enum proc_cn_mcast_op`.
pub(crate) fn listen_request(pid: u32, listen: bool) -> Vec<u8> {
    let total = NLMSG_HDRLEN + CN_MSG_LEN + 4;
    let mut out = Vec::with_capacity(total);
    // nlmsghdr: len, type, flags, seq, pid. `total` is 40.
    out.extend_from_slice(&(total as u32).to_ne_bytes());
    out.extend_from_slice(&NLMSG_DONE.to_ne_bytes());
    out.extend_from_slice(&0u16.to_ne_bytes());
    out.extend_from_slice(&0u32.to_ne_bytes());
    out.extend_from_slice(&pid.to_ne_bytes());
    // cn_msg: idx, val, seq, ack, len, flags.
    out.extend_from_slice(&CN_IDX_PROC.to_ne_bytes());
    out.extend_from_slice(&CN_VAL_PROC.to_ne_bytes());
    out.extend_from_slice(&0u32.to_ne_bytes());
    out.extend_from_slice(&0u32.to_ne_bytes());
    out.extend_from_slice(&4u16.to_ne_bytes());
    out.extend_from_slice(&0u16.to_ne_bytes());
    let op = if listen {
        PROC_CN_MCAST_LISTEN
    } else {
        PROC_CN_MCAST_IGNORE
    };
    out.extend_from_slice(&op.to_ne_bytes());
    out
}

#[derive(Debug)]
struct Fd(OwnedFd);

impl AsRawFd for Fd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

/// A subscribed process events socket. Dropping it unsubscribes.
#[derive(Debug)]
pub(crate) struct Connector {
    fd: AsyncFd<Fd>,
}

impl Connector {
    /// Opens a socket bound to `CN_IDX_PROC`, without asking for events yet. The socket
    /// stays in the network namespace it was made in: the kernel sends process events in
    /// the initial namespace only, so a daemon that changes namespace (`-s`) opens it
    /// before, as keepalived does.
    pub(crate) fn socket() -> io::Result<OwnedFd> {
        let socket = Socket::new(
            Domain::from(nix::libc::AF_NETLINK),
            Type::DGRAM,
            Some(Protocol::from(NETLINK_CONNECTOR)),
        )?;
        socket.set_nonblocking(true)?;
        let fd = OwnedFd::from(socket);
        // Port id 0: the kernel assigns one (keepalived uses its pid, which collides with
        // another netlink socket of the same process bound first).
        bind(fd.as_raw_fd(), &NetlinkAddr::new(0, CN_IDX_PROC)).map_err(io::Error::from)?;
        Ok(fd)
    }

    /// Asks the kernel to send process events on `fd` (from [`Connector::socket`]; needs
    /// `CAP_NET_ADMIN`, and `ECONNREFUSED` outside the initial network namespace).
    pub(crate) fn listen(fd: OwnedFd) -> io::Result<Self> {
        send(fd.as_raw_fd(), &listen_request(0, true), MsgFlags::empty())
            .map_err(io::Error::from)?;
        // See healthcheck's `FileWatch`: the `AsyncFd` owns the descriptor, so it cannot
        // be closed while registered.
        #[allow(deprecated)]
        let fd = AsyncFd::new(Fd(fd))?;
        Ok(Connector { fd })
    }

    /// Receives one datagram from the kernel into `buf`; returns its length. Datagrams
    /// from another sender (a process) are skipped.
    pub(crate) async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let mut guard = self.fd.readable().await?;
            let got = guard.try_io(|fd| {
                recvfrom::<NetlinkAddr>(fd.get_ref().as_raw_fd(), buf).map_err(io::Error::from)
            });
            match got {
                Ok(Ok((len, Some(from)))) if from.pid() == 0 => return Ok(len),
                Ok(Ok(_)) => continue,
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
            }
        }
    }
}

impl Drop for Connector {
    fn drop(&mut self) {
        let fd = self.fd.get_ref().0.as_fd();
        let _ = send(fd.as_raw_fd(), &listen_request(0, false), MsgFlags::empty());
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A message as the kernel builds it: nlmsghdr, cn_msg, proc_event.
    fn message(what: u32, ack: u32, data: &[i32], comm: &[u8]) -> Vec<u8> {
        let mut ev = Vec::new();
        ev.extend_from_slice(&what.to_ne_bytes());
        ev.extend_from_slice(&1u32.to_ne_bytes()); // cpu
        ev.extend_from_slice(&77u64.to_ne_bytes()); // timestamp_ns
        for d in data {
            ev.extend_from_slice(&d.to_ne_bytes());
        }
        let mut c = [0u8; COMM_LEN];
        c[..comm.len()].copy_from_slice(comm);
        if !comm.is_empty() {
            ev.extend_from_slice(&c);
        }
        ev.resize(EVENT_DATA + 24, 0); // the union is 24 bytes
        let mut out = listen_request(0, true);
        out.truncate(NLMSG_HDRLEN + CN_MSG_LEN);
        let total = (out.len() + ev.len()) as u32;
        out[0..4].copy_from_slice(&total.to_ne_bytes());
        out[28..32].copy_from_slice(&ack.to_ne_bytes());
        out[24..28].copy_from_slice(&9u32.to_ne_bytes()); // seq
        out[32..34].copy_from_slice(&(ev.len() as u16).to_ne_bytes());
        out.extend_from_slice(&ev);
        out
    }

    fn event(buf: &[u8]) -> ProcEvent {
        decode(buf).unwrap().unwrap().event
    }

    #[test]
    fn process_events_decode() {
        assert_eq!(
            event(&message(PROC_EVENT_NONE, 1, &[], &[])),
            ProcEvent::Ack
        );
        assert_eq!(
            event(&message(PROC_EVENT_FORK, 0, &[10, 10, 11, 11], &[])),
            ProcEvent::Fork {
                parent: 10,
                child: 11
            }
        );
        assert_eq!(
            event(&message(PROC_EVENT_EXEC, 0, &[12, 12], &[])),
            ProcEvent::Exec { pid: 12 }
        );
        assert_eq!(
            event(&message(PROC_EVENT_EXIT, 0, &[12, 12, 0, 9, 1, 1], &[])),
            ProcEvent::Exit { pid: 12 }
        );
        assert_eq!(
            event(&message(PROC_EVENT_COMM, 0, &[12, 12], b"worker")),
            ProcEvent::Comm {
                pid: 12,
                comm: b"worker".to_vec()
            }
        );
        let m = decode(&message(PROC_EVENT_EXEC, 0, &[12, 12], &[]))
            .unwrap()
            .unwrap();
        assert_eq!((m.seq, m.cpu), (9, 1));
    }

    #[test]
    fn thread_events_are_ignored() {
        // A new thread: child_pid (the thread) differs from child_tgid (its process).
        assert_eq!(
            event(&message(PROC_EVENT_FORK, 0, &[10, 10, 13, 11], &[])),
            ProcEvent::Ignored
        );
        assert_eq!(
            event(&message(PROC_EVENT_EXIT, 0, &[13, 11, 0, 0, 1, 1], &[])),
            ProcEvent::Ignored
        );
        assert_eq!(event(&message(0x4, 0, &[12, 12], &[])), ProcEvent::Ignored);
    }

    #[test]
    fn malformed_messages_are_errors() {
        let good = message(PROC_EVENT_EXEC, 0, &[12, 12], &[]);
        assert!(matches!(
            decode(&good[..10]),
            Err(DecodeError::Short { .. })
        ));
        assert!(matches!(
            decode(&good[..good.len() - 1]),
            Err(DecodeError::Length { .. })
        ));
        let mut bad = good.clone();
        bad[16..20].copy_from_slice(&2u32.to_ne_bytes()); // CN_IDX_CIFS
        assert_eq!(decode(&bad), Err(DecodeError::NotProc { idx: 2, val: 1 }));
        let mut bad = good.clone();
        bad[32..34].copy_from_slice(&200u16.to_ne_bytes()); // cn_msg.len past the end
        assert!(matches!(decode(&bad), Err(DecodeError::Short { .. })));
        let mut bad = good.clone();
        bad[28..32].copy_from_slice(&1u32.to_ne_bytes()); // an ack that is not NONE
        assert!(matches!(decode(&bad), Err(DecodeError::Ack { .. })));
        let mut bad = good.clone();
        bad[4..6].copy_from_slice(&16u16.to_ne_bytes());
        assert_eq!(decode(&bad), Err(DecodeError::Type(16)));
        let mut noop = good;
        noop[4..6].copy_from_slice(&NLMSG_NOOP.to_ne_bytes());
        assert_eq!(decode(&noop), Ok(None));
    }

    #[test]
    fn listen_request_layout() {
        let r = listen_request(42, false);
        assert_eq!(r.len(), 40);
        assert_eq!(u32_at(&r, 0), Some(40));
        assert_eq!(u16_at(&r, 4), Some(NLMSG_DONE));
        assert_eq!(u32_at(&r, 12), Some(42));
        assert_eq!((u32_at(&r, 16), u32_at(&r, 20)), (Some(1), Some(1)));
        assert_eq!(u16_at(&r, 32), Some(4));
        assert_eq!(u32_at(&r, 36), Some(PROC_CN_MCAST_IGNORE));
    }
}
