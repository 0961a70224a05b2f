//! The `ponos-aggregator` binary, run as an AVS runs it: a config file, a keystore, two real
//! anvil chains with the stack, four executors over gRPC, SIGTERM to stop.

use std::{
    process::{Command, Stdio},
    time::Duration,
};

use alloy::{
    primitives::{Bytes, U256},
    providers::Provider,
};
use ponos_crypto::{bn254, ecdsa};
use ponos_devnet::{
    AvsSpec, Curve, LocalChain, LocalExecutor, OperatorKey, OperatorSpec, provision_avs,
};
use ponos_performer::{Performer, PerformerError, Task};
use tokio::net::TcpListener;

use crate::{http_get, port, stop_with_sigterm, wait_ready};

/// Squares a decimal payload.
struct Squarer;

impl Performer for Squarer {
    async fn handle_task(&self, task: Task) -> Result<Vec<u8>, PerformerError> {
        let n: u128 = String::from_utf8_lossy(&task.payload)
            .parse()
            .map_err(|_| PerformerError::InvalidTask("a decimal number expected".into()))?;
        Ok((n * n).to_string().into_bytes())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn aggregator_binary_verifies_tasks_on_two_chains_and_stops_on_sigterm() {
    let l1 = LocalChain::start(31337).await.unwrap();
    let l2 = LocalChain::start(31338).await.unwrap();
    let accounts = l1.accounts.clone();
    let (admin, avs, aggregator, creator) = (accounts[0], accounts[1], accounts[2], accounts[9]);
    let signing = ecdsa::SecretKey::from_bytes(&[0xa6; 32]).unwrap();

    let mut operators = Vec::new();
    let mut listeners = Vec::new();
    for i in 0..4 {
        let key = OperatorKey::Bn254(
            bn254::SecretKey::from_seed(format!("binary operator {i}").as_bytes()).unwrap(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        operators.push(OperatorSpec {
            address: accounts[3 + i],
            key: key.clone(),
            socket: listener.local_addr().unwrap().to_string(),
            weight: U256::from(10),
        });
        listeners.push((accounts[3 + i], key, listener));
    }
    let spec = AvsSpec {
        avs,
        admin,
        aggregator,
        aggregator_key: signing.clone(),
        curve: Curve::Bn254,
        operators,
        task_sla: 120,
        threshold_bps: 10_000,
        registrar_code: None,
        task_hook_code: None,
    };
    provision_avs(&l1.chain, std::slice::from_ref(&l2.chain), &spec)
        .await
        .unwrap();
    let mut executors = Vec::new();
    for (address, key, listener) in listeners {
        executors.push(
            LocalExecutor::start(listener, &l1.chain, avs, address, key, Squarer)
                .await
                .unwrap(),
        );
    }
    // The signing key also sends the transactions: fund it on both chains.
    for chain in [&l1, &l2] {
        let _: () = chain
            .provider()
            .raw_request(
                "anvil_setBalance".into(),
                (signing.address(), U256::from(10u128.pow(20))),
            )
            .await
            .unwrap();
    }

    let dir = tempfile::tempdir().unwrap();
    crate::write_ecdsa_keystore(&dir.path().join("aggregator.json"), &signing, "agg-pw");
    let stack = &l1.chain.stack;
    let (management, http) = (port(), port());
    let config = format!(
        r#"
[aggregator]
address = "{aggregator}"
management_address = "{admin}"
[aggregator.signing_key]
keystore = "{dir}/aggregator.json"
password_env = "TEST_AGGREGATOR_PASSWORD"
[server]
management_addr = "127.0.0.1:{management}"
http_addr = "127.0.0.1:{http}"
[store]
path = "{dir}/data/aggregator.redb"
[l1]
chain_id = 31337
rpc_url = "{l1_url}"
allocation_manager = "{am}"
key_registrar = "{kr}"
bn254_table_calculator = "{bn}"
ecdsa_table_calculator = "{ec}"
[[chain]]
chain_id = 31337
rpc_url = "{l1_url}"
task_mailbox = "{mailbox}"
poll_interval_ms = 100
start_block = 0
development = true
[[chain]]
chain_id = 31338
rpc_url = "{l2_url}"
task_mailbox = "{mailbox}"
poll_interval_ms = 100
start_block = 0
development = true
[[avs]]
address = "{avs}"
"#,
        dir = dir.path().display(),
        l1_url = l1.endpoint,
        l2_url = l2.endpoint,
        am = stack.allocation_manager,
        kr = stack.key_registrar,
        bn = stack.bn254_table_calculator,
        ec = stack.ecdsa_table_calculator,
        mailbox = stack.task_mailbox,
    );
    let config_path = dir.path().join("aggregator.toml");
    std::fs::write(&config_path, config).unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_ponos-aggregator"))
        .arg("--config")
        .arg(&config_path)
        .env("TEST_AGGREGATOR_PASSWORD", "agg-pw")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    wait_ready(&mut child, http, Duration::from_secs(30)).await;

    let on_l1 = l1
        .create_task(creator, avs, Bytes::from_static(b"12"))
        .await
        .unwrap();
    let on_l2 = l2
        .create_task(creator, avs, Bytes::from_static(b"13"))
        .await
        .unwrap();
    let poll = Duration::from_millis(50);
    let (_, result) = l1
        .wait_verified(on_l1, Duration::from_secs(60), poll)
        .await
        .unwrap();
    assert_eq!(result.as_ref(), b"144");
    let (_, result) = l2
        .wait_verified(on_l2, Duration::from_secs(60), poll)
        .await
        .unwrap();
    assert_eq!(result.as_ref(), b"169");

    // The store records the verifications a moment after the receipts.
    let verified = |metrics: &str| {
        ponos_metrics::value(metrics, "ponos_aggregator_tasks{status=\"verified\"}")
    };
    let mut metrics = String::new();
    for _ in 0..100 {
        metrics = http_get(http, "/metrics").await.unwrap().1;
        if verified(&metrics) == Some(2.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(verified(&metrics), Some(2.0), "{metrics}");
    // Each task was answered, and each answer timed.
    let answered: f64 = metrics
        .lines()
        .filter(|line| line.starts_with("ponos_aggregator_operator_response_seconds_count{"))
        .filter_map(|line| line.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum();
    assert!(
        answered >= 2.0,
        "{answered} answers timed for two tasks: {metrics}"
    );

    let status = stop_with_sigterm(&mut child, Duration::from_secs(20)).await;
    assert!(status.success(), "{status}");
    drop(executors);
}
