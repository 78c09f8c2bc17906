//! ipvs-sys (under construction in this session).
