//! Helpers shared by the example programs.

pub mod keepalived_conf;
