//! vrrp-core
