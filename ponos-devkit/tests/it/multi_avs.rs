//! Two AVSs on one sandbox stack, set up by `ponos deploy` one after the other and served by
//! one aggregator and four executors, all production binaries on a real anvil. AVS A (BN254)
//! deploys the stack with four new operators, its deployer the aggregator; AVS B (ECDSA) is
//! deployed onto A's stack with the same operators (ECDSA keys of their own for B) and the same
//! aggregator (a key of its own for B). The stack owner's calls are first printed and sent by
//! hand with `cast`, then sent by the deploy itself. Executors read keys and membership from L1
//! and run one performer per AVS; every result must come from its own AVS's performer.

use std::{
    collections::HashMap,
    path::Path,
    process::{Command, Output},
    time::Duration,
};

use alloy::{
    consensus::Transaction as _,
    network::EthereumWallet,
    primitives::{Address, B256, Bytes},
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::types::Filter,
    signers::local::PrivateKeySigner,
    sol_types::{SolCall, SolEvent},
};
use alloy_node_bindings::Anvil;
use ponos_chain::contracts::{AllocationManager, KeyRegistrar, TaskMailbox};
use ponos_crypto::{
    bn254, ecdsa,
    keystore::{Eip2335Keystore, Kdf, Web3Keystore},
};
use ponos_devkit::deploy::{Journal, SandboxAggregator, SandboxOperator, SandboxOperators};

use crate::{
    deploy::compiled_project_with,
    faults::{
        AggregatorToml, Binary, WITHIN, create_task, http_get, performer, port, runtime_binary,
        sample, tail,
    },
};

const NETWORK: &str = "shared";

fn deploy(project: &Path, args: &[&str], env: &[(&str, B256)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ponos"));
    cmd.args(["deploy", "--network", NETWORK])
        .args(args)
        .arg("--root")
        .arg(project);
    for (name, key) in env {
        cmd.env(name, key.to_string());
    }
    cmd.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The transactions a waiting deploy printed as `cast send` lines: (sender, to, calldata).
fn printed(stderr: &str) -> Vec<(Address, Address, Bytes)> {
    stderr
        .lines()
        .filter_map(|line| line.trim().strip_prefix("cast send "))
        .map(|command| {
            let mut words = command.split_whitespace();
            let to: Address = words.next().unwrap().parse().unwrap();
            let data: Bytes = words.next().unwrap().parse().unwrap();
            let sender = command
                .rsplit_once("<key of ")
                .expect("the line names its sender")
                .1
                .trim_end_matches('>')
                .parse()
                .unwrap();
            (sender, to, data)
        })
        .collect()
}

/// Every mined transaction: (sender, to, calldata).
async fn mined(provider: &DynProvider) -> Vec<(Address, Address, Bytes)> {
    let mut all = Vec::new();
    let head = provider.get_block_number().await.unwrap();
    for number in 0..=head {
        let block = provider
            .get_block_by_number(number.into())
            .full()
            .await
            .unwrap()
            .unwrap();
        for tx in block.transactions.txns() {
            if let Some(to) = tx.to() {
                all.push((tx.inner.signer(), to, tx.input().clone()));
            }
        }
    }
    all
}

fn write_web3_keystore(path: &Path, key: &ecdsa::SecretKey) {
    let keystore =
        Web3Keystore::encrypt(key, "pw", &Kdf::Pbkdf2 { c: 1000 }, &mut rand::thread_rng())
            .unwrap();
    std::fs::write(path, serde_json::to_string(&keystore).unwrap()).unwrap();
}

/// Logs of `event` the mailbox emitted, from the chain's first block.
async fn logs<E: SolEvent>(provider: &DynProvider, address: Address) -> Vec<E> {
    provider
        .get_logs(
            &Filter::new()
                .address(address)
                .event_signature(E::SIGNATURE_HASH)
                .from_block(0),
        )
        .await
        .unwrap()
        .iter()
        .map(|log| E::decode_log_data(log.data()).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_avss_deployed_onto_one_stack_are_served_by_one_aggregator_and_one_fleet() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let (project_a, project_b) = tokio::task::spawn_blocking(move || {
        (
            compiled_project_with(&root, "avs-a", &[]),
            compiled_project_with(&root, "avs-b", &["--curve", "ecdsa"]),
        )
    })
    .await
    .unwrap();
    let performer = performer().await;
    let anvil = Anvil::new()
        .chain_id(31337)
        .args(["--prune-history", "1000000"])
        .try_spawn()
        .expect("anvil runs (script/setup installs it)");
    let url = anvil.endpoint();
    let key = |i: usize| B256::from_slice(&anvil.keys()[i].to_bytes());
    let (key_a, key_b, creator_key) = (key(0), key(1), key(9));
    let (avs_a, avs_b, creator) = (
        anvil.addresses()[0],
        anvil.addresses()[1],
        anvil.addresses()[9],
    );
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::new(
            PrivateKeySigner::from_bytes(&creator_key).unwrap(),
        ))
        .connect_http(anvil.endpoint_url())
        .erased();

    // AVS A: the stack, four new operators, its deployer the aggregator.
    let ports: Vec<[u16; 3]> = (0..4).map(|_| [port(), port(), port()]).collect();
    let sockets: Vec<String> = ports
        .iter()
        .map(|p| format!("127.0.0.1:{}", p[0]))
        .collect();
    let sockets = sockets.join(",");
    let a = deploy(
        &project_a,
        &[
            "--sandbox",
            "--rpc-url",
            &url,
            "--operator-sockets",
            &sockets,
        ],
        &[("PRIVATE_KEY", key_a)],
    );
    assert!(a.status.success(), "{}", text(&a.stderr));
    let journal_a_path = Journal::path(&project_a, NETWORK);
    let stack = Journal::load(&journal_a_path)
        .unwrap()
        .unwrap()
        .stack
        .unwrap();
    let operators_a = SandboxOperators::load(&SandboxOperators::path(&project_a, NETWORK))
        .unwrap()
        .unwrap()
        .operators;

    // AVS B's operators: the same accounts and sockets, with ECDSA keys of their own for B
    // (the KeyRegistrar keeps keys unique).
    let operators_b = SandboxOperators {
        operators: operators_a
            .iter()
            .map(|o| SandboxOperator {
                signing_key: B256::from(
                    *ecdsa::SecretKey::random(&mut rand::thread_rng()).to_bytes(),
                ),
                ..o.clone()
            })
            .collect(),
    };
    let operators_b_path = dir.path().join("operators-b.json");
    std::fs::write(
        &operators_b_path,
        serde_json::to_string(&operators_b).unwrap(),
    )
    .unwrap();
    let avs_a_text = avs_a.to_string();
    let args_b = [
        "--stack",
        journal_a_path.to_str().unwrap(),
        "--operators",
        operators_b_path.to_str().unwrap(),
        "--aggregator",
        &avs_a_text,
        "--rpc-url",
        &url,
    ];

    // Without the keys of the aggregator's account (which is also the stack's owner) the
    // deploy registers the operators, then stops and prints the aggregator's registration and
    // the owner's weights as the exact transactions to send.
    let waiting = deploy(&project_b, &args_b, &[("PRIVATE_KEY", key_b)]);
    let stderr = text(&waiting.stderr);
    assert_eq!(waiting.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("the stack owner"), "{stderr}");
    assert!(stderr.contains("the key of the aggregator"), "{stderr}");
    assert!(!stderr.contains(&key_a.to_string()), "no key is shown");
    let printed = printed(&stderr);
    assert_eq!(printed.len(), 3, "{stderr}");
    assert!(
        printed.iter().all(|(sender, ..)| *sender == avs_a),
        "{stderr}"
    );

    // With those keys it resumes with no manual step and registers nothing twice; what it
    // sends from the aggregator's account is exactly what it printed.
    let done = deploy(
        &project_b,
        &args_b,
        &[
            ("PRIVATE_KEY", key_b),
            ("AGGREGATOR_KEY", key_a),
            ("STACK_OWNER_KEY", key_a),
        ],
    );
    // Progress on stderr, what was deployed on stdout.
    let progress = text(&done.stderr);
    assert!(done.status.success(), "{}{progress}", text(&done.stdout));
    assert!(progress.contains("done earlier (journal)"), "{progress}");
    let sent = mined(&provider).await;
    for transaction in &printed {
        assert_eq!(
            sent.iter().filter(|t| *t == transaction).count(),
            1,
            "the printed transaction to {} was sent once as printed",
            transaction.1
        );
    }
    let journal_b = Journal::load(&Journal::path(&project_b, NETWORK))
        .unwrap()
        .unwrap();
    assert_eq!(journal_b.stack, Some(stack), "B went onto A's stack");
    assert!(
        journal_b.is_done("sandbox-operators/weights") && journal_b.is_done("sandbox-tables/push"),
        "{journal_b:?}"
    );
    let registered: Vec<KeyRegistrar::KeyRegistered> = logs(&provider, stack.key_registrar).await;
    let joined: Vec<AllocationManager::OperatorAddedToOperatorSet> =
        logs(&provider, stack.allocation_manager).await;
    for (what, avs) in [("A", avs_a), ("B", avs_b)] {
        let keys = registered
            .iter()
            .filter(|e| e.operatorSet.avs == avs)
            .count();
        let members = joined.iter().filter(|e| e.operatorSet.avs == avs).count();
        assert_eq!(
            (keys, members),
            (5, 5),
            "AVS {what}: one key and one membership per operator and the aggregator"
        );
    }
    // A third run has nothing left to do.
    let again = deploy(&project_b, &args_b, &[("PRIVATE_KEY", key_b)]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    let progress = text(&again.stderr);
    assert!(
        progress.contains("done earlier (journal)") && !progress.contains(": …"),
        "{progress}"
    );

    // Four executors, each serving both AVSs with a performer of each's own.
    let keystores = tempfile::tempdir().unwrap();
    let kdf = Kdf::Pbkdf2 { c: 1000 };
    let mut executors = Vec::new();
    for (i, ((a, b), [grpc, management, http])) in operators_a
        .iter()
        .zip(&operators_b.operators)
        .zip(&ports)
        .enumerate()
    {
        let bls = bn254::SecretKey::from_bytes(a.signing_key.as_slice()).unwrap();
        let bls_path = keystores.path().join(format!("operator{i}.bn254.json"));
        let keystore =
            Eip2335Keystore::encrypt_bn254(&bls, "pw", &kdf, &mut rand::thread_rng()).unwrap();
        std::fs::write(&bls_path, serde_json::to_string(&keystore).unwrap()).unwrap();
        let ecdsa_path = keystores.path().join(format!("operator{i}.ecdsa.json"));
        write_web3_keystore(
            &ecdsa_path,
            &ecdsa::SecretKey::from_bytes(b.signing_key.as_slice()).unwrap(),
        );
        let config = format!(
            r#"
[operator]
address = "{address}"
management_address = "{management_key}"
[operator.bn254]
keystore = "{bls}"
password_env = "MULTI_PASSWORD"
[operator.ecdsa]
keystore = "{ecdsa}"
password_env = "MULTI_PASSWORD"
[server]
grpc_addr = "127.0.0.1:{grpc}"
management_addr = "127.0.0.1:{management}"
http_addr = "127.0.0.1:{http}"
[store]
path = "{dir}/executor{i}.redb"
[l1]
rpc_url = "{url}"
allocation_manager = "{am}"
key_registrar = "{kr}"
[[avs]]
address = "{avs_a}"
curve = "bn254"
operator_set_ids = [1]
[avs.performer]
runtime = "process"
binary = "{performer}"
env = {{ TEST_PERFORMER_TAG = "a" }}
[[avs]]
address = "{avs_b}"
curve = "ecdsa"
operator_set_ids = [1]
ecdsa_verifier = "{ecdsa_verifier}"
[avs.performer]
runtime = "process"
binary = "{performer}"
env = {{ TEST_PERFORMER_TAG = "b" }}
"#,
            address = a.address,
            management_key = Address::repeat_byte(0xad),
            bls = bls_path.display(),
            ecdsa = ecdsa_path.display(),
            dir = keystores.path().display(),
            am = stack.allocation_manager,
            kr = stack.key_registrar,
            ecdsa_verifier = stack.ecdsa_certificate_verifier,
            performer = performer.display(),
        );
        let config_path = keystores.path().join(format!("executor{i}.toml"));
        std::fs::write(&config_path, config).unwrap();
        let mut executor = Binary {
            program: runtime_binary("ponos-executor"),
            config: config_path,
            env: vec![("MULTI_PASSWORD".into(), "pw".into())],
            log: keystores.path().join(format!("executor{i}.log")),
            http: *http,
            child: None,
        };
        executor.start().await;
        executors.push(executor);
    }

    // The aggregator: A's deployer, its key the default; B's own key from B's deploy.
    let aggregator_a = ecdsa::SecretKey::from_bytes(key_a.as_slice()).unwrap();
    let default_keystore = keystores.path().join("aggregator.json");
    write_web3_keystore(&default_keystore, &aggregator_a);
    let for_b = SandboxAggregator::load(&SandboxAggregator::path(&project_b, NETWORK))
        .unwrap()
        .expect("B's deploy kept the aggregator's key for B");
    assert_eq!(for_b.address, avs_a);
    let keystore_b = keystores.path().join("aggregator-b.json");
    write_web3_keystore(
        &keystore_b,
        &ecdsa::SecretKey::from_bytes(for_b.signing_key.as_slice()).unwrap(),
    );
    let (management, http) = (port(), port());
    let toml = AggregatorToml {
        address: avs_a,
        keystore: &default_keystore,
        password_env: "MULTI_PASSWORD",
        management,
        http,
        dir: keystores.path(),
        store: None,
        url: &url,
        stack: &stack,
    };
    let config = |avs_b_key: &str| {
        toml.render(&format!(
            "[[avs]]\naddress = \"{avs_a}\"\n[[avs]]\naddress = \"{avs_b}\"\n{avs_b_key}\n"
        ))
    };
    let config_path = keystores.path().join("aggregator.toml");
    let mut aggregator = Binary {
        program: runtime_binary("ponos-aggregator"),
        config: config_path.clone(),
        env: vec![("MULTI_PASSWORD".into(), "pw".into())],
        log: keystores.path().join("aggregator.log"),
        http,
        child: None,
    };

    let mailbox = TaskMailbox::new(stack.task_mailbox, &provider);
    let create = |avs: Address, payload: String| create_task(&mailbox, creator, avs, payload);

    // Without B's own key the aggregator cannot serve B, and says so three ways; A is served.
    std::fs::write(&config_path, config("")).unwrap();
    aggregator.start().await;
    let (_, ready) = http_get(http, "/readyz").await.unwrap();
    assert!(
        ready.contains(&format!("not serving AVS {avs_b}")),
        "/readyz: {ready}"
    );
    let metrics = aggregator.metrics().await;
    assert_eq!(
        sample(
            &metrics,
            &format!("ponos_aggregator_avs_unserved{{avs=\"{avs_b:#x}\"}}")
        ),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        sample(
            &metrics,
            &format!("ponos_aggregator_avs_unserved{{avs=\"{avs_a:#x}\"}}")
        ),
        None,
        "{metrics}"
    );
    let log = std::fs::read_to_string(&aggregator.log).unwrap();
    assert_eq!(
        log.lines()
            .filter(|l| l.contains(&format!("not serving AVS {avs_b}")))
            .count(),
        1,
        "one line: {log}"
    );
    let mut early = Vec::new();
    for i in 0..4 {
        early.push(create(avs_a, format!("early-{i}")).await);
    }
    let open = crate::unverified_after(&mailbox, &early, WITHIN).await;
    assert!(
        open.is_empty(),
        "A's tasks verify: {}",
        tail(&aggregator.log)
    );

    // With B's key: both served. 20 tasks each, interleaved.
    aggregator.kill();
    std::fs::write(
        &config_path,
        config(&format!(
            "[avs.signing_key]\nkeystore = \"{}\"\npassword_env = \"MULTI_PASSWORD\"",
            keystore_b.display()
        )),
    )
    .unwrap();
    aggregator.start().await;
    let (_, ready) = http_get(http, "/readyz").await.unwrap();
    assert!(!ready.contains("not serving"), "/readyz: {ready}");
    let mut tasks = Vec::new();
    for i in 0..20 {
        for (tag, avs) in [("a", avs_a), ("b", avs_b)] {
            let payload = format!("task-{i}");
            tasks.push((
                create(avs, payload.clone()).await,
                avs,
                format!("{tag}:{payload}"),
            ));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let hashes: Vec<B256> = tasks.iter().map(|(t, ..)| *t).collect();
    let open = crate::unverified_after(&mailbox, &hashes, WITHIN).await;
    assert!(
        open.is_empty(),
        "{} of 40 not verified: {}",
        open.len(),
        tail(&aggregator.log)
    );

    // Each verified by one mined submitResult, with its own AVS's performer's answer.
    let mut submissions: HashMap<B256, usize> = HashMap::new();
    for (_, to, input) in mined(&provider).await {
        if to == stack.task_mailbox && input.starts_with(&TaskMailbox::submitResultCall::SELECTOR) {
            let call = TaskMailbox::submitResultCall::abi_decode(&input).unwrap();
            *submissions.entry(call.taskHash).or_default() += 1;
        }
    }
    let verified: HashMap<B256, (Address, Bytes)> =
        logs::<TaskMailbox::TaskVerified>(&provider, stack.task_mailbox)
            .await
            .into_iter()
            .map(|e| (e.taskHash, (e.avs, e.result)))
            .collect();
    for (task, avs, expected) in &tasks {
        assert_eq!(
            submissions.get(task),
            Some(&1),
            "task {task}: one submitResult"
        );
        let (verified_avs, result) = &verified[task];
        assert_eq!(verified_avs, avs);
        assert_eq!(
            text(result),
            *expected,
            "task {task}: its own AVS's performer"
        );
    }
    eprintln!(
        "40/40 verified (20 per AVS), one mined submitResult each, each from its AVS's performer"
    );
    drop(aggregator);
    drop(executors);
}
