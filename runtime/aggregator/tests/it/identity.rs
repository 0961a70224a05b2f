//! Two AVSs on one stack, each with its own aggregator key (the KeyRegistrar keeps keys unique).
//! An aggregator whose key is not the one an AVS's aggregator set holds does not serve that AVS
//! and says why; the other AVS's tasks verify. Given the AVS's own key, it serves both.

use std::{collections::HashMap, time::Duration};

use alloy::primitives::{Address, B256, U256};
use ponos_aggregator::{
    Aggregator,
    identity::{AggregatorIdentity, AggregatorSigner, Identities},
};
use ponos_crypto::ecdsa;
use ponos_devnet::{AvsSpec, Curve, LocalExecutor, OperatorKey, OperatorSpec, provision_avs};
use ponos_store::{AggregatorStore, MemoryAggregatorStore};
use tokio::net::TcpListener;

use crate::harness::{Behaviour, Squarer, network};

const WITHIN: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread")]
async fn an_avs_whose_aggregator_set_holds_another_key_is_not_served_until_it_has_its_own() {
    use Behaviour::*;
    let net = network(Curve::Bn254, &[Honest, Honest, Honest, Honest]).await;

    // AVS B: an ECDSA executor set of three of the same operators (new keys), its own
    // aggregator account and key.
    let accounts = net.l1.accounts.clone();
    let (avs_b, aggregator_b) = (accounts[7], accounts[8]);
    let key_b = ecdsa::SecretKey::from_bytes(&[0xb6; 32]).unwrap();
    let mut operators = Vec::new();
    let mut executors = Vec::new();
    for (i, (address, _)) in net.operators.iter().take(3).enumerate() {
        let key = OperatorKey::Ecdsa(ecdsa::SecretKey::from_bytes(&[0x50 + i as u8; 32]).unwrap());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        operators.push(OperatorSpec {
            address: *address,
            key: key.clone(),
            socket: listener.local_addr().unwrap().to_string(),
            weight: U256::from(100),
        });
        executors.push((listener, *address, key));
    }
    let spec = AvsSpec {
        avs: avs_b,
        admin: accounts[0],
        aggregator: aggregator_b,
        aggregator_key: key_b.clone(),
        curve: Curve::Ecdsa,
        operators,
        task_sla: 120,
        threshold_bps: 6_000,
        registrar_code: None,
        task_hook_code: None,
    };
    provision_avs(&net.l1.chain, std::slice::from_ref(&net.l2.chain), &spec)
        .await
        .expect("AVS B is set up");
    let mut running = Vec::new();
    for (listener, address, key) in executors {
        let performer = Squarer {
            wrong: false,
            delay_ms: net.delay_ms.clone(),
        };
        running.push(
            LocalExecutor::start(listener, &net.l1.chain, avs_b, address, key, performer)
                .await
                .unwrap(),
        );
    }

    // One identity for both: B's aggregator set holds another key, so B is not served.
    let mut config = net.aggregator_config().await;
    config.avss.push(avs_b);
    let store = std::sync::Arc::new(MemoryAggregatorStore::default());
    let aggregator = Aggregator::start(config, store.clone()).await.unwrap();
    let unserved = aggregator.unserved();
    assert_eq!(unserved.len(), 1, "{unserved:?}");
    assert_eq!(unserved[0].0, avs_b);
    assert!(
        unserved[0]
            .1
            .contains("is not in the aggregator operator set"),
        "{unserved:?}"
    );
    assert_eq!(aggregator.avss(), [net.avs]);
    let metrics = aggregator.render_metrics();
    assert!(
        metrics.contains(&format!(
            "ponos_aggregator_avs_unserved{{avs=\"{avs_b:#x}\"}} 1"
        )),
        "{metrics}"
    );
    let skipped = create_task(&net, avs_b, "6").await;
    let served = net.create_task(&net.l1, "7").await;
    let (_, result) = net.verified(&net.l1, served, WITHIN).await;
    assert_eq!(result.as_ref(), b"49");
    // A's task came after B's on the same chain: the watcher has passed B's task and left it.
    assert!(
        store.task(skipped).unwrap().is_none(),
        "B's task is not taken up"
    );
    aggregator.shutdown(Duration::from_secs(1)).await;

    // With B's own identity, both are served.
    let mut config = net.aggregator_config().await;
    config.avss.push(avs_b);
    let default = AggregatorIdentity {
        address: net.aggregator,
        key: AggregatorSigner::Ecdsa(net.aggregator_key.clone()),
    };
    let own = AggregatorIdentity {
        address: aggregator_b,
        key: AggregatorSigner::Ecdsa(key_b),
    };
    config.identities = Identities::new(default, HashMap::from([(avs_b, own)]));
    let store = std::sync::Arc::new(MemoryAggregatorStore::default());
    let aggregator = Aggregator::start(config, store.clone()).await.unwrap();
    assert!(aggregator.unserved().is_empty());
    let mut both = vec![net.avs, avs_b];
    both.sort();
    assert_eq!(aggregator.avss(), both);
    let task = create_task(&net, avs_b, "8").await;
    let (_, result) = net.verified(&net.l1, task, WITHIN).await;
    assert_eq!(result.as_ref(), b"64");
    let task = net.create_task(&net.l1, "9").await;
    let (_, result) = net.verified(&net.l1, task, WITHIN).await;
    assert_eq!(result.as_ref(), b"81");
    aggregator.shutdown(Duration::from_secs(1)).await;
    drop(running);
}

async fn create_task(net: &crate::harness::Net, avs: Address, payload: &str) -> B256 {
    net.l1
        .create_task(net.creator, avs, payload.as_bytes().to_vec().into())
        .await
        .unwrap()
}
