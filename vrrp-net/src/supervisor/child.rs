//! The supervisor process: what runs in the child after `fork`.
//!
//! The child of a multi-threaded process may only make async-signal-safe calls: everything
//! here is a direct system call on memory prepared before the fork (file descriptors, the
//! shared mapping, stack buffers). No allocation, no lock, no formatting, no panic path, and
//! it ends with `_exit` (no destructor of the parent's objects runs here).

use std::mem::{size_of, zeroed};
use std::os::fd::RawFd;

use super::shared::Shared;
use super::will::{KIND_ADVERT_V4, KIND_ADVERT_V6, KIND_NETLINK, Record, Records};

/// The descriptors the supervisor keeps; every other one is closed at its start (it must not
/// hold the parent's listening sockets, pipes or epoll instances).
#[derive(Debug, Clone, Copy)]
pub(super) struct ChildFds {
    /// Read end of the pipe whose write end only the protected [`super::Supervisor`] holds:
    /// end of file means the supervisor object (or the whole process) is gone.
    pub(super) pipe: RawFd,
    /// A pidfd of the protected process: readable once it has exited.
    pub(super) parent: RawFd,
    /// Raw IPv4 socket for protocol 112, or -1.
    pub(super) raw4: RawFd,
    /// Raw IPv6 socket for protocol 112, or -1.
    pub(super) raw6: RawFd,
    /// NETLINK_ROUTE socket, or -1.
    pub(super) netlink: RawFd,
}

/// The supervisor's whole life: wait for the protected process (or its supervisor object)
/// to go, then carry out the published will unless a graceful stop disarmed it.
pub(super) fn main(fds: ChildFds, shared: &Shared) -> ! {
    // SAFETY (whole function): only system calls on descriptors this process owns and on
    // stack memory; see the module docs.
    unsafe {
        // Signals aimed at the service (the terminal's SIGINT, systemd's SIGTERM to the whole
        // cgroup) must not stop the supervisor: it ends with the protected process.
        let mut all: libc::sigset_t = zeroed();
        libc::sigfillset(&mut all);
        libc::sigprocmask(libc::SIG_SETMASK, &all, std::ptr::null_mut());
        libc::prctl(libc::PR_SET_NAME, c"vrrp-supervisor".as_ptr(), 0, 0, 0);
        close_all_but(&[fds.pipe, fds.parent, fds.raw4, fds.raw6, fds.netlink]);

        let mut polled = [
            libc::pollfd {
                fd: fds.pipe,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: fds.parent,
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        loop {
            let ready = libc::poll(polled.as_mut_ptr(), 2, -1);
            if ready > 0 {
                break;
            }
            if ready < 0 && *libc::__errno_location() != libc::EINTR {
                // Cannot wait any more: a will carried out while the process lives would
                // take its addresses away, so give up quietly instead.
                libc::_exit(2);
            }
        }
        if shared.disarmed() {
            libc::_exit(0);
        }
        let mut failed = 0u8;
        for record in Records::new(shared.published()) {
            if !carry_out(&fds, &record) {
                failed = failed.saturating_add(1);
            }
        }
        libc::_exit(i32::from(failed.min(1)));
    }
}

/// Closes every descriptor from 3 up that is not in `keep`.
///
/// # Safety
/// Only for the freshly forked child: it closes descriptors other code may still hold.
unsafe fn close_all_but(keep: &[RawFd]) {
    let mut sorted = [-1; 5];
    let n = keep.len().min(sorted.len());
    sorted[..n].copy_from_slice(&keep[..n]);
    sorted.sort_unstable();
    let mut from: libc::c_uint = 3;
    for &fd in &sorted {
        let Ok(fd) = libc::c_uint::try_from(fd) else {
            continue;
        };
        if fd < from {
            continue;
        }
        if fd > from {
            // SAFETY: see the function's contract; close_range takes plain integers.
            unsafe { libc::syscall(libc::SYS_close_range, from, fd - 1, 0) };
        }
        from = fd.saturating_add(1);
    }
    // SAFETY: as above.
    unsafe { libc::syscall(libc::SYS_close_range, from, libc::c_uint::MAX, 0) };
}

/// Sends one record; `false` when the kernel refused it.
///
/// # Safety
/// `fds` are descriptors this process owns.
unsafe fn carry_out(fds: &ChildFds, record: &Record<'_>) -> bool {
    // SAFETY: forwarded contract; each call only reads `record` and stack buffers.
    unsafe {
        match record.kind {
            KIND_ADVERT_V4 if fds.raw4 >= 0 => send_v4(fds.raw4, record),
            KIND_ADVERT_V6 if fds.raw6 >= 0 => send_v6(fds.raw6, record),
            KIND_NETLINK if fds.netlink >= 0 => {
                let mut kernel: libc::sockaddr_nl = zeroed();
                kernel.nl_family = libc::AF_NETLINK as libc::sa_family_t;
                let sent = libc::sendto(
                    fds.netlink,
                    record.payload.as_ptr().cast(),
                    record.payload.len(),
                    0,
                    (&raw const kernel).cast(),
                    size_of::<libc::sockaddr_nl>() as libc::socklen_t,
                );
                sent >= 0
            }
            _ => false,
        }
    }
}

/// Room for two control messages of up to 20 bytes of data each, 8-byte aligned.
#[repr(C, align(8))]
struct Control([u8; 128]);

/// Sends an IPv4 advert: source and interface through `IP_PKTINFO`, TTL through `IP_TTL`.
///
/// # Safety
/// `fd` is a raw IPv4 socket this process owns.
unsafe fn send_v4(fd: RawFd, record: &Record<'_>) -> bool {
    // SAFETY: plain-old-data structures on the stack; the cmsg macros walk `control`, which
    // is large enough for both messages (checked against `CMSG_SPACE` below).
    unsafe {
        let mut to: libc::sockaddr_in = zeroed();
        to.sin_family = libc::AF_INET as libc::sa_family_t;
        to.sin_addr.s_addr =
            u32::from_ne_bytes([record.dst[0], record.dst[1], record.dst[2], record.dst[3]]);
        let mut info: libc::in_pktinfo = zeroed();
        info.ipi_ifindex = record.ifindex as libc::c_int;
        info.ipi_spec_dst.s_addr =
            u32::from_ne_bytes([record.src[0], record.src[1], record.src[2], record.src[3]]);
        let ttl = libc::c_int::from(record.ttl);
        let space = libc::CMSG_SPACE(size_of::<libc::in_pktinfo>() as u32)
            + libc::CMSG_SPACE(size_of::<libc::c_int>() as u32);
        send(
            fd,
            record.payload,
            (&raw const to).cast(),
            size_of::<libc::sockaddr_in>(),
            space as usize,
            &[
                (
                    libc::IPPROTO_IP,
                    libc::IP_PKTINFO,
                    (&raw const info).cast(),
                    size_of::<libc::in_pktinfo>(),
                ),
                (
                    libc::IPPROTO_IP,
                    libc::IP_TTL,
                    (&raw const ttl).cast(),
                    size_of::<libc::c_int>(),
                ),
            ],
        )
    }
}

/// Sends an IPv6 advert: source and interface through `IPV6_PKTINFO`, hop limit through
/// `IPV6_HOPLIMIT`; link-local and multicast destinations carry the interface as scope.
///
/// # Safety
/// `fd` is a raw IPv6 socket this process owns.
unsafe fn send_v6(fd: RawFd, record: &Record<'_>) -> bool {
    // SAFETY: as in `send_v4`.
    unsafe {
        let mut to: libc::sockaddr_in6 = zeroed();
        to.sin6_family = libc::AF_INET6 as libc::sa_family_t;
        to.sin6_addr.s6_addr = record.dst;
        let multicast = record.dst[0] == 0xff;
        let link_local = record.dst[0] == 0xfe && record.dst[1] & 0xc0 == 0x80;
        if multicast || link_local {
            to.sin6_scope_id = record.ifindex;
        }
        let mut info: libc::in6_pktinfo = zeroed();
        info.ipi6_addr.s6_addr = record.src;
        info.ipi6_ifindex = record.ifindex;
        let hops = libc::c_int::from(record.ttl);
        let space = libc::CMSG_SPACE(size_of::<libc::in6_pktinfo>() as u32)
            + libc::CMSG_SPACE(size_of::<libc::c_int>() as u32);
        send(
            fd,
            record.payload,
            (&raw const to).cast(),
            size_of::<libc::sockaddr_in6>(),
            space as usize,
            &[
                (
                    libc::IPPROTO_IPV6,
                    libc::IPV6_PKTINFO,
                    (&raw const info).cast(),
                    size_of::<libc::in6_pktinfo>(),
                ),
                (
                    libc::IPPROTO_IPV6,
                    libc::IPV6_HOPLIMIT,
                    (&raw const hops).cast(),
                    size_of::<libc::c_int>(),
                ),
            ],
        )
    }
}

/// One control message: level, type, data and its length.
type Cmsg = (libc::c_int, libc::c_int, *const u8, usize);

/// `sendmsg` of `payload` to `to` with `cmsgs`, whose `CMSG_SPACE`s add up to `space`.
///
/// # Safety
/// `to` points to `to_len` bytes of a socket address; each cmsg's data pointer to its length.
unsafe fn send(
    fd: RawFd,
    payload: &[u8],
    to: *const libc::c_void,
    to_len: usize,
    space: usize,
    cmsgs: &[Cmsg],
) -> bool {
    let mut control = Control([0; 128]);
    if space > control.0.len() {
        return false;
    }
    // SAFETY: `msg` points at live stack data for the duration of the call; the cmsg macros
    // stay within `control` because `space` (their total) fits in it.
    unsafe {
        let mut iov = libc::iovec {
            iov_base: payload.as_ptr().cast_mut().cast(),
            iov_len: payload.len(),
        };
        let mut msg: libc::msghdr = zeroed();
        msg.msg_name = to.cast_mut();
        msg.msg_namelen = to_len as libc::socklen_t;
        msg.msg_iov = &raw mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.0.as_mut_ptr().cast();
        msg.msg_controllen = space;
        let mut cmsg = libc::CMSG_FIRSTHDR(&raw const msg);
        for &(level, kind, data, len) in cmsgs {
            if cmsg.is_null() {
                return false;
            }
            (*cmsg).cmsg_level = level;
            (*cmsg).cmsg_type = kind;
            (*cmsg).cmsg_len = libc::CMSG_LEN(len as u32) as usize;
            std::ptr::copy_nonoverlapping(data, libc::CMSG_DATA(cmsg), len);
            cmsg = libc::CMSG_NXTHDR(&raw const msg, cmsg);
        }
        libc::sendmsg(fd, &raw const msg, libc::MSG_DONTWAIT) == payload.len() as isize
    }
}
