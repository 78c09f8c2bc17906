//! `IpvsHandle::apply` when nothing has to change, on whatever IPVS state the kernel holds.
//!
//! `benches/ipvs/restore-bench.sh` runs it inside the IPVS test VM after restoring 1,000
//! services x 10 destinations; on a host without IPVS it prints why it is skipped.

use criterion::{Criterion, criterion_group, criterion_main};
use ipvs_sys::{Desired, DesiredService, IpvsHandle};

fn apply_noop(c: &mut Criterion) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return eprintln!("ipvs_apply: skipped: no tokio runtime: {e}"),
    };
    let ipvs = match rt.block_on(IpvsHandle::new()) {
        Ok(ipvs) => ipvs,
        Err(e) => return eprintln!("ipvs_apply: skipped: {e}"),
    };
    let state = match rt.block_on(ipvs.state()) {
        Ok(state) => state,
        Err(e) => return eprintln!("ipvs_apply: skipped: cannot read IPVS state: {e}"),
    };
    let dests: usize = state.iter().map(|(_, d)| d.len()).sum();
    let desired = Desired {
        services: state
            .into_iter()
            .map(|(service, destinations)| DesiredService {
                service,
                destinations,
            })
            .collect(),
    };
    match rt.block_on(ipvs.apply(&desired)) {
        Ok(changes) if changes.is_empty() => {}
        Ok(changes) => {
            return eprintln!(
                "ipvs_apply: not a no-op: {} changes",
                changes.commands.len()
            );
        }
        Err(e) => return eprintln!("ipvs_apply: apply failed: {e}"),
    }
    let name = format!(
        "apply_noop/{}_services_{dests}_destinations",
        desired.services.len()
    );
    c.bench_function(&name, |b| b.iter(|| rt.block_on(ipvs.apply(&desired))));
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = apply_noop
}
criterion_main!(benches);
