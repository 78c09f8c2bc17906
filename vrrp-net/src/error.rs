//! Errors of the network glue, one enum per concern.

use std::io;
use std::net::IpAddr;

/// A transport (raw VRRP socket) failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// Opening or configuring the socket failed.
    #[error("cannot open a vrrp socket on interface {ifname}")]
    Open {
        /// The interface the socket was for.
        ifname: String,
        /// What the kernel said.
        #[source]
        source: io::Error,
    },
    /// Sending an advertisement failed.
    #[error("cannot send an advertisement to {dst}")]
    Send {
        /// The destination address.
        dst: IpAddr,
        /// What the kernel said.
        #[source]
        source: io::Error,
    },
    /// Receiving failed.
    #[error("cannot receive on interface index {ifindex}")]
    Receive {
        /// The interface index of the socket.
        ifindex: u32,
        /// What the kernel said.
        #[source]
        source: io::Error,
    },
    /// The source address family does not match the destination's.
    #[error("source {src} and destination {dst} are of different families")]
    FamilyMismatch {
        /// Source address.
        src: IpAddr,
        /// Destination address.
        dst: IpAddr,
    },
    /// The in-memory LAN was dropped.
    #[error("the in-memory lan is gone")]
    Closed,
}

/// A failure to resolve or watch an interface.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// No interface with that name exists.
    #[error("no interface named {0}")]
    NoSuchInterface(String),
    /// No interface with that index exists.
    #[error("no interface with index {0}")]
    NoSuchIndex(u32),
    /// The interface has no address of the wanted kind.
    #[error("interface {ifname} has no {what} address")]
    NoAddress {
        /// The interface.
        ifname: String,
        /// Which address was looked for ("ipv4", "ipv6 link-local").
        what: &'static str,
    },
    /// A netlink request failed.
    #[error("netlink request for {what} failed")]
    Netlink {
        /// What was asked.
        what: String,
        /// What the kernel said.
        #[source]
        source: NetlinkError,
    },
    /// The netlink socket could not be opened.
    #[error("cannot open a netlink socket")]
    Io(#[source] io::Error),
}

/// A failed netlink request: the kernel's errno when it answered with one, and the message.
/// Our own type, so the public errors do not change with the netlink crates' versions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct NetlinkError {
    errno: Option<i32>,
    message: String,
}

impl NetlinkError {
    /// The positive errno the kernel answered with (`EEXIST`, `ENODEV`...), if it did.
    pub fn errno(&self) -> Option<i32> {
        self.errno
    }

    /// An error that did not come from the kernel.
    pub(crate) fn other(message: impl Into<String>) -> Self {
        Self {
            errno: None,
            message: message.into(),
        }
    }
}

impl From<rtnetlink::Error> for NetlinkError {
    fn from(e: rtnetlink::Error) -> Self {
        let errno = match &e {
            rtnetlink::Error::NetlinkError(m) => Some(-m.raw_code()),
            _ => None,
        };
        Self {
            errno,
            message: e.to_string(),
        }
    }
}

/// A failure to add or remove a virtual address.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VipError {
    /// The kernel refused to add the address.
    #[error("cannot add {addr}/{prefix_len} on interface index {ifindex}")]
    Add {
        /// The address.
        addr: IpAddr,
        /// Its prefix length.
        prefix_len: u8,
        /// The interface index.
        ifindex: u32,
        /// What the kernel said.
        #[source]
        source: NetlinkError,
    },
    /// The kernel refused to remove the address.
    #[error("cannot remove {addr}/{prefix_len} from interface index {ifindex}")]
    Remove {
        /// The address.
        addr: IpAddr,
        /// Its prefix length.
        prefix_len: u8,
        /// The interface index.
        ifindex: u32,
        /// What the kernel said.
        #[source]
        source: NetlinkError,
    },
    /// Listing the interface's addresses failed.
    #[error("cannot list the addresses of interface index {ifindex}")]
    List {
        /// The interface index.
        ifindex: u32,
        /// What the kernel said.
        #[source]
        source: NetlinkError,
    },
    /// The label is longer than IFNAMSIZ - 1 or does not start with the interface name.
    #[error("label {0:?} is invalid (at most 15 bytes)")]
    BadLabel(String),
    /// The point-to-point peer is not of the address's family.
    #[error("peer {peer} of {addr} is not of the same address family")]
    BadPeer {
        /// The address.
        addr: IpAddr,
        /// Its peer.
        peer: IpAddr,
    },
    /// The netlink socket could not be opened.
    #[error("cannot open a netlink socket")]
    Io(#[source] io::Error),
    /// The firewall refused to block or unblock the address (Accept_Mode false).
    #[error("cannot enforce no_accept for {addr}")]
    Firewall {
        /// The address.
        addr: IpAddr,
        /// What the firewall said.
        #[source]
        source: FirewallError,
    },
    /// A backend other than the kernel's failed (a program's own [`crate::vip::VipBackend`]).
    #[error("the address backend failed for {addr}")]
    Backend {
        /// The address.
        addr: IpAddr,
        /// The backend's own error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// A failure to set up or change the nftables rules (see [`crate::firewall`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FirewallError {
    /// The table name is not a plain identifier.
    #[error("nftables table name {0:?} must be a letter then letters, digits or '_'")]
    TableName(String),
    /// An interface name that cannot be put in a rule.
    #[error("interface name {0:?} cannot be used in an nftables rule")]
    InterfaceName(String),
    /// `nft` could not be run.
    #[error("cannot run {program}")]
    Spawn {
        /// The program.
        program: String,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// `nft` refused the change.
    #[error("nftables: cannot {action} in table {table}: {stderr}")]
    Refused {
        /// What was being done.
        action: &'static str,
        /// The table.
        table: String,
        /// What `nft` printed.
        stderr: String,
    },
}

/// A failure to send a gratuitous ARP or unsolicited neighbour advertisement.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnnounceError {
    /// The AF_PACKET socket could not be opened or bound.
    #[error("cannot open a packet socket on interface index {ifindex}")]
    Open {
        /// The interface index.
        ifindex: u32,
        /// What the kernel said.
        #[source]
        source: io::Error,
    },
    /// Sending the frame failed.
    #[error("cannot send an announcement for {addr}")]
    Send {
        /// The address being announced.
        addr: IpAddr,
        /// What the kernel said.
        #[source]
        source: io::Error,
    },
}

/// A failure to create or remove a virtual MAC interface.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VmacError {
    /// The interface name is too long.
    #[error("interface name {0:?} is longer than 15 bytes")]
    BadName(String),
    /// The netlink request failed.
    #[error("cannot {action} macvlan {name}")]
    Netlink {
        /// "create", "remove", "find".
        action: &'static str,
        /// The macvlan's name.
        name: String,
        /// What the kernel said.
        #[source]
        source: NetlinkError,
    },
    /// The netlink socket could not be opened.
    #[error("cannot open a netlink socket")]
    Io(#[source] io::Error),
    /// Setting a sysctl of the macvlan failed.
    #[error("cannot set {path}")]
    Sysctl {
        /// The /proc/sys path.
        path: String,
        /// What the kernel said.
        #[source]
        source: io::Error,
    },
    /// The firewall could not be told to keep the macvlan silent.
    #[error(transparent)]
    Firewall(#[from] FirewallError),
}

/// A failure to build or talk to a [`crate::driver::Driver`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// The core refused an instance's configuration.
    #[error("instance {instance}: invalid configuration")]
    Config {
        /// The instance name.
        instance: String,
        /// What the core said.
        #[source]
        source: vrrp_core::ConfigError,
    },
    /// Two instances have the same name.
    #[error("instance {0} is defined twice")]
    DuplicateInstance(String),
    /// A sync group or handle call names an instance that does not exist.
    #[error("no instance named {0}")]
    UnknownInstance(String),
    /// Sync-group members are added and removed through `Handle::reconcile`, with their
    /// group.
    #[error("instance {0} is a sync group member: change it through reconcile")]
    SyncGroupMember(String),
    /// No instance tracks an object of this name.
    #[error("no instance tracks an object named {0}")]
    UnknownTrack(String),
    /// An interface could not be resolved or watched.
    #[error(transparent)]
    Link(#[from] LinkError),
    /// A socket could not be opened.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The VIP backend could not be set up.
    #[error(transparent)]
    Vip(#[from] VipError),
    /// An announcement socket could not be opened.
    #[error(transparent)]
    Announce(#[from] AnnounceError),
    /// A virtual MAC interface could not be created.
    #[error(transparent)]
    Vmac(#[from] VmacError),
    /// The firewall could not be set up.
    #[error(transparent)]
    Firewall(#[from] FirewallError),
    /// The driver's timer could not be created.
    #[error("cannot create the driver's timerfd")]
    Timer(#[source] io::Error),
    /// The driver's own thread or its runtime could not be started
    /// ([`crate::driver::DriverBuilder::spawn_thread`]).
    #[error("cannot start the driver's thread")]
    Runtime(#[source] io::Error),
    /// The crash supervisor could not be started.
    #[error(transparent)]
    Supervisor(#[from] SupervisorError),
    /// The driver has stopped; the handle has nobody to talk to.
    #[error("the driver has stopped")]
    Stopped,
}

/// A failure of the crash supervisor ([`crate::supervisor::Supervisor`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SupervisorError {
    /// The memory shared with the supervisor could not be mapped.
    #[error("cannot map the memory shared with the crash supervisor")]
    Memory(#[source] io::Error),
    /// Neither a raw IPv4 nor a raw IPv6 socket, or no netlink socket, could be opened
    /// (CAP_NET_RAW / CAP_NET_ADMIN missing?).
    #[error("cannot open the crash supervisor's sockets")]
    Socket(#[source] io::Error),
    /// The supervisor process could not be created.
    #[error("cannot start the crash supervisor process")]
    Spawn(#[source] io::Error),
    /// A will did not fit the shared memory; the previous will stays in force.
    #[error("the crash supervisor's will needs {size} bytes, it has room for {capacity}")]
    WillTooLarge {
        /// Bytes the will needs.
        size: usize,
        /// Bytes a will may have.
        capacity: usize,
    },
}
