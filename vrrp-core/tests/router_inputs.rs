//! Arbitrary input sequences into one router never panic and keep its invariants (see
//! `router_inputs/driver.rs`). The same driver is the `router_inputs` cargo-fuzz target; this
//! proptest runs it in CI.
// An `Instant` is only an epoch here: the router sees times derived from it.
#![allow(clippy::disallowed_methods)]

#[path = "router_inputs/driver.rs"]
mod driver;

use std::time::Instant;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};

fn inputs() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..1024)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn arbitrary_inputs_keep_the_router_invariants(data in inputs()) {
        if let Err(violation) = driver::run(Instant::now(), &data) {
            prop_assert!(false, "{violation}");
        }
    }
}

/// The property above would hold vacuously if random bytes never got a router anywhere:
/// the same generator must drive routers into Master, Backup and Fault and feed them adverts.
#[test]
fn random_inputs_reach_every_state_and_the_state_machine() {
    let mut runner = TestRunner::new(Config::default());
    let (mut master, mut backup, mut fault, mut adverts, mut runs) = (0, 0, 0, 0, 0);
    for _ in 0..500 {
        let data = inputs().new_tree(&mut runner).map(|t| t.current());
        let Ok(data) = data else { continue };
        let Ok(coverage) = driver::run(Instant::now(), &data) else {
            continue;
        };
        if coverage.steps == 0 {
            continue;
        }
        runs += 1;
        master += usize::from(coverage.master);
        backup += usize::from(coverage.backup);
        fault += usize::from(coverage.fault);
        adverts += coverage.adverts;
    }
    println!(
        "{runs} runs: master in {master}, backup in {backup}, fault in {fault}; {adverts} adverts accepted"
    );
    assert!(
        runs > 250,
        "only {runs} of 500 inputs gave a valid configuration"
    );
    assert!(
        master * 4 > runs,
        "master reached in {master} of {runs} runs"
    );
    assert!(
        backup * 4 > runs,
        "backup reached in {backup} of {runs} runs"
    );
    assert!(fault * 10 > runs, "fault reached in {fault} of {runs} runs");
    assert!(adverts > runs, "{adverts} adverts accepted in {runs} runs");
}
