//! The probes: one [`crate::Check`] implementation per keepalived checker.
//!
//! Every checker takes its connect address explicitly: pass the target's own
//! address, or another one for keepalived's `connect_ip`/`connect_port`.

mod connect;
mod dns;
mod file;
mod http;
mod icmp;
mod program;
mod smtp;
mod tcp;
mod tls;
mod udp;

pub use dns::DnsCheck;
pub use file::{FAULT_LEVEL, FileCheck};
pub use hickory_proto::rr::RecordType;
pub use http::{DEFAULT_MAX_BODY, HttpCheck, Url};
pub use icmp::IcmpCheck;
pub use program::ProgramCheck;
pub use rustls::RootCertStore;
pub use smtp::SmtpCheck;
pub use tcp::TcpCheck;
pub use tls::{TlsClient, Verify};
pub use udp::{HexPattern, ReplyRule, UdpCheck};
