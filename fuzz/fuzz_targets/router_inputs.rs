//! A sequence of arbitrary inputs (adverts built from the bytes, raw packets, timeouts at
//! advancing times, tracking, priority, link, I/O and group events, shutdown, startup) into
//! one `VirtualRouter` never panics and keeps its invariants; after every step a router in
//! Backup or Master has a timer armed. The driver is shared with the proptest
//! `vrrp-core/tests/router_inputs.rs`, which runs the same property in CI.
#![no_main]

use std::time::Instant;

use libfuzzer_sys::fuzz_target;

// The coverage counters are read by the proptest only.
#[allow(dead_code)]
#[path = "../../vrrp-core/tests/router_inputs/driver.rs"]
mod driver;

fuzz_target!(|data: &[u8]| {
    if let Err(violation) = driver::run(Instant::now(), data) {
        panic!("{violation}");
    }
});
