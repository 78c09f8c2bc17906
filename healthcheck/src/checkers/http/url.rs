//! One URL of an HTTP check and the rules its response must follow.

use crate::{ConfigError, Reason};
use http::Uri;
use std::ops::RangeInclusive;

/// The default bound on a body read for a digest or a regex: 1 MiB.
pub const DEFAULT_MAX_BODY: usize = 1 << 20;

/// One URL of an HTTP check and what its response must look like.
#[derive(Debug, Clone)]
pub struct Url {
    pub(super) path: String,
    status: Vec<RangeInclusive<u16>>,
    pub(super) digest: Option<[u8; 16]>,
    #[cfg(feature = "regex")]
    regex: Option<regex::bytes::Regex>,
}

impl Url {
    /// `path` is the request target (`/health`, `/status?full`), expected to answer
    /// with a status in 200-299.
    pub fn new(path: &str) -> Result<Self, ConfigError> {
        let valid = path.starts_with('/') && path.parse::<Uri>().is_ok();
        if !valid {
            return Err(ConfigError::UrlPath(path.to_owned()));
        }
        Ok(Url {
            path: path.to_owned(),
            status: vec![200..=299],
            digest: None,
            #[cfg(feature = "regex")]
            regex: None,
        })
    }

    /// Replaces the accepted status codes (keepalived's `status_code`).
    pub fn status(
        mut self,
        ranges: impl IntoIterator<Item = RangeInclusive<u16>>,
    ) -> Result<Self, ConfigError> {
        self.status.clear();
        for r in ranges {
            if r.is_empty() || *r.start() < 100 || *r.end() > 599 {
                return Err(ConfigError::StatusRange(*r.start(), *r.end()));
            }
            self.status.push(r);
        }
        Ok(self)
    }

    /// Requires the MD5 of the body to equal `hex` (32 hexadecimal digits, as printed
    /// by keepalived's `genhash`). The digest covers the body after transfer decoding
    /// (a chunked body is hashed without its chunk framing), up to the read bound.
    pub fn digest(mut self, hex: &str) -> Result<Self, ConfigError> {
        self.digest = Some(parse_digest(hex).ok_or_else(|| ConfigError::Digest(hex.to_owned()))?);
        Ok(self)
    }

    /// Requires the body to match `regex` (keepalived's `regex`; feature `regex`).
    #[cfg(feature = "regex")]
    pub fn regex(mut self, regex: regex::bytes::Regex) -> Self {
        self.regex = Some(regex);
        self
    }

    /// Whether `status` is one of the accepted codes.
    pub(super) fn accepts(&self, status: u16) -> bool {
        self.status.iter().any(|r| r.contains(&status))
    }

    /// Whether the body must be read (for a digest or a regex).
    pub(super) fn reads_body(&self) -> bool {
        self.digest.is_some() || self.keeps_body()
    }

    /// Whether the body must be kept in memory (for a regex).
    pub(super) fn keeps_body(&self) -> bool {
        #[cfg(feature = "regex")]
        if self.regex.is_some() {
            return true;
        }
        false
    }

    /// Applies the regex, if any, to the whole body.
    pub(super) fn match_body(&self, body: &[u8]) -> Result<(), Reason> {
        #[cfg(feature = "regex")]
        if let Some(regex) = &self.regex
            && !regex.is_match(body)
        {
            return Err(Reason::BodyMismatch(regex.as_str().to_owned()));
        }
        #[cfg(not(feature = "regex"))]
        let _ = body;
        Ok(())
    }
}

fn parse_digest(hex: &str) -> Option<[u8; 16]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 32 || !bytes.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let s = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}

pub(super) fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn digest_parses_genhash_output_and_rejects_garbage() {
        let d = parse_digest("9e107d9d372bb6826bd81d3542a419d6");
        assert_eq!(
            d.map(|d| to_hex(&d)).as_deref(),
            Some("9e107d9d372bb6826bd81d3542a419d6")
        );
        assert!(parse_digest("9e107d9d372bb6826bd81d3542a419d").is_none());
        assert!(parse_digest("zz107d9d372bb6826bd81d3542a419d6").is_none());
        assert!(parse_digest("+e107d9d372bb6826bd81d3542a419d6").is_none());
    }

    #[test]
    fn url_config_errors_name_the_value() {
        assert_eq!(
            Url::new("health").err().map(|e| e.to_string()).as_deref(),
            Some("url path \"health\" is not a valid request target")
        );
        #[allow(clippy::reversed_empty_ranges)]
        let bad = Url::new("/").and_then(|u| u.status([300..=200]));
        assert_eq!(
            bad.err().map(|e| e.to_string()).as_deref(),
            Some("status range 300-200 is empty or outside 100-599")
        );
    }
}
