//! The cost of one PIN hash (= one verification) with the parameters new
//! hashes use, and with a few neighbours for comparison:
//! `cargo bench -p expenzez-security --bench pin_hash`.

use criterion::{criterion_group, criterion_main, Criterion};
use expenzez_security::pin::{Pin, PinHasher, M_COST_KIB, P_COST, T_COST};
use std::time::Duration;

fn bench(c: &mut Criterion) {
    let pin = Pin::parse("48213").unwrap();
    let mut g = c.benchmark_group("pin_hash");
    g.sample_size(20).measurement_time(Duration::from_secs(4));
    for (m, t) in [(M_COST_KIB, T_COST), (M_COST_KIB, 3), (46 * 1024, 1), (64 * 1024, 3)] {
        let h = PinHasher::new(m, t, P_COST).unwrap();
        let stored = h.hash(&pin);
        let label = format!("m={m}KiB,t={t},p={P_COST}{}", if (m, t) == (M_COST_KIB, T_COST) { " (chosen)" } else { "" });
        g.bench_function(format!("verify {label}"), |b| b.iter(|| h.verify(&pin, &stored).unwrap()));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
