//! Consumers of [`crate::Event`]s.
