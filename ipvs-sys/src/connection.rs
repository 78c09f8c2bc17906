//! One generic netlink socket speaking to the IPVS family: framing, sequence numbers, acks,
//! dumps, and pipelined batches.

use std::io;

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NetlinkBuffer, NetlinkHeader,
    NetlinkMessage, NetlinkPayload, NlasIterator, parse_u16,
};
use netlink_packet_generic::GenlMessage;
use netlink_packet_generic::ctrl::nlas::GenlCtrlAttrs;
use netlink_packet_generic::ctrl::{GenlCtrl, GenlCtrlCmd};
use netlink_sys::{Socket, protocols::NETLINK_GENERIC};
use tokio::io::unix::AsyncFd;

use crate::error::Error;
use crate::message::IpvsMessage;

/// `CTRL_ATTR_FAMILY_ID` of the generic netlink controller.
const CTRL_ATTR_FAMILY_ID: u16 = 1;
/// `GENL_HDRLEN`.
const GENL_HDRLEN: usize = 4;
/// Receive buffer: the kernel's dump chunks are at most 32 KiB.
const RX_BUF: usize = 64 * 1024;
/// Requests sent in one datagram (and acks awaited) by [`Connection::batch`].
const WINDOW: usize = 128;
/// `SO_RCVBUF` asked for, so a window of acks always fits.
const SO_RCVBUF: usize = 1 << 20;

/// How a request failed: an errno from the kernel, or something local.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The kernel answered with this (positive) errno.
    Errno(i32),
    /// The exchange itself failed.
    Local(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Local(e)
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Local(Error::Io(e))
    }
}

/// A reply or acknowledgement read from the socket.
enum Reply {
    Message(u32, IpvsMessage),
    Ack(u32, i32),
    Done(u32, i32),
}

pub(crate) struct Connection {
    socket: AsyncFd<Socket>,
    family_id: u16,
    seq: u32,
    rx: Vec<u8>,
}

impl Connection {
    /// Binds `socket` (a `NETLINK_GENERIC` socket, in whatever namespace it was opened) and
    /// resolves the IPVS family on it.
    pub(crate) async fn new(mut socket: Socket) -> Result<Self, Error> {
        socket.set_non_blocking(true)?;
        socket.bind_auto()?;
        socket.set_cap_ack(true)?;
        // A smaller buffer only limits how many acks may wait; not fatal.
        let _ = socket.set_rx_buf_sz(SO_RCVBUF);
        // `AsyncFd::new` is deprecated in favour of the unsafe `register`, whose contract is
        // that the fd stays open and the same while registered: `Socket` owns its fd, closes
        // it only when dropped, and is moved into the `AsyncFd` here, so the contract holds.
        #[allow(deprecated)]
        let socket = AsyncFd::new(socket)?;
        let mut conn = Connection {
            socket,
            family_id: 0,
            seq: 0,
            rx: Vec::new(),
        };
        conn.family_id = conn.resolve_family().await?;
        Ok(conn)
    }

    /// Opens a `NETLINK_GENERIC` socket in the calling thread's network namespace.
    pub(crate) fn open_socket() -> io::Result<Socket> {
        Socket::new(NETLINK_GENERIC)
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    async fn resolve_family(&mut self) -> Result<u16, Error> {
        let ctrl = GenlCtrl {
            cmd: GenlCtrlCmd::GetFamily,
            nlas: vec![GenlCtrlAttrs::FamilyName("IPVS".to_owned())],
        };
        let seq = self.next_seq();
        let mut msg = NetlinkMessage::from(GenlMessage::from_payload(ctrl));
        msg.header.flags = NLM_F_REQUEST | NLM_F_ACK;
        msg.header.sequence_number = seq;
        msg.finalize();
        let mut buf = vec![0; msg.buffer_len()];
        msg.serialize(&mut buf);
        self.send(&buf).await?;
        let mut family = None;
        loop {
            self.recv().await?;
            let mut off = 0;
            while off < self.rx.len() {
                let nl = NetlinkBuffer::new_checked(&self.rx[off..])?;
                let len = nl.length() as usize;
                let (kind, this_seq) = (nl.message_type(), nl.sequence_number());
                let payload = nl.payload();
                off += aligned(len);
                if this_seq != seq {
                    continue;
                }
                match kind {
                    NLMSG_ERROR => {
                        let code = errno_of(payload)?;
                        return match (code, family) {
                            (0, Some(id)) => Ok(id),
                            (0, None) => Err(Error::NoReply {
                                op: "resolve family IPVS".into(),
                            }),
                            (2, _) => Err(Error::NotLoaded),
                            (1 | 13, _) => Err(Error::PermissionDenied {
                                op: "resolve family IPVS".into(),
                            }),
                            (e, _) => Err(Error::Kernel {
                                op: "resolve family IPVS".into(),
                                source: io::Error::from_raw_os_error(e),
                            }),
                        };
                    }
                    _ if payload.len() >= GENL_HDRLEN => {
                        for nla in NlasIterator::new(&payload[GENL_HDRLEN..]) {
                            let nla = nla?;
                            if nla.kind() == CTRL_ATTR_FAMILY_ID {
                                family = Some(parse_u16(nla.value())?);
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    fn encode(&mut self, msg: IpvsMessage, flags: u16, out: &mut Vec<u8>) -> u32 {
        let seq = self.next_seq();
        let mut genl = GenlMessage::from_payload(msg);
        genl.set_resolved_family_id(self.family_id);
        let mut header = NetlinkHeader::default();
        header.flags = flags;
        header.sequence_number = seq;
        let mut nl = NetlinkMessage::new(header, NetlinkPayload::from(genl));
        nl.finalize();
        let start = out.len();
        out.resize(start + nl.buffer_len(), 0);
        nl.serialize(&mut out[start..]);
        seq
    }

    async fn send(&self, buf: &[u8]) -> io::Result<()> {
        loop {
            let mut guard = self.socket.writable().await?;
            match guard.try_io(|s| s.get_ref().send(buf, 0)) {
                Ok(result) => return result.map(|_| ()),
                Err(_would_block) => continue,
            }
        }
    }

    async fn recv(&mut self) -> io::Result<()> {
        self.rx.clear();
        self.rx.reserve(RX_BUF);
        loop {
            let mut guard = self.socket.readable().await?;
            let rx = &mut self.rx;
            match guard.try_io(|s| s.get_ref().recv(rx, 0)) {
                Ok(result) => return result.map(|_| ()),
                Err(_would_block) => continue,
            }
        }
    }

    /// Reads one datagram and returns the replies in it.
    async fn read_replies(&mut self) -> Result<Vec<Reply>, Error> {
        self.recv().await?;
        let mut replies = Vec::new();
        let mut off = 0;
        while off < self.rx.len() {
            let nl = NetlinkBuffer::new_checked(&self.rx[off..])?;
            let len = nl.length() as usize;
            let seq = nl.sequence_number();
            let msg =
                NetlinkMessage::<GenlMessage<IpvsMessage>>::deserialize(&self.rx[off..off + len])?;
            off += aligned(len);
            replies.push(match msg.payload {
                NetlinkPayload::InnerMessage(genl) => Reply::Message(seq, genl.payload),
                NetlinkPayload::Error(e) => Reply::Ack(seq, e.raw_code().abs()),
                NetlinkPayload::Done(d) => Reply::Done(seq, d.code.abs()),
                _ => continue,
            });
        }
        Ok(replies)
    }

    /// Sends one request and waits for its acknowledgement; returns any reply messages.
    pub(crate) async fn request(&mut self, msg: IpvsMessage) -> Result<Vec<IpvsMessage>, Failure> {
        let mut buf = Vec::new();
        let seq = self.encode(msg, NLM_F_REQUEST | NLM_F_ACK, &mut buf);
        self.send(&buf).await?;
        let mut out = Vec::new();
        loop {
            for reply in self.read_replies().await? {
                match reply {
                    Reply::Message(s, m) if s == seq => out.push(m),
                    Reply::Ack(s, 0) if s == seq => return Ok(out),
                    Reply::Ack(s, e) | Reply::Done(s, e) if s == seq => {
                        return Err(Failure::Errno(e));
                    }
                    _ => {}
                }
            }
        }
    }

    /// Sends a dump request and collects every reply until `NLMSG_DONE`.
    pub(crate) async fn dump(&mut self, msg: IpvsMessage) -> Result<Vec<IpvsMessage>, Failure> {
        let mut buf = Vec::new();
        let seq = self.encode(msg, NLM_F_REQUEST | NLM_F_DUMP, &mut buf);
        self.send(&buf).await?;
        let mut out = Vec::new();
        loop {
            for reply in self.read_replies().await? {
                match reply {
                    Reply::Message(s, m) if s == seq => out.push(m),
                    Reply::Done(s, 0) if s == seq => return Ok(out),
                    Reply::Ack(s, e) | Reply::Done(s, e) if s == seq && e != 0 => {
                        return Err(Failure::Errno(e));
                    }
                    _ => {}
                }
            }
        }
    }

    /// Sends a dump request and hands the attributes of each reply (the bytes after the
    /// generic netlink header) to `each`, until `NLMSG_DONE`. Nothing is decoded beyond the
    /// netlink header: see [`crate::raw`].
    pub(crate) async fn dump_raw(
        &mut self,
        msg: IpvsMessage,
        mut each: impl FnMut(&[u8]) -> Result<(), Error>,
    ) -> Result<(), Failure> {
        let mut buf = Vec::new();
        let seq = self.encode(msg, NLM_F_REQUEST | NLM_F_DUMP, &mut buf);
        self.send(&buf).await?;
        loop {
            self.recv().await?;
            let mut off = 0;
            while off < self.rx.len() {
                let nl = NetlinkBuffer::new_checked(&self.rx[off..]).map_err(Error::from)?;
                let len = nl.length() as usize;
                let (kind, this_seq) = (nl.message_type(), nl.sequence_number());
                let payload = nl.payload();
                off += aligned(len);
                if this_seq != seq {
                    continue;
                }
                match kind {
                    NLMSG_DONE => {
                        return match errno_of(payload)? {
                            0 => Ok(()),
                            e => Err(Failure::Errno(e)),
                        };
                    }
                    NLMSG_ERROR => match errno_of(payload)? {
                        0 => {}
                        e => return Err(Failure::Errno(e)),
                    },
                    k if k == self.family_id => each(payload.get(GENL_HDRLEN..).unwrap_or(&[]))?,
                    _ => {}
                }
            }
        }
    }

    /// Sends requests [`WINDOW`] at a time, several per datagram, and returns each one's
    /// errno (0 for success) in order. The kernel handles every request of a datagram even
    /// when one fails.
    pub(crate) async fn batch(&mut self, msgs: Vec<IpvsMessage>) -> Result<Vec<i32>, Error> {
        let mut results = Vec::with_capacity(msgs.len());
        let mut msgs = msgs.into_iter().peekable();
        let mut buf = Vec::new();
        while msgs.peek().is_some() {
            buf.clear();
            let first = self.seq.wrapping_add(1);
            let mut count = 0usize;
            for msg in msgs.by_ref().take(WINDOW) {
                self.encode(msg, NLM_F_REQUEST | NLM_F_ACK, &mut buf);
                count += 1;
            }
            self.send(&buf).await?;
            let mut window = vec![None; count];
            let mut pending = count;
            while pending > 0 {
                for reply in self.read_replies().await? {
                    if let Reply::Ack(s, e) = reply {
                        let i = s.wrapping_sub(first) as usize;
                        if i < count && window[i].is_none() {
                            window[i] = Some(e);
                            pending -= 1;
                        }
                    }
                }
            }
            results.extend(window.into_iter().map(|e| e.unwrap_or(0)));
        }
        Ok(results)
    }
}

fn aligned(len: usize) -> usize {
    (len + 3) & !3
}

/// The errno of an `NLMSG_ERROR` payload (positive; 0 for an ack).
fn errno_of(payload: &[u8]) -> Result<i32, Error> {
    let raw: [u8; 4] = payload
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .ok_or(Error::Missing { what: "error code" })?;
    Ok(i32::from_ne_bytes(raw).abs())
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("family_id", &self.family_id)
            .finish_non_exhaustive()
    }
}
