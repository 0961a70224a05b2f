//! Signing, verification, aggregation and certificate building, at the sizes the aggregator
//! meets. Results are recorded in docs/benchmarks.md.

#![allow(missing_docs, reason = "benchmark binary")]

use std::hint::black_box;

use alloy_primitives::{B256, U256, keccak256};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ponos_crypto::{
    bn254::{self, SecretKey},
    certificate::build_bn254_certificate,
    digest, ecdsa,
    table::{Bn254Operator, Bn254OperatorTable},
};

fn keys(n: usize) -> Vec<SecretKey> {
    (0..n)
        .map(|i| SecretKey::from_seed(format!("bench/{i}").as_bytes()).unwrap())
        .collect()
}

fn bn254_single(c: &mut Criterion) {
    let key = SecretKey::from_seed(b"bench").unwrap();
    let public = key.public_key();
    let digest = digest::bn254_certificate_digest(1_700_000_000, keccak256("message"));
    let signature = key.sign(digest);
    c.bench_function("bn254/hash_to_g1", |b| {
        b.iter(|| bn254::certificate_hash_to_g1(black_box(digest)))
    });
    c.bench_function("bn254/sign", |b| b.iter(|| key.sign(black_box(digest))));
    c.bench_function("bn254/verify", |b| {
        b.iter(|| signature.verify(black_box(digest), &public))
    });
    // The auth signatures Hourglass makes and checks (RFC 9380 hash to G1).
    let auth = keccak256("auth message");
    let auth_signature = key.sign_auth(auth);
    c.bench_function("bn254/auth_hash_to_g1", |b| {
        b.iter(|| bn254::auth_hash_to_g1(black_box(auth)))
    });
    c.bench_function("bn254/sign_auth", |b| {
        b.iter(|| key.sign_auth(black_box(auth)))
    });
    c.bench_function("bn254/verify_auth", |b| {
        b.iter(|| auth_signature.verify_auth(black_box(auth), &public))
    });
}

fn bn254_aggregate_and_verify(c: &mut Criterion) {
    let digest = digest::bn254_certificate_digest(1_700_000_000, keccak256("message"));
    let mut group = c.benchmark_group("bn254/aggregate_and_verify");
    for n in [10usize, 100, 1000] {
        let keys = keys(n);
        let publics: Vec<_> = keys.iter().map(SecretKey::public_key).collect();
        let signatures: Vec<_> = keys.iter().map(|k| k.sign(digest)).collect();
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                let signature = bn254::aggregate_signatures(&signatures);
                let apk = bn254::aggregate_g2(publics.iter().map(|p| &p.g2));
                assert!(bn254::verify_with_g2(&signature.0, digest, &apk));
            })
        });
    }
    group.finish();

    // What the aggregator does with each response before aggregating: check it on its own.
    let mut group = c.benchmark_group("bn254/check_each_response");
    for n in [100usize, 1000] {
        let keys = keys(n);
        let items: Vec<_> = keys
            .iter()
            .map(|k| (k.sign(digest), k.public_key().g2))
            .collect();
        group.bench_with_input(BenchmarkId::new("batched", n), &n, |b, _| {
            b.iter(|| {
                assert!(
                    bn254::verify_each(digest, black_box(&items))
                        .iter()
                        .all(|ok| *ok)
                )
            })
        });
        if n == 100 {
            group.bench_with_input(BenchmarkId::new("one_by_one", n), &n, |b, _| {
                b.iter(|| {
                    assert!(
                        items
                            .iter()
                            .all(|(s, k)| bn254::verify_with_g2(&s.0, digest, k))
                    )
                })
            });
        }
    }
    group.finish();
}

fn bn254_certificate(c: &mut Criterion) {
    let n = 1000;
    let keys = keys(n);
    let operators: Vec<_> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| Bn254Operator {
            key: k.public_key(),
            weights: vec![U256::from(1 + i)],
        })
        .collect();
    c.bench_function("bn254/table_1000_operators", |b| {
        b.iter(|| Bn254OperatorTable::new(black_box(operators.clone())).unwrap())
    });

    let table = Bn254OperatorTable::new(operators).unwrap();
    let message = keccak256("message");
    let digest = digest::bn254_certificate_digest(7, message);
    // Every tenth operator does not sign.
    let signatures: Vec<_> = (0..n)
        .filter(|i| i % 10 != 0)
        .map(|i| (i, keys[i].sign(digest)))
        .collect();
    c.bench_function("bn254/certificate_1000_operators_10pct_non_signers", |b| {
        b.iter(|| build_bn254_certificate(&table, 7, message, black_box(&signatures)).unwrap())
    });
}

fn ecdsa_sign_recover(c: &mut Criterion) {
    let key = ecdsa::SecretKey::from_bytes(&[7; 32]).unwrap();
    let digest = B256::repeat_byte(1);
    let signature = key.sign(digest).unwrap();
    c.bench_function("ecdsa/sign", |b| {
        b.iter(|| key.sign(black_box(digest)).unwrap())
    });
    c.bench_function("ecdsa/recover", |b| {
        b.iter(|| ecdsa::recover(black_box(digest), &signature).unwrap())
    });
}

criterion_group!(
    benches,
    bn254_single,
    bn254_aggregate_and_verify,
    bn254_certificate,
    ecdsa_sign_recover
);
criterion_main!(benches);
