//! Hourglass's YAML config files, written from the keys Hourglass documents, start the Ponos
//! binaries unchanged; a key Ponos cannot honour stops the start with one line that names it.

use std::{
    path::Path,
    process::{Command, Stdio},
    time::Duration,
};

use alloy::primitives::{Address, U256, hex};
use ponos_crypto::challenge::sign_hourglass_token;
use ponos_crypto::{bn254, ecdsa};
use ponos_devnet::{AvsSpec, Curve, LocalChain, OperatorKey, OperatorSpec, provision_avs};
use ponos_proto::{
    common::AuthSignature,
    hourglass::{
        AggregatorGetChallengeTokenRequest, DeRegisterAvsRequest, RegisterAvsRequest,
        aggregator_management_service_client::AggregatorManagementServiceClient,
    },
};
use tonic::transport::Channel;

use crate::{
    Reaped, http_get, port, square_binary, stop_with_sigterm, wait_ready, write_bn254_keystore,
};

const IMAGE: &str = "ponos-test/square-performer:hourglass-yaml";

fn executor_yaml(dir: &Path, l1: &LocalChain, ports: [u16; 3]) -> String {
    let [grpc, management, _] = ports;
    let operator = ecdsa::SecretKey::from_bytes(&[0x0e; 32]).unwrap();
    format!(
        r#"debug: false
grpcPort: {grpc}
managementServerGrpcPort: {management}
operator:
  address: "{address}"
  operatorPrivateKey:
    privateKey: "0x{operator_key}"
  signingKeys:
    bls:
      keystoreFile: "{dir}/operator.bls.keystore.json"
      password: "testpass"
l1Chain:
  rpcUrl: "{rpc}"
  chainId: 31337
avsPerformers:
  - image:
      repository: "{repository}"
      tag: "{tag}"
    processType: server
    avsAddress: "{avs}"
    envs:
      - name: GREETING
        value: hello
contracts: |
  [{{"name": "AllocationManager", "address": "{am}", "chainId": 31337}},
   {{"name": "KeyRegistrar", "address": "{kr}", "chainId": 31337}}]
storage:
  type: badger
  badger:
    dir: "{dir}/badger"
authentication:
  enabled: true
"#,
        address = Address::repeat_byte(0x0b),
        operator_key = hex::encode(*operator.to_bytes()),
        dir = dir.display(),
        rpc = l1.endpoint,
        repository = IMAGE.split(':').next().unwrap(),
        tag = IMAGE.split(':').nth(1).unwrap(),
        avs = Address::repeat_byte(0xa5),
        am = l1.stack.allocation_manager,
        kr = l1.stack.key_registrar,
    )
}

fn aggregator_yaml(l1: &LocalChain, avs: Address, management: u16) -> String {
    let signing = ecdsa::SecretKey::from_bytes(&[0xa7; 32]).unwrap();
    let stack = &l1.stack;
    format!(
        r#"debug: false
managementServerGrpcPort: {management}
operator:
  address: "{address}"
  operatorPrivateKey:
    privateKey: "0x{key}"
  signingKeys:
    ecdsa:
      privateKey: "0x{key}"
l1ChainId: 31337
chains:
  - name: ethereum
    version: "1.0.0"
    chainId: 31337
    rpcUrl: "{rpc}"
    pollIntervalSeconds: 1
avss:
  - address: "{avs}"
    chainIds: [31337]
contracts:
  - {{name: AllocationManager, address: "{am}", chainId: 31337}}
  - {{name: KeyRegistrar, address: "{kr}", chainId: 31337}}
  - {{name: BN254TableCalculator, address: "{bn}", chainId: 31337}}
  - {{name: ECDSATableCalculator, address: "{ec}", chainId: 31337}}
  - {{name: TaskMailbox, address: "{mailbox}", chainId: 31337}}
storage:
  type: memory
authentication:
  enabled: false
"#,
        address = l1.accounts[2],
        key = hex::encode(*signing.to_bytes()),
        rpc = l1.endpoint,
        am = stack.allocation_manager,
        kr = stack.key_registrar,
        bn = stack.bn254_table_calculator,
        ec = stack.ecdsa_table_calculator,
        mailbox = stack.task_mailbox,
    )
}

/// Starts `binary` on `config` with its HTTP endpoints on `http` (the YAML formats have no key
/// for them), and waits until it is ready.
async fn start(binary: &str, config: &Path, http: u16) -> Reaped {
    let mut child = Reaped(
        Command::new(binary)
            .arg("--config")
            .arg(config)
            .arg("--http-addr")
            .arg(format!("127.0.0.1:{http}"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    wait_ready(&mut child, http, Duration::from_secs(90)).await;
    child
}

#[tokio::test(flavor = "multi_thread")]
async fn hourglass_yaml_files_start_both_binaries() {
    let dir = tempfile::tempdir().unwrap();
    let l1 = LocalChain::start(31337).await.unwrap();
    let bls = bn254::SecretKey::from_seed(b"hourglass yaml operator").unwrap();
    write_bn254_keystore(
        &dir.path().join("operator.bls.keystore.json"),
        &bls,
        "testpass",
    );
    let docker = ponos_executor::docker::connect()
        .await
        .expect("a Docker daemon answers (run script/setup)");
    ponos_executor::docker::build_image(&docker, &square_binary().await, IMAGE)
        .await
        .expect("the image builds");

    // The executor.
    let ports = [port(), port(), port()];
    let config = dir.path().join("executor.yaml");
    std::fs::write(&config, executor_yaml(dir.path(), &l1, ports)).unwrap();
    let http = ports[2];
    let mut child = start(env!("CARGO_BIN_EXE_ponos-executor"), &config, http).await;
    assert!(
        dir.path().join("badger/ponos-executor.redb").is_file(),
        "the store lives in Badger's directory"
    );
    let exit = stop_with_sigterm(&mut child, Duration::from_secs(30)).await;
    assert!(exit.success(), "{exit}");

    // The aggregator, of an AVS set up on the stack, managed as hgctl manages it: without
    // authentication (on loopback), then with Hourglass's challenge tokens signed by the
    // aggregator's signing key.
    let avs = l1.accounts[1];
    let spec = AvsSpec {
        avs,
        admin: l1.accounts[0],
        aggregator: l1.accounts[2],
        aggregator_key: ecdsa::SecretKey::from_bytes(&[0xa7; 32]).unwrap(),
        curve: Curve::Bn254,
        operators: vec![OperatorSpec {
            address: l1.accounts[3],
            key: OperatorKey::Bn254(bn254::SecretKey::from_seed(b"yaml test operator").unwrap()),
            socket: "127.0.0.1:1".into(),
            weight: U256::from(100),
        }],
        task_sla: 120,
        threshold_bps: 6_000,
        registrar_code: None,
        task_hook_code: None,
    };
    provision_avs(&l1.chain, &[], &spec).await.unwrap();
    let aggregator = spec.aggregator;
    for enabled in [false, true] {
        let (http, management) = (port(), port());
        let config = dir.path().join("aggregator.yaml");
        let text = aggregator_yaml(&l1, avs, management)
            .replace("enabled: false", &format!("enabled: {enabled}"));
        std::fs::write(&config, text).unwrap();
        let mut child = start(env!("CARGO_BIN_EXE_ponos-aggregator"), &config, http).await;
        let channel = Channel::from_shared(format!("http://127.0.0.1:{management}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut client = AggregatorManagementServiceClient::new(channel);
        let signing = ecdsa::SecretKey::from_bytes(&[0xa7; 32]).unwrap();
        let tokens = client.clone();
        let auth = || {
            let mut client = tokens.clone();
            let signing = signing.clone();
            async move {
                if !enabled {
                    return None;
                }
                let token = client
                    .get_challenge_token(AggregatorGetChallengeTokenRequest {
                        aggregator_address: aggregator.to_string(),
                    })
                    .await
                    .unwrap()
                    .into_inner()
                    .challenge_token;
                Some(AuthSignature {
                    signature: sign_hourglass_token(&signing, &token),
                    challenge_token: token,
                })
            }
        };
        let deregistered = client
            .de_register_avs(DeRegisterAvsRequest {
                avs_address: format!("{avs:#x}"),
                auth: auth().await,
            })
            .await
            .unwrap()
            .into_inner();
        assert!(deregistered.success);
        let registered = client
            .register_avs(RegisterAvsRequest {
                avs_address: format!("{avs:#x}"),
                chain_ids: vec![31337],
                auth: auth().await,
            })
            .await
            .unwrap()
            .into_inner();
        assert!(registered.success);
        // An AVS whose aggregator set does not hold this key is refused, and /readyz says so.
        let other = format!("{:#x}", Address::repeat_byte(0xa9));
        let refused = client
            .register_avs(RegisterAvsRequest {
                avs_address: other.clone(),
                chain_ids: vec![31337],
                auth: auth().await,
            })
            .await
            .unwrap_err();
        assert_eq!(
            refused.code(),
            tonic::Code::FailedPrecondition,
            "{refused:?}"
        );
        assert!(
            refused.message().contains("no registrar contract"),
            "{refused:?}"
        );
        let (status, body) = http_get(http, "/readyz").await.unwrap();
        assert_eq!(status, 200, "the other AVS is served");
        assert!(
            body.contains(&format!(
                "not serving AVS {}: AVS",
                Address::repeat_byte(0xa9)
            )),
            "{body}"
        );
        if enabled {
            let refused = client
                .register_avs(RegisterAvsRequest {
                    avs_address: other,
                    chain_ids: vec![31337],
                    auth: None,
                })
                .await
                .unwrap_err();
            assert_eq!(refused.code(), tonic::Code::Unauthenticated, "{refused:?}");
        }
        let exit = stop_with_sigterm(&mut child, Duration::from_secs(30)).await;
        assert!(exit.success(), "{exit}");
    }

    // A key Ponos cannot honour: one line that names it, exit 1.
    let config = dir.path().join("network.yaml");
    let text = executor_yaml(dir.path(), &l1, [port(), port(), port()]).replace(
        "debug: false\n",
        "debug: false\nperformerNetworkName: avs-net\n",
    );
    std::fs::write(&config, text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ponos-executor"))
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("performerNetworkName"), "{stderr}");

    ponos_executor::docker::remove_by_id_prefix(
        &docker,
        &format!("performer-{:#x}", Address::repeat_byte(0xa5)),
    )
    .await
    .unwrap();
}
