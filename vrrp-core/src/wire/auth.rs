//! VRRPv2 authentication (RFC 2338 §5.3.6; RFC 3768 §5.3.6 keeps the field for compatibility).
//!
//! Only "no authentication" (0) and "simple text password" (1) are spoken. Other types are kept
//! as [`Auth::Unknown`] by the parser and rejected by policy in the receive path, never by the
//! parser itself.

use core::fmt;

use super::packet::AUTH_DATA_LEN;

/// Auth Type 0.
pub const AUTH_NONE: u8 = 0;
/// Auth Type 1: simple text password.
pub const AUTH_SIMPLE_TEXT: u8 = 1;

/// A simple-text password: up to 8 bytes, zero padded (RFC 2338 §5.3.10).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Password([u8; AUTH_DATA_LEN]);

impl Password {
    /// Builds a password from at most 8 bytes, or `None` when longer.
    pub fn new(text: &[u8]) -> Option<Self> {
        if text.len() > AUTH_DATA_LEN {
            return None;
        }
        let mut data = [0; AUTH_DATA_LEN];
        data[..text.len()].copy_from_slice(text);
        Some(Password(data))
    }

    /// Wraps raw authentication data as received.
    pub const fn from_data(data: [u8; AUTH_DATA_LEN]) -> Self {
        Password(data)
    }

    /// The 8 bytes carried on the wire.
    pub const fn data(&self) -> &[u8; AUTH_DATA_LEN] {
        &self.0
    }

    /// Compares in time independent of where the first difference is.
    pub fn ct_eq(&self, other: &Password) -> bool {
        let diff = self
            .0
            .iter()
            .zip(other.0.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        core::hint::black_box(diff) == 0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(..)")
    }
}

/// Authentication carried by a VRRPv2 advertisement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Auth {
    /// Type 0 (also what VRRPv3 implies).
    #[default]
    None,
    /// Type 1, simple text password.
    SimpleText(Password),
    /// Any other type (2 was IP Authentication Header), with the data as received.
    Unknown {
        /// The Auth Type value.
        auth_type: u8,
        /// The Authentication Data as received.
        data: [u8; AUTH_DATA_LEN],
    },
}

impl Auth {
    /// The Auth Type field value.
    pub const fn auth_type(&self) -> u8 {
        match self {
            Auth::None => AUTH_NONE,
            Auth::SimpleText(_) => AUTH_SIMPLE_TEXT,
            Auth::Unknown { auth_type, .. } => *auth_type,
        }
    }

    /// The Authentication Data field value.
    pub fn data(&self) -> [u8; AUTH_DATA_LEN] {
        match self {
            Auth::None => [0; AUTH_DATA_LEN],
            Auth::SimpleText(p) => *p.data(),
            Auth::Unknown { data, .. } => *data,
        }
    }

    /// Builds from the wire fields.
    pub fn from_wire(auth_type: u8, data: [u8; AUTH_DATA_LEN]) -> Self {
        match auth_type {
            AUTH_NONE => Auth::None,
            AUTH_SIMPLE_TEXT => Auth::SimpleText(Password::from_data(data)),
            auth_type => Auth::Unknown { auth_type, data },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_longer_than_eight_bytes_is_rejected() {
        assert!(Password::new(b"123456789").is_none());
        assert!(Password::new(b"12345678").is_some());
    }

    #[test]
    fn password_compare_is_exact() {
        let a = Password::new(b"secret").unwrap_or_else(|| unreachable!());
        let b = Password::new(b"secreT").unwrap_or_else(|| unreachable!());
        assert!(a.ct_eq(&a));
        assert!(!a.ct_eq(&b));
    }
}
