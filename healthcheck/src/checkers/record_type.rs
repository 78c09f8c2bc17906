//! The DNS query type of a [`super::DnsCheck`], our own type so that the DNS library
//! underneath stays an implementation detail.

use std::fmt;
use std::str::FromStr;

/// A DNS resource record type (RFC 1035 §3.2.2), as a query type (`QTYPE`).
///
/// Any 16-bit code is accepted ([`RecordType::from_code`]); the common ones have
/// constants and names. Parsing accepts those names case-insensitively, as
/// keepalived's `type` keyword does, and the generic `TYPEnnn` form of RFC 3597.
///
/// ```
/// use healthcheck::checkers::RecordType;
///
/// assert_eq!("soa".parse(), Ok(RecordType::SOA));
/// assert_eq!("TYPE65".parse::<RecordType>().map(RecordType::code), Ok(65));
/// assert_eq!(RecordType::AAAA.to_string(), "AAAA");
/// assert!("bogus".parse::<RecordType>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordType(u16);

/// Names and codes of the types with constants (IANA DNS parameters).
const NAMED: [(&str, u16); 15] = [
    ("A", 1),
    ("NS", 2),
    ("CNAME", 5),
    ("SOA", 6),
    ("PTR", 12),
    ("HINFO", 13),
    ("MX", 15),
    ("TXT", 16),
    ("AAAA", 28),
    ("SRV", 33),
    ("NAPTR", 35),
    ("DS", 43),
    ("DNSKEY", 48),
    ("CAA", 257),
    ("ANY", 255),
];

impl RecordType {
    /// An IPv4 address.
    pub const A: RecordType = RecordType(1);
    /// An authoritative name server.
    pub const NS: RecordType = RecordType(2);
    /// The canonical name of an alias.
    pub const CNAME: RecordType = RecordType(5);
    /// The start of a zone of authority (keepalived's default query type).
    pub const SOA: RecordType = RecordType(6);
    /// A domain name pointer.
    pub const PTR: RecordType = RecordType(12);
    /// Host information.
    pub const HINFO: RecordType = RecordType(13);
    /// A mail exchange.
    pub const MX: RecordType = RecordType(15);
    /// Text strings.
    pub const TXT: RecordType = RecordType(16);
    /// An IPv6 address.
    pub const AAAA: RecordType = RecordType(28);
    /// A service location.
    pub const SRV: RecordType = RecordType(33);
    /// A naming authority pointer.
    pub const NAPTR: RecordType = RecordType(35);
    /// A delegation signer.
    pub const DS: RecordType = RecordType(43);
    /// A DNSSEC public key.
    pub const DNSKEY: RecordType = RecordType(48);
    /// A certification authority authorization.
    pub const CAA: RecordType = RecordType(257);
    /// All records (`*`, QTYPE only).
    pub const ANY: RecordType = RecordType(255);

    /// The type with numeric code `code`.
    pub const fn from_code(code: u16) -> Self {
        RecordType(code)
    }

    /// The numeric code sent on the wire.
    pub const fn code(self) -> u16 {
        self.0
    }
}

impl fmt::Display for RecordType {
    /// The mnemonic (`SOA`), or RFC 3597's `TYPEnnn` for types without one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match NAMED.iter().find(|(_, code)| *code == self.0) {
            Some((name, _)) => f.write_str(name),
            None => write!(f, "TYPE{}", self.0),
        }
    }
}

/// A DNS record type name that is neither a known mnemonic nor `TYPEnnn`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown dns record type {0:?}")]
pub struct ParseRecordTypeError(String);

impl FromStr for RecordType {
    type Err = ParseRecordTypeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some((_, code)) = NAMED.iter().find(|(name, _)| name.eq_ignore_ascii_case(s)) {
            return Ok(RecordType(*code));
        }
        s.get(..4)
            .filter(|prefix| prefix.eq_ignore_ascii_case("TYPE"))
            .and_then(|_| s.get(4..))
            .filter(|digits| digits.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|digits| digits.parse::<u16>().ok())
            .map(RecordType)
            .ok_or_else(|| ParseRecordTypeError(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_round_trips_and_matches_the_dns_library() {
        for (name, code) in NAMED {
            let parsed = name.parse::<RecordType>();
            assert_eq!(parsed, Ok(RecordType(code)), "{name}");
            assert_eq!(RecordType(code).to_string(), name);
            let theirs = hickory_proto::rr::RecordType::from(code);
            assert_eq!(theirs.to_string(), name, "{code}");
        }
    }

    #[test]
    fn generic_form_and_garbage() {
        assert_eq!("type99".parse(), Ok(RecordType::from_code(99)));
        assert_eq!(RecordType::from_code(99).to_string(), "TYPE99");
        for bad in ["", "TYPE", "TYPE-1", "TYPE+1", "TYPE70000", "AAA", "ÄÄÄÄ"] {
            assert!(bad.parse::<RecordType>().is_err(), "{bad:?}");
        }
    }
}
