//! How a configuration is read: keepalived's command-line settings that change the text.

use std::path::Path;

use super::error::ConfError;
use super::model::KeepalivedConf;
use super::{parse, tree};

/// Settings for reading a configuration, for the functions beside [`crate::read`] that take
/// them:
///
/// ```
/// let conf = keepalived_conf::ReadOptions::new()
///     .config_id("lb1")
///     .parse_str("keepalived.conf", "@lb1 $PRIO=150\n@^lb1 $PRIO=100\n\
///         vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority $PRIO\n\
///         virtual_ipaddress {\n 192.0.2.100\n }\n}\n")
///     .unwrap();
/// assert_eq!(conf.instances[0].priority, 150);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReadOptions {
    /// keepalived's `-i` / `--config-id`: `@ID` lines are kept only when it is `ID`, `@^ID`
    /// lines only when it is not, and `${_INSTANCE}` is replaced by it. `None` (the
    /// default here) is no id: every `@ID` line is dropped, every `@^ID` line kept.
    /// keepalived's own default is the host name up to its first dot, which a daemon
    /// passes explicitly.
    pub config_id: Option<String>,
}

impl ReadOptions {
    /// No config id.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the config id (keepalived's `-i ID`).
    pub fn config_id(mut self, id: impl Into<String>) -> Self {
        self.config_id = Some(id.into());
        self
    }

    /// [`crate::read`] with these settings.
    pub fn read(&self, path: &Path) -> Result<KeepalivedConf, ConfError> {
        build(tree::read(path, self.config_id.as_deref())?)
    }

    /// [`crate::parse_str`] with these settings.
    pub fn parse_str(&self, name: &str, text: &str) -> Result<KeepalivedConf, ConfError> {
        build(tree::parse_str(
            name,
            text,
            tree::Includes::Follow,
            self.config_id.as_deref(),
        )?)
    }

    /// [`crate::parse_str_without_includes`] with these settings.
    pub fn parse_str_without_includes(
        &self,
        name: &str,
        text: &str,
    ) -> Result<KeepalivedConf, ConfError> {
        build(tree::parse_str(
            name,
            text,
            tree::Includes::Refuse,
            self.config_id.as_deref(),
        )?)
    }
}

/// The model of a tree, the preprocessing's warnings first.
fn build((nodes, mut warnings): tree::Tree) -> Result<KeepalivedConf, ConfError> {
    let mut conf = parse::conf(&nodes)?;
    warnings.append(&mut conf.warnings);
    conf.warnings = warnings;
    Ok(conf)
}
