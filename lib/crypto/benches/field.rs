//! Encrypt and decrypt of one field with a warm data-key cache (local key
//! provider, so it runs offline; with KMS the warm path is the same code).
//!
//!     cargo bench -p expenzez-crypto --bench field

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use expenzez_crypto::{CacheSettings, FieldCipher, FieldContext, LocalKeyProvider};
use expenzez_domain::SystemClock;
use std::hint::black_box;
use std::sync::Arc;

fn fields(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let cipher = FieldCipher::new(Arc::new(LocalKeyProvider::random()), CacheSettings::default(), Arc::new(SystemClock));
    let ctx = FieldContext::new("USER#550e8400-e29b-41d4-a716-446655440000", "BANK#conn-0001", "accessToken");
    // An account number, and an access token of TrueLayer's typical size.
    let values = [("account_number_8B", "31926819".to_string()), ("access_token_1KB", "t".repeat(1024))];
    // Warm both caches.
    let warm = rt.block_on(cipher.encrypt_str(ctx, "warm")).expect("encrypt");
    rt.block_on(cipher.decrypt(ctx, &warm)).expect("decrypt");

    let mut group = c.benchmark_group("field");
    for (name, value) in &values {
        group.throughput(Throughput::Bytes(value.len() as u64));
        group.bench_with_input(BenchmarkId::new("encrypt", name), value, |b, v| {
            b.iter(|| rt.block_on(cipher.encrypt_str(ctx, black_box(v))).expect("encrypt"))
        });
        let stored = rt.block_on(cipher.encrypt_str(ctx, value)).expect("encrypt");
        group.bench_with_input(BenchmarkId::new("decrypt", name), &stored, |b, s| {
            b.iter(|| rt.block_on(cipher.decrypt_string(ctx, black_box(s))).expect("decrypt"))
        });
    }
    group.finish();
}

criterion_group!(benches, fields);
criterion_main!(benches);
