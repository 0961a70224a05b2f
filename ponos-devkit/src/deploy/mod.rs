//! `ponos deploy`: the AVS's contracts and its configuration on a network, against EigenLayer's
//! deployed contracts (from the [address book](book)) or, with `sandbox`, against Ponos's own
//! stack deployed first.
//!
//! A deploy is a plan of named steps, most of them one transaction each. The [journal](journal)
//! records each step as it is sent and as it lands, so a deploy that stops (a killed process, a
//! dropped connection, an empty account) picks up where it stopped when run again.

pub use ponos_chain::book;
pub mod journal;
mod plan;
pub mod sandbox;

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use alloy::{
    network::{EthereumWallet, TransactionBuilder as _},
    primitives::{Address, B256},
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
use ponos_crypto::types;
use ponos_devnet::{
    AGGREGATOR_SET, Chain, Curve, EXECUTOR_SET, mailbox_task_config, registrar_creation_code,
};

pub use book::Network;
pub use journal::{Journal, StepRecord, StepStatus};
pub use plan::{Artifact, DeployKeys, DeploySpec, ExistingStack, Step, plan};
use plan::{curve_name, executor_set};
pub use sandbox::{SandboxAggregator, SandboxOperator, SandboxOperators};

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
    /// The sandbox aggregator registered for the AVS's aggregator set.
    pub aggregator: Option<SandboxAggregator>,
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
        step: String,
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
    chain_id: u64,
    journal: Journal,
    journal_path: PathBuf,
    operators: Option<SandboxOperators>,
    /// The aggregator a sandbox deploy registers.
    aggregator: SandboxAggregator,
    /// Whether `aggregator` came from `--aggregator` (its key kept in a file).
    aggregator_file: Option<PathBuf>,
    /// The accounts whose keys this deploy holds.
    held: Vec<Address>,
    /// The address of `STACK_OWNER_KEY`.
    stack_owner: Option<Address>,
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
    /// Connects to `rpc_url` as the account of `keys.deployer` and opens (or starts) the
    /// journal of `spec.network` in `project`. Refuses a journal written for another chain,
    /// account, mode or stack, and a chain id that differs from the book's.
    pub async fn connect(
        rpc_url: &str,
        keys: &DeployKeys,
        project: &Path,
        spec: &DeploySpec,
    ) -> Result<Self, DeployError> {
        let invalid = |e: String| DeployError::Invalid(e);
        let signer = |key: &B256, name: &str| {
            PrivateKeySigner::from_bytes(key)
                .map_err(|e| DeployError::Invalid(format!("{name} is not a valid key: {e}")))
        };
        let deployer_signer = signer(&keys.deployer, "PRIVATE_KEY")?;
        let deployer = deployer_signer.address();
        let url = rpc_url
            .parse()
            .map_err(|e| DeployError::Invalid(format!("--rpc-url {rpc_url}: {e}")))?;

        let operators_path = SandboxOperators::path(project, &spec.network);
        let operators = match (&spec.operators_file, spec.sandbox) {
            (_, false) => None,
            (Some(file), true) => {
                let operators =
                    SandboxOperators::load(file)
                        .map_err(invalid)?
                        .ok_or_else(|| {
                            invalid(format!("--operators {}: no such file", file.display()))
                        })?;
                if operators.operators.is_empty() {
                    return Err(invalid(format!(
                        "--operators {}: lists no operator",
                        file.display()
                    )));
                }
                for operator in &operators.operators {
                    operator.key(spec.curve).map_err(|e| {
                        invalid(format!(
                            "--operators {}: the signing key of {} is not a {} key: {e}",
                            file.display(),
                            operator.address,
                            curve_name(spec.curve)
                        ))
                    })?;
                }
                Some(operators)
            }
            (None, true) => match SandboxOperators::load(&operators_path).map_err(invalid)? {
                Some(existing) => {
                    let sockets: Vec<&str> = existing
                        .operators
                        .iter()
                        .map(|o| o.socket.as_str())
                        .collect();
                    if sockets != spec.operator_sockets {
                        return Err(invalid(format!(
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
            },
        };

        let mut wallet = EthereumWallet::new(deployer_signer);
        let mut held = vec![deployer];
        for operator in operators.iter().flat_map(|o| &o.operators) {
            let signer = PrivateKeySigner::from_bytes(&operator.account_key).map_err(|e| {
                invalid(format!(
                    "the account key of operator {}: {e}",
                    operator.address
                ))
            })?;
            held.push(signer.address());
            wallet.register_signer(signer);
        }
        let stack_owner = match &keys.stack_owner {
            Some(key) => {
                let owner = signer(key, "STACK_OWNER_KEY")?;
                let address = owner.address();
                held.push(address);
                wallet.register_signer(owner);
                Some(address)
            }
            None => None,
        };
        let (aggregator, aggregator_file) = match spec.aggregator.filter(|a| *a != deployer) {
            Some(address) => {
                if let Some(key) = &keys.aggregator {
                    let account = signer(key, "AGGREGATOR_KEY")?;
                    if account.address() != address {
                        return Err(invalid(format!(
                            "AGGREGATOR_KEY is the key of {}, not of --aggregator {address}",
                            account.address()
                        )));
                    }
                    held.push(address);
                    wallet.register_signer(account);
                }
                let path = SandboxAggregator::path(project, &spec.network);
                let aggregator =
                    SandboxAggregator::open_or_create(&path, address, keys.aggregator_signing)
                        .map_err(invalid)?;
                (aggregator, Some(path))
            }
            None => (
                SandboxAggregator {
                    address: deployer,
                    signing_key: keys.aggregator_signing.unwrap_or(keys.deployer),
                },
                None,
            ),
        };
        let provider = ProviderBuilder::new()
            .wallet(wallet)
            .connect_http(url)
            .erased();
        let chain_id = provider.get_chain_id().await.map_err(|e| {
            invalid(format!(
                "{rpc_url} does not answer eth_chainId ({e}); is the URL right?"
            ))
        })?;
        if let Some(book) = spec.book
            && book.chain_id != chain_id
        {
            return Err(invalid(format!(
                "{rpc_url} serves chain {chain_id}, not {} ({}); point --rpc-url at {}",
                book.name, book.chain_id, book.name
            )));
        }
        if let Some(stack) = &spec.stack {
            let code = provider
                .get_code_at(stack.addresses.allocation_manager)
                .await
                .map_err(|e| invalid(format!("reading the stack's AllocationManager: {e}")))?;
            if code.is_empty() {
                return Err(invalid(format!(
                    "--stack {}: chain {chain_id} has no contract at its AllocationManager {}; \
                     is --rpc-url the chain that stack was deployed on?",
                    stack.source.display(),
                    stack.addresses.allocation_manager
                )));
            }
        }

        let journal_path = Journal::path(project, &spec.network);
        let mut journal = match Journal::load(&journal_path).map_err(invalid)? {
            Some(journal) => {
                if journal.chain_id != chain_id
                    || journal.deployer != deployer
                    || journal.sandbox != spec.sandbox
                {
                    return Err(invalid(format!(
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
                match (&spec.stack, &journal.stack_source) {
                    (None, Some(source)) => {
                        return Err(invalid(format!(
                            "{} records a deploy onto the stack of {}: pass --stack {} again to \
                             resume",
                            journal_path.display(),
                            source.display(),
                            source.display()
                        )));
                    }
                    (Some(stack), _) if journal.stack.is_some_and(|s| s != stack.addresses) => {
                        return Err(invalid(format!(
                            "{} records a deploy onto another stack than the one in --stack {}; \
                             move the journal away to start over",
                            journal_path.display(),
                            stack.source.display()
                        )));
                    }
                    _ => {}
                }
                journal
            }
            None => Journal::new(&spec.network, chain_id, deployer, spec.sandbox),
        };
        if let Some(stack) = &spec.stack {
            journal.stack = Some(stack.addresses);
            journal.stack_source = Some(stack.source.clone());
        }
        // New operators' keys are kept before anything is sent, so a resumed deploy reuses
        // them; existing ones stay in the file they came from.
        if let Some(operators) = &operators
            && spec.operators_file.is_none()
        {
            operators.save(&operators_path).map_err(invalid)?;
        }
        let local = rpc_url.contains("127.0.0.1") || rpc_url.contains("localhost");
        Ok(Self {
            provider,
            deployer,
            chain_id,
            journal,
            journal_path,
            operators,
            aggregator,
            aggregator_file,
            held,
            stack_owner,
            poll: if local {
                Duration::from_millis(50)
            } else {
                Duration::from_secs(2)
            },
        })
    }

    /// Whether this deploy holds the key of `account`.
    fn holds_key(&self, account: Address) -> bool {
        self.held.contains(&account)
    }

    /// The sandbox stack's addresses.
    fn sandbox_stack(&self) -> Result<StackAddresses, String> {
        self.journal
            .stack
            .ok_or_else(|| "the journal has no stack".to_string())
    }

    /// The journal as it stands.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// Where the key of an existing aggregator for this AVS is kept (`--aggregator`).
    pub fn aggregator_file(&self) -> Option<&Path> {
        self.aggregator_file.as_deref()
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
            aggregator: spec.sandbox.then(|| self.aggregator.clone()),
        })
    }

    /// Records a step that sends no single transaction of its own as done, and saves.
    fn done(&mut self, step: Step, address: Option<Address>) -> Result<(), DeployError> {
        self.record_done(step.name(), address)
    }

    /// Records `name` (a step or a part of one) as done, and saves.
    fn record_done(&mut self, name: &str, address: Option<Address>) -> Result<(), DeployError> {
        self.journal.record(StepRecord {
            name: name.into(),
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
                step: Step::Stack.name().into(),
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
            step: step.name().into(),
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
            Step::SandboxTables => return self.sandbox_tables(spec).await,
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
        self.send(step.name(), tx.with_from(avs)).await
    }

    /// Sends one step's transaction (or waits for the one an earlier run sent) and records it.
    async fn send(&mut self, name: &str, tx: TransactionRequest) -> Result<(), DeployError> {
        let fail = |reason: String| DeployError::Step {
            step: name.into(),
            reason,
        };
        let earlier = self
            .journal
            .step(name)
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
                    .send_transaction(tx.clone())
                    .await
                    .map_err(|e| fail(e.to_string()))?;
                self.journal.record(StepRecord {
                    name: name.into(),
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
            self.journal.steps.retain(|r| r.name != name);
            self.save()?;
            // Replayed on the state it ran on, for the reason.
            let before = receipt.block_number.unwrap_or_default().saturating_sub(1);
            let reason = match self.provider.call(tx).block(before.into()).await {
                Err(error) => format!(": {error}"),
                Ok(_) => String::new(),
            };
            return Err(fail(format!("transaction {hash} reverted{reason}")));
        }
        self.journal.record(StepRecord {
            name: name.into(),
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
            step: Step::Stack.name().into(),
            reason: "the journal has no stack".into(),
        })?;
        Ok(Chain {
            chain_id: self.chain_id,
            provider: self.provider.clone(),
            stack,
        })
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
            step: "stack".into(),
            reason: "error sending request for url (https://u:p@node.example.com/?key=K)".into(),
        };
        assert!(!step.to_string().contains("key=K"), "{step}");
        assert!(!step.to_string().contains("u:p"), "{step}");
    }
}
