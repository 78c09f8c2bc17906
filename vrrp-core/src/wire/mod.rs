//! The VRRP wire format: zero-copy [`Packet`] views and the [`AdvertRepr`] representation.

mod auth;
mod checksum;
mod packet;
mod repr;

pub use auth::{AUTH_NONE, AUTH_SIMPLE_TEXT, Auth, Password};
pub use checksum::{ChecksumContext, ChecksumMode, IPPROTO_VRRP};
pub use packet::{AUTH_DATA_LEN, HEADER_LEN, Packet, TYPE_ADVERTISEMENT};
pub use repr::{AddressIter, AddressList, AdvertRepr};
