//! Errors of the command-line values.

/// A command-line value that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SpecError {
    /// A backend is not `http://IP:PORT[/][,WEIGHT]`.
    #[error("backend {0:?} is not http://IP:PORT[,WEIGHT]")]
    Backend(String),
    /// A backend weight is not a whole number.
    #[error("backend weight {0:?} is not a whole number")]
    Weight(String),
    /// A duration is not a number with an optional `ms` or `s` unit.
    #[error("duration {0:?} is not a number followed by ms or s")]
    Duration(String),
}
