//! Small value types named after the RFC fields they carry.

use core::fmt;
use core::time::Duration;

use crate::error::ConfigError;

/// Virtual Router Identifier (RFC 9568 §5.2.3): 1..=255.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Vrid(u8);

impl Vrid {
    /// The smallest VRID.
    pub const MIN: Vrid = Vrid(1);

    /// Builds a VRID, rejecting 0 (RFC 9568 §5.2.3 reserves it).
    pub const fn new(value: u8) -> Option<Self> {
        if value == 0 { None } else { Some(Vrid(value)) }
    }

    /// The numeric value.
    pub const fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for Vrid {
    type Error = ConfigError;

    fn try_from(value: u8) -> Result<Self, Self::Error> {
        Vrid::new(value).ok_or(ConfigError::Vrid { value })
    }
}

impl fmt::Display for Vrid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Router priority (RFC 9568 §5.2.4). 255 is the address owner, 0 means "master stopping".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Priority(pub u8);

impl Priority {
    /// The IP address owner's priority.
    pub const OWNER: Priority = Priority(255);
    /// Sent by a master that stops participating (RFC 9568 §5.2.4).
    pub const STOP: Priority = Priority(0);
    /// RFC 9568 §6.1 default for backup routers.
    pub const DEFAULT: Priority = Priority(100);

    /// The numeric value.
    pub const fn get(self) -> u8 {
        self.0
    }

    /// True for the address owner (255).
    pub const fn is_owner(self) -> bool {
        self.0 == 255
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An interval in centiseconds, as carried by VRRPv3's 12-bit Max Adver Int field
/// (RFC 9568 §5.2.7). VRRPv2 intervals (whole seconds) are stored as multiples of 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Centisecs(u16);

impl Centisecs {
    /// The largest value the 12-bit field carries (40.95 s).
    pub const MAX_V3: Centisecs = Centisecs(0x0fff);
    /// RFC 9568 §6.1 default Advertisement_Interval (1 s).
    pub const ONE_SECOND: Centisecs = Centisecs(100);

    /// Wraps a raw centisecond count.
    pub const fn new(value: u16) -> Self {
        Centisecs(value)
    }

    /// Whole seconds as centiseconds (VRRPv2 Adver Int, RFC 3768 §5.3.7).
    pub const fn from_secs(secs: u8) -> Self {
        Centisecs(secs as u16 * 100)
    }

    /// The raw centisecond count.
    pub const fn get(self) -> u16 {
        self.0
    }

    /// As a [`Duration`].
    pub const fn as_duration(self) -> Duration {
        Duration::from_millis(self.0 as u64 * 10)
    }

    /// Microseconds, the unit timer arithmetic is done in.
    pub const fn as_micros(self) -> u64 {
        self.0 as u64 * 10_000
    }
}

impl fmt::Display for Centisecs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}s", self.0 / 100, self.0 % 100)
    }
}

/// VRRP protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// RFC 3768 (IPv4 only, whole-second intervals, optional simple-text authentication).
    V2,
    /// RFC 9568 (IPv4 and IPv6, centisecond intervals).
    V3,
}

impl Version {
    /// The value of the header's Version field.
    pub const fn number(self) -> u8 {
        match self {
            Version::V2 => 2,
            Version::V3 => 3,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.number())
    }
}

/// Address family of a virtual router.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// IPv4.
    V4,
    /// IPv6.
    V6,
}

impl Family {
    /// Length in bytes of one address of this family.
    pub const fn addr_len(self) -> usize {
        match self {
            Family::V4 => 4,
            Family::V6 => 16,
        }
    }

    /// Family of an address.
    pub const fn of(addr: &core::net::IpAddr) -> Self {
        match addr {
            core::net::IpAddr::V4(_) => Family::V4,
            core::net::IpAddr::V6(_) => Family::V6,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        })
    }
}

/// A virtual IP address with its prefix length, as installed on the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VirtualAddress {
    /// The address.
    pub address: core::net::IpAddr,
    /// Prefix length used when installing it (32 / 128 for a host address).
    pub prefix_len: u8,
}

impl VirtualAddress {
    /// A host address (/32 or /128).
    pub fn host(address: core::net::IpAddr) -> Self {
        let prefix_len = match address {
            core::net::IpAddr::V4(_) => 32,
            core::net::IpAddr::V6(_) => 128,
        };
        VirtualAddress {
            address,
            prefix_len,
        }
    }

    /// An address with an explicit prefix length.
    pub fn with_prefix(address: core::net::IpAddr, prefix_len: u8) -> Self {
        VirtualAddress {
            address,
            prefix_len,
        }
    }
}

impl fmt::Display for VirtualAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix_len)
    }
}
