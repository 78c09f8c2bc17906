//! Configuration errors and warnings, each naming the file, line and keyword.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// Where a word of the configuration came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file (after following `include`).
    pub file: Arc<PathBuf>,
    /// 1-based line number.
    pub line: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// A configuration the daemon refuses to run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfError {
    /// A keyword has a missing or malformed value, or a required keyword is missing.
    #[error("{loc}: {keyword}: {message}")]
    Invalid {
        /// Where.
        loc: Location,
        /// The keyword (or section) at fault.
        keyword: String,
        /// What is wrong, naming the offending value.
        message: String,
    },
    /// A file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// Braces do not balance.
    #[error("{loc}: unbalanced braces: {message}")]
    Braces {
        /// Where.
        loc: Location,
        /// What is wrong.
        message: String,
    },
    /// `include` nests too deep (a loop).
    #[error("{loc}: include: nesting deeper than {depth} files (an include loop?)")]
    IncludeDepth {
        /// Where.
        loc: Location,
        /// The limit.
        depth: usize,
    },
}

impl ConfError {
    pub(crate) fn invalid(loc: &Location, keyword: &str, message: impl Into<String>) -> Self {
        Self::Invalid {
            loc: loc.clone(),
            keyword: keyword.to_owned(),
            message: message.into(),
        }
    }
}

/// Something in the file this daemon does not act on: reported, never silently dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfWarning {
    /// Where.
    pub loc: Location,
    /// The keyword.
    pub keyword: String,
    /// Why it is ignored.
    pub message: String,
}

impl fmt::Display for ConfWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.loc, self.keyword, self.message)
    }
}
