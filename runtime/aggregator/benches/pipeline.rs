//! Drives N tasks (default 1000, `PONOS_BENCH_TASKS`) through the whole pipeline on a real
//! anvil with four in-process executors (BN254) and reports throughput and latency from
//! `createTask` to `TaskVerified`; then measures the raw rate at which the same anvil accepts
//! the same two transactions per task (`createTask`, `submitResult` with certificates built
//! beforehand), for comparison. Run: `cargo bench -p ponos-aggregator --bench pipeline`;
//! `PONOS_BENCH_RATE=5` paces task creation at 5 per second instead of one burst;
//! `PONOS_BENCH_RESTARTS=5` measures instead the time from a restart after a kill to the first
//! verified task, five times; `PONOS_BENCH_COUNT_RPC=200` counts instead the JSON-RPC calls the
//! aggregator makes (through a counting proxy in front of each chain, by method) over a burst of
//! 200 tasks and then 10 s idle.

#[path = "../tests/it/harness.rs"]
#[allow(
    dead_code,
    unreachable_pub,
    reason = "shared with the integration tests"
)]
mod harness;

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use alloy::{
    primitives::{Address, B256, Bytes, U256},
    providers::Provider,
};
use ponos_aggregator::Aggregator;
use ponos_chain::contracts::{TaskMailbox, task_mailbox};
use ponos_crypto::{
    bn254, certificate::build_bn254_certificate, digest, table::Bn254Operator,
    table::Bn254OperatorTable,
};
use ponos_devnet::{Curve, EXECUTOR_SET, LocalChain};
use ponos_store::{AggregatorStore, RedbAggregatorStore, TaskStatus};

use harness::{Behaviour, Net, network_with_threshold};

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn params(avs: Address, creator: Address, i: usize) -> task_mailbox::ITaskMailboxTypes::TaskParams {
    task_mailbox::ITaskMailboxTypes::TaskParams {
        refundCollector: creator,
        executorOperatorSet: task_mailbox::OperatorSet {
            avs,
            id: EXECUTOR_SET,
        },
        payload: Bytes::from((1000 + i).to_string().into_bytes()),
    }
}

/// Sends `n` createTask transactions back to back; returns (tx hash, unix ms when accepted).
async fn create_tasks(net: &Net, chain: &LocalChain, n: usize) -> Vec<(B256, u64)> {
    let provider = chain.provider();
    let mailbox = TaskMailbox::new(chain.chain.stack.task_mailbox, provider);
    let nonce = provider.get_transaction_count(net.creator).await.unwrap();
    let gas = mailbox
        .createTask(params(net.avs, net.creator, 0))
        .from(net.creator)
        .estimate_gas()
        .await
        .unwrap();
    let fees = provider.estimate_eip1559_fees().await.unwrap();
    // PONOS_BENCH_RATE paces creation (tasks per second); unset, tasks come in one burst.
    let pace = std::env::var("PONOS_BENCH_RATE")
        .ok()
        .and_then(|r| r.parse::<f64>().ok())
        .map(|rate| Duration::from_secs_f64(1.0 / rate));
    let started = Instant::now();
    let mut sent = Vec::with_capacity(n);
    for i in 0..n {
        if let Some(pace) = pace {
            tokio::time::sleep_until((started + pace * i as u32).into()).await;
        }
        let pending = mailbox
            .createTask(params(net.avs, net.creator, i))
            .from(net.creator)
            .nonce(nonce + i as u64)
            .gas(gas * 3 / 2)
            .max_fee_per_gas(fees.max_fee_per_gas * 2)
            .max_priority_fee_per_gas(fees.max_priority_fee_per_gas)
            .send()
            .await
            .unwrap();
        sent.push((*pending.tx_hash(), now_ms()));
    }
    sent
}

/// The task hash and reference timestamp each createTask produced.
async fn created(chain: &LocalChain, txs: &[(B256, u64)]) -> Vec<(B256, u32, u64)> {
    let mut out = Vec::with_capacity(txs.len());
    for (tx, at) in txs {
        let receipt = loop {
            if let Some(r) = chain.provider().get_transaction_receipt(*tx).await.unwrap() {
                break r;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert!(receipt.status(), "createTask succeeded");
        let event = receipt
            .inner
            .logs()
            .iter()
            .find_map(|l| l.log_decode::<TaskMailbox::TaskCreated>().ok())
            .unwrap()
            .inner
            .data;
        out.push((event.taskHash, event.operatorTableReferenceTimestamp, *at));
    }
    out
}

/// Waits until the store holds `n` verified tasks.
async fn until_verified(store: &RedbAggregatorStore, n: usize) {
    while store
        .tasks_with_status(&[TaskStatus::Verified])
        .unwrap()
        .len()
        < n
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

async fn pipeline(n: usize) -> (f64, u64, u64, u64) {
    // Every operator signs (the devnet's default threshold), so the pipeline lands the same
    // certificates as the raw run: no non-signers.
    let net = network_with_threshold(Curve::Bn254, &[Behaviour::Honest; 4], 10_000).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(RedbAggregatorStore::open(dir.path().join("aggregator.redb")).unwrap());
    let aggregator = Aggregator::start(net.aggregator_config().await, store.clone())
        .await
        .unwrap();

    let started = now_ms();
    let txs = create_tasks(&net, &net.l1, n).await;
    let tasks = created(&net.l1, &txs).await;
    let created_at: HashMap<B256, u64> = tasks.iter().map(|(h, _, at)| (*h, *at)).collect();

    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let done = store.tasks_with_status(&[TaskStatus::Verified]).unwrap();
        let failed = store
            .tasks_with_status(&[TaskStatus::Failed, TaskStatus::Expired])
            .unwrap();
        assert!(
            failed.is_empty(),
            "failed: {:?}",
            failed.first().map(|t| &t.error)
        );
        if done.len() >= n {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {} of {n} verified",
            done.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let verified = store.tasks_with_status(&[TaskStatus::Verified]).unwrap();
    let finished = verified.iter().map(|t| t.updated_at_ms).max().unwrap();
    let mut latencies: Vec<u64> = verified
        .iter()
        .map(|t| t.updated_at_ms.saturating_sub(created_at[&t.task_hash]))
        .collect();
    latencies.sort_unstable();
    // Mean time per stage, from the aggregator's own histograms.
    let metrics = aggregator.render_metrics();
    for stage in ["collection", "submission", "total"] {
        let value = |kind: &str| -> f64 {
            let prefix =
                format!("ponos_aggregator_stage_duration_seconds_{kind}{{stage=\"{stage}\"}} ");
            metrics
                .lines()
                .find_map(|l| l.strip_prefix(prefix.as_str()))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0.0)
        };
        let count = value("count").max(1.0);
        println!("  mean {stage:<12} {:.0} ms", value("sum") / count * 1000.0);
    }
    aggregator.shutdown(Duration::from_secs(1)).await;
    let seconds = (finished - started) as f64 / 1000.0;
    (
        n as f64 / seconds,
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        *latencies.last().unwrap(),
    )
}

/// JSON-RPC calls the aggregator makes, counted by a proxy in front of each chain, by method:
/// over a burst of `n` tasks on L1 (production polling: 1 s watcher, 500 ms sender), then over
/// 10 s idle.
async fn rpc_counts(n: usize) {
    use alloy::providers::ProviderBuilder;
    use ponos_devnet::proxy::{CountingProxy, Counts};

    let net = network_with_threshold(Curve::Bn254, &[Behaviour::Honest; 4], 10_000).await;
    let port = |endpoint: &str| -> u16 { endpoint.rsplit(':').next().unwrap().parse().unwrap() };
    let l1 = CountingProxy::start(([127, 0, 0, 1], port(&net.l1.endpoint)).into())
        .await
        .unwrap();
    let l2 = CountingProxy::start(([127, 0, 0, 1], port(&net.l2.endpoint)).into())
        .await
        .unwrap();
    let providers = [&l1, &l2].map(|proxy| {
        ProviderBuilder::new()
            .connect_http(proxy.url().parse().unwrap())
            .erased()
    });
    let mut config = net
        .aggregator_config_through(providers, Duration::from_secs(1))
        .await;
    config.sender.poll_interval = Duration::from_millis(500);
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(RedbAggregatorStore::open(dir.path().join("aggregator.redb")).unwrap());
    let aggregator = Aggregator::start(config, store.clone()).await.unwrap();
    let at_start = (l1.counts(), l2.counts());
    let txs = create_tasks(&net, &net.l1, n).await;
    created(&net.l1, &txs).await;
    until_verified(&store, n).await;
    let after_burst = (l1.counts(), l2.counts());
    tokio::time::sleep(Duration::from_secs(10)).await;
    let after_idle = (l1.counts(), l2.counts());
    aggregator.shutdown(Duration::from_secs(1)).await;

    let diff = |later: &Counts, earlier: &Counts| -> Counts {
        later
            .iter()
            .map(|(m, c)| (m.clone(), c - earlier.get(m).copied().unwrap_or(0)))
            .filter(|(_, c)| *c > 0)
            .collect()
    };
    let burst_l1 = diff(&after_burst.0, &at_start.0);
    let burst_l2 = diff(&after_burst.1, &at_start.1);
    let idle_l1 = diff(&after_idle.0, &after_burst.0);
    let idle_l2 = diff(&after_idle.1, &after_burst.1);
    let total = |c: &Counts| c.values().sum::<u64>();
    println!("JSON-RPC calls by the aggregator, {n} tasks in one burst on L1 (counting proxy)");
    println!(
        "| method | L1 | per task | L2 (no tasks) |
|---|---:|---:|---:|"
    );
    let methods: std::collections::BTreeSet<&String> =
        burst_l1.keys().chain(burst_l2.keys()).collect();
    for method in methods {
        let on_l1 = burst_l1.get(method).copied().unwrap_or(0);
        println!(
            "| {method} | {on_l1} | {:.2} | {} |",
            on_l1 as f64 / n as f64,
            burst_l2.get(method).copied().unwrap_or(0)
        );
    }
    println!(
        "| **all** | {} | **{:.2}** | {} |",
        total(&burst_l1),
        total(&burst_l1) as f64 / n as f64,
        total(&burst_l2)
    );
    println!(
        "idle, 10 s: L1 {:.1}/s {idle_l1:?}, L2 {:.1}/s {idle_l2:?}",
        total(&idle_l1) as f64 / 10.0,
        total(&idle_l2) as f64 / 10.0
    );
}

/// Time from an aggregator's restart to its first verified task: a burst of `n` tasks, the
/// aggregator killed (no shutdown path) once a few landed, restarted on its store; measured
/// from the restart call to the first task the restarted aggregator records as verified.
/// Repeated `runs` times on one network; returns the times in ms.
async fn restarts(n: usize, runs: usize) -> Vec<u64> {
    let net = network_with_threshold(Curve::Bn254, &[Behaviour::Honest; 4], 10_000).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("aggregator.redb");
    let mut times = Vec::new();
    for _ in 0..runs {
        let store = Arc::new(RedbAggregatorStore::open(&path).unwrap());
        let before = store
            .tasks_with_status(&[TaskStatus::Verified])
            .unwrap()
            .len();
        let aggregator = Aggregator::start(net.aggregator_config().await, store.clone())
            .await
            .unwrap();
        let txs = create_tasks(&net, &net.l1, n).await;
        created(&net.l1, &txs).await;
        until_verified(&store, before + 5).await;
        aggregator.kill();
        drop(store);
        // The killed sessions let go of the store a moment after they are aborted.
        let store = loop {
            if let Ok(store) = RedbAggregatorStore::open(&path) {
                break Arc::new(store);
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        let open = store
            .tasks_with_status(&[
                TaskStatus::Pending,
                TaskStatus::Processing,
                TaskStatus::Submitted,
            ])
            .unwrap();
        assert!(!open.is_empty(), "tasks were open at the kill");
        let restarted_at = now_ms();
        let aggregator = Aggregator::start(net.aggregator_config().await, store.clone())
            .await
            .unwrap();
        let first = loop {
            let first = store
                .tasks_with_status(&[TaskStatus::Verified])
                .unwrap()
                .iter()
                .filter(|t| t.updated_at_ms >= restarted_at)
                .map(|t| t.updated_at_ms)
                .min();
            if let Some(first) = first {
                break first;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        times.push(first - restarted_at);
        // Let the rest of the burst land before the next run.
        while !store
            .tasks_with_status(&[
                TaskStatus::Pending,
                TaskStatus::Processing,
                TaskStatus::Submitted,
            ])
            .unwrap()
            .is_empty()
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        aggregator.shutdown(Duration::from_secs(1)).await;
    }
    times
}

async fn raw_rate(n: usize) -> f64 {
    // Every operator signs (the devnet's default threshold), so the pipeline lands the same
    // certificates as the raw run: no non-signers.
    let net = network_with_threshold(Curve::Bn254, &[Behaviour::Honest; 4], 10_000).await;
    let keys: Vec<bn254::SecretKey> = (0..4)
        .map(|i| bn254::SecretKey::from_seed(format!("operator {i}").as_bytes()).unwrap())
        .collect();
    let table = Bn254OperatorTable::new(
        keys.iter()
            .map(|k| Bn254Operator {
                key: k.public_key(),
                weights: vec![U256::from(100)],
            })
            .collect(),
    )
    .unwrap();

    // Until the last createTask is mined.
    let start_create = Instant::now();
    let txs = create_tasks(&net, &net.l1, n).await;
    let tasks = created(&net.l1, &txs).await;
    let create_time = start_create.elapsed();

    // Certificates are built before the clock runs again: only the chain is measured.
    let mut submissions = Vec::with_capacity(n);
    for (i, (task, reference, _)) in tasks.iter().enumerate() {
        let result = Bytes::from(
            ((1000 + i) as u128 * (1000 + i) as u128)
                .to_string()
                .into_bytes(),
        );
        let message = digest::message_hash(*task, &result);
        let signed = digest::bn254_certificate_digest(*reference, message);
        let signatures: Vec<_> = keys
            .iter()
            .enumerate()
            .map(|(j, k)| (j, k.sign(signed)))
            .collect();
        let certificate = build_bn254_certificate(&table, *reference, message, &signatures)
            .unwrap()
            .encode();
        submissions.push((*task, certificate, result));
    }

    let provider = net.l1.provider();
    let mailbox = TaskMailbox::new(net.l1.chain.stack.task_mailbox, provider);
    let from = net.aggregator;
    let nonce = provider.get_transaction_count(from).await.unwrap();
    let fees = provider.estimate_eip1559_fees().await.unwrap();
    let (task, cert, result) = &submissions[0];
    let gas = mailbox
        .submitResult(*task, cert.clone(), result.clone())
        .from(from)
        .estimate_gas()
        .await
        .unwrap();
    let start_submit = Instant::now();
    let mut last = B256::ZERO;
    for (i, (task, cert, result)) in submissions.into_iter().enumerate() {
        let pending = mailbox
            .submitResult(task, cert, result)
            .from(from)
            .nonce(nonce + i as u64)
            .gas(gas * 3 / 2)
            .max_fee_per_gas(fees.max_fee_per_gas * 2)
            .max_priority_fee_per_gas(fees.max_priority_fee_per_gas)
            .send()
            .await
            .unwrap();
        last = *pending.tx_hash();
    }
    let receipt = loop {
        if let Some(r) = provider.get_transaction_receipt(last).await.unwrap() {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    assert!(receipt.status(), "submitResult succeeded");
    let submit_time = start_submit.elapsed();
    n as f64 / (create_time + submit_time).as_secs_f64()
}

fn main() {
    if let Ok(n) = std::env::var("PONOS_BENCH_COUNT_RPC") {
        let n: usize = n
            .parse()
            .expect("PONOS_BENCH_COUNT_RPC is a number of tasks");
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(rpc_counts(n));
        return;
    }
    let n: usize = std::env::var("PONOS_BENCH_TASKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if let Some(runs) = std::env::var("PONOS_BENCH_RESTARTS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        let mut times = runtime.block_on(restarts(50, runs));
        println!(
            "restart -> first verified task (50-task bursts, killed after 5 landed): {times:?} ms"
        );
        times.sort_unstable();
        println!("  median            {} ms", times[times.len() / 2]);
        return;
    }
    let raw = runtime.block_on(raw_rate(n));
    if std::env::var("PONOS_BENCH_RAW_ONLY").is_ok() {
        println!("raw {raw:.1} tasks/s");
        return;
    }
    let (rate, p50, p99, max) = runtime.block_on(pipeline(n));
    println!("pipeline: {n} tasks, 4 executors, BN254, L1 anvil");
    println!("  throughput        {rate:.1} tasks/s");
    println!("  latency p50       {p50} ms (createTask accepted -> TaskVerified receipt seen)");
    println!("  latency p99       {p99} ms");
    println!("  latency max       {max} ms");
    println!("raw anvil rate (same createTask + submitResult, certificates prebuilt)");
    println!("  throughput        {raw:.1} tasks/s");
    println!("pipeline / raw      {:.0}%", rate / raw * 100.0);
}
