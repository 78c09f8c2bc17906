//! keepalived's `FILE_CHECK` (a `track_file` on a real server): an integer in a file,
//! times a weight.

use crate::{Check, Outcome, Reason, Weight};
use async_trait::async_trait;
use std::path::PathBuf;
use tokio::io::AsyncReadExt;
use tokio::time::Instant;

/// Longest file content read; a tracked file holds one integer.
const MAX_FILE: u64 = 64;
/// At or below this weighted value the check fails (keepalived's fault level).
pub const FAULT_LEVEL: i64 = -254;

/// Reads the file on every probe round: value × weight at or below
/// [`FAULT_LEVEL`] is down, anything else up; with [`FileCheck::dynamic`] the
/// weighted value is added to the target's weight.
#[derive(Debug, Clone)]
pub struct FileCheck {
    path: PathBuf,
    weight: i64,
    dynamic: bool,
}

impl FileCheck {
    /// Tracks `path` with weight 1.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileCheck {
            path: path.into(),
            weight: 1,
            dynamic: false,
        }
    }

    /// The multiplier (keepalived's `weight W`; `weight W reverse` is `-W`).
    pub fn weight(mut self, weight: i64) -> Self {
        self.weight = weight;
        self
    }

    /// Adds the weighted value to the target's weight while up.
    pub fn dynamic(mut self) -> Self {
        self.dynamic = true;
        self
    }

    async fn value(&self) -> Result<i64, Reason> {
        let file = tokio::fs::File::open(&self.path)
            .await
            .map_err(|e| Reason::File(format!("{}: {}", self.path.display(), e.kind())))?;
        let mut text = String::new();
        file.take(MAX_FILE)
            .read_to_string(&mut text)
            .await
            .map_err(|e| Reason::File(format!("{}: {}", self.path.display(), e.kind())))?;
        let trimmed = text.trim();
        trimmed.parse::<i64>().map_err(|_| {
            Reason::File(format!(
                "{}: {trimmed:?} is not an integer",
                self.path.display()
            ))
        })
    }
}

#[async_trait]
impl Check for FileCheck {
    async fn check(&self, _deadline: Instant) -> Outcome {
        let value = match self.value().await {
            Ok(v) => v.saturating_mul(self.weight),
            Err(reason) => return Outcome::Down(reason),
        };
        if value <= FAULT_LEVEL {
            Outcome::Down(Reason::FileValue(value))
        } else if self.dynamic {
            Outcome::Up(Weight::Offset(value))
        } else {
            Outcome::UP
        }
    }
}
