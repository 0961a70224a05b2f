//! Tasks from `TaskCreated` to `TaskVerified` on L1 and L2, with offline, wrong and silent
//! operators, a crash and restart, and a reorg.

use std::{sync::Arc, sync::atomic::Ordering, time::Duration};

use alloy::{
    primitives::{B256, Bytes, U256},
    providers::Provider,
    sol_types::SolValue,
};
use ponos_aggregator::Aggregator;
use ponos_crypto::types::{BN254Certificate, ECDSACertificate};
use ponos_devnet::Curve;
use ponos_store::{AggregatorStore, MemoryAggregatorStore, RedbAggregatorStore, TaskStatus};

use crate::harness::{Behaviour, Net, network, network_with_threshold};

const WITHIN: Duration = Duration::from_secs(60);

/// The operator indices of a BN254 certificate's non-signers.
fn non_signers(certificate: &Bytes) -> Vec<u32> {
    BN254Certificate::abi_decode(certificate)
        .expect("a BN254 certificate")
        .nonSignerWitnesses
        .iter()
        .map(|w| w.operatorIndex)
        .collect()
}

async fn square_on_both_chains(net: &Net) -> Vec<(u64, (Bytes, Bytes))> {
    let store = Arc::new(MemoryAggregatorStore::default());
    let aggregator = Aggregator::start(net.aggregator_config().await, store.clone())
        .await
        .unwrap();
    let on_l1 = net.create_task(&net.l1, "7").await;
    let on_l2 = net.create_task(&net.l2, "9").await;
    let l1 = net.verified(&net.l1, on_l1, WITHIN).await;
    let l2 = net.verified(&net.l2, on_l2, WITHIN).await;
    assert_eq!(l1.1.as_ref(), b"49");
    assert_eq!(l2.1.as_ref(), b"81");
    for task in [on_l1, on_l2] {
        // The receipt may land a moment before the store records it.
        let mut status = None;
        for _ in 0..100 {
            status = store.task(task).unwrap().map(|t| t.status);
            if status == Some(TaskStatus::Verified) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(status, Some(TaskStatus::Verified));
    }
    aggregator.shutdown(Duration::from_secs(1)).await;
    vec![(net.l1.id(), l1), (net.l2.id(), l2)]
}

#[tokio::test(flavor = "multi_thread")]
async fn bn254_tasks_on_l1_and_l2_are_verified_with_one_operator_offline() {
    use Behaviour::*;
    let net = network(Curve::Bn254, &[Honest, Honest, Offline, Honest]).await;
    for (chain, (certificate, _)) in square_on_both_chains(&net).await {
        assert_eq!(
            non_signers(&certificate),
            [2],
            "chain {chain}: the offline operator is the non-signer"
        );
        let certificate = BN254Certificate::abi_decode(&certificate).unwrap();
        assert_eq!(
            certificate.nonSignerWitnesses[0].operatorInfo.weights,
            [U256::from(100)]
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ecdsa_tasks_on_l1_and_l2_are_verified_with_one_operator_offline() {
    use Behaviour::*;
    let net = network(Curve::Ecdsa, &[Offline, Honest, Honest, Honest]).await;
    for (chain, (certificate, _)) in square_on_both_chains(&net).await {
        let certificate = ECDSACertificate::abi_decode(&certificate).unwrap();
        assert_eq!(
            certificate.sig.len(),
            3 * 65,
            "chain {chain}: three signatures"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_stake_weighted_majority_result_is_submitted() {
    use Behaviour::*;
    let net = network(Curve::Bn254, &[Honest, Wrong, Honest, Honest]).await;
    for (chain, (certificate, result)) in square_on_both_chains(&net).await {
        assert_eq!(
            non_signers(&certificate),
            [1],
            "chain {chain}: the dissenting operator did not sign"
        );
        assert!(result.as_ref() == b"49" || result.as_ref() == b"81");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn answers_signed_with_an_unregistered_key_are_dropped() {
    use Behaviour::*;
    for curve in [Curve::Bn254, Curve::Ecdsa] {
        let net = network(curve, &[Honest, ForgedKey, Honest, Honest]).await;
        for (chain, (certificate, result)) in square_on_both_chains(&net).await {
            assert!(result.as_ref() == b"49" || result.as_ref() == b"81");
            match curve {
                Curve::Bn254 => {
                    assert_eq!(
                        non_signers(&certificate),
                        [1],
                        "chain {chain}: the forged answer was left out"
                    );
                }
                Curve::Ecdsa => {
                    let certificate = ECDSACertificate::abi_decode(&certificate).unwrap();
                    assert_eq!(certificate.sig.len(), 3 * 65, "chain {chain}");
                }
            }
        }
    }
}

/// Executors that answer the way Hourglass's do (auth signatures hashed with RFC 9380) are
/// counted: with a 60% threshold over four equal operators the task needs three signers, and
/// only one of them is a Ponos executor. An auth signature hashed the other way never counts.
#[tokio::test(flavor = "multi_thread")]
async fn answers_signed_as_hourglass_signs_them_are_counted() {
    use Behaviour::*;
    let net = network(
        Curve::Bn254,
        &[Hourglass, Honest, Hourglass, CertificateHashAuth],
    )
    .await;
    for (chain, (certificate, result)) in square_on_both_chains(&net).await {
        assert!(result.as_ref() == b"49" || result.as_ref() == b"81");
        assert_eq!(
            non_signers(&certificate),
            [3],
            "chain {chain}: both Hourglass answers signed, the mis-hashed one did not"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_silent_executor_does_not_hold_up_the_task() {
    use Behaviour::*;
    let net = network(Curve::Bn254, &[Silent, Honest, Honest, Honest]).await;
    let store = Arc::new(MemoryAggregatorStore::default());
    let aggregator = Aggregator::start(net.aggregator_config().await, store.clone())
        .await
        .unwrap();
    let task = net.create_task(&net.l1, "12").await;
    // The SLA is 120 s; three answers meet the threshold, so the silent one is not waited for.
    let verified = net.verified(&net.l1, task, Duration::from_secs(15)).await;
    assert_eq!(verified.1.as_ref(), b"144");
    assert_eq!(non_signers(&verified.0), [0]);
    aggregator.shutdown(Duration::from_secs(1)).await;
}

async fn open_store(path: &std::path::Path) -> Arc<RedbAggregatorStore> {
    // A killed aggregator's tasks drop the store a moment after they are aborted.
    for _ in 0..100 {
        if let Ok(store) = RedbAggregatorStore::open(path) {
            return Arc::new(store);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the store could not be reopened")
}

async fn wait_for_status<S: AggregatorStore>(store: &S, task: B256, status: TaskStatus) {
    for _ in 0..400 {
        if store.task(task).unwrap().map(|t| t.status) == Some(status) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "task {task} never reached {status}: {:?}",
        store.task(task).unwrap().map(|t| (t.status, t.error))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_task_dispatched_before_a_crash_is_verified_exactly_once_after_a_restart() {
    use Behaviour::*;
    let net = network(Curve::Bn254, &[Honest, Honest, Honest, Honest]).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("aggregator.redb");
    net.delay_ms.store(1_500, Ordering::SeqCst);

    let store = open_store(&path).await;
    let first = Aggregator::start(net.aggregator_config().await, store.clone())
        .await
        .unwrap();
    let task = net.create_task(&net.l2, "5").await;
    wait_for_status(store.as_ref(), task, TaskStatus::Processing).await;
    // The executors are working on it now; the aggregator dies.
    first.kill();
    drop(store);

    let store = open_store(&path).await;
    assert_eq!(
        store.task(task).unwrap().unwrap().status,
        TaskStatus::Processing,
        "the crash left the task open"
    );
    let second = Aggregator::start(net.aggregator_config().await, store.clone())
        .await
        .unwrap();
    let verified = net.verified(&net.l2, task, WITHIN).await;
    assert_eq!(verified.1.as_ref(), b"25");
    assert_eq!(net.l2.verified_events(task).await.unwrap().len(), 1);
    wait_for_status(store.as_ref(), task, TaskStatus::Verified).await;
    let sent = net
        .l2
        .provider()
        .get_transaction_count(net.aggregator)
        .await
        .unwrap();
    assert_eq!(sent, 1, "one submitResult transaction in all");
    second.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn answers_gathered_before_a_crash_are_kept_and_not_asked_for_again() {
    use Behaviour::*;
    // Threshold 100% with one operator offline: the session waits, asking it again and again.
    let net =
        network_with_threshold(Curve::Bn254, &[Honest, Honest, Honest, Offline], 10_000).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("aggregator.redb");
    let store = open_store(&path).await;
    let first = Aggregator::start(net.aggregator_config().await, store.clone())
        .await
        .unwrap();
    let task = net.create_task(&net.l1, "4").await;
    let honest: Vec<_> = net.operators[..3].iter().map(|(a, _)| *a).collect();
    let until = std::time::Instant::now() + WITHIN;
    loop {
        // Seen by the watcher a moment after it lands.
        let Some(record) = store.task(task).unwrap() else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let mut answered: Vec<_> = record.answers.iter().map(|a| a.operator).collect();
        answered.sort();
        let mut expected = honest.clone();
        expected.sort();
        if answered == expected {
            assert_eq!(
                record.status,
                TaskStatus::Processing,
                "still waiting for the fourth"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < until,
            "answers never stored: {answered:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.kill();
    drop(store);

    // The restarted aggregator asks only the operator that has not answered.
    let store = open_store(&path).await;
    let second = Aggregator::start(net.aggregator_config().await, store.clone())
        .await
        .unwrap();
    let offline = net.operators[3].0;
    let answered = |metrics: &str, operator| {
        metrics.lines().any(|l| {
            l.starts_with("ponos_aggregator_operator_answers_total")
                && l.contains(&format!("operator=\"{operator:#x}\""))
        })
    };
    let until = std::time::Instant::now() + WITHIN;
    while !answered(&second.render_metrics(), offline) {
        assert!(
            std::time::Instant::now() < until,
            "the offline operator was not asked"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let metrics = second.render_metrics();
    for operator in honest {
        assert!(
            !answered(&metrics, operator),
            "{operator} was asked again: {metrics}"
        );
    }
    second.kill();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_task_whose_block_is_reorganised_away_is_withdrawn_and_never_submitted() {
    use Behaviour::*;
    let net = network(Curve::Bn254, &[Honest, Honest, Honest, Honest]).await;
    net.delay_ms.store(2_000, Ordering::SeqCst);
    let store = Arc::new(MemoryAggregatorStore::default());
    let aggregator = Aggregator::start(net.aggregator_config().await, store.clone())
        .await
        .unwrap();

    let provider = net.l1.provider();
    // The aggregator account registered its key on L1 during set-up.
    let sent_before = provider
        .get_transaction_count(net.aggregator)
        .await
        .unwrap();
    let snapshot: U256 = provider
        .raw_request("evm_snapshot".into(), ())
        .await
        .unwrap();
    let task = net.create_task(&net.l1, "3").await;
    wait_for_status(store.as_ref(), task, TaskStatus::Processing).await;

    // The block holding TaskCreated goes away; the chain moves on without it.
    let reverted: bool = provider
        .raw_request("evm_revert".into(), (snapshot,))
        .await
        .unwrap();
    assert!(reverted);
    for _ in 0..3 {
        let _: String = provider.raw_request("evm_mine".into(), ()).await.unwrap();
    }
    wait_for_status(store.as_ref(), task, TaskStatus::Withdrawn).await;

    // A later task, its operators as slow (2 s), goes all the way through (on L2: the
    // creator's next L1 nonce went with the reverted block): whatever the withdrawn task's
    // operators might still have answered would have come before its answers. Nothing was sent
    // on L1.
    let later = net.create_task(&net.l2, "5").await;
    assert_eq!(net.verified(&net.l2, later, WITHIN).await.1.as_ref(), b"25");
    let sent = provider
        .get_transaction_count(net.aggregator)
        .await
        .unwrap();
    assert_eq!(
        sent, sent_before,
        "nothing was submitted for the withdrawn task"
    );
    assert!(net.l1.verified_events(task).await.unwrap().is_empty());
    assert_eq!(
        store.task(task).unwrap().unwrap().status,
        TaskStatus::Withdrawn
    );
    assert_eq!(aggregator.metrics().reorgs.get(), 1);
    aggregator.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn new_heads_over_websocket_wake_the_watcher() {
    use Behaviour::*;
    let net = network(Curve::Bn254, &[Honest, Honest, Honest, Honest]).await;
    let mut config = net.aggregator_config().await;
    // Polling alone would look again only after 30 s.
    for chain in &mut config.chains {
        chain.config.poll_interval = Duration::from_secs(30);
    }
    config.chains[0].config.ws_url = Some(net.l1.ws_endpoint.clone());
    let aggregator = Aggregator::start(config, Arc::new(MemoryAggregatorStore::default()))
        .await
        .unwrap();
    // Once the subscription stands, a new head is what wakes the watcher.
    let subscribed = format!(
        "ponos_aggregator_chain_heads_subscribed{{chain=\"{}\"}} 1",
        net.l1.id()
    );
    let until = std::time::Instant::now() + WITHIN;
    while !aggregator
        .render_metrics()
        .lines()
        .any(|line| line == subscribed)
    {
        assert!(
            std::time::Instant::now() < until,
            "the subscription never stood"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let task = net.create_task(&net.l1, "11").await;
    let verified = net.verified(&net.l1, task, Duration::from_secs(10)).await;
    assert_eq!(verified.1.as_ref(), b"121");
    aggregator.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn executors_behind_tls_are_reached_over_https() {
    use Behaviour::*;
    // Three executors speak TLS (sockets registered as https://localhost:port, a certificate the
    // aggregator trusts through its configured CA); the fourth is plaintext.
    let net = network_with_threshold(Curve::Bn254, &[Tls, Tls, Tls, Honest], 10_000).await;
    let aggregator = Aggregator::start(
        net.aggregator_config().await,
        Arc::new(MemoryAggregatorStore::default()),
    )
    .await
    .unwrap();
    let task = net.create_task(&net.l2, "9").await;
    let verified = net.verified(&net.l2, task, WITHIN).await;
    assert_eq!(verified.1.as_ref(), b"81");
    let certificate = BN254Certificate::abi_decode(&verified.0).unwrap();
    assert!(
        certificate.nonSignerWitnesses.is_empty(),
        "all four signed, three of them over TLS"
    );
    aggregator.shutdown(Duration::from_secs(1)).await;

    // Without the CA the TLS executors cannot be trusted: the threshold (all four) is not met.
    let mut config = net.aggregator_config().await;
    config.executor_tls = ponos_aggregator::pool::ExecutorTls::default();
    let untrusting = Aggregator::start(config, Arc::new(MemoryAggregatorStore::default()))
        .await
        .unwrap();
    let mut updates = untrusting.subscribe();
    let task = net.create_task(&net.l2, "10").await;
    // Each TLS executor is refused at the handshake, naming the certificate; the plaintext one
    // answers.
    let tls_operators: Vec<_> = net.operators[..3].iter().map(|(a, _)| *a).collect();
    let mut refused = std::collections::BTreeMap::new();
    tokio::time::timeout(WITHIN, async {
        while refused.len() < tls_operators.len() {
            if let ponos_aggregator::TaskUpdate::OperatorFailed {
                task: failed,
                operator,
                reason,
                ..
            } = updates.recv().await.unwrap()
                && failed == task
            {
                assert!(
                    tls_operators.contains(&operator),
                    "{operator} (plaintext) failed: {reason}"
                );
                refused.insert(operator, reason);
            }
        }
    })
    .await
    .expect("every TLS executor is refused");
    for (operator, reason) in &refused {
        assert!(
            reason.contains("invalid peer certificate: UnknownIssuer"),
            "{operator}: {reason}"
        );
    }
    assert!(net.l2.verified_events(task).await.unwrap().is_empty());
    untrusting.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_executor_that_moves_is_reached_at_its_new_socket() {
    use Behaviour::*;
    // Every operator must sign, so the moved one has to be found.
    let mut net =
        network_with_threshold(Curve::Bn254, &[Honest, Honest, Honest, Honest], 10_000).await;
    let aggregator = Aggregator::start(
        net.aggregator_config().await,
        Arc::new(MemoryAggregatorStore::default()),
    )
    .await
    .unwrap();
    let before = net.create_task(&net.l1, "4").await;
    assert_eq!(
        net.verified(&net.l1, before, WITHIN).await.1.as_ref(),
        b"16"
    );

    // Same reference timestamp, so the same cached view, but operator 0 now listens elsewhere.
    net.move_executor(0).await;
    let after = net.create_task(&net.l1, "5").await;
    let verified = net.verified(&net.l1, after, Duration::from_secs(20)).await;
    assert_eq!(verified.1.as_ref(), b"25");
    let certificate = BN254Certificate::abi_decode(&verified.0).unwrap();
    assert!(
        certificate.nonSignerWitnesses.is_empty(),
        "the moved operator signed"
    );
    // The socket change was also seen on L1, so later tasks read the new socket from the start.
    for _ in 0..200 {
        if aggregator.metrics().socket_changes.get() >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(aggregator.metrics().socket_changes.get(), 1);
    aggregator.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn submissions_that_check_together_share_one_status_read() {
    use alloy::{providers::ProviderBuilder, signers::local::PrivateKeySigner};
    use ponos_aggregator::{
        metrics::AggregatorMetrics,
        sender::{OnchainStatus, SenderConfig, TxSender},
    };
    use ponos_devnet::proxy::CountingProxy;

    let net = network(Curve::Ecdsa, &[Behaviour::Honest; 3]).await;
    let aggregator = Aggregator::start(
        net.aggregator_config().await,
        Arc::new(MemoryAggregatorStore::default()),
    )
    .await
    .unwrap();
    let verified = net.create_task(&net.l1, "3").await;
    net.verified(&net.l1, verified, WITHIN).await;
    aggregator.shutdown(Duration::from_secs(1)).await;
    let open = net.create_task(&net.l1, "4").await;
    let unknown = B256::repeat_byte(7);

    let port: u16 = net.l1.endpoint.rsplit(':').next().unwrap().parse().unwrap();
    let proxy = CountingProxy::start(([127, 0, 0, 1], port).into())
        .await
        .unwrap();
    let sender = TxSender::new(
        net.l1.id(),
        ProviderBuilder::new()
            .connect_http(proxy.url().parse().unwrap())
            .erased(),
        PrivateKeySigner::random(),
        SenderConfig::default(),
        Arc::new(AggregatorMetrics::default()),
    );
    let mailbox = net.l1.chain.stack.task_mailbox;
    // The first read is held in flight at the proxy; three more asked meanwhile are queued
    // behind it (each polled once: asked, waiting), then it is let go.
    proxy.hold();
    let mut first = std::pin::pin!(sender.status(mailbox, verified));
    let mut rest = std::pin::pin!(async {
        tokio::join!(
            sender.status(mailbox, open),
            sender.status(mailbox, unknown),
            sender.status(mailbox, open),
        )
    });
    let until = std::time::Instant::now() + WITHIN;
    loop {
        // Driving the first read until its request reaches the proxy.
        let pending =
            std::future::poll_fn(|cx| std::task::Poll::Ready(first.as_mut().poll(cx).is_pending()))
                .await;
        assert!(pending, "the first read cannot finish while held");
        if proxy.counts().get("eth_call") == Some(&1) {
            break;
        }
        assert!(
            std::time::Instant::now() < until,
            "the first read never left"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let queued =
        std::future::poll_fn(|cx| std::task::Poll::Ready(rest.as_mut().poll(cx).is_pending()))
            .await;
    assert!(queued, "the later asks wait for the read in flight");
    proxy.release();
    let (first, (second, third, fourth)) = tokio::join!(first, rest);
    assert_eq!(
        [first, second, third, fourth].map(Result::unwrap),
        [
            OnchainStatus::Verified,
            OnchainStatus::Created,
            OnchainStatus::None,
            OnchainStatus::Created
        ]
    );
    // The first read goes alone; the three that asked meanwhile share the next.
    assert_eq!(
        proxy.counts().get("eth_call"),
        Some(&2),
        "{:?}",
        proxy.counts()
    );
    assert_eq!(proxy.total(), 2, "{:?}", proxy.counts());
}
