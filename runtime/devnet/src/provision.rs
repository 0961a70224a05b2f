//! One AVS, set up end to end on an L1 and any number of L2s.

use alloy::{
    network::{ReceiptResponse as _, TransactionBuilder as _},
    primitives::{Address, Bytes, TxHash, U256, aliases::U96},
    providers::{DynProvider, Provider},
    rpc::types::TransactionRequest,
    sol_types::{SolCall as _, SolValue},
};
use ponos_chain::{
    contracts::retype as to,
    contracts::{
        AllocationManager, BN254TableCalculator, ECDSATableCalculator, KeyRegistrar, OpenTaskHook,
        OperatorTableUpdater, TaskAVSRegistrar, TaskMailbox, allocation_manager,
        operator_table_updater, task_avs_registrar, task_mailbox,
    },
    receipt::receipt_of,
    sandbox::{STACK_VERSION, StackAddresses},
};
use ponos_crypto::{bn254, digest::KeyRegistrarDomain, ecdsa, types};

/// The operator set the aggregator joins.
pub const AGGREGATOR_SET: u32 = 0;
/// The operator set executors join; tasks are addressed to it.
pub const EXECUTOR_SET: u32 = 1;
/// The metadata URI the AVS announces.
pub const AVS_METADATA_URI: &str = "https://ponos.build/devnet-avs";

/// A chain with a deployed stack. The provider's wallet must hold the keys of every account
/// that sends a transaction (the AVS, its admin, the aggregator and the operators).
#[derive(Debug, Clone)]
pub struct Chain {
    /// The chain id.
    pub chain_id: u64,
    /// A provider whose wallet signs for every account involved.
    pub provider: DynProvider,
    /// The stack's addresses on this chain.
    pub stack: StackAddresses,
}

/// The curve of the executor operator set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    /// BN254 (BLS) certificates.
    Bn254,
    /// ECDSA certificates.
    Ecdsa,
}

impl Curve {
    /// The KeyRegistrar's `CurveType` value.
    pub const fn curve_type(self) -> u8 {
        match self {
            Self::Ecdsa => 1,
            Self::Bn254 => 2,
        }
    }
}

/// An operator's signing key for the executor set.
#[derive(Debug, Clone)]
pub enum OperatorKey {
    /// A BN254 key.
    Bn254(bn254::SecretKey),
    /// An ECDSA key.
    Ecdsa(ecdsa::SecretKey),
}

/// One executor operator.
#[derive(Debug, Clone)]
pub struct OperatorSpec {
    /// The operator's account.
    pub address: Address,
    /// Its signing key (matching the set's curve).
    pub key: OperatorKey,
    /// Where its executor listens (`host:port`), as the aggregator dials it.
    pub socket: String,
    /// Its weight in the operator table.
    pub weight: U256,
}

/// What to set up.
#[derive(Debug, Clone)]
pub struct AvsSpec {
    /// The AVS account (owns its operator sets and mailbox configs).
    pub avs: Address,
    /// The owner of the stack's table calculators and table updaters.
    pub admin: Address,
    /// The aggregator's account.
    pub aggregator: Address,
    /// The aggregator's ECDSA signing key, registered for the aggregator set.
    pub aggregator_key: ecdsa::SecretKey,
    /// The executor set's curve.
    pub curve: Curve,
    /// The executor operators.
    pub operators: Vec<OperatorSpec>,
    /// How long a task may take, in seconds.
    pub task_sla: u64,
    /// The share of the table's weight a certificate needs, in basis points.
    pub threshold_bps: u16,
    /// The creation code of the AVS's registrar (a `TaskAVSRegistrarBase`, built with
    /// [`registrar_creation_code`]'s constructor); `None` deploys Ponos's `TaskAVSRegistrar`.
    pub registrar_code: Option<Bytes>,
    /// The creation code of the task hook deployed on every chain (no constructor arguments);
    /// `None` deploys an `OpenTaskHook`.
    pub task_hook_code: Option<Bytes>,
}

/// What was set up.
#[derive(Debug, Clone)]
pub struct ProvisionedAvs {
    /// The AVS's registrar on L1.
    pub registrar: Address,
    /// The task hook on each chain, in the order the chains were given (L1 first).
    pub task_hooks: Vec<Address>,
    /// The L1 (timestamp, block) the operator tables were pushed at.
    pub reference: (u32, u32),
}

/// Why setting up failed.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// A call or transaction failed.
    #[error("{step}: {reason}")]
    Step {
        /// What was being done.
        step: String,
        /// What the node said.
        reason: String,
    },
    /// A transaction reverted.
    #[error("{step}: transaction {tx} reverted")]
    Reverted {
        /// What was being done.
        step: String,
        /// The transaction.
        tx: TxHash,
    },
    /// The spec is inconsistent.
    #[error("{0}")]
    Spec(String),
}

impl ProvisionError {
    pub(crate) fn step(step: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        Self::Step {
            step: step.into(),
            reason: reason.to_string(),
        }
    }
}

/// Sends a contract call from an account and waits for its successful receipt.
macro_rules! send {
    ($step:expr, $call:expr, $from:expr) => {{
        let step: String = $step.into();
        let call = $call.from($from);
        let pending = call
            .send()
            .await
            .map_err(|e| ProvisionError::step(step.clone(), e))?;
        let receipt = receipt_of(pending)
            .await
            .map_err(|e| ProvisionError::step(step.clone(), e))?;
        if !receipt.status() {
            // Sent without an estimate: replay it on the state it ran on for the reason.
            let before = receipt.block_number().unwrap_or_default().saturating_sub(1);
            return Err(match call.call_raw().block(before.into()).await {
                Err(error) => ProvisionError::step(step, error),
                Ok(_) => ProvisionError::Reverted {
                    step,
                    tx: receipt.transaction_hash(),
                },
            });
        }
    }};
}

fn set(avs: Address, id: u32) -> types::OperatorSet {
    types::OperatorSet { avs, id }
}

/// The `registerKey` arguments of `operator` for `set`: the key data and its proof (a BN254
/// proof of possession, or an ECDSA signature over the registration digest).
pub fn key_registration(
    domain: &KeyRegistrarDomain<'_>,
    operator: Address,
    set: &types::OperatorSet,
    key: &OperatorKey,
) -> Result<(Bytes, Bytes), ProvisionError> {
    Ok(match key {
        OperatorKey::Bn254(key) => {
            let pop = key.proof_of_possession(domain, operator, set);
            (
                key.public_key().key_data().to_vec().into(),
                pop.to_bytes().to_vec().into(),
            )
        }
        OperatorKey::Ecdsa(key) => {
            let proof = key
                .sign(domain.ecdsa_registration_digest(operator, set, key.address()))
                .map_err(|e| ProvisionError::step("signing a key registration", e))?;
            (key.address().to_vec().into(), proof.to_vec().into())
        }
    })
}

/// The table calculator owner's call that sets the weights of `avs`'s executor set.
pub fn weights_call(
    stack: &StackAddresses,
    curve: Curve,
    avs: Address,
    weights: &[(Address, U256)],
) -> TransactionRequest {
    let (operators, weights): (Vec<Address>, Vec<U256>) = weights.iter().copied().unzip();
    let input = match curve {
        Curve::Bn254 => BN254TableCalculator::setOperatorWeightsCall {
            operatorSet: to(&set(avs, EXECUTOR_SET)),
            operators,
            weights,
        }
        .abi_encode(),
        Curve::Ecdsa => ECDSATableCalculator::setOperatorWeightsCall {
            operatorSet: to(&set(avs, EXECUTOR_SET)),
            operators,
            weights,
        }
        .abi_encode(),
    };
    let calculator = match curve {
        Curve::Bn254 => stack.bn254_table_calculator,
        Curve::Ecdsa => stack.ecdsa_table_calculator,
    };
    TransactionRequest::default()
        .with_to(calculator)
        .with_input(input)
}

/// Sends `tx` (its `from` set) and waits for its successful receipt; a revert is replayed on
/// the state it ran on for its reason.
pub async fn send_request(
    provider: &DynProvider,
    step: impl Into<String>,
    tx: TransactionRequest,
) -> Result<TxHash, ProvisionError> {
    let step: String = step.into();
    let pending = provider
        .send_transaction(tx.clone())
        .await
        .map_err(|e| ProvisionError::step(step.clone(), e))?;
    let receipt = receipt_of(pending)
        .await
        .map_err(|e| ProvisionError::step(step.clone(), e))?;
    if receipt.status() {
        return Ok(receipt.transaction_hash);
    }
    let before = receipt.block_number.unwrap_or_default().saturating_sub(1);
    Err(match provider.call(tx).block(before.into()).await {
        Err(error) => ProvisionError::step(step, error),
        Ok(_) => ProvisionError::Reverted {
            step,
            tx: receipt.transaction_hash,
        },
    })
}

/// The creation code of a `TaskAVSRegistrarBase` registrar for `avs` (its owner too), with
/// the aggregator in set 0 and the executors in set 1: `code` followed by its constructor's
/// arguments.
pub fn registrar_creation_code(
    code: &Bytes,
    avs: Address,
    allocation_manager: Address,
    key_registrar: Address,
) -> Bytes {
    let config = task_avs_registrar::ITaskAVSRegistrarBaseTypes::AvsConfig {
        aggregatorOperatorSetId: AGGREGATOR_SET,
        executorOperatorSetIds: vec![EXECUTOR_SET],
    };
    let args = (avs, allocation_manager, key_registrar, avs, config).abi_encode_params();
    [code.as_ref(), &args].concat().into()
}

/// The TaskMailbox configuration of an executor set: `hook` as its task hook, `task_sla`
/// seconds per task, no fees, and a stake-proportion threshold of `threshold_bps`.
pub fn mailbox_task_config(
    hook: Address,
    curve: Curve,
    task_sla: u64,
    threshold_bps: u16,
) -> task_mailbox::ITaskMailboxTypes::ExecutorOperatorSetTaskConfig {
    task_mailbox::ITaskMailboxTypes::ExecutorOperatorSetTaskConfig {
        taskHook: hook,
        taskSLA: U96::from(task_sla),
        feeToken: Address::ZERO,
        curveType: curve.curve_type(),
        feeCollector: Address::ZERO,
        consensus: task_mailbox::ITaskMailboxTypes::Consensus {
            consensusType: 1,
            value: U256::from(threshold_bps).abi_encode().into(),
        },
        taskMetadata: Bytes::new(),
    }
}

/// Deploys `code` from `from` and returns the new contract's address.
async fn deploy_code(
    chain: &Chain,
    from: Address,
    code: Bytes,
    step: impl Into<String>,
) -> Result<Address, ProvisionError> {
    let step: String = step.into();
    let tx = TransactionRequest::default()
        .with_from(from)
        .with_deploy_code(code);
    let pending = chain
        .provider
        .send_transaction(tx.clone())
        .await
        .map_err(|e| ProvisionError::step(step.clone(), e))?;
    let receipt = receipt_of(pending)
        .await
        .map_err(|e| ProvisionError::step(step.clone(), e))?;
    match receipt.contract_address {
        Some(address) if receipt.status() => Ok(address),
        _ => {
            // Sent without an estimate: replay it on the state it ran on for the reason.
            let before = receipt.block_number.unwrap_or_default().saturating_sub(1);
            Err(match chain.provider.call(tx).block(before.into()).await {
                Err(error) => ProvisionError::step(step, error),
                Ok(_) => ProvisionError::Reverted {
                    step,
                    tx: receipt.transaction_hash,
                },
            })
        }
    }
}

/// Sets up `spec` with `l1` as the L1 and `l2s` as further task chains: operator sets, keys,
/// sockets and weights on L1; operator tables, task hooks and mailbox configs on every chain.
/// [`prepare_avs`] then [`activate_avs`].
pub async fn provision_avs(
    l1: &Chain,
    l2s: &[Chain],
    spec: &AvsSpec,
) -> Result<ProvisionedAvs, ProvisionError> {
    let prepared = prepare_avs(l1, l2s, spec).await?;
    activate_avs(l1, l2s, spec, prepared).await
}

/// What [`prepare_avs`] deployed.
#[derive(Debug, Clone)]
pub struct PreparedAvs {
    /// The AVS's registrar on L1.
    pub registrar: Address,
    /// The task hook on each chain (L1 first).
    pub task_hooks: Vec<Address>,
}

/// The first part of [`provision_avs`]: the AVS, its operator sets, registrar, operators and
/// task hooks; everything but the operator tables and the mailbox configs. Several AVSs
/// prepared first and activated one after the other have their table references close to the
/// head, where a chain that keeps few past states still holds them.
pub async fn prepare_avs(
    l1: &Chain,
    l2s: &[Chain],
    spec: &AvsSpec,
) -> Result<PreparedAvs, ProvisionError> {
    for operator in &spec.operators {
        let matches = matches!(
            (&operator.key, spec.curve),
            (OperatorKey::Bn254(_), Curve::Bn254) | (OperatorKey::Ecdsa(_), Curve::Ecdsa)
        );
        if !matches {
            return Err(ProvisionError::Spec(format!(
                "operator {} has a key of the wrong curve for a {:?} executor set",
                operator.address, spec.curve
            )));
        }
    }
    let provider = &l1.provider;
    let stack = &l1.stack;
    let avs = spec.avs;
    let manager = AllocationManager::new(stack.allocation_manager, provider);
    let registry = KeyRegistrar::new(stack.key_registrar, provider);

    send!(
        "announcing the AVS",
        manager.updateAVSMetadataURI(avs, AVS_METADATA_URI.into()),
        avs
    );
    let sets = [AGGREGATOR_SET, EXECUTOR_SET]
        .map(
            |id| allocation_manager::IAllocationManagerTypes::CreateSetParams {
                operatorSetId: id,
                strategies: vec![],
            },
        )
        .to_vec();
    send!(
        "creating the operator sets",
        manager.createOperatorSets(avs, sets),
        avs
    );
    send!(
        "configuring the aggregator set's curve",
        registry.configureOperatorSet(to(&set(avs, AGGREGATOR_SET)), Curve::Ecdsa.curve_type()),
        avs
    );
    send!(
        "configuring the executor set's curve",
        registry.configureOperatorSet(to(&set(avs, EXECUTOR_SET)), spec.curve.curve_type()),
        avs
    );
    let code = registrar_creation_code(
        spec.registrar_code
            .as_ref()
            .unwrap_or(&TaskAVSRegistrar::BYTECODE),
        avs,
        stack.allocation_manager,
        stack.key_registrar,
    );
    let registrar = deploy_code(l1, avs, code, "deploying the AVS registrar").await?;
    send!(
        "setting the AVS registrar",
        manager.setAVSRegistrar(avs, registrar),
        avs
    );

    register_operators(l1, spec).await?;

    let chains: Vec<&Chain> = std::iter::once(l1).chain(l2s).collect();
    let mut task_hooks = Vec::new();
    for chain in &chains {
        let code = spec
            .task_hook_code
            .clone()
            .unwrap_or_else(|| OpenTaskHook::BYTECODE.clone());
        let step = format!("deploying the task hook on chain {}", chain.chain_id);
        task_hooks.push(deploy_code(chain, avs, code, step).await?);
    }
    Ok(PreparedAvs {
        registrar,
        task_hooks,
    })
}

/// The second part of [`provision_avs`]: the executor set's operator table pushed to every
/// chain, then each chain's mailbox configured.
pub async fn activate_avs(
    l1: &Chain,
    l2s: &[Chain],
    spec: &AvsSpec,
    prepared: PreparedAvs,
) -> Result<ProvisionedAvs, ProvisionError> {
    let PreparedAvs {
        registrar,
        task_hooks,
    } = prepared;
    let avs = spec.avs;
    let executor_set = set(avs, EXECUTOR_SET);
    let chains: Vec<&Chain> = std::iter::once(l1).chain(l2s).collect();
    // The tables last but for the mailbox config (which needs the set's owner the push
    // records): the reference block is then at most two blocks behind the L1 head when the
    // devnet is ready, well inside the past states its anvil keeps.
    let reference = push_tables(l1, &chains, avs, spec.curve, spec.admin).await?;
    for (chain, hook) in chains.iter().zip(&task_hooks) {
        let config = mailbox_task_config(*hook, spec.curve, spec.task_sla, spec.threshold_bps);
        let mailbox = TaskMailbox::new(chain.stack.task_mailbox, &chain.provider);
        send!(
            format!("configuring the mailbox on chain {}", chain.chain_id),
            mailbox.setExecutorOperatorSetTaskConfig(to(&executor_set), config),
            avs
        );
    }

    Ok(ProvisionedAvs {
        registrar,
        task_hooks,
        reference,
    })
}

/// Does what operators and the table calculators' owner do once the AVS exists: registers the
/// aggregator's ECDSA key in set 0 and each executor operator's key and socket in set 1 (each
/// from its own account), then sets the executors' weights from `spec.admin`.
pub async fn register_operators(l1: &Chain, spec: &AvsSpec) -> Result<(), ProvisionError> {
    let provider = &l1.provider;
    let stack = &l1.stack;
    let avs = spec.avs;
    let manager = AllocationManager::new(stack.allocation_manager, provider);
    let registry = KeyRegistrar::new(stack.key_registrar, provider);
    let domain = KeyRegistrarDomain {
        chain_id: l1.chain_id,
        key_registrar: stack.key_registrar,
        version: STACK_VERSION,
    };
    let join =
        |id: u32, socket: &str| allocation_manager::IAllocationManagerTypes::RegisterParams {
            avs,
            operatorSetIds: vec![id],
            data: Bytes::from(socket.to_string().abi_encode()),
        };

    // The aggregator: an ECDSA key in set 0.
    let aggregator_set = set(avs, AGGREGATOR_SET);
    let signer = spec.aggregator_key.address();
    let proof = spec
        .aggregator_key
        .sign(domain.ecdsa_registration_digest(spec.aggregator, &aggregator_set, signer))
        .map_err(|e| ProvisionError::step("signing the aggregator's key registration", e))?;
    send!(
        "registering the aggregator's key",
        registry.registerKey(
            spec.aggregator,
            to(&aggregator_set),
            signer.to_vec().into(),
            proof.to_vec().into()
        ),
        spec.aggregator
    );
    send!(
        "registering the aggregator in its set",
        manager.registerForOperatorSets(spec.aggregator, join(AGGREGATOR_SET, "")),
        spec.aggregator
    );

    // The executors: keys, sockets, weights. Each operator registers its key from its own
    // account, all of them at once; then they join the set one after the other, in order, so
    // that operator i is entry i of the operator table.
    let executor_set = set(avs, EXECUTOR_SET);
    let mut registrations = tokio::task::JoinSet::new();
    for operator in &spec.operators {
        let (key_data, proof) =
            key_registration(&domain, operator.address, &executor_set, &operator.key)?;
        let (provider, address) = (provider.clone(), operator.address);
        let key_registrar = stack.key_registrar;
        let executor_set = executor_set.clone();
        registrations.spawn(async move {
            let registry = KeyRegistrar::new(key_registrar, &provider);
            send!(
                format!("registering the key of operator {address}"),
                registry.registerKey(address, to(&executor_set), key_data, proof),
                address
            );
            Ok::<(), ProvisionError>(())
        });
    }
    while let Some(registered) = registrations.join_next().await {
        registered.map_err(|e| ProvisionError::step("registering operators", e))??;
    }
    for operator in &spec.operators {
        send!(
            format!(
                "registering operator {} in the executor set",
                operator.address
            ),
            manager.registerForOperatorSets(operator.address, join(EXECUTOR_SET, &operator.socket)),
            operator.address
        );
    }
    let weights: Vec<(Address, U256)> = spec
        .operators
        .iter()
        .map(|o| (o.address, o.weight))
        .collect();
    let call = weights_call(stack, spec.curve, avs, &weights).from(spec.admin);
    send_request(provider, "setting operator weights", call).await?;

    Ok(())
}

/// Does what EigenLayer's table transporter does: reads the executor set's table from the L1
/// calculator at the latest L1 block and pushes it to every chain's table updater, pinned at that
/// block's (timestamp, number), which it returns. Sent from `admin`, the updaters' owner.
pub async fn push_tables(
    l1: &Chain,
    chains: &[&Chain],
    avs: Address,
    curve: Curve,
    admin: Address,
) -> Result<(u32, u32), ProvisionError> {
    let (reference, pushes) = table_pushes(l1, chains, avs, curve).await?;
    for (chain, push) in chains.iter().zip(pushes) {
        let step = format!("pushing the operator table to chain {}", chain.chain_id);
        send_request(&chain.provider, step, push.from(admin)).await?;
    }
    Ok(reference)
}

/// The table pushes [`push_tables`] sends, one per chain in `chains` (without a sender), and
/// their L1 reference (timestamp, block). Every chain's clock has reached the reference when
/// this returns.
pub async fn table_pushes(
    l1: &Chain,
    chains: &[&Chain],
    avs: Address,
    curve: Curve,
) -> Result<((u32, u32), Vec<TransactionRequest>), ProvisionError> {
    // Reference timestamps never go back, and one timestamp keeps the block it was first pushed
    // with: a table of another AVS pushed within the same second needs a later L1 block.
    let mut latest = 0u32;
    for chain in chains {
        let updater =
            OperatorTableUpdater::new(chain.stack.operator_table_updater, &chain.provider);
        let at = updater
            .getLatestReferenceTimestamp()
            .call()
            .await
            .map_err(|e| ProvisionError::step("reading the latest table reference", e))?;
        latest = latest.max(at);
    }
    let (block, header) = head_after(l1, u64::from(latest)).await?;
    let reference = (header.timestamp as u32, block as u32);
    for chain in chains {
        catch_up(chain, header.timestamp).await?;
    }
    let executor_set = set(avs, EXECUTOR_SET);
    let config = operator_table_updater::ICrossChainRegistryTypes::OperatorSetConfig {
        owner: avs,
        maxStalenessPeriod: 0,
    };
    let input: Bytes = match curve {
        Curve::Bn254 => {
            let calculator =
                BN254TableCalculator::new(l1.stack.bn254_table_calculator, &l1.provider);
            let info = calculator
                .calculateOperatorTable(to(&executor_set))
                .block(block.into())
                .call()
                .await
                .map_err(|e| ProvisionError::step("reading the BN254 operator table", e))?;
            OperatorTableUpdater::setBN254OperatorTableCall {
                operatorSet: to(&executor_set),
                referenceTimestamp: reference.0,
                referenceBlockNumber: reference.1,
                operatorSetInfo: to(&info),
                config,
            }
            .abi_encode()
            .into()
        }
        Curve::Ecdsa => {
            let calculator =
                ECDSATableCalculator::new(l1.stack.ecdsa_table_calculator, &l1.provider);
            let infos = calculator
                .calculateOperatorTable(to(&executor_set))
                .block(block.into())
                .call()
                .await
                .map_err(|e| ProvisionError::step("reading the ECDSA operator table", e))?;
            OperatorTableUpdater::setECDSAOperatorTableCall {
                operatorSet: to(&executor_set),
                referenceTimestamp: reference.0,
                referenceBlockNumber: reference.1,
                operatorInfos: infos.iter().map(to).collect(),
                config,
            }
            .abi_encode()
            .into()
        }
    };
    let pushes = chains
        .iter()
        .map(|chain| {
            TransactionRequest::default()
                .with_to(chain.stack.operator_table_updater)
                .with_input(input.clone())
        })
        .collect();
    Ok((reference, pushes))
}

/// Waits until `chain`'s clock reaches `timestamp`: a table updater refuses a reference from its
/// future. A development chain (anvil) is asked to mine an empty block; others get a minute.
/// The L1 head once its timestamp is past `after`: at once when it is, else as soon as the
/// wall clock has passed `after` and a block is mined (by `evm_mine` on a dev chain, by the
/// chain itself elsewhere). Never ahead of wall time.
async fn head_after(
    l1: &Chain,
    after: u64,
) -> Result<(u64, alloy::rpc::types::Header), ProvisionError> {
    let step = "waiting for an L1 block after the latest table reference";
    let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
    // A chain that is not a development chain refuses `evm_mine` and mines on its own; its
    // refusal is reported if the wait runs out.
    let mut refused: Option<String> = None;
    loop {
        let head = l1
            .provider
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .map_err(|e| ProvisionError::step(step, e))?
            .ok_or_else(|| ProvisionError::step(step, "no head block"))?;
        if after == 0 || head.header.timestamp > after {
            return Ok((head.header.number, head.header));
        }
        if std::time::Instant::now() >= until {
            return Err(ProvisionError::step(
                step,
                format!(
                    "the head is at {}, the latest reference at {after}{}",
                    head.header.timestamp,
                    mine_refusal(refused.as_deref())
                ),
            ));
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        if now > after {
            let mined: Result<serde_json::Value, _> = l1
                .provider
                .raw_request(
                    "evm_mine".into(),
                    (serde_json::json!({ "timestamp": now }),),
                )
                .await;
            match mined {
                Ok(_) => continue,
                Err(error) => refused = Some(error.to_string()),
            }
        }
        // The next second, or the chain's next block.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn catch_up(chain: &Chain, timestamp: u64) -> Result<(), ProvisionError> {
    let step = format!(
        "waiting for chain {} to reach the L1 reference time",
        chain.chain_id
    );
    let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut refused: Option<String> = None;
    loop {
        let latest = chain
            .provider
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .map_err(|e| ProvisionError::step(step.clone(), e))?
            .map_or(0, |b| b.header.timestamp);
        if latest >= timestamp {
            return Ok(());
        }
        if std::time::Instant::now() >= until {
            return Err(ProvisionError::step(
                step,
                format!(
                    "its clock is at {latest}, the reference at {timestamp}{}",
                    mine_refusal(refused.as_deref())
                ),
            ));
        }
        let mined: Result<serde_json::Value, _> = chain
            .provider
            .raw_request(
                "evm_mine".into(),
                (serde_json::json!({ "timestamp": timestamp }),),
            )
            .await;
        if let Err(error) = mined {
            refused = Some(error.to_string());
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
    }
}

/// The tail of a clock wait's error when the chain refused `evm_mine`.
fn mine_refusal(refused: Option<&str>) -> String {
    refused
        .map(|error| format!(" (it refused evm_mine: {error}; is it a development chain?)"))
        .unwrap_or_default()
}
