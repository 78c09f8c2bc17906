//! healthcheck (under construction in this session).
