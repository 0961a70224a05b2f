//! Faults, counted on chain. The production binaries run as an operator runs them: an AVS
//! deployed with `ponos deploy --sandbox` on a real anvil, four `ponos-executor` processes
//! reading keys and membership from L1 with process performers, one `ponos-aggregator`, the
//! SLA 120 s and the threshold 100%. Processes are SIGKILLed at several points while tasks
//! run; every task must end verified, by exactly one mined `submitResult` and one
//! `TaskVerified`.

use std::{
    collections::HashMap,
    net::TcpListener as StdListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
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
use alloy_node_bindings::{Anvil, AnvilInstance};
use ponos_chain::contracts::{TaskMailbox, task_mailbox};
use ponos_crypto::{
    bn254, ecdsa,
    keystore::{Eip2335Keystore, Kdf, Web3Keystore},
};
use ponos_devkit::deploy::{Journal, SandboxOperators};
use ponos_store::{AggregatorStore, RedbAggregatorStore, TaskStatus};
use tokio::sync::OnceCell;

use crate::{
    deploy::compiled_project,
    procs::{alive, children},
};

/// How long any one wait of these tests may take: well inside the 120 s SLA.
pub(crate) const WITHIN: Duration = Duration::from_secs(100);

/// The AVS project every fleet deploys, compiled once.
pub(crate) async fn project() -> &'static Path {
    static PROJECT: OnceCell<PathBuf> = OnceCell::const_new();
    PROJECT
        .get_or_init(|| async move {
            let dir = tempfile::tempdir().unwrap().keep();
            tokio::task::spawn_blocking(move || compiled_project(&dir, "fault-avs"))
                .await
                .unwrap()
        })
        .await
}

/// The performer: echoes payloads, optionally after a delay (`TEST_PERFORMER_DELAY_MS`).
pub(crate) async fn performer() -> &'static Path {
    static BINARY: OnceCell<PathBuf> = OnceCell::const_new();
    BINARY
        .get_or_init(|| async move {
            let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
            ponos_executor::docker::build_static_binary(
                &workspace,
                "executor-test-performer",
                &workspace.join("target/performer"),
            )
            .await
            .expect("the test performer builds")
        })
        .await
}

/// A production binary of `ponos-node`: beside `ponos` when the workspace's tests are built
/// together (as `cargo test --workspace` does), else built once into its own target dir.
pub(crate) fn runtime_binary(name: &str) -> PathBuf {
    let beside = Path::new(env!("CARGO_BIN_EXE_ponos")).with_file_name(name);
    if beside.exists() {
        return beside;
    }
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let target = BUILT.get_or_init(|| {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let target = workspace.join("target/faults");
        let status = Command::new(env!("CARGO"))
            .current_dir(&workspace)
            .args([
                "build",
                "--locked",
                "-p",
                "ponos-node",
                "--bins",
                "--target-dir",
            ])
            .arg(&target)
            .status()
            .expect("cargo runs");
        assert!(status.success(), "ponos-node builds");
        target.join("debug")
    });
    target.join(name)
}

/// A loopback port for a process started later. Ports the kernel hands out (anvil's, every
/// client socket, other tests' `:0` listeners) come from its ephemeral range, 32768 and up, so
/// one of those could take a port picked with `:0` between the pick and the process binding it;
/// these come from below that range, each at most once per test run, and are checked free.
pub(crate) fn port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    // Where this run starts depends on its process id, so a run does not meet the ports a
    // previous run's processes may still hold.
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let _ = NEXT.compare_exchange(
        0,
        20_000 + (std::process::id() % 8_000) as u16,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    loop {
        let port = NEXT.fetch_add(1, Ordering::SeqCst);
        assert!(
            port < 32_768,
            "no free loopback port below the ephemeral range"
        );
        if StdListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

pub(crate) async fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await.ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    Some((status, body))
}

/// The value of the sample `series` (name and labels, exactly) in Prometheus text.
pub(crate) fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|line| {
        let (name, value) = line.rsplit_once(' ')?;
        (name == series).then(|| value.parse().ok()).flatten()
    })
}

/// One production binary: its command line, its process once started, its HTTP port.
pub(crate) struct Binary {
    pub(crate) program: PathBuf,
    pub(crate) config: PathBuf,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) log: PathBuf,
    pub(crate) http: u16,
    pub(crate) child: Option<Child>,
}

impl Binary {
    /// Starts it and waits until it is ready.
    pub(crate) async fn start(&mut self) {
        self.start_until(|status, _| status == 200).await;
    }

    /// Starts an aggregator that shares its store with an active one, and waits until it
    /// stands by.
    pub(crate) async fn start_standby(&mut self) {
        self.start_until(|status, body| status == 503 && body.starts_with("standby: "))
            .await;
    }

    async fn start_until(&mut self, up: impl Fn(u16, &str) -> bool) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let mut child = Command::new(&self.program)
            .arg("--config")
            .arg(&self.config)
            .envs(self.env.iter().cloned())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some((status, body)) = http_get(self.http, "/readyz").await
                && up(status, &body)
            {
                break;
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!(
                    "{} exited during start-up ({status}):\n{}",
                    self.program.display(),
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < until,
                "{} not ready",
                self.program.display()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        self.child = Some(child);
    }

    /// SIGKILL: no shutdown path runs.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    pub(crate) async fn metrics(&self) -> String {
        http_get(self.http, "/metrics")
            .await
            .map(|(_, body)| body)
            .unwrap_or_default()
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A `ponos-aggregator` config for a sandbox `stack` on the anvil at `url`.
pub(crate) struct AggregatorToml<'a> {
    /// The aggregator's operator address (also its management key's).
    pub(crate) address: Address,
    /// Its default signing key's keystore, and the variable holding its password.
    pub(crate) keystore: &'a Path,
    pub(crate) password_env: &'a str,
    pub(crate) management: u16,
    pub(crate) http: u16,
    /// Where its store goes (a redb file there), unless `store` says otherwise.
    pub(crate) dir: &'a Path,
    /// The body of its `[store]` table instead of the redb file in `dir`.
    pub(crate) store: Option<String>,
    pub(crate) url: &'a str,
    pub(crate) stack: &'a ponos_chain::sandbox::StackAddresses,
}

impl AggregatorToml<'_> {
    /// The config, with `avss` (its `[[avs]]` tables) at the end.
    pub(crate) fn render(&self, avss: &str) -> String {
        let stack = self.stack;
        format!(
            r#"
[aggregator]
address = "{address}"
management_address = "{address}"
[aggregator.signing_key]
keystore = "{keystore}"
password_env = "{password_env}"
[server]
management_addr = "127.0.0.1:{management}"
http_addr = "127.0.0.1:{http}"
[store]
{store}
[sender]
poll_interval_ms = 50
[l1]
chain_id = 31337
rpc_url = "{url}"
allocation_manager = "{am}"
key_registrar = "{kr}"
bn254_table_calculator = "{bn}"
ecdsa_table_calculator = "{ec}"
[[chain]]
chain_id = 31337
rpc_url = "{url}"
task_mailbox = "{mailbox}"
poll_interval_ms = 50
start_block = 0
development = true
{avss}"#,
            address = self.address,
            keystore = self.keystore.display(),
            password_env = self.password_env,
            management = self.management,
            http = self.http,
            store = self
                .store
                .clone()
                .unwrap_or_else(|| format!("path = \"{}/aggregator.redb\"", self.dir.display())),
            url = self.url,
            am = stack.allocation_manager,
            kr = stack.key_registrar,
            bn = stack.bn254_table_calculator,
            ec = stack.ecdsa_table_calculator,
            mailbox = stack.task_mailbox,
        )
    }
}

/// Per task: mined `submitResult` transactions (successful or not) and `TaskVerified`
/// events, read from every block of the chain.
pub(crate) async fn count_on_chain(
    provider: &DynProvider,
    mailbox: Address,
) -> HashMap<B256, (usize, usize)> {
    let mut counts: HashMap<B256, (usize, usize)> = HashMap::new();
    let head = provider.get_block_number().await.unwrap();
    for number in 0..=head {
        let block = provider
            .get_block_by_number(number.into())
            .full()
            .await
            .unwrap()
            .unwrap();
        for tx in block.transactions.txns() {
            let input = tx.input();
            if tx.to() == Some(mailbox)
                && input.starts_with(&TaskMailbox::submitResultCall::SELECTOR)
            {
                let call = TaskMailbox::submitResultCall::abi_decode(input).unwrap();
                counts.entry(call.taskHash).or_default().0 += 1;
            }
        }
    }
    let logs = provider
        .get_logs(
            &Filter::new()
                .address(mailbox)
                .event_signature(TaskMailbox::TaskVerified::SIGNATURE_HASH)
                .from_block(0),
        )
        .await
        .unwrap();
    for log in logs {
        let verified = log.log_decode::<TaskMailbox::TaskVerified>().unwrap();
        counts.entry(verified.inner.data.taskHash).or_default().1 += 1;
    }
    counts
}

/// `ponos deploy --sandbox` of `project` to `network` at `url`, one operator per socket;
/// returns its journal, the stack and the operators.
pub(crate) fn deploy_sandbox(
    project: &Path,
    network: &str,
    url: &str,
    deployer_key: B256,
    sockets: &[String],
) -> (
    Journal,
    ponos_chain::sandbox::StackAddresses,
    Vec<ponos_devkit::deploy::SandboxOperator>,
) {
    let deployed = Command::new(env!("CARGO_BIN_EXE_ponos"))
        .args([
            "deploy",
            "--network",
            network,
            "--sandbox",
            "--rpc-url",
            url,
        ])
        .args(["--operator-sockets", &sockets.join(",")])
        .arg("--root")
        .arg(project)
        .env("PRIVATE_KEY", deployer_key.to_string())
        .output()
        .unwrap();
    assert!(
        deployed.status.success(),
        "{}",
        String::from_utf8_lossy(&deployed.stderr)
    );
    let journal = Journal::load(&Journal::path(project, network))
        .unwrap()
        .unwrap();
    let stack = journal.stack.unwrap();
    let operators = SandboxOperators::load(&SandboxOperators::path(project, network))
        .unwrap()
        .unwrap()
        .operators;
    (journal, stack, operators)
}

/// Creates a task for `avs`'s executor set from `creator` and returns its hash once mined.
pub(crate) async fn create_task<P: Provider>(
    mailbox: &TaskMailbox::TaskMailboxInstance<P>,
    creator: Address,
    avs: Address,
    payload: String,
) -> B256 {
    let params = task_mailbox::ITaskMailboxTypes::TaskParams {
        refundCollector: creator,
        executorOperatorSet: task_mailbox::OperatorSet { avs, id: 1 },
        payload: Bytes::from(payload.into_bytes()),
    };
    let receipt = mailbox
        .createTask(params)
        .from(creator)
        .gas(1_000_000)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    created_task(&receipt)
}

/// The task hash a `createTask` receipt announces (it must have succeeded).
fn created_task(receipt: &alloy::rpc::types::TransactionReceipt) -> B256 {
    assert!(receipt.status(), "createTask reverted");
    receipt
        .inner
        .logs()
        .iter()
        .find_map(|log| log.log_decode::<TaskMailbox::TaskCreated>().ok())
        .expect("a TaskCreated event")
        .inner
        .data
        .taskHash
}

/// The task hashes of `createTask` transactions, from their receipts (waiting for each).
pub(crate) async fn task_hashes(provider: &DynProvider, transactions: &[B256]) -> Vec<B256> {
    let mut tasks = Vec::new();
    for tx in transactions {
        let receipt = loop {
            match provider.get_transaction_receipt(*tx).await.unwrap() {
                Some(receipt) => break receipt,
                None => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        };
        tasks.push(created_task(&receipt));
    }
    tasks
}

/// A throwaway PostgreSQL cluster.
pub(crate) async fn test_cluster() -> ponos_store::postgres::testing::TestCluster {
    tokio::task::spawn_blocking(ponos_store::postgres::testing::TestCluster::start)
        .await
        .unwrap()
        .expect("a throwaway PostgreSQL cluster starts (script/setup installs PostgreSQL)")
}

/// A fresh anvil: its first key deploys (and aggregates), its last creates tasks.
pub(crate) struct LocalChain {
    pub(crate) anvil: AnvilInstance,
    pub(crate) url: String,
    pub(crate) deployer_key: B256,
    pub(crate) creator: Address,
    /// Signs as the creator.
    pub(crate) provider: DynProvider,
}

impl LocalChain {
    pub(crate) fn start() -> Self {
        let anvil = Anvil::new()
            .chain_id(31337)
            .args(["--prune-history", "1000000"])
            .try_spawn()
            .expect("anvil runs (script/setup installs it)");
        let creator_key = B256::from_slice(&anvil.keys()[9].to_bytes());
        let provider = ProviderBuilder::new()
            .wallet(EthereumWallet::new(
                PrivateKeySigner::from_bytes(&creator_key).unwrap(),
            ))
            .connect_http(anvil.endpoint_url())
            .erased();
        Self {
            url: anvil.endpoint(),
            deployer_key: B256::from_slice(&anvil.keys()[0].to_bytes()),
            creator: anvil.addresses()[9],
            provider,
            anvil,
        }
    }
}

/// Port triples (gRPC, management, HTTP) for `n` operators, and their gRPC sockets.
pub(crate) fn operator_ports(n: usize) -> (Vec<[u16; 3]>, Vec<String>) {
    let ports: Vec<[u16; 3]> = (0..n).map(|_| [port(), port(), port()]).collect();
    let sockets = ports
        .iter()
        .map(|p| format!("127.0.0.1:{}", p[0]))
        .collect();
    (ports, sockets)
}

/// The test keystores' password.
pub(crate) const PASSWORD: &str = "pw";

/// Writes the BN254 key `key` as an EIP-2335 keystore at `dir/name.json`.
pub(crate) fn bn254_keystore(dir: &Path, name: &str, key: &[u8]) -> PathBuf {
    let key = bn254::SecretKey::from_bytes(key).unwrap();
    let keystore =
        Eip2335Keystore::encrypt_bn254(&key, PASSWORD, &KDF, &mut rand::thread_rng()).unwrap();
    write_keystore(dir, name, serde_json::to_string(&keystore).unwrap())
}

/// Writes the ECDSA key `key` as a Web3 keystore at `dir/name.json`.
pub(crate) fn ecdsa_keystore(dir: &Path, name: &str, key: &[u8]) -> PathBuf {
    let key = ecdsa::SecretKey::from_bytes(key).unwrap();
    let keystore = Web3Keystore::encrypt(&key, PASSWORD, &KDF, &mut rand::thread_rng()).unwrap();
    write_keystore(dir, name, serde_json::to_string(&keystore).unwrap())
}

/// A cheap key derivation: these keystores guard test keys.
const KDF: Kdf = Kdf::Pbkdf2 { c: 1000 };

fn write_keystore(dir: &Path, name: &str, json: String) -> PathBuf {
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, json).unwrap();
    path
}

/// A `ponos-executor` config for one operator serving `avs` (BN254) on a sandbox `stack`.
pub(crate) struct ExecutorToml<'a> {
    pub(crate) address: Address,
    /// The operator's BN254 keystore, and the variable holding its password.
    pub(crate) keystore: &'a Path,
    pub(crate) password_env: &'a str,
    /// gRPC, management and HTTP ports.
    pub(crate) ports: [u16; 3],
    /// The body of its `[store]` table.
    pub(crate) store: String,
    pub(crate) url: &'a str,
    pub(crate) stack: &'a ponos_chain::sandbox::StackAddresses,
    pub(crate) avs: Address,
    pub(crate) performer: &'a Path,
    /// The body of the performer's `env` inline table.
    pub(crate) performer_env: String,
}

impl ExecutorToml<'_> {
    /// Writes the config to `dir/name.toml`; the executor (not started) that runs it, logging to
    /// `dir/name.log`.
    pub(crate) fn binary(&self, dir: &Path, name: &str) -> Binary {
        let config = dir.join(format!("{name}.toml"));
        std::fs::write(&config, self.render()).unwrap();
        Binary {
            program: runtime_binary("ponos-executor"),
            config,
            env: vec![(self.password_env.into(), PASSWORD.into())],
            log: dir.join(format!("{name}.log")),
            http: self.ports[2],
            child: None,
        }
    }

    pub(crate) fn render(&self) -> String {
        let [grpc, management, http] = self.ports;
        format!(
            r#"
[operator]
address = "{address}"
management_address = "{management_key}"
[operator.bn254]
keystore = "{keystore}"
password_env = "{password_env}"
[server]
grpc_addr = "127.0.0.1:{grpc}"
management_addr = "127.0.0.1:{management}"
http_addr = "127.0.0.1:{http}"
[store]
{store}
[l1]
rpc_url = "{url}"
allocation_manager = "{am}"
key_registrar = "{kr}"
[[avs]]
address = "{avs}"
curve = "bn254"
operator_set_ids = [1]
[avs.performer]
runtime = "process"
binary = "{performer}"
env = {{ {performer_env} }}
"#,
            address = self.address,
            management_key = Address::repeat_byte(0xad),
            keystore = self.keystore.display(),
            password_env = self.password_env,
            store = self.store,
            url = self.url,
            am = self.stack.allocation_manager,
            kr = self.stack.key_registrar,
            avs = self.avs,
            performer = self.performer.display(),
            performer_env = self.performer_env,
        )
    }
}

/// What differs between fleets.
#[derive(Default)]
struct FleetOptions {
    /// Executors whose performer answers this late.
    slow: Vec<(usize, Duration)>,
}

/// An AVS deployed with `ponos deploy --sandbox` on its own anvil, served by four executors
/// and one aggregator, all production binaries.
struct Fleet {
    // Dropped first: the binaries stop before their chain.
    aggregator: Binary,
    executors: Vec<Binary>,
    provider: DynProvider,
    dir_path: PathBuf,
    mailbox: Address,
    avs: Address,
    creator: Address,
    _dir: tempfile::TempDir,
    _anvil: AnvilInstance,
}

impl Fleet {
    async fn start(options: FleetOptions) -> Self {
        let project = project().await;
        let performer = performer().await;
        let anvil = Anvil::new()
            .chain_id(31337)
            .args(["--prune-history", "1000000"])
            .try_spawn()
            .expect("anvil runs (script/setup installs it)");
        let url = anvil.endpoint();
        let deployer_key = B256::from_slice(&anvil.keys()[0].to_bytes());
        let creator_key = B256::from_slice(&anvil.keys()[9].to_bytes());
        let creator = anvil.addresses()[9];
        let mut wallet = EthereumWallet::new(PrivateKeySigner::from_bytes(&creator_key).unwrap());
        wallet.register_signer(PrivateKeySigner::from_bytes(&deployer_key).unwrap());
        let provider = ProviderBuilder::new()
            .wallet(wallet)
            .connect_http(anvil.endpoint_url())
            .erased();

        let (ports, sockets) = operator_ports(4);
        let (journal, stack, operators) = deploy_sandbox(
            project,
            &format!("fault{}", anvil.port()),
            &url,
            deployer_key,
            &sockets,
        );

        let dir = tempfile::tempdir().unwrap();
        let mut executors = Vec::new();
        for (i, (operator, ports)) in operators.iter().zip(&ports).enumerate() {
            let keystore_path = bn254_keystore(
                dir.path(),
                &format!("operator{i}"),
                operator.signing_key.as_slice(),
            );
            let delay = options
                .slow
                .iter()
                .find(|(slow, _)| *slow == i)
                .map_or(0, |(_, d)| d.as_millis());
            let config = ExecutorToml {
                address: operator.address,
                keystore: &keystore_path,
                password_env: "FAULT_PASSWORD",
                ports: *ports,
                store: format!("path = \"{}/executor{i}.redb\"", dir.path().display()),
                url: &url,
                stack: &stack,
                avs: journal.deployer,
                performer,
                performer_env: format!("TEST_PERFORMER_DELAY_MS = \"{delay}\""),
            };
            executors.push(config.binary(dir.path(), &format!("executor{i}")));
        }
        for executor in &mut executors {
            executor.start().await;
        }

        // The deployer is the AVS and its aggregator: its key signs tasks and pays for results.
        let keystore_path = ecdsa_keystore(dir.path(), "aggregator", deployer_key.as_slice());
        let (management, http) = (port(), port());
        let config = AggregatorToml {
            address: journal.deployer,
            keystore: &keystore_path,
            password_env: "FAULT_PASSWORD",
            management,
            http,
            dir: dir.path(),
            store: None,
            url: &url,
            stack: &stack,
        }
        .render(&format!("[[avs]]\naddress = \"{}\"\n", journal.deployer));
        let config_path = dir.path().join("aggregator.toml");
        std::fs::write(&config_path, config).unwrap();
        let mut aggregator = Binary {
            program: runtime_binary("ponos-aggregator"),
            config: config_path,
            env: vec![("FAULT_PASSWORD".into(), "pw".into())],
            log: dir.path().join("aggregator.log"),
            http,
            child: None,
        };
        aggregator.start().await;

        Self {
            aggregator,
            executors,
            provider,
            mailbox: stack.task_mailbox,
            avs: journal.deployer,
            creator,
            dir_path: dir.path().to_path_buf(),
            _dir: dir,
            _anvil: anvil,
        }
    }

    /// The aggregator's store (open it only while the aggregator is down).
    fn aggregator_store(&self) -> PathBuf {
        self.dir_path.join("aggregator.redb")
    }

    async fn automine(&self, on: bool) {
        let _: () = self
            .provider
            .raw_request("evm_setAutomine".into(), (on,))
            .await
            .unwrap();
    }

    async fn mine(&self) {
        let _: String = self
            .provider
            .raw_request("evm_mine".into(), ())
            .await
            .unwrap();
    }

    fn task_params(&self, payload: String) -> task_mailbox::ITaskMailboxTypes::TaskParams {
        task_mailbox::ITaskMailboxTypes::TaskParams {
            refundCollector: self.creator,
            executorOperatorSet: task_mailbox::OperatorSet {
                avs: self.avs,
                id: 1,
            },
            payload: Bytes::from(payload.into_bytes()),
        }
    }

    /// Creates `n` tasks in one block, then leaves automining `on` or off; returns their
    /// hashes.
    async fn create_in_one_block(&self, n: usize, tag: &str, automine_after: bool) -> Vec<B256> {
        self.automine(false).await;
        let pending = self.send_tasks(n, tag, Duration::ZERO).await;
        self.mine().await;
        let tasks = self.task_hashes(&pending).await;
        self.automine(automine_after).await;
        tasks
    }

    /// Creates `n` tasks one after the other, `every` apart; returns their hashes.
    async fn create_paced(&self, n: usize, every: Duration, tag: &str) -> Vec<B256> {
        let pending = self.send_tasks(n, tag, every).await;
        self.task_hashes(&pending).await
    }

    /// Sends `n` `createTask` transactions, `every` apart; returns their hashes.
    async fn send_tasks(&self, n: usize, tag: &str, every: Duration) -> Vec<B256> {
        let mailbox = TaskMailbox::new(self.mailbox, &self.provider);
        let mut pending = Vec::new();
        for i in 0..n {
            let sent = mailbox
                .createTask(self.task_params(format!("{tag}-{i}")))
                .from(self.creator)
                .gas(1_000_000)
                .send()
                .await
                .unwrap();
            pending.push(*sent.tx_hash());
            tokio::time::sleep(every).await;
        }
        pending
    }

    async fn task_hashes(&self, transactions: &[B256]) -> Vec<B256> {
        task_hashes(&self.provider, transactions).await
    }

    /// Waits until every task is verified on chain.
    async fn wait_verified(&self, tasks: &[B256]) {
        let mailbox = TaskMailbox::new(self.mailbox, &self.provider);
        let open = crate::unverified_after(&mailbox, tasks, WITHIN).await;
        assert!(
            open.is_empty(),
            "{} of {} tasks not verified within {WITHIN:?}; aggregator log:\n{}",
            open.len(),
            tasks.len(),
            tail(&self.aggregator.log)
        );
    }

    async fn count_on_chain(&self) -> HashMap<B256, (usize, usize)> {
        count_on_chain(&self.provider, self.mailbox).await
    }

    /// Asserts what the suite is about: each task verified by exactly one mined submission.
    async fn assert_each_verified_once(&self, tasks: &[B256], what: &str) {
        self.wait_verified(tasks).await;
        let counts = self.count_on_chain().await;
        let wrong: Vec<_> = tasks
            .iter()
            .filter(|t| counts.get(*t) != Some(&(1, 1)))
            .map(|t| (t, counts.get(t)))
            .collect();
        assert!(
            wrong.is_empty(),
            "{what}: {} of {} tasks not verified by exactly one mined submitResult: {wrong:?}",
            wrong.len(),
            tasks.len()
        );
        eprintln!(
            "{what}: {n}/{n} verified, one mined submitResult each",
            n = tasks.len()
        );
    }

    /// The aggregator's count of tasks in `status`.
    async fn aggregator_tasks(&self, status: &str) -> f64 {
        let metrics = self.aggregator.metrics().await;
        sample(
            &metrics,
            &format!("ponos_aggregator_tasks{{status=\"{status}\"}}"),
        )
        .unwrap_or(0.0)
    }

    /// SIGKILLs the aggregator and starts it again on its store.
    async fn restart_aggregator(&mut self) {
        self.aggregator.kill();
        self.aggregator.start().await;
    }

    /// Waits until the aggregator counts more than `count` tasks verified.
    async fn wait_landed_beyond(&self, count: f64) {
        until("certificates landed", || async move {
            self.aggregator_tasks("verified").await >= count
        })
        .await;
    }

    /// How many `submitResult` transactions of the aggregator wait in the pool.
    async fn pending_submissions(&self) -> u64 {
        let pending = self
            .provider
            .get_transaction_count(self.avs)
            .pending()
            .await
            .unwrap();
        let mined = self.provider.get_transaction_count(self.avs).await.unwrap();
        pending - mined
    }
}

/// Waits until `done` holds, or fails after `WITHIN`.
pub(crate) async fn until<F: std::future::Future<Output = bool>>(
    what: &str,
    mut done: impl FnMut() -> F,
) {
    let deadline = Instant::now() + WITHIN;
    while !done().await {
        assert!(Instant::now() < deadline, "{what}: not within {WITHIN:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub(crate) fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_aggregator_killed_at_any_point_loses_no_task_and_submits_none_twice() {
    let mut fleet = Fleet::start(FleetOptions::default()).await;

    // Killed before it dispatched: the block with the tasks lands while it is down.
    fleet.aggregator.kill();
    let before = fleet.create_in_one_block(50, "before-dispatch", true).await;
    fleet.aggregator.start().await;
    fleet
        .assert_each_verified_once(&before, "killed before dispatch")
        .await;

    // Killed once certificates are being stored and sent.
    let base = fleet.aggregator_tasks("verified").await;
    let stored = fleet
        .create_in_one_block(50, "after-certificate", true)
        .await;
    fleet.wait_landed_beyond(base + 5.0).await;
    fleet.restart_aggregator().await;
    fleet
        .assert_each_verified_once(&stored, "killed after certificates were stored")
        .await;

    // Killed while its submitResult transactions wait in the pool (automine off), then the
    // chain mines again.
    let pending = fleet.create_in_one_block(50, "pending", false).await;
    let f = &fleet;
    until("50 submissions wait in the pool", || async move {
        f.pending_submissions().await == 50
    })
    .await;
    fleet.restart_aggregator().await;
    fleet.automine(true).await;
    fleet.mine().await;
    fleet
        .assert_each_verified_once(&pending, "killed with submissions pending")
        .await;

    // Killed twice in one run: once right after the tasks' block, once mid-submission.
    let twice = fleet.create_in_one_block(50, "twice", true).await;
    fleet.restart_aggregator().await;
    let base = fleet.aggregator_tasks("verified").await;
    fleet.wait_landed_beyond(base + 5.0).await;
    fleet.restart_aggregator().await;
    fleet
        .assert_each_verified_once(&twice, "killed twice")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_aggregator_killed_while_slow_operators_answer_loses_no_task() {
    let slow = Duration::from_secs(3);
    let mut fleet = Fleet::start(FleetOptions {
        slow: vec![(0, slow), (1, slow)],
    })
    .await;
    let tasks = fleet.create_in_one_block(50, "slow", true).await;
    // The fast executors have answered every task; the slow ones are still working.
    let fast = &fleet.executors[2];
    until("the fast executors answered", || async move {
        sample(
            &fast.metrics().await,
            "ponos_executor_tasks_completed_total",
        )
        .is_some_and(|n| n >= 50.0)
    })
    .await;
    fleet.aggregator.kill();
    fleet.aggregator.start().await;
    fleet
        .assert_each_verified_once(&tasks, "killed while answers arrive")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dropped_submission_is_broadcast_again_after_a_restart_and_lands_once() {
    let mut fleet = Fleet::start(FleetOptions::default()).await;
    // Mined by hand from here: the result stays in the pool.
    let tasks = fleet.create_in_one_block(1, "dropped", false).await;
    let f = &fleet;
    until("the submission waits in the pool", || async move {
        f.pending_submissions().await == 1
    })
    .await;
    fleet.aggregator.kill();

    // The store recorded the transaction before it was broadcast; the pool loses it.
    let store = RedbAggregatorStore::open(fleet.aggregator_store()).unwrap();
    let record = store.task(tasks[0]).unwrap().unwrap();
    assert_eq!(record.status, TaskStatus::Submitted);
    let [sent] = record.submissions.as_slice() else {
        panic!("one transaction recorded: {:?}", record.submissions);
    };
    drop(store);
    let _: serde_json::Value = fleet
        .provider
        .raw_request("anvil_dropTransaction".into(), (sent.hash,))
        .await
        .unwrap();
    assert_eq!(fleet.pending_submissions().await, 0, "the pool lost it");

    fleet.aggregator.start().await;
    let f = &fleet;
    until("the transaction is broadcast again", || async move {
        f.pending_submissions().await == 1
    })
    .await;
    fleet.automine(true).await;
    fleet.mine().await;
    fleet
        .assert_each_verified_once(&tasks, "dropped from the pool")
        .await;
    let receipt = fleet
        .provider
        .get_transaction_receipt(sent.hash)
        .await
        .unwrap();
    assert!(
        receipt.is_some_and(|r| r.status()),
        "the recorded transaction itself landed"
    );
    let metrics = fleet.aggregator.metrics().await;
    assert_eq!(
        sample(&metrics, "ponos_aggregator_rebroadcasts_total"),
        Some(1.0),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn executors_and_performers_killed_mid_burst_lose_no_task() {
    let mut fleet = Fleet::start(FleetOptions::default()).await;

    // A killed executor takes its performer with it.
    let executor = fleet.executors[0].pid();
    let performers = children(executor);
    assert_eq!(performers.len(), 1, "one performer process: {performers:?}");
    fleet.executors[0].kill();
    let until = Instant::now() + Duration::from_secs(5);
    while alive(performers[0]) {
        assert!(
            Instant::now() < until,
            "the performer outlived its executor"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    fleet.executors[0].start().await;

    // Killed while 30 tasks are being created and answered, down for 12 s: each task waits for
    // it, then verifies.
    let creating = fleet.create_paced(30, Duration::from_millis(200), "executor-down");
    let executor = fleet.executors[0].pid();
    let outage = async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        // SAFETY: kill(2) on this test's own executor process.
        assert_eq!(unsafe { libc::kill(executor as i32, libc::SIGKILL) }, 0);
        tokio::time::sleep(Duration::from_secs(12)).await;
    };
    let (tasks, ()) = tokio::join!(creating, outage);
    fleet.executors[0].kill(); // reaps it
    fleet.executors[0].start().await;
    fleet
        .assert_each_verified_once(&tasks, "an executor down for 12 s")
        .await;

    // A performer killed during 30 tasks: its executor restarts it, the tasks are retried.
    let performer = children(fleet.executors[1].pid())[0];
    let creating = fleet.create_paced(30, Duration::from_millis(100), "performer-killed");
    let kill = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        // SAFETY: kill(2) on a pid of this test's own executor's child; no memory involved.
        let killed = unsafe { libc::kill(performer as i32, libc::SIGKILL) };
        assert_eq!(killed, 0, "the performer was running");
    };
    let (tasks, ()) = tokio::join!(creating, kill);
    fleet
        .assert_each_verified_once(&tasks, "a performer killed")
        .await;
}
