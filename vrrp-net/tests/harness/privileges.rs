//! The skip rule: privileged tests print why they cannot run and return, unless
//! `REQUIRE_PRIVILEGED_TESTS=1`, in which case that is a failure (see [`testbed::privileged`]).

pub use testbed::privileged::require;
