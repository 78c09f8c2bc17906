//! The probes: one [`crate::Check`] implementation per keepalived checker.
