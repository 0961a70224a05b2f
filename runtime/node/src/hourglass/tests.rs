use super::*;
use crate::{
    aggregator::config::AggregatorFileConfig,
    executor::config::{Curve, ExecutorConfig, PerformerConfig},
};

/// An executor file as Hourglass documents it (`executorConfig.go`), every supported key set.
const EXECUTOR: &str = r#"
debug: true
grpcPort: 9090
managementServerGrpcPort: 9091
operator:
  address: "0x6B58f6762689DF33fe8fa3FC40Fb5a3089D3a8cc"
  operatorPrivateKey:
    privateKey: "0x3dd7c381f27775d9945f0fcf5bb914484c4d01681824603c71dd762259f43214"
  signingKeys:
    bls:
      keystoreFile: "/keys/operator.bls.keystore.json"
      password: "testpass"
l1Chain:
  rpcUrl: "http://localhost:8545"
  chainId: 31337
avsPerformers:
  - image:
      repository: "hello-performer"
      tag: "latest"
    processType: "server"
    avsAddress: "0xCE2Ac75bE2E0951F1F7B288c7a6A9BfB6c331DC4"
    deploymentMode: "docker"
    envs:
      - name: "GREETING"
        value: "hello"
  - avsAddress: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
contracts: |
  [{"name": "AllocationManager", "address": "0x948B3c65b89DF0B4894ABE91E6D02FE579834F8F", "chainId": 31337},
   {"name": "KeyRegistrar", "address": "0x54945180dB7943c0ed0FEE7EdaB2Bd24620256bc", "chainId": 31337}]
storage:
  type: "badger"
  badger:
    dir: "/var/lib/executor"
    valueLogFileSize: 1073741824
    numVersionsToKeep: 1
authentication:
  enabled: true
"#;

/// An aggregator file as Hourglass documents it (`aggregatorConfig.go`).
const AGGREGATOR: &str = r#"
debug: false
managementServerGrpcPort: 9010
operator:
  address: "0x6B58f6762689DF33fe8fa3FC40Fb5a3089D3a8cc"
  operatorPrivateKey:
    privateKey: "0x3dd7c381f27775d9945f0fcf5bb914484c4d01681824603c71dd762259f43214"
  signingKeys:
    ecdsa:
      privateKey: "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6"
l1ChainId: 31337
chains:
  - name: ethereum
    version: "1.0.0"
    chainId: 31337
    rpcUrl: "http://localhost:8545"
    pollIntervalSeconds: 2
  - name: base
    chainId: 31338
    rpcUrl: "http://localhost:9545"
avss:
  - address: "0xCE2Ac75bE2E0951F1F7B288c7a6A9BfB6c331DC4"
    chainIds: [31337, 31338]
contracts:
  - {name: AllocationManager, address: "0x948B3c65b89DF0B4894ABE91E6D02FE579834F8F", chainId: 31337}
  - {name: KeyRegistrar, address: "0x54945180dB7943c0ed0FEE7EdaB2Bd24620256bc", chainId: 31337}
  - {name: BN254TableCalculator, address: "0x0000000000000000000000000000000000000b01", chainId: 31337}
  - {name: ECDSATableCalculator, address: "0x0000000000000000000000000000000000000e01", chainId: 31337}
  - {name: TaskMailbox, address: "0x0000000000000000000000000000000000000a01", chainId: 31337}
overrideContracts:
  taskMailbox:
    contract: '{"name": "TaskMailbox", "address": "0x0000000000000000000000000000000000000a02", "chainId": 31338}'
    chainIds: [31338]
storage:
  type: memory
authentication:
  enabled: false
network: devnet
responseTimeout: 30s
"#;

fn executor_error(from: &str, to: &str) -> String {
    assert!(EXECUTOR.contains(from), "{from}");
    let text = EXECUTOR.replace(from, to);
    let error = executor_config(&text).unwrap_err().to_string();
    assert_eq!(error.lines().count(), 1, "{error}");
    error
}

#[test]
fn an_executor_file_maps_key_by_key() {
    let config: ExecutorConfig = executor_config(EXECUTOR).unwrap();
    assert_eq!(
        config.operator.address,
        "0x6B58f6762689DF33fe8fa3FC40Fb5a3089D3a8cc"
            .parse::<Address>()
            .unwrap()
    );
    let operator_key = ponos_crypto::ecdsa::SecretKey::from_bytes(
        &alloy_primitives::hex::decode(
            "3dd7c381f27775d9945f0fcf5bb914484c4d01681824603c71dd762259f43214",
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(config.operator.management_address, operator_key.address());
    assert!(config.operator.bn254.is_some() && config.operator.ecdsa.is_none());
    assert_eq!(config.server.grpc_addr, "0.0.0.0:9090".parse().unwrap());
    assert_eq!(
        config.server.management_addr,
        "0.0.0.0:9091".parse().unwrap()
    );
    assert_eq!(config.management.auth, AuthMode::Hourglass);
    assert!(config.management.allow_deploy_new_avs);
    assert_eq!(config.store.path, "/var/lib/executor/ponos-executor.redb");
    assert_eq!(config.log.level, "debug");
    let l1 = config.l1.as_ref().unwrap();
    assert_eq!(l1.rpc_url, "http://localhost:8545");
    assert_eq!(
        l1.key_registrar,
        "0x54945180dB7943c0ed0FEE7EdaB2Bd24620256bc"
            .parse::<Address>()
            .unwrap()
    );
    // The performer without an image waits for a DeployArtifact, as in Hourglass.
    assert_eq!(config.avss.len(), 1);
    let avs = &config.avss[0];
    assert_eq!(avs.curve, Curve::Bn254);
    let PerformerConfig::Docker { image, env, .. } = &avs.performer else {
        panic!("a Docker performer");
    };
    assert_eq!(image, "hello-performer:latest");
    assert_eq!(env.get("GREETING").map(String::as_str), Some("hello"));
}

#[test]
fn what_ponos_cannot_honour_is_named_in_one_line() {
    for (from, to, named) in [
        (
            "grpcPort: 9090\n",
            "grpcPort: 9090\nperformerNetworkName: avs-net\n",
            "performerNetworkName",
        ),
        (
            "deploymentMode: \"docker\"",
            "deploymentMode: \"kubernetes\"",
            "deploymentMode",
        ),
        (
            "processType: \"server\"",
            "processType: \"one-off\"",
            "processType",
        ),
        (
            "grpcPort: 9090\n",
            "grpcPort: 9090\nkubernetes:\n  namespace: default\n",
            "kubernetes",
        ),
        (
            "        value: \"hello\"",
            "        kubernetesEnv: {valueFrom: {secretKeyRef: {name: s, key: k}}}",
            "kubernetesEnv",
        ),
        (
            "    privateKey: \"0x3dd7c381f27775d9945f0fcf5bb914484c4d01681824603c71dd762259f43214\"",
            "    remoteSigner: true\n    remoteSignerConfig: {url: \"http://localhost:9000\"}",
            "remoteSigner",
        ),
        (
            "managementServerGrpcPort: 9091",
            "managementServerGrpcPort: 0",
            "managementServerGrpcPort",
        ),
        (
            "grpcPort: 9090\n",
            "grpcPort: 9090\ngrpcPrt: 1\n",
            "grpcPrt",
        ),
    ] {
        let error = executor_error(from, to);
        assert!(error.contains(named), "{named}: {error}");
    }
    let error = executor_error(
        "      password: \"testpass\"",
        "      password: \"testpass\"\n    ecdsa:\n      privateKey: \"0x01\"",
    );
    assert!(error.contains("both bls and ecdsa"), "{error}");
}

#[test]
fn no_authentication_keeps_management_on_loopback() {
    let text = EXECUTOR.replace("enabled: true", "enabled: false");
    let config = executor_config(&text).unwrap();
    assert_eq!(config.management.auth, AuthMode::None);
    assert_eq!(
        config.server.management_addr,
        "127.0.0.1:9091".parse().unwrap()
    );
}

#[test]
fn contracts_come_from_the_address_book_for_known_chains() {
    let text = EXECUTOR
        .replace("chainId: 31337\navsPerformers", "chainId: 1\navsPerformers")
        .replace(
            EXECUTOR
                .split("contracts: |")
                .nth(1)
                .unwrap()
                .split("storage:")
                .next()
                .unwrap(),
            "\n  []\n",
        );
    let config = executor_config(&text).unwrap();
    let mainnet = ponos_chain::book::lookup("ethereum").unwrap().l1.unwrap();
    assert_eq!(
        config.l1.unwrap().allocation_manager,
        mainnet.allocation_manager
    );
    let unknown = text.replace("chainId: 1\n", "chainId: 424242\n");
    let error = executor_config(&unknown).unwrap_err().to_string();
    assert!(
        error.contains("no AllocationManager for chain 424242"),
        "{error}"
    );
}

#[test]
fn an_aggregator_file_maps_key_by_key() {
    let config: AggregatorFileConfig = aggregator_config(AGGREGATOR).unwrap();
    assert_eq!(config.l1.chain_id, 31337);
    assert_eq!(config.chains.len(), 2);
    assert_eq!(config.chains[0].poll_interval_ms, 2_000);
    assert!(config.chains[0].development && config.chains[1].development);
    assert_eq!(
        config.chains[0].task_mailbox,
        "0x0000000000000000000000000000000000000a01"
            .parse::<Address>()
            .unwrap()
    );
    assert_eq!(
        config.chains[1].task_mailbox,
        "0x0000000000000000000000000000000000000a02"
            .parse::<Address>()
            .unwrap(),
        "overrideContracts.taskMailbox for chain 31338"
    );
    assert_eq!(config.avss.len(), 1);
    assert!(config.aggregator.transaction_key.is_some());
    assert_eq!(config.management.auth, AuthMode::None);
    assert_eq!(
        config.server.management_addr,
        "127.0.0.1:9010".parse().unwrap()
    );
    assert_eq!(config.store.path, ":memory:");

    for (from, to, named) in [
        (
            "debug: false",
            "debug: false\ntlsEnabled: true",
            "tlsEnabled",
        ),
        (
            "  signingKeys:\n    ecdsa:",
            "  signingKeys:\n    bls:\n      keystoreFile: /keys/agg.json\n      password: pw\n    ecdsa:",
            "both ecdsa and bls",
        ),
        ("l1ChainId: 31337", "l1ChainId: 1", "l1ChainId"),
        (
            "chainIds: [31337, 31338]",
            "chainIds: [31337, 8453]",
            "8453",
        ),
        (
            "  - {name: ECDSATableCalculator",
            "  - {name: SomethingElse",
            "ECDSATableCalculator",
        ),
    ] {
        assert!(AGGREGATOR.contains(from), "{from}");
        let error = aggregator_config(&AGGREGATOR.replace(from, to))
            .unwrap_err()
            .to_string();
        assert_eq!(error.lines().count(), 1, "{error}");
        assert!(error.contains(named), "{named}: {error}");
    }
}

#[test]
fn an_aggregator_may_sign_with_a_bls_key() {
    let text = AGGREGATOR.replace(
        "    ecdsa:\n      privateKey: \"0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6\"",
        "    bls:\n      keystoreFile: /keys/agg.json\n      password: pw",
    );
    let config = aggregator_config(&text).unwrap();
    assert_eq!(
        config.aggregator.signing_curve,
        crate::aggregator::config::SigningCurve::Bn254
    );
    let without_tx_key = text.replace(
        "  operatorPrivateKey:\n    privateKey: \"0x3dd7c381f27775d9945f0fcf5bb914484c4d01681824603c71dd762259f43214\"\n",
        "",
    );
    let error = aggregator_config(&without_tx_key).unwrap_err().to_string();
    assert!(error.contains("operatorPrivateKey"), "{error}");
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let config = aggregator_config(AGGREGATOR).unwrap();
    let shown = format!("{config:?}");
    assert!(!shown.contains("2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6"));
    let config = executor_config(EXECUTOR).unwrap();
    assert!(!format!("{config:?}").contains("testpass"));
}

#[test]
fn parse_errors_never_quote_the_file() {
    let secret = "3dd7c381f27775d9945f0fcf5bb914484c4d01681824603c71dd762259f43214";
    for (from, to) in [
        ("    privateKey: \"0x3dd7", "    privateKy: \"0x3dd7"),
        (
            "  operatorPrivateKey:\n",
            "  operatorPrivateKey:\n    remoteSigner: maybe\n",
        ),
        ("grpcPort: 9090", "grpcPort: [9090"),
    ] {
        assert!(EXECUTOR.contains(from), "{from}");
        let error = executor_config(&EXECUTOR.replace(from, to))
            .unwrap_err()
            .to_string();
        assert!(!error.contains(secret), "{error}");
        assert!(!error.contains("testpass"), "{error}");
        assert_eq!(error.lines().count(), 1, "{error}");
    }
}
