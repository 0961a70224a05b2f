//! `ponos deploy`: the AVS's contracts and its configuration on a network, against EigenLayer's
//! deployed contracts (from the [address book](book)) or, with `sandbox`, against Ponos's own
//! stack deployed first.
//!
//! A deploy is a plan of named steps, most of them one transaction each. The [journal](journal)
//! records each step as it is sent and as it lands, so a deploy that stops (a killed process, a
//! dropped connection, an empty account) picks up where it stopped when run again.

pub use ponos_chain::book;
pub mod journal;

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use alloy::{
    network::{EthereumWallet, TransactionBuilder as _},
    primitives::{Address, B256, Bytes, U256},
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::types::{TransactionReceipt, TransactionRequest},
    signers::local::PrivateKeySigner,
};
use ponos_chain::{
    contracts::{
        AllocationManager, BN254CertificateVerifier, ECDSACertificateVerifier, KeyRegistrar,
        TaskMailbox, allocation_manager, retype,
    },
    sandbox::{StackAddresses, StackConfig, deploy_stack},
};
use ponos_crypto::{bn254, ecdsa, types};
use ponos_devnet::{
    AGGREGATOR_SET, AvsSpec, Chain, Curve, EXECUTOR_SET, OperatorKey, OperatorSpec,
    mailbox_task_config, push_tables, register_operators, registrar_creation_code,
};
use serde::{Deserialize, Serialize};

pub use book::Network;
pub use journal::{Journal, StepRecord, StepStatus};

alloy::sol! {
    #[sol(rpc)]
    interface ICrossChainRegistry {
        struct OperatorSet { address avs; uint32 id; }
        struct OperatorSetConfig { address owner; uint32 maxStalenessPeriod; }
        function createGenerationReservation(
            OperatorSet calldata operatorSet,
            address operatorTableCalculator,
            OperatorSetConfig calldata config
        ) external;
    }
}

/// How long an operator table may go without an update before certificates against it fail
/// (EigenLayer's default: a week).
pub const MAX_STALENESS_SECS: u32 = 7 * 24 * 3600;

/// The ether each sandbox operator gets for its registration transactions.
pub const SANDBOX_OPERATOR_FUNDS: u128 = 100_000_000_000_000_000;

/// A compiled contract of the project.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// The contract's name.
    pub name: String,
    /// Its creation bytecode.
    pub bytecode: Bytes,
}

impl Artifact {
    /// Reads `name` from forge's output directory (`<out>/<name>.sol/<name>.json`).
    pub fn from_forge_out(out: &Path, name: &str) -> Result<Self, String> {
        let path = out.join(format!("{name}.sol")).join(format!("{name}.json"));
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "{}: {e}; compile the contracts first with `ponos build`",
                path.display()
            )
        })?;
        let json: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let object = json["bytecode"]["object"]
            .as_str()
            .ok_or_else(|| format!("{}: no bytecode.object", path.display()))?;
        let bytecode: Bytes = object
            .parse()
            .map_err(|e| format!("{}: bytecode.object: {e}", path.display()))?;
        if bytecode.is_empty() {
            return Err(format!(
                "{}: {name} has no creation code (is it abstract or an interface?)",
                path.display()
            ));
        }
        Ok(Self {
            name: name.to_string(),
            bytecode,
        })
    }
}

/// What to deploy, and where.
#[derive(Debug, Clone)]
pub struct DeploySpec {
    /// The network's name (the journal's file name).
    pub network: String,
    /// The address book's entry, when the network is in it.
    pub book: Option<&'static Network>,
    /// Deploy Ponos's own stack first and play EigenLayer's roles on it.
    pub sandbox: bool,
    /// The executor set's curve.
    pub curve: Curve,
    /// How long a task may take, in seconds.
    pub task_sla: u64,
    /// The share of stake a certificate needs, in basis points.
    pub threshold_bps: u16,
    /// The AVS's metadata URI.
    pub metadata_uri: String,
    /// The project's task hook.
    pub task_hook: Artifact,
    /// The project's registrar (a `TaskAVSRegistrarBase`), deployed where the AVS lives.
    pub registrar: Artifact,
    /// The operator table calculator for the executor set (EigenLayer L1s only).
    pub table_calculator: Option<Address>,
    /// Sandbox only: one operator is created and registered per socket.
    pub operator_sockets: Vec<String>,
}

impl DeploySpec {
    /// Whether this deploy sets up the AVS itself (operator sets, keys, registrar): on an L1 of
    /// the book, or in a sandbox. On an L2 only the task hook and the mailbox are configured.
    pub fn sets_up_avs(&self) -> bool {
        self.sandbox || self.book.is_some_and(|n| n.l1.is_some())
    }
}

/// One step of the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Ponos's stack (sandbox only; twelve transactions, journaled as one).
    Stack,
    /// The project's task hook.
    TaskHook,
    /// The project's registrar.
    Registrar,
    /// `AllocationManager.updateAVSMetadataURI`: announces the AVS.
    Metadata,
    /// `AllocationManager.setAVSRegistrar`.
    SetRegistrar,
    /// `AllocationManager.createOperatorSets` (0 aggregator, 1 executors).
    OperatorSets,
    /// `KeyRegistrar.configureOperatorSet` for the aggregator set (ECDSA).
    AggregatorCurve,
    /// `KeyRegistrar.configureOperatorSet` for the executor set.
    ExecutorCurve,
    /// `CrossChainRegistry.createGenerationReservation` for the executor set.
    GenerationReservation,
    /// Sandbox: operators funded, their keys and sockets registered, weights set.
    SandboxOperators,
    /// Sandbox: the executor set's table pushed to the verifiers.
    SandboxTables,
    /// `TaskMailbox.setExecutorOperatorSetTaskConfig`.
    MailboxConfig,
}

impl Step {
    /// The step's name in the journal.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Stack => "stack",
            Self::TaskHook => "task-hook",
            Self::Registrar => "registrar",
            Self::Metadata => "metadata",
            Self::SetRegistrar => "set-registrar",
            Self::OperatorSets => "operator-sets",
            Self::AggregatorCurve => "aggregator-curve",
            Self::ExecutorCurve => "executor-curve",
            Self::GenerationReservation => "generation-reservation",
            Self::SandboxOperators => "sandbox-operators",
            Self::SandboxTables => "sandbox-tables",
            Self::MailboxConfig => "mailbox-config",
        }
    }

    /// What the step does, for people.
    pub fn describe(self, spec: &DeploySpec) -> String {
        match self {
            Self::Stack => "deploy the Ponos contract stack (sandbox)".into(),
            Self::TaskHook => format!("deploy the task hook {}", spec.task_hook.name),
            Self::Registrar => format!("deploy the registrar {}", spec.registrar.name),
            Self::Metadata => "announce the AVS (AllocationManager.updateAVSMetadataURI)".into(),
            Self::SetRegistrar => "set the AVS's registrar (AllocationManager)".into(),
            Self::OperatorSets => format!(
                "create operator sets {AGGREGATOR_SET} (aggregator) and {EXECUTOR_SET} (executors)"
            ),
            Self::AggregatorCurve => "configure the aggregator set's curve: ECDSA".into(),
            Self::ExecutorCurve => format!(
                "configure the executor set's curve: {}",
                curve_name(spec.curve)
            ),
            Self::GenerationReservation => {
                "reserve operator table generation (CrossChainRegistry)".into()
            }
            Self::SandboxOperators => format!(
                "register {} sandbox operator(s) and the aggregator, set weights",
                spec.operator_sockets.len()
            ),
            Self::SandboxTables => "push the executor set's operator table (sandbox)".into(),
            Self::MailboxConfig => format!(
                "configure the TaskMailbox: SLA {} s, threshold {} bps",
                spec.task_sla, spec.threshold_bps
            ),
        }
    }
}

/// The steps of `spec`, in order.
pub fn plan(spec: &DeploySpec) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    if spec.sandbox {
        if spec.operator_sockets.is_empty() {
            return Err(
                "--sandbox needs --operator-sockets: the sandbox plays EigenLayer's table \
                 transporter, and an operator table needs operators (one is registered per socket)"
                    .into(),
            );
        }
        steps.push(Step::Stack);
    } else if !spec.operator_sockets.is_empty() {
        return Err("--operator-sockets registers sandbox operators; it needs --sandbox (on a real network operators register themselves)".into());
    }
    steps.push(Step::TaskHook);
    if spec.sets_up_avs() {
        steps.extend([
            Step::Registrar,
            Step::Metadata,
            Step::SetRegistrar,
            Step::OperatorSets,
            Step::AggregatorCurve,
            Step::ExecutorCurve,
        ]);
        if spec.sandbox {
            steps.extend([Step::SandboxOperators, Step::SandboxTables]);
        } else {
            if spec.table_calculator.is_none() {
                return Err(format!(
                    "deploying the AVS on {} needs the executor set's operator table calculator: \
                     set `table_calculator = \"0x...\"` under [deploy] in ponos.toml \
                     (EigenLayer's {} table calculator on this network, or your own)",
                    spec.network,
                    curve_name(spec.curve)
                ));
            }
            steps.push(Step::GenerationReservation);
        }
    }
    steps.push(Step::MailboxConfig);
    Ok(steps)
}

fn executor_set(avs: Address) -> types::OperatorSet {
    types::OperatorSet {
        avs,
        id: EXECUTOR_SET,
    }
}

fn curve_name(curve: Curve) -> &'static str {
    match curve {
        Curve::Bn254 => "BN254",
        Curve::Ecdsa => "ECDSA",
    }
}

/// A sandbox operator, with its secrets (sandbox networks only; the file is private to its
/// owner).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SandboxOperator {
    /// The operator's account.
    pub address: Address,
    /// The account's private key.
    pub account_key: B256,
    /// The operator's signing key for the executor set (BN254 or ECDSA scalar).
    pub signing_key: B256,
    /// Where its executor listens.
    pub socket: String,
}

impl SandboxOperator {
    /// The operator's signing key for `curve`.
    pub fn key(&self, curve: Curve) -> Result<OperatorKey, String> {
        let bytes = self.signing_key.as_slice();
        Ok(match curve {
            Curve::Bn254 => {
                OperatorKey::Bn254(bn254::SecretKey::from_bytes(bytes).map_err(|e| e.to_string())?)
            }
            Curve::Ecdsa => {
                OperatorKey::Ecdsa(ecdsa::SecretKey::from_bytes(bytes).map_err(|e| e.to_string())?)
            }
        })
    }
}

/// The sandbox operators of a deploy (`deployments/<network>.operators.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SandboxOperators {
    /// The operators, one per socket.
    pub operators: Vec<SandboxOperator>,
}

impl SandboxOperators {
    /// The file's path for `network` in `project`.
    pub fn path(project: &Path, network: &str) -> PathBuf {
        project
            .join("deployments")
            .join(format!("{}.operators.json", network.to_ascii_lowercase()))
    }

    /// Reads the file; `Ok(None)` when there is none.
    pub fn load(path: &Path) -> Result<Option<Self>, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    fn generate(curve: Curve, sockets: &[String]) -> Self {
        let mut rng = rand::rngs::OsRng;
        let operators = sockets
            .iter()
            .map(|socket| {
                let account = ecdsa::SecretKey::random(&mut rng);
                let signing_key = match curve {
                    Curve::Bn254 => B256::from(*bn254::SecretKey::random(&mut rng).to_bytes()),
                    Curve::Ecdsa => B256::from(*ecdsa::SecretKey::random(&mut rng).to_bytes()),
                };
                SandboxOperator {
                    address: account.address(),
                    account_key: B256::from(*account.to_bytes()),
                    signing_key,
                    socket: socket.clone(),
                }
            })
            .collect();
        Self { operators }
    }

    fn save(&self, path: &Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(self).expect("operators serialise");
        let dir = path.parent().unwrap_or(Path::new("."));
        crate::private::create_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        crate::private::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// What a finished deploy left on chain.
#[derive(Debug, Clone)]
pub struct Deployed {
    /// The AVS (the deployer's account).
    pub avs: Address,
    /// The task hook.
    pub task_hook: Address,
    /// The registrar, where the AVS was set up.
    pub registrar: Option<Address>,
    /// The TaskMailbox the AVS is configured in.
    pub task_mailbox: Address,
    /// The sandbox stack.
    pub stack: Option<StackAddresses>,
}

/// Why a deploy stopped. Shown with every URL redacted: the RPC URL, which a message may
/// quote (or a node error may), can carry an API key.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// Input that cannot work.
    #[error("{}", ponos_chain::redact::urls_in(.0))]
    Invalid(String),
    /// A step failed; the journal keeps everything before it.
    #[error("step {step}: {}", ponos_chain::redact::urls_in(reason))]
    Step {
        /// The step.
        step: &'static str,
        /// Why.
        reason: String,
    },
    /// A step waits on something outside this deploy; running again later continues.
    #[error("{}", ponos_chain::redact::urls_in(.0))]
    Waiting(String),
}

/// Runs deploy plans against one chain, recording each step in the journal.
pub struct Deployer {
    provider: DynProvider,
    deployer: Address,
    deployer_key: B256,
    chain_id: u64,
    journal: Journal,
    journal_path: PathBuf,
    operators: Option<SandboxOperators>,
    poll: Duration,
}

impl std::fmt::Debug for Deployer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deployer")
            .field("deployer", &self.deployer)
            .field("chain_id", &self.chain_id)
            .field("journal", &self.journal_path)
            .finish_non_exhaustive()
    }
}

/// Checks that EigenLayer's contracts are where the book says on the chain behind `provider`.
/// Returns the first one without code.
pub async fn missing_eigenlayer(
    provider: &DynProvider,
    network: &Network,
) -> Result<Option<(&'static str, Address)>, String> {
    for (name, address) in network.contracts() {
        let code = provider
            .get_code_at(address)
            .await
            .map_err(|e| format!("reading the code at {address}: {e}"))?;
        if code.is_empty() {
            return Ok(Some((name, address)));
        }
    }
    Ok(None)
}

impl Deployer {
    /// Connects to `rpc_url` as the account of `key` and opens (or starts) the journal of
    /// `spec.network` in `project`. Refuses a journal written for another chain, account or
    /// mode, and a chain id that differs from the book's.
    pub async fn connect(
        rpc_url: &str,
        key: B256,
        project: &Path,
        spec: &DeploySpec,
    ) -> Result<Self, DeployError> {
        let signer = PrivateKeySigner::from_bytes(&key)
            .map_err(|e| DeployError::Invalid(format!("the deployer key is not valid: {e}")))?;
        let deployer = signer.address();
        let url = rpc_url
            .parse()
            .map_err(|e| DeployError::Invalid(format!("--rpc-url {rpc_url}: {e}")))?;

        let operators_path = SandboxOperators::path(project, &spec.network);
        let operators = if spec.sandbox {
            match SandboxOperators::load(&operators_path).map_err(DeployError::Invalid)? {
                Some(existing) => {
                    let sockets: Vec<&str> = existing
                        .operators
                        .iter()
                        .map(|o| o.socket.as_str())
                        .collect();
                    if sockets != spec.operator_sockets {
                        return Err(DeployError::Invalid(format!(
                            "{} holds operators for sockets {} but --operator-sockets says {}; \
                             pass the same sockets to resume, or move the deployments directory \
                             away to start over",
                            operators_path.display(),
                            sockets.join(","),
                            spec.operator_sockets.join(",")
                        )));
                    }
                    Some(existing)
                }
                None => Some(SandboxOperators::generate(
                    spec.curve,
                    &spec.operator_sockets,
                )),
            }
        } else {
            None
        };

        let mut wallet = EthereumWallet::new(signer);
        for operator in operators.iter().flat_map(|o| &o.operators) {
            let signer = PrivateKeySigner::from_bytes(&operator.account_key)
                .map_err(|e| DeployError::Invalid(format!("{}: {e}", operators_path.display())))?;
            wallet.register_signer(signer);
        }
        let provider = ProviderBuilder::new()
            .wallet(wallet)
            .connect_http(url)
            .erased();
        let chain_id = provider.get_chain_id().await.map_err(|e| {
            DeployError::Invalid(format!(
                "{rpc_url} does not answer eth_chainId ({e}); is the URL right?"
            ))
        })?;
        if let Some(book) = spec.book
            && book.chain_id != chain_id
        {
            return Err(DeployError::Invalid(format!(
                "{rpc_url} serves chain {chain_id}, not {} ({}); point --rpc-url at {}",
                book.name, book.chain_id, book.name
            )));
        }

        let journal_path = Journal::path(project, &spec.network);
        let journal = match Journal::load(&journal_path).map_err(DeployError::Invalid)? {
            Some(journal) => {
                if journal.chain_id != chain_id
                    || journal.deployer != deployer
                    || journal.sandbox != spec.sandbox
                {
                    return Err(DeployError::Invalid(format!(
                        "{} records a deploy to chain {} by {} (sandbox: {}); this one is chain {} \
                         by {} (sandbox: {}). Move the journal away to start over",
                        journal_path.display(),
                        journal.chain_id,
                        journal.deployer,
                        journal.sandbox,
                        chain_id,
                        deployer,
                        spec.sandbox
                    )));
                }
                journal
            }
            None => Journal::new(&spec.network, chain_id, deployer, spec.sandbox),
        };
        // Operators' keys are kept before anything is sent, so a resumed deploy reuses them.
        if let Some(operators) = &operators {
            operators
                .save(&operators_path)
                .map_err(DeployError::Invalid)?;
        }
        let local = rpc_url.contains("127.0.0.1") || rpc_url.contains("localhost");
        Ok(Self {
            provider,
            deployer,
            deployer_key: key,
            chain_id,
            journal,
            journal_path,
            operators,
            poll: if local {
                Duration::from_millis(50)
            } else {
                Duration::from_secs(2)
            },
        })
    }

    /// The journal as it stands.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The provider (its wallet signs for the deployer).
    pub fn provider(&self) -> &DynProvider {
        &self.provider
    }

    /// Runs `steps` in order, skipping those the journal has done; `progress` hears about each.
    pub async fn run(
        &mut self,
        spec: &DeploySpec,
        steps: &[Step],
        mut progress: impl FnMut(usize, Step, &str),
    ) -> Result<Deployed, DeployError> {
        for (i, &step) in steps.iter().enumerate() {
            if self.journal.is_done(step.name()) {
                progress(i, step, "done earlier (journal)");
                continue;
            }
            progress(i, step, "…");
            let started = std::time::Instant::now();
            self.execute(spec, step).await?;
            let record = self.journal.step(step.name());
            let detail = match (record.and_then(|r| r.address), record.and_then(|r| r.tx)) {
                (Some(address), _) => format!("at {address}"),
                (None, Some(tx)) => format!("tx {tx}"),
                (None, None) => String::new(),
            };
            progress(
                i,
                step,
                &format!("done in {:.1} s {detail}", started.elapsed().as_secs_f64()),
            );
        }
        let (_, task) = self.contracts(spec)?;
        Ok(Deployed {
            avs: self.deployer,
            task_hook: self
                .journal
                .address(Step::TaskHook.name())
                .unwrap_or_default(),
            registrar: self.journal.address(Step::Registrar.name()),
            task_mailbox: task.task_mailbox,
            stack: self.journal.stack,
        })
    }

    /// Records a step that sends no single transaction of its own as done, and saves.
    fn done(&mut self, step: Step, address: Option<Address>) -> Result<(), DeployError> {
        self.journal.record(StepRecord {
            name: step.name().into(),
            status: StepStatus::Done,
            tx: None,
            address,
        });
        self.save()
    }

    fn save(&self) -> Result<(), DeployError> {
        self.journal
            .save(&self.journal_path)
            .map_err(DeployError::Invalid)
    }

    /// The L1 core (where the AVS lives, if here) and the task contracts on this chain.
    fn contracts(
        &self,
        spec: &DeploySpec,
    ) -> Result<(Option<book::L1Core>, book::TaskCore), DeployError> {
        if spec.sandbox {
            let stack = self.journal.stack.ok_or_else(|| DeployError::Step {
                step: Step::Stack.name(),
                reason: "the journal has no stack".into(),
            })?;
            return Ok((
                Some(book::L1Core {
                    allocation_manager: stack.allocation_manager,
                    key_registrar: stack.key_registrar,
                    cross_chain_registry: Address::ZERO,
                }),
                book::TaskCore {
                    task_mailbox: stack.task_mailbox,
                    bn254_certificate_verifier: stack.bn254_certificate_verifier,
                    ecdsa_certificate_verifier: stack.ecdsa_certificate_verifier,
                },
            ));
        }
        let book = spec.book.ok_or_else(|| {
            DeployError::Invalid(format!(
                "{} is not in the address book ({}); pass --sandbox to deploy Ponos's own stack",
                spec.network,
                book::names()
            ))
        })?;
        Ok((book.l1, book.task))
    }

    async fn execute(&mut self, spec: &DeploySpec, step: Step) -> Result<(), DeployError> {
        let fail = |reason: String| DeployError::Step {
            step: step.name(),
            reason,
        };
        if step == Step::Stack {
            let stack = deploy_stack(&self.provider, &StackConfig::new(self.deployer))
                .await
                .map_err(|e| fail(e.to_string()))?;
            self.journal.stack = Some(stack);
            return self.done(step, Some(stack.task_mailbox));
        }
        let (l1, task) = self.contracts(spec)?;
        let avs = self.deployer;
        let provider = self.provider.clone();
        let l1 = || l1.ok_or_else(|| fail("this network has no EigenLayer core".into()));
        let tx: TransactionRequest = match step {
            Step::Stack => unreachable!("handled above"),
            Step::TaskHook => {
                TransactionRequest::default().with_deploy_code(spec.task_hook.bytecode.clone())
            }
            Step::Registrar => {
                let l1 = l1()?;
                let code = registrar_creation_code(
                    &spec.registrar.bytecode,
                    avs,
                    l1.allocation_manager,
                    l1.key_registrar,
                );
                TransactionRequest::default().with_deploy_code(code)
            }
            Step::Metadata => AllocationManager::new(l1()?.allocation_manager, &provider)
                .updateAVSMetadataURI(avs, spec.metadata_uri.clone())
                .into_transaction_request(),
            Step::SetRegistrar => {
                let registrar = self
                    .journal
                    .address(Step::Registrar.name())
                    .ok_or_else(|| fail("the journal has no registrar".into()))?;
                AllocationManager::new(l1()?.allocation_manager, &provider)
                    .setAVSRegistrar(avs, registrar)
                    .into_transaction_request()
            }
            Step::OperatorSets => {
                let sets = [AGGREGATOR_SET, EXECUTOR_SET]
                    .map(
                        |id| allocation_manager::IAllocationManagerTypes::CreateSetParams {
                            operatorSetId: id,
                            strategies: vec![],
                        },
                    )
                    .to_vec();
                AllocationManager::new(l1()?.allocation_manager, &provider)
                    .createOperatorSets(avs, sets)
                    .into_transaction_request()
            }
            Step::AggregatorCurve | Step::ExecutorCurve => {
                let (id, curve) = if step == Step::AggregatorCurve {
                    (AGGREGATOR_SET, Curve::Ecdsa)
                } else {
                    (EXECUTOR_SET, spec.curve)
                };
                KeyRegistrar::new(l1()?.key_registrar, &provider)
                    .configureOperatorSet(
                        retype(&types::OperatorSet { avs, id }),
                        curve.curve_type(),
                    )
                    .into_transaction_request()
            }
            Step::GenerationReservation => {
                let calculator = spec
                    .table_calculator
                    .ok_or_else(|| fail("no table calculator".into()))?;
                ICrossChainRegistry::new(l1()?.cross_chain_registry, &provider)
                    .createGenerationReservation(
                        ICrossChainRegistry::OperatorSet {
                            avs,
                            id: EXECUTOR_SET,
                        },
                        calculator,
                        ICrossChainRegistry::OperatorSetConfig {
                            owner: avs,
                            maxStalenessPeriod: MAX_STALENESS_SECS,
                        },
                    )
                    .into_transaction_request()
            }
            Step::SandboxOperators => return self.sandbox_operators(spec).await,
            Step::SandboxTables => {
                let chain = self.sandbox_chain()?;
                push_tables(&chain, &[&chain], avs, spec.curve, avs)
                    .await
                    .map_err(|e| fail(e.to_string()))?;
                return self.done(step, None);
            }
            Step::MailboxConfig => {
                let owner = self.table_owner(spec, &task).await.map_err(fail)?;
                if owner == Address::ZERO {
                    return Err(DeployError::Waiting(format!(
                        "the executor set's operator table has not reached chain {} yet (its \
                         certificate verifier names no owner for the set): EigenLayer's table \
                         transporter pushes it after the generation reservation on L1. Run the \
                         same `ponos deploy` again later; the journal keeps what is done",
                        self.chain_id
                    )));
                }
                if owner != avs {
                    return Err(fail(format!(
                        "the executor set belongs to {owner} on this chain's verifier, not to the \
                         deployer {avs}; deploy with that account's key"
                    )));
                }
                let hook = self
                    .journal
                    .address(Step::TaskHook.name())
                    .ok_or_else(|| fail("the journal has no task hook".into()))?;
                let config =
                    mailbox_task_config(hook, spec.curve, spec.task_sla, spec.threshold_bps);
                TaskMailbox::new(task.task_mailbox, &provider)
                    .setExecutorOperatorSetTaskConfig(retype(&executor_set(avs)), config)
                    .into_transaction_request()
            }
        };
        self.send(step, tx.with_from(avs)).await
    }

    /// Sends one step's transaction (or waits for the one an earlier run sent) and records it.
    async fn send(&mut self, step: Step, tx: TransactionRequest) -> Result<(), DeployError> {
        let fail = |reason: String| DeployError::Step {
            step: step.name(),
            reason,
        };
        let earlier = self
            .journal
            .step(step.name())
            .filter(|r| r.status == StepStatus::Sent)
            .and_then(|r| r.tx);
        let receipt = match earlier {
            Some(hash) => self.wait_sent(hash).await.map_err(fail)?,
            None => None,
        };
        let receipt = match receipt {
            Some(receipt) => receipt,
            None => {
                let pending = self
                    .provider
                    .send_transaction(tx)
                    .await
                    .map_err(|e| fail(e.to_string()))?;
                self.journal.record(StepRecord {
                    name: step.name().into(),
                    status: StepStatus::Sent,
                    tx: Some(*pending.tx_hash()),
                    address: None,
                });
                self.save()?;
                let hash = *pending.tx_hash();
                self.wait_sent(hash)
                    .await
                    .map_err(fail)?
                    .ok_or_else(|| fail(format!("transaction {hash} was dropped; run again")))?
            }
        };
        let hash = receipt.transaction_hash;
        if !receipt.status() {
            self.journal.steps.retain(|r| r.name != step.name());
            self.save()?;
            return Err(fail(format!("transaction {hash} reverted")));
        }
        self.journal.record(StepRecord {
            name: step.name().into(),
            status: StepStatus::Done,
            tx: Some(hash),
            address: receipt.contract_address,
        });
        self.save()
    }

    /// The receipt of `hash`, once mined; `None` when the node no longer knows it.
    async fn wait_sent(&self, hash: B256) -> Result<Option<TransactionReceipt>, String> {
        loop {
            if let Some(receipt) = self
                .provider
                .get_transaction_receipt(hash)
                .await
                .map_err(|e| format!("reading the receipt of {hash}: {e}"))?
            {
                return Ok(Some(receipt));
            }
            let known = self
                .provider
                .get_transaction_by_hash(hash)
                .await
                .map_err(|e| format!("reading transaction {hash}: {e}"))?;
            if known.is_none() {
                return Ok(None);
            }
            tokio::time::sleep(self.poll).await;
        }
    }

    async fn table_owner(
        &self,
        spec: &DeploySpec,
        task: &book::TaskCore,
    ) -> Result<Address, String> {
        let avs = self.deployer;
        let owner = match spec.curve {
            Curve::Bn254 => {
                BN254CertificateVerifier::new(task.bn254_certificate_verifier, &self.provider)
                    .getOperatorSetOwner(retype(&executor_set(avs)))
                    .call()
                    .await
            }
            Curve::Ecdsa => {
                ECDSACertificateVerifier::new(task.ecdsa_certificate_verifier, &self.provider)
                    .getOperatorSetOwner(retype(&executor_set(avs)))
                    .call()
                    .await
            }
        };
        owner.map_err(|e| format!("reading the executor set's owner on the verifier: {e}"))
    }

    fn sandbox_chain(&self) -> Result<Chain, DeployError> {
        let stack = self.journal.stack.ok_or_else(|| DeployError::Step {
            step: Step::Stack.name(),
            reason: "the journal has no stack".into(),
        })?;
        Ok(Chain {
            chain_id: self.chain_id,
            provider: self.provider.clone(),
            stack,
        })
    }

    /// Funds the sandbox operators, then registers them (and the deployer as the aggregator)
    /// and sets their weights. Journaled as one step.
    async fn sandbox_operators(&mut self, spec: &DeploySpec) -> Result<(), DeployError> {
        let step = Step::SandboxOperators;
        let fail = |reason: String| DeployError::Step {
            step: step.name(),
            reason,
        };
        let operators = self
            .operators
            .clone()
            .ok_or_else(|| fail("no sandbox operators".into()))?;
        for operator in &operators.operators {
            let balance = self
                .provider
                .get_balance(operator.address)
                .await
                .map_err(|e| fail(e.to_string()))?;
            if balance >= U256::from(SANDBOX_OPERATOR_FUNDS / 2) {
                continue;
            }
            let tx = TransactionRequest::default()
                .with_from(self.deployer)
                .with_to(operator.address)
                .with_value(U256::from(SANDBOX_OPERATOR_FUNDS));
            let pending = self
                .provider
                .send_transaction(tx)
                .await
                .map_err(|e| fail(format!("funding {}: {e}", operator.address)))?;
            let receipt = ponos_chain::receipt::receipt_of(pending)
                .await
                .map_err(|e| fail(format!("funding {}: {e}", operator.address)))?;
            if !receipt.status() {
                return Err(fail(format!("funding {} reverted", operator.address)));
            }
        }
        let mut specs = Vec::new();
        for operator in &operators.operators {
            specs.push(OperatorSpec {
                address: operator.address,
                key: operator.key(spec.curve).map_err(fail)?,
                socket: operator.socket.clone(),
                weight: U256::from(1_000),
            });
        }
        let aggregator_key = ecdsa::SecretKey::from_bytes(self.deployer_key.as_slice())
            .map_err(|e| fail(e.to_string()))?;
        let avs_spec = AvsSpec {
            avs: self.deployer,
            admin: self.deployer,
            aggregator: self.deployer,
            aggregator_key,
            curve: spec.curve,
            operators: specs,
            task_sla: spec.task_sla,
            threshold_bps: spec.threshold_bps,
            registrar_code: None,
            task_hook_code: None,
        };
        register_operators(&self.sandbox_chain()?, &avs_spec)
            .await
            .map_err(|e| fail(e.to_string()))?;
        self.done(step, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deploy_errors_never_show_an_api_key() {
        let invalid = DeployError::Invalid(
            "https://node.example.com/v2/APIKEY does not answer eth_chainId".into(),
        );
        assert_eq!(
            invalid.to_string(),
            "https://node.example.com/… does not answer eth_chainId"
        );
        let step = DeployError::Step {
            step: "stack",
            reason: "error sending request for url (https://u:p@node.example.com/?key=K)".into(),
        };
        assert!(!step.to_string().contains("key=K"), "{step}");
        assert!(!step.to_string().contains("u:p"), "{step}");
    }
}
