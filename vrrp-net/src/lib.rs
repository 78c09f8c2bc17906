//! vrrp-net (under construction in this session).
