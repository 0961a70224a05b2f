//! A complete devnet in one process: anvil for L1 (31337) and, optionally, L2 (31338) with the
//! contract stack, one AVS with an aggregator set and an executor set of N operators (generated
//! keys, registered with proofs), operator tables pushed to every chain, the mailbox configured,
//! N executors and the aggregator running the runtime's own code.
//!
//! ```no_run
//! # async fn run() -> Result<(), ponos_devkit::devnet::DevnetError> {
//! use ponos_devkit::devnet::{ChainRef, Devnet, DevnetConfig};
//! # #[derive(Clone)] struct MyPerformer;
//! # impl ponos_performer::Performer for MyPerformer {
//! #     async fn handle_task(&self, t: ponos_performer::Task) -> Result<Vec<u8>, ponos_performer::PerformerError> { Ok(t.payload) }
//! # }
//! let devnet = Devnet::start(DevnetConfig::default(), MyPerformer).await?;
//! let outcome = devnet.create_task(ChainRef::L2, b"hello".to_vec()).await?;
//! assert_eq!(outcome.result.as_ref(), b"hello");
//! devnet.stop().await;
//! # Ok(()) }
//! ```

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use alloy::{
    primitives::{Address, B256, Bytes, U256, keccak256},
    signers::local::PrivateKeySigner,
};
use bollard::Docker;
use ponos_aggregator::{
    Aggregator, AggregatorConfig, AggregatorHandle, ChainConfig, TaskChain,
    sender::SenderConfig,
    session::{AggregatorIdentity, AggregatorSigner, Identities},
    view::{L1, L1Contracts},
};
use ponos_crypto::{bn254, ecdsa};
pub use ponos_devnet::Curve;
use ponos_devnet::{
    AvsSpec, Chain, ChainOptions, EXECUTOR_SET, LocalChain, LocalExecutor, OperatorKey,
    OperatorSpec, ProvisionError, activate_avs, prepare_avs,
};
use ponos_executor::{
    docker::ContainerSpec,
    service::PerformerHandle,
    supervisor::{Launch, Supervisor, SupervisorConfig},
};
use ponos_performer::Performer;
use ponos_store::MemoryAggregatorStore;
use serde::Serialize;
use tokio::net::TcpListener;
use tracing::info;

pub mod control;
pub mod notes;
mod summary;

use summary::chain_summary;
pub use summary::{
    AvsSummary, BinaryStamp, ChainSummary, DevnetSummary, ExecutorSummary, Reloaded,
    certificate_summary, process_started, read_summary, write_summary,
};

use notes::{Notebook, TaskNotes};

/// The most executors a devnet runs.
pub const MAX_EXECUTORS: usize = 128;

/// The most AVSs a devnet runs.
pub const MAX_AVSS: usize = 8;

/// Past block states each devnet chain keeps. anvil copies the whole state for every block,
/// and the mailbox's storage grows with every task, so keeping them all costs gigabytes after
/// a few thousand tasks. The devnet reads one past block, the operator tables' reference, and
/// reads it as it starts (the aggregator's and executors' views keep the answers); the others
/// cover a read of the latest block while blocks are mined and replaying a reverted
/// transaction on the block before it.
pub const STATE_HISTORY: usize = 4;

/// Blocks whose transactions, receipts and logs each devnet chain keeps (older blocks keep
/// their headers; task results stay in the mailbox's storage). Well beyond the aggregator's
/// reorg window, which is all it reads logs from.
pub const KEPT_BLOCKS: usize = 1024;

/// The summary file a devnet writes into its state directory.
pub const SUMMARY_FILE: &str = "devnet.json";

/// What can go wrong with a devnet.
#[derive(Debug, thiserror::Error)]
pub enum DevnetError {
    /// Setting up the chains or the AVS failed.
    #[error(transparent)]
    Setup(#[from] ProvisionError),
    /// The aggregator failed.
    #[error(transparent)]
    Aggregator(#[from] ponos_aggregator::AggregatorError),
    /// A performer did not start.
    #[error("starting the performer of executor {index}: {reason}")]
    Performer {
        /// Which executor.
        index: usize,
        /// Why.
        reason: String,
    },
    /// The request makes no sense.
    #[error("{0}")]
    Invalid(String),
    /// The task's fate is known and it is not verified.
    #[error("task {task} is not verified: {}", reasons.join("; "))]
    NotVerified {
        /// The task.
        task: B256,
        /// Why, operator by operator, and how its session ended.
        reasons: Vec<String>,
    },
    /// Reading or writing the state directory failed.
    #[error("{path}: {reason}")]
    State {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

/// How performers run.
#[derive(Debug, Clone)]
pub enum PerformerRuntime {
    /// A native binary per executor, supervised (health checks, restarts).
    Process(PathBuf),
    /// A Docker image per executor, its container port published on a free loopback port.
    Docker(String),
}

/// How the devnet is built.
#[derive(Debug, Clone)]
pub struct DevnetConfig {
    /// Executors (operators) in the executor set.
    pub executors: usize,
    /// The executor set's curve.
    pub curve: Curve,
    /// Whether to run an L2 (chain id 31338) beside the L1.
    pub l2: bool,
    /// Task SLA in seconds.
    pub task_sla: u64,
    /// The share of stake a certificate needs, in basis points.
    pub threshold_bps: u16,
    /// Where to write the summary (`devnet.json`); none when `None`.
    pub state_dir: Option<PathBuf>,
    /// The L1's port; a free one when `None`.
    pub l1_port: Option<u16>,
    /// The L2's port; a free one when `None`.
    pub l2_port: Option<u16>,
    /// Fork the L1 from this JSON-RPC endpoint (its latest block) instead of starting empty.
    pub fork_url: Option<String>,
    /// The AVS's own contracts; Ponos's registrar and an open task hook when `None`.
    pub contracts: Option<AvsContracts>,
    /// The AVSs, all on one stack, served by one aggregator and the same executors; one AVS
    /// of `curve` with the devnet's performer when empty.
    pub avss: Vec<DevnetAvs>,
}

impl DevnetConfig {
    /// The AVSs the devnet sets up (one when [`avss`](Self::avss) is empty).
    pub fn avs_list(&self) -> Vec<DevnetAvs> {
        if self.avss.is_empty() {
            vec![DevnetAvs::default()]
        } else {
            self.avss.clone()
        }
    }
}

/// One AVS of a devnet. Each has its own account, operator sets, keys (the same operators with
/// keys of their own for it), task hook and mailbox configuration, and its own performer
/// instances in every executor.
#[derive(Debug, Clone, Default)]
pub struct DevnetAvs {
    /// Its executor set's curve; the devnet's [`curve`](DevnetConfig::curve) when `None`.
    pub curve: Option<Curve>,
    /// Its performer: a binary (process runtime) or an image (Docker); the devnet's when
    /// `None`. In-process devnets run their one performer for every AVS.
    pub performer: Option<String>,
    /// Environment its performers get, beside `PONOS_AVS` (the AVS's address).
    pub env: Vec<(String, String)>,
}

/// An AVS's own contracts, as creation code (from forge's output, see
/// [`Artifact`](crate::deploy::Artifact)).
#[derive(Debug, Clone)]
pub struct AvsContracts {
    /// The registrar (a `TaskAVSRegistrarBase`).
    pub registrar: Bytes,
    /// The task hook, deployed on every chain.
    pub task_hook: Bytes,
}

impl Default for DevnetConfig {
    fn default() -> Self {
        Self {
            executors: 4,
            curve: Curve::Bn254,
            l2: true,
            task_sla: 120,
            threshold_bps: 10_000,
            state_dir: None,
            l1_port: None,
            l2_port: None,
            fork_url: None,
            contracts: None,
            avss: Vec::new(),
        }
    }
}

/// Which chain a task goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainRef {
    /// Chain 31337.
    L1,
    /// Chain 31338.
    L2,
}

/// The performer id prefix of the containers devnet process `pid` starts.
pub fn container_prefix(pid: u32) -> String {
    format!("devnet-{pid}-")
}

/// A task's end, as `ponos task create` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct TaskOutcome {
    /// The task hash.
    pub task: B256,
    /// The chain it ran on.
    pub chain_id: u64,
    /// The verified result.
    pub result: Bytes,
    /// From `createTask` accepted to `TaskVerified` seen.
    pub latency_ms: u64,
    /// Operators whose signatures the certificate carries.
    pub signers: usize,
    /// Operators the certificate lists as non-signers (BN254) or leaves out (ECDSA).
    pub non_signers: usize,
}

/// A running devnet. Dropping it stops everything; [`stop`](Self::stop) does so in order.
pub struct Devnet {
    l1: LocalChain,
    l2: Option<LocalChain>,
    _executors: Vec<LocalExecutor>,
    /// The supervised performers: (AVS, executor, supervisor), by AVS then executor.
    supervisors: Vec<(usize, usize, Supervisor)>,
    /// How each AVS's supervised performers run (empty for in-process performers).
    supervised: Vec<Supervised>,
    aggregator: AggregatorHandle<MemoryAggregatorStore>,
    notes: Notebook,
    state_dir: Option<PathBuf>,
    /// What runs; reloads change the performer fields. The lock also keeps reloads one at a
    /// time.
    summary: tokio::sync::Mutex<DevnetSummary>,
    /// The summary as the devnet started.
    started: DevnetSummary,
}

impl std::fmt::Debug for Devnet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Devnet")
            .field("summary", &self.started)
            .finish_non_exhaustive()
    }
}

/// Starts an aggregator for `avss` in-process: operator sets read from `l1`, tasks watched on
/// `task_chains` from their first block (dev chains: block stamping; with a WebSocket
/// endpoint beside a chain, new heads wake the watcher and polling is a slow fallback, else it
/// polls fast), tasks signed with each AVS's key of `identities`, results sent by `tx_signer`
/// (a funded account on every task chain).
pub async fn start_aggregator(
    l1: &Chain,
    task_chains: &[(&Chain, Option<&str>)],
    avss: Vec<Address>,
    identities: Identities,
    tx_signer: PrivateKeySigner,
) -> Result<AggregatorHandle<MemoryAggregatorStore>, DevnetError> {
    let mut chains = Vec::new();
    for (chain, ws_url) in task_chains {
        let watch = ChainConfig {
            poll_interval: if ws_url.is_some() {
                Duration::from_secs(1)
            } else {
                Duration::from_millis(20)
            },
            ws_url: ws_url.map(str::to_owned),
            start_block: Some(0),
            development: true,
            ..ChainConfig::new(chain.chain_id, chain.stack.task_mailbox)
        };
        chains.push(TaskChain::connect(watch, chain.provider.clone()).await?);
    }
    let stack = l1.stack;
    Ok(Aggregator::start(
        AggregatorConfig {
            l1: L1 {
                chain_id: l1.chain_id,
                provider: l1.provider.clone(),
                contracts: L1Contracts {
                    allocation_manager: stack.allocation_manager,
                    key_registrar: stack.key_registrar,
                    bn254_table_calculator: stack.bn254_table_calculator,
                    ecdsa_table_calculator: stack.ecdsa_table_calculator,
                },
            },
            chains,
            identities,
            tx_signer,
            avss,
            max_concurrent_tasks: 256,
            max_result_bytes: 1_572_864,
            sender: SenderConfig {
                poll_interval: Duration::from_millis(10),
                ..SenderConfig::default()
            },
            submission_margin: Duration::from_secs(5),
            executor_tls: ponos_aggregator::pool::ExecutorTls::default(),
            leadership: None,
        },
        Arc::new(MemoryAggregatorStore::default()),
    )
    .await?)
}

/// The aggregator's key for the aggregator set of AVS `k` (one key per set: the KeyRegistrar
/// keeps keys unique).
fn aggregator_key(k: usize) -> ecdsa::SecretKey {
    let seed = if k == 0 {
        keccak256("ponos devnet aggregator")
    } else {
        keccak256(format!("ponos devnet aggregator {k}"))
    };
    ecdsa::SecretKey::from_bytes(seed.as_slice()).expect("a hash is a valid key")
}

/// Operator `index`'s key for the executor set of AVS `k`: deterministic, so a devnet is
/// reproducible.
fn operator_key(curve: Curve, k: usize, index: usize) -> OperatorKey {
    let seed = if k == 0 {
        keccak256(format!("ponos devnet operator {index}"))
    } else {
        keccak256(format!("ponos devnet avs {k} operator {index}"))
    };
    match curve {
        Curve::Bn254 => OperatorKey::Bn254(
            bn254::SecretKey::from_seed(seed.as_slice()).expect("a seed makes a key"),
        ),
        Curve::Ecdsa => OperatorKey::Ecdsa(
            ecdsa::SecretKey::from_bytes(seed.as_slice()).expect("a hash is a valid key"),
        ),
    }
}

enum Performers<P> {
    InProcess(P),
    /// One per AVS, in the devnet's order.
    Supervised(Vec<Supervised>),
}

/// One AVS of the devnet as it is set up.
struct PlannedAvs {
    avs: Address,
    curve: Curve,
    aggregator_key: ecdsa::SecretKey,
    /// Each operator's key for this AVS's executor set, in operator order.
    keys: Vec<OperatorKey>,
}

impl Devnet {
    /// Starts a devnet whose executors run `performer` in-process (the fastest mode; what an
    /// AVS's own tests use). Each AVS gets its own instance of it.
    pub async fn start<P: Performer + Clone>(
        config: DevnetConfig,
        performer: P,
    ) -> Result<Self, DevnetError> {
        Self::launch(config, Performers::InProcess(performer)).await
    }

    /// Starts a devnet whose executors run the performer as native processes or containers:
    /// `runtime` for every AVS but those whose [`DevnetAvs::performer`] names another binary or
    /// image.
    pub async fn start_with(
        config: DevnetConfig,
        runtime: PerformerRuntime,
    ) -> Result<Self, DevnetError> {
        let docker = match &runtime {
            PerformerRuntime::Process(_) => None,
            PerformerRuntime::Docker(_) => {
                Some(ponos_executor::docker::connect().await.map_err(|e| {
                    DevnetError::Performer {
                        index: 0,
                        reason: format!("{e} (is Docker running? `ponos doctor` checks)"),
                    }
                })?)
            }
        };
        let supervised = config
            .avs_list()
            .iter()
            .map(|avs| {
                let env = avs.env.clone();
                match (&runtime, &docker) {
                    (PerformerRuntime::Process(binary), _) => Supervised::Process {
                        binary: avs
                            .performer
                            .clone()
                            .map_or_else(|| binary.clone(), PathBuf::from),
                        env,
                    },
                    (PerformerRuntime::Docker(image), Some(docker)) => Supervised::Docker {
                        docker: docker.clone(),
                        image: avs.performer.clone().unwrap_or_else(|| image.clone()),
                        env,
                    },
                    (PerformerRuntime::Docker(_), None) => unreachable!("connected above"),
                }
            })
            .collect();
        Self::launch::<NoPerformer>(config, Performers::Supervised(supervised)).await
    }

    async fn launch<P: Performer + Clone>(
        config: DevnetConfig,
        performers: Performers<P>,
    ) -> Result<Self, DevnetError> {
        let started = Instant::now();
        if config.executors == 0 || config.executors > MAX_EXECUTORS {
            return Err(DevnetError::Invalid(format!(
                "--executors {}: a devnet runs 1 to {MAX_EXECUTORS} executors",
                config.executors
            )));
        }
        let avs_list = config.avs_list();
        if avs_list.len() > MAX_AVSS {
            return Err(DevnetError::Invalid(format!(
                "--avs {}: a devnet runs 1 to {MAX_AVSS} AVSs",
                avs_list.len()
            )));
        }
        // Roles, one account per operator, one per further AVS, then the task creator: the
        // same accounts on every chain.
        let extra_accounts = (3 + config.executors + avs_list.len()).saturating_sub(32);
        // Each AVS activated after the first adds up to three L1 blocks (a block past the
        // previous reference, the table push, the mailbox config) above the first's reference.
        let state_history = STATE_HISTORY + 3 * (avs_list.len() - 1);
        let (l1, l2) = start_chains(&config, extra_accounts, state_history).await?;
        info!(target: "ponos::devnet", ms = started.elapsed().as_millis() as u64, "chains up, stack deployed");
        let accounts = l1.accounts.clone();
        let (admin, aggregator) = (accounts[0], accounts[2]);
        let creator_index = accounts.len() - 1;

        let mut listeners = Vec::new();
        let mut sockets = Vec::new();
        for _ in 0..config.executors {
            let listener = TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| DevnetError::Invalid(format!("no free loopback port: {e}")))?;
            sockets.push(
                listener
                    .local_addr()
                    .map_err(|e| DevnetError::Invalid(e.to_string()))?
                    .to_string(),
            );
            listeners.push(listener);
        }
        let operators: Vec<Address> = (0..config.executors).map(|i| accounts[3 + i]).collect();
        let planned: Vec<PlannedAvs> = avs_list
            .iter()
            .enumerate()
            .map(|(k, options)| {
                let curve = options.curve.unwrap_or(config.curve);
                PlannedAvs {
                    avs: if k == 0 {
                        accounts[1]
                    } else {
                        accounts[3 + config.executors + k - 1]
                    },
                    curve,
                    aggregator_key: aggregator_key(k),
                    keys: (0..config.executors)
                        .map(|i| operator_key(curve, k, i))
                        .collect(),
                }
            })
            .collect();

        // Each AVS on the one stack: first their sets, keys and hooks, then each one's tables
        // and mailbox configs, so that every table's reference block is among the few recent
        // states the chains keep.
        let l2_chains: Vec<_> = l2.iter().map(|c| c.chain.clone()).collect();
        let mut specs = Vec::new();
        for plan in &planned {
            let spec = AvsSpec {
                avs: plan.avs,
                admin,
                aggregator,
                aggregator_key: plan.aggregator_key.clone(),
                curve: plan.curve,
                operators: operators
                    .iter()
                    .zip(&sockets)
                    .zip(&plan.keys)
                    .map(|((address, socket), key)| OperatorSpec {
                        address: *address,
                        key: key.clone(),
                        socket: socket.clone(),
                        weight: U256::from(1_000),
                    })
                    .collect(),
                task_sla: config.task_sla,
                threshold_bps: config.threshold_bps,
                registrar_code: config.contracts.as_ref().map(|c| c.registrar.clone()),
                task_hook_code: config.contracts.as_ref().map(|c| c.task_hook.clone()),
            };
            let prepared = prepare_avs(&l1.chain, &l2_chains, &spec).await?;
            specs.push((spec, prepared));
        }
        let mut provisioned = Vec::new();
        for (spec, prepared) in specs {
            provisioned.push(activate_avs(&l1.chain, &l2_chains, &spec, prepared).await?);
        }
        info!(target: "ponos::devnet", ms = started.elapsed().as_millis() as u64, avss = planned.len(), "AVSs set up");

        // Every executor and its performers start at once; each executor serves every AVS.
        let mut starting = tokio::task::JoinSet::new();
        for (i, (listener, operator)) in listeners.into_iter().zip(&operators).enumerate() {
            let (chain, operator) = (l1.chain.clone(), *operator);
            let keys: Vec<(Address, OperatorKey)> = planned
                .iter()
                .map(|plan| (plan.avs, plan.keys[i].clone()))
                .collect();
            match &performers {
                Performers::InProcess(performer) => {
                    let performer = performer.clone();
                    starting.spawn(async move {
                        let executor =
                            LocalExecutor::start_many(listener, &chain, operator, keys, performer)
                                .await?;
                        Ok::<_, DevnetError>((i, executor, Vec::new()))
                    });
                }
                Performers::Supervised(supervised) => {
                    let launches: Vec<Launch> = keys
                        .iter()
                        .enumerate()
                        .map(|(k, (avs, _))| supervised[k].launch(k, *avs, i, 1))
                        .collect();
                    starting.spawn(async move {
                        let mut entries = Vec::new();
                        let mut supervisors = Vec::new();
                        for (k, ((avs, key), launch)) in keys.into_iter().zip(launches).enumerate()
                        {
                            let supervisor = Supervisor::start(launch, SupervisorConfig::default())
                                .await
                                .map_err(|e| DevnetError::Performer {
                                    index: i,
                                    reason: e.to_string(),
                                })?;
                            entries.push((
                                avs,
                                key,
                                PerformerHandle::Supervised(supervisor.clone()),
                            ));
                            supervisors.push((k, i, supervisor));
                        }
                        let executor =
                            LocalExecutor::serve_many(listener, &chain, operator, entries)?;
                        Ok((i, executor, supervisors))
                    });
                }
            }
        }
        let mut serving = Vec::with_capacity(operators.len());
        while let Some(joined) = starting.join_next().await {
            let started = joined
                .map_err(|e| DevnetError::Invalid(format!("starting an executor: {e}")))??;
            serving.push(started);
        }
        serving.sort_by_key(|(i, ..)| *i);
        let mut executors = Vec::new();
        let mut supervisors = Vec::new();
        for (_, executor, started) in serving {
            executors.push(executor);
            supervisors.extend(started);
        }
        supervisors.sort_by_key(|(k, i, _)| (*k, *i));

        let task_chains: Vec<(&Chain, Option<&str>)> = std::iter::once(&l1)
            .chain(l2.iter())
            .map(|c| (&c.chain, Some(c.ws_endpoint.as_str())))
            .collect();
        info!(target: "ponos::devnet", ms = started.elapsed().as_millis() as u64, "executors serving");
        let identity = |plan: &PlannedAvs| AggregatorIdentity {
            address: aggregator,
            key: AggregatorSigner::Ecdsa(plan.aggregator_key.clone()),
        };
        let identities = Identities::new(
            identity(&planned[0]),
            planned[1..]
                .iter()
                .map(|plan| (plan.avs, identity(plan)))
                .collect(),
        );
        let aggregator_handle = start_aggregator(
            &l1.chain,
            &task_chains,
            planned.iter().map(|p| p.avs).collect(),
            identities,
            PrivateKeySigner::from_bytes(&l1.keys[2])
                .map_err(|e| DevnetError::Invalid(format!("anvil's account key: {e}")))?,
        )
        .await?;
        // What every task is checked against, read while L1 still holds the reference blocks.
        let mut loads = Vec::new();
        for (plan, provisioned) in planned.iter().zip(&provisioned) {
            let (reference_timestamp, reference_block) = provisioned.reference;
            for executor in &executors {
                loads.push(futures_util::future::Either::Left(async move {
                    executor
                        .load_reference_of(
                            plan.avs,
                            aggregator,
                            EXECUTOR_SET,
                            u64::from(reference_block),
                        )
                        .await
                        .map_err(DevnetError::from)
                }));
            }
            for chain_id in aggregator_handle.chain_ids() {
                let handle = &aggregator_handle;
                loads.push(futures_util::future::Either::Right(async move {
                    handle
                        .load_operator_set(chain_id, plan.avs, EXECUTOR_SET, reference_timestamp)
                        .await
                        .map(|_| ())
                        .map_err(DevnetError::from)
                }));
            }
        }
        futures_util::future::try_join_all(loads).await?;
        info!(target: "ponos::devnet", ms = started.elapsed().as_millis() as u64, "aggregator watching");
        let notes = Notebook::new(config.state_dir.as_deref());
        tokio::spawn(notes.clone().follow(aggregator_handle.subscribe()));

        let chains: Vec<(&str, &LocalChain)> = std::iter::once(("l1", &l1))
            .chain(l2.iter().map(|c| ("l2", c)))
            .collect();
        let avss: Vec<AvsSummary> = planned
            .iter()
            .zip(&provisioned)
            .enumerate()
            .map(|(k, (plan, provisioned))| AvsSummary {
                avs: plan.avs,
                registrar: provisioned.registrar,
                curve: curve_name(plan.curve).into(),
                task_hooks: provisioned.task_hooks.clone(),
                performer: match &performers {
                    Performers::Supervised(supervised) => supervised[k].describe(),
                    Performers::InProcess(_) => "in-process".into(),
                },
            })
            .collect();
        let summary = DevnetSummary {
            chains: chains
                .iter()
                .zip(&provisioned[0].task_hooks)
                .map(|((name, c), hook)| {
                    chain_summary(name, c.id(), &c.endpoint, &c.chain.stack, *hook)
                })
                .collect(),
            allocation_manager: l1.chain.stack.allocation_manager,
            key_registrar: l1.chain.stack.key_registrar,
            avs: avss[0].avs,
            registrar: avss[0].registrar,
            curve: avss[0].curve.clone(),
            avss,
            aggregator,
            task_creator: accounts[creator_index],
            task_creator_key: l1.keys[creator_index],
            executors: operators
                .iter()
                .zip(&sockets)
                .map(|(operator, socket)| ExecutorSummary {
                    operator: *operator,
                    socket: socket.clone(),
                })
                .collect(),
            ready_ms: started.elapsed().as_millis() as u64,
            pid: std::process::id(),
            pid_started: process_started(std::process::id()),
            anvil_pids: std::iter::once(l1.pid())
                .chain(l2.as_ref().map(LocalChain::pid))
                .collect(),
            anvil_started: std::iter::once(l1.pid())
                .chain(l2.as_ref().map(LocalChain::pid))
                .map(process_started)
                .collect(),
            performer_binary: match &performers {
                Performers::Supervised(supervised) => match &supervised[0] {
                    Supervised::Process { binary, .. } => BinaryStamp::of(binary),
                    Supervised::Docker { .. } => None,
                },
                Performers::InProcess(_) => None,
            },
            performer_runtime: match &performers {
                Performers::Supervised(supervised) => match &supervised[0] {
                    Supervised::Process { .. } => "process",
                    Supervised::Docker { .. } => "docker",
                },
                Performers::InProcess(_) => "in-process",
            }
            .into(),
            performer_generation: 1,
        };
        if let Some(dir) = &config.state_dir {
            write_summary(dir, &summary)?;
        }
        Ok(Self {
            l1,
            l2,
            _executors: executors,
            supervisors,
            supervised: match performers {
                Performers::Supervised(supervised) => supervised,
                Performers::InProcess(_) => Vec::new(),
            },
            aggregator: aggregator_handle,
            notes,
            state_dir: config.state_dir,
            summary: tokio::sync::Mutex::new(summary.clone()),
            started: summary,
        })
    }

    /// What is running, and where, as the devnet started.
    pub fn summary(&self) -> &DevnetSummary {
        &self.started
    }

    /// Swaps the performer build on disk (the binary, or the image under its tag) in on every
    /// executor, blue/green: each starts the new build beside the old one, sends new tasks to it
    /// once it is healthy, and stops the old one after its tasks finish. Chains, contracts,
    /// operators and the aggregator keep running. When the new build does not start, the
    /// executors keep the old one and the error says why.
    pub async fn reload(&self) -> Result<Reloaded, DevnetError> {
        let started = Instant::now();
        if self.supervised.is_empty() {
            return Err(DevnetError::Invalid(
                "this devnet runs the built-in in-process performer: there is nothing to reload \
                 (start it with `--runtime process` or `--runtime docker`)"
                    .into(),
            ));
        }
        let mut summary = self.summary.lock().await;
        for supervised in &self.supervised {
            if let Supervised::Process { binary, .. } = supervised
                && !binary.is_file()
            {
                return Err(DevnetError::Invalid(format!(
                    "performer binary {} not found (build it with `ponos build`)",
                    binary.display()
                )));
            }
        }
        let generation = summary.performer_generation + 1;
        let stamp = match &self.supervised[0] {
            Supervised::Process { binary, .. } => BinaryStamp::of(binary),
            Supervised::Docker { .. } => None,
        };
        let mut upgrades = tokio::task::JoinSet::new();
        // Which executor each upgrade is for, also when one panics.
        let mut indices = HashMap::new();
        for (k, index, supervisor) in &self.supervisors {
            let avs = self
                .started
                .avss
                .get(*k)
                .map_or(self.started.avs, |a| a.avs);
            let launch = self.supervised[*k].launch(*k, avs, *index, generation);
            let supervisor = supervisor.clone();
            let upgrade = upgrades.spawn(async move { supervisor.upgrade(launch).await });
            indices.insert(upgrade.id(), *index);
        }
        let mut failed = Vec::new();
        while let Some(joined) = upgrades.join_next_with_id().await {
            match joined {
                Ok((_, Ok(()))) => {}
                Ok((id, Err(error))) => failed.push((indices[&id], error.to_string())),
                Err(error) => failed.push((indices[&error.id()], error.to_string())),
            }
        }
        if failed.len() < self.supervisors.len() {
            summary.performer_generation = generation;
            if failed.is_empty() {
                summary.performer_binary = stamp;
            }
            if let Some(dir) = &self.state_dir {
                write_summary(dir, &summary)?;
            }
        }
        if let Some((index, reason)) = failed.into_iter().min_by_key(|(index, _)| *index) {
            return Err(DevnetError::Performer { index, reason });
        }
        let swap_ms = started.elapsed().as_millis() as u64;
        info!(target: "ponos::devnet", generation, swap_ms, "performer reloaded");
        Ok(Reloaded {
            generation,
            executors: self.started.executors.len(),
            swap_ms,
        })
    }

    /// The L1.
    pub fn l1(&self) -> &LocalChain {
        &self.l1
    }

    /// The L2, when it runs.
    pub fn l2(&self) -> Option<&LocalChain> {
        self.l2.as_ref()
    }

    /// Creates a task with `payload` on `chain` for the (first) AVS and waits (up to the SLA)
    /// for its verified result.
    pub async fn create_task(
        &self,
        chain: ChainRef,
        payload: Vec<u8>,
    ) -> Result<TaskOutcome, DevnetError> {
        self.create_task_for(0, chain, payload).await
    }

    /// Like [`create_task`](Self::create_task), for AVS `k` (0-based, in the devnet's order).
    pub async fn create_task_for(
        &self,
        k: usize,
        chain: ChainRef,
        payload: Vec<u8>,
    ) -> Result<TaskOutcome, DevnetError> {
        let avs = self.started.avss.get(k).ok_or_else(|| {
            DevnetError::Invalid(format!(
                "AVS {k}: this devnet runs {} AVS(s)",
                self.started.avss.len()
            ))
        })?;
        let target = match chain {
            ChainRef::L1 => &self.l1,
            ChainRef::L2 => self
                .l2
                .as_ref()
                .ok_or_else(|| DevnetError::Invalid("this devnet runs no L2".into()))?,
        };
        let started = Instant::now();
        let task = target
            .create_task(self.started.task_creator, avs.avs, payload.into())
            .await?;
        let failed = async {
            loop {
                if let Some(notes) = self.notes.get(task).filter(TaskNotes::failed) {
                    return notes;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        let (certificate, result) = tokio::select! {
            verified = target.wait_verified(task, Duration::from_secs(300), Duration::from_millis(5)) => verified?,
            notes = failed => {
                return Err(DevnetError::NotVerified {
                    task,
                    reasons: notes.reasons.into_iter().chain(notes.error).collect(),
                });
            }
        };
        let latency_ms = started.elapsed().as_millis() as u64;
        let (signers, non_signers) = certificate_summary(
            &certificate,
            self.started.executors.len(),
            avs.curve == "bn254",
        )
        .map_err(|reason| DevnetError::NotVerified {
            task,
            reasons: vec![format!("verified on chain, but its certificate: {reason}")],
        })?;
        Ok(TaskOutcome {
            task,
            chain_id: target.id(),
            result,
            latency_ms,
            signers,
            non_signers,
        })
    }

    /// Stops the aggregator and the performers; the executors and the chains stop when the
    /// devnet is dropped.
    pub async fn stop(&self) {
        self.aggregator.shutdown(Duration::from_secs(2)).await;
        for (_, _, supervisor) in &self.supervisors {
            supervisor.clone().shutdown().await;
        }
    }
}

/// Supervised performers of one AVS: what each executor starts for it.
enum Supervised {
    Process {
        binary: PathBuf,
        env: Vec<(String, String)>,
    },
    Docker {
        docker: Docker,
        image: String,
        env: Vec<(String, String)>,
    },
}

impl Supervised {
    /// How executor `index` starts generation `generation` of the performer of AVS `k` at
    /// `avs` (containers of later generations carry it in their id: blue and green run side by
    /// side; those of later AVSs carry the AVS).
    fn launch(&self, k: usize, avs: Address, index: usize, generation: u64) -> Launch {
        let with_avs = |env: &[(String, String)]| {
            let mut env = env.to_vec();
            env.push(("PONOS_AVS".into(), avs.to_string()));
            env
        };
        match self {
            Self::Process { binary, env } => Launch::Process {
                binary: binary.clone(),
                env: with_avs(env),
            },
            Self::Docker { docker, image, env } => {
                let prefix = container_prefix(std::process::id());
                let avs_part = if k == 0 {
                    String::new()
                } else {
                    format!("avs{k}-")
                };
                Launch::Docker {
                    docker: docker.clone(),
                    spec: Box::new(ContainerSpec {
                        performer_id: if generation == 1 {
                            format!("{prefix}{avs_part}{index}")
                        } else {
                            format!("{prefix}{avs_part}{index}-{generation}")
                        },
                        env: with_avs(env),
                        ..ContainerSpec::new(image.clone())
                    }),
                }
            }
        }
    }

    /// What runs, for people.
    fn describe(&self) -> String {
        match self {
            Self::Process { binary, .. } => binary.display().to_string(),
            Self::Docker { image, .. } => image.clone(),
        }
    }
}

/// Starts the L1 and, when configured, the L2, each with the stack deployed.
async fn start_chains(
    config: &DevnetConfig,
    extra_accounts: usize,
    state_history: usize,
) -> Result<(LocalChain, Option<LocalChain>), DevnetError> {
    let options = |chain_id, port, fork_url| ChainOptions {
        chain_id,
        port,
        fork_url,
        extra_accounts,
        state_history: Some(state_history),
        kept_blocks: Some(KEPT_BLOCKS),
    };
    let l1_options = options(31337, config.l1_port, config.fork_url.clone());
    if config.l2 {
        let l2_options = options(31338, config.l2_port, None);
        let (l1, l2) = tokio::try_join!(
            LocalChain::start_with(&l1_options),
            LocalChain::start_with(&l2_options)
        )?;
        Ok((l1, Some(l2)))
    } else {
        Ok((LocalChain::start_with(&l1_options).await?, None))
    }
}

fn curve_name(curve: Curve) -> &'static str {
    match curve {
        Curve::Bn254 => "bn254",
        Curve::Ecdsa => "ecdsa",
    }
}

/// Stands in for the performer type when performers run outside the process.
#[derive(Clone)]
struct NoPerformer;

impl Performer for NoPerformer {
    async fn handle_task(
        &self,
        _: ponos_performer::Task,
    ) -> Result<Vec<u8>, ponos_performer::PerformerError> {
        Err(ponos_performer::PerformerError::Failed(
            "no in-process performer".into(),
        ))
    }
}
