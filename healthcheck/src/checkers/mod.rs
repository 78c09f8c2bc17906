//! The probes: one [`crate::Check`] implementation per keepalived checker.
//!
//! Every checker takes its connect address explicitly: pass the target's own
//! address, or another one for keepalived's `connect_ip`/`connect_port`.
//!
//! [`TcpCheck`] is always built; every other checker is behind the feature of its
//! name (`http`, `tls`, `dns`, `smtp`, `udp`, `icmp`, `program`, `file`), so a program
//! compiles and links only the probes it uses.

mod connect;
#[cfg(feature = "dns")]
mod dns;
#[cfg(feature = "file")]
mod file;
#[cfg(feature = "http")]
mod http;
#[cfg(feature = "icmp")]
mod icmp;
#[cfg(feature = "program")]
mod program;
#[cfg(feature = "dns")]
mod record_type;
#[cfg(feature = "smtp")]
mod smtp;
mod tcp;
#[cfg(feature = "tls")]
mod tls;
#[cfg(feature = "udp")]
mod udp;

#[cfg(feature = "dns")]
pub use dns::DnsCheck;
#[cfg(feature = "file")]
pub use file::{FAULT_LEVEL, FileCheck};
#[cfg(feature = "http")]
pub use http::{DEFAULT_MAX_BODY, HttpCheck, Url};
#[cfg(feature = "icmp")]
pub use icmp::IcmpCheck;
#[cfg(feature = "program")]
pub use program::ProgramCheck;
#[cfg(feature = "dns")]
pub use record_type::{ParseRecordTypeError, RecordType};
#[cfg(feature = "smtp")]
pub use smtp::SmtpCheck;
pub use tcp::TcpCheck;
#[cfg(feature = "tls")]
pub use tls::{RootCerts, TlsClient, Verify};
#[cfg(feature = "udp")]
pub use udp::{HexPattern, ReplyRule, UdpCheck};
