//! What one store call costs, redb against PostgreSQL (a local cluster flushing every commit, as
//! redb does): the calls a
//! task makes on its way through the aggregator (its record saved at each stage) and through an
//! executor (the id claimed, the answer stored). Results are recorded in docs/benchmarks.md.

#![allow(missing_docs, reason = "benchmark binary")]

use std::{collections::BTreeMap, sync::atomic::AtomicU64};

use alloy_primitives::{Address, B256, Bytes};
use criterion::{Criterion, criterion_group, criterion_main};
use ponos_store::{
    AggregatorStore, ExecutorStore, RedbAggregatorStore, RedbStore, TaskRecord, TaskStatus,
    postgres::{Claim, Lease, PgAggregatorStore, PgConfig, PgExecutorStore, testing::TestCluster},
};

fn task(n: u64) -> TaskRecord {
    TaskRecord {
        task_hash: B256::left_padding_from(&n.to_be_bytes()),
        chain_id: 31337,
        mailbox: Address::repeat_byte(0x11),
        avs: Address::repeat_byte(0xaa),
        operator_set_id: 1,
        reference_timestamp: 1_700_000_000,
        payload: Bytes::from(vec![7; 64]),
        block_number: n,
        block_hash: B256::repeat_byte(0xb0),
        block_timestamp: 1_700_000_010,
        deadline: 1_700_000_130,
        status: TaskStatus::Pending,
        seen_at_ms: n,
        updated_at_ms: n,
        tx_hash: None,
        error: None,
        certificate: None,
        result: None,
        answers: Vec::new(),
        submissions: Vec::new(),
    }
}

/// A task's three saves in the aggregator (seen, answered, submitted) and the status count the
/// metrics read.
fn aggregator_task(store: &dyn AggregatorStore, n: u64) -> BTreeMap<TaskStatus, u64> {
    let mut record = task(n);
    for status in [
        TaskStatus::Pending,
        TaskStatus::Processing,
        TaskStatus::Submitted,
    ] {
        record.status = status;
        store.put_task(&record).unwrap();
    }
    store.status_counts().unwrap()
}

/// An executor's claim and answer of one task id.
fn executor_task(store: &dyn ExecutorStore, n: u64) {
    let id = B256::left_padding_from(&n.to_be_bytes()).0;
    assert!(
        store
            .claim_task(id, [1; 32], u64::MAX / 2)
            .unwrap()
            .is_none()
    );
    store.answer_task(id, &[9; 200]).unwrap();
}

fn stores(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let cluster = TestCluster::start_with(true).expect("PostgreSQL (script/setup installs it)");
    let next = AtomicU64::new(0);
    let n = || next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);

    let redb = RedbAggregatorStore::open(dir.path().join("aggregator.redb")).unwrap();
    let pg = PgAggregatorStore::open(&PgConfig::new(cluster.url(), "0xbench")).unwrap();
    c.bench_function("aggregator task (3 saves + counts)/redb", |b| {
        b.iter(|| aggregator_task(&redb, n()))
    });
    c.bench_function("aggregator task (3 saves + counts)/postgres", |b| {
        b.iter(|| aggregator_task(&pg, n()))
    });
    // As the active aggregator writes: each write checks the lease's epoch in its transaction.
    let config = PgConfig::new(cluster.url(), "0xbench");
    let lease = Lease::open(&config, "bench", std::time::Duration::from_secs(3600)).unwrap();
    let Claim::Won { epoch, .. } = lease.try_acquire().unwrap() else {
        panic!("the bench's lease is free")
    };
    let fenced = pg.fenced(epoch);
    c.bench_function("aggregator task (3 saves + counts)/postgres, fenced", |b| {
        b.iter(|| aggregator_task(&fenced, n()))
    });

    let redb = RedbStore::open(dir.path().join("executor.redb")).unwrap();
    let pg = PgExecutorStore::open(&PgConfig::new(cluster.url(), "0xbench")).unwrap();
    c.bench_function("executor task (claim + answer)/redb", |b| {
        b.iter(|| executor_task(&redb, n()))
    });
    c.bench_function("executor task (claim + answer)/postgres", |b| {
        b.iter(|| executor_task(&pg, n()))
    });
}

criterion_group!(benches, stores);
criterion_main!(benches);
