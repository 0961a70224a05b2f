//! Deploys the Ponos contract stack to a chain: the sandbox registries (AllocationManager,
//! KeyRegistrar, table calculators), the operator table updater, both certificate verifiers, and
//! the TaskMailbox behind a TransparentUpgradeableProxy, wired together as EigenLayer wires them.

use alloy::{
    network::Network,
    network::ReceiptResponse as _,
    primitives::{Address, TxHash, aliases::U96},
    providers::{PendingTransactionBuilder, Provider},
    sol_types::SolCall,
};

use crate::contracts::{
    AllocationManager, BN254CertificateVerifier, BN254TableCalculator, ECDSACertificateVerifier,
    ECDSATableCalculator, KeyRegistrar, OperatorTableUpdater, ProxyAdmin, TaskMailbox,
    TransparentUpgradeableProxy,
};

/// The release version the verifiers and the KeyRegistrar are deployed with. Its first
/// character is the EIP-712 domain version, "1" as on EigenLayer's deployments.
pub const STACK_VERSION: &str = "1.8.1";

/// How the stack is deployed.
#[derive(Debug, Clone)]
pub struct StackConfig {
    /// The account that sends the deployment transactions (the provider's default sender).
    pub deployer: Address,
    /// Owner of the mailbox, its proxy admin, the table updater and the calculators, and the
    /// mailbox's fee-split collector.
    pub admin: Address,
    /// The longest task SLA the mailbox accepts, in seconds.
    pub max_task_sla: u64,
}

impl StackConfig {
    /// A stack deployed and owned by `deployer`, accepting task SLAs up to one day.
    pub const fn new(deployer: Address) -> Self {
        Self {
            deployer,
            admin: deployer,
            max_task_sla: 86_400,
        }
    }
}

/// The addresses of a deployed stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StackAddresses {
    /// Operator sets and membership.
    pub allocation_manager: Address,
    /// Operator signing keys.
    pub key_registrar: Address,
    /// Pushes operator tables into the verifiers.
    pub operator_table_updater: Address,
    /// Verifies BN254 certificates.
    pub bn254_certificate_verifier: Address,
    /// Verifies ECDSA certificates.
    pub ecdsa_certificate_verifier: Address,
    /// The TaskMailbox (the proxy; use this address).
    pub task_mailbox: Address,
    /// The TaskMailbox implementation behind the proxy.
    pub task_mailbox_implementation: Address,
    /// The admin contract of the mailbox proxy.
    pub proxy_admin: Address,
    /// BN254 operator tables from owner-set weights.
    pub bn254_table_calculator: Address,
    /// ECDSA operator tables from owner-set weights.
    pub ecdsa_table_calculator: Address,
}

/// Why a deployment failed.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// Deploying a contract failed.
    #[error("deploying {contract} failed: {source}")]
    Deploy {
        /// The contract being deployed.
        contract: &'static str,
        /// What the node or the transport said.
        #[source]
        source: alloy::contract::Error,
    },
    /// A set-up transaction failed or reverted.
    #[error("{step} failed: {source}")]
    Setup {
        /// The step being taken.
        step: &'static str,
        /// What the node or the transport said.
        #[source]
        source: alloy::contract::Error,
    },
    /// A set-up transaction reverted.
    #[error("{step}: transaction {tx_hash} reverted")]
    Reverted {
        /// The step being taken.
        step: &'static str,
        /// The reverted transaction.
        tx_hash: TxHash,
    },
    /// A set-up transaction was not mined.
    #[error("{step}: the transaction was not mined: {source}")]
    Pending {
        /// The step being taken.
        step: &'static str,
        /// What the node or the transport said.
        #[source]
        source: alloy::providers::PendingTransactionError,
    },
    /// The task SLA does not fit the mailbox's `uint96`.
    #[error("max task SLA {0}s does not fit a uint96")]
    InvalidMaxTaskSla(u64),
}

/// Deploys the whole stack with the provider's default sender, which must be able to pay for it.
///
/// The sender briefly owns the table updater to wire in the verifiers, then hands it to
/// `config.admin`. Twelve transactions; on an automining chain they land at once.
pub async fn deploy_stack<P, N>(
    provider: &P,
    config: &StackConfig,
) -> Result<StackAddresses, DeployError>
where
    P: Provider<N>,
    N: Network,
{
    let allocation_manager = AllocationManager::new(
        deployed(
            "AllocationManager",
            AllocationManager::deploy_builder(provider),
        )
        .await?,
        provider,
    );
    let key_registrar = KeyRegistrar::new(
        deployed(
            "KeyRegistrar",
            KeyRegistrar::deploy_builder(
                provider,
                *allocation_manager.address(),
                STACK_VERSION.into(),
            ),
        )
        .await?,
        provider,
    );
    let sender = config.deployer;
    let updater = OperatorTableUpdater::new(
        deployed(
            "OperatorTableUpdater",
            OperatorTableUpdater::deploy_builder(provider, sender),
        )
        .await?,
        provider,
    );
    let bn254 = BN254CertificateVerifier::new(
        deployed(
            "BN254CertificateVerifier",
            BN254CertificateVerifier::deploy_builder(provider, *updater.address()),
        )
        .await?,
        provider,
    );
    let ecdsa = ECDSACertificateVerifier::new(
        deployed(
            "ECDSACertificateVerifier",
            ECDSACertificateVerifier::deploy_builder(
                provider,
                *updater.address(),
                STACK_VERSION.into(),
            ),
        )
        .await?,
        provider,
    );

    let step = "wiring the verifiers into the table updater";
    confirm(
        step,
        updater
            .setCertificateVerifiers(*bn254.address(), *ecdsa.address())
            .send()
            .await,
    )
    .await?;
    if sender != config.admin {
        let step = "handing the table updater to the admin";
        confirm(step, updater.transferOwnership(config.admin).send().await).await?;
    }

    let max_task_sla = U96::try_from(config.max_task_sla)
        .map_err(|_| DeployError::InvalidMaxTaskSla(config.max_task_sla))?;
    let implementation = TaskMailbox::new(
        deployed(
            "TaskMailbox",
            TaskMailbox::deploy_builder(provider, *bn254.address(), *ecdsa.address(), max_task_sla),
        )
        .await?,
        provider,
    );
    let proxy_admin = ProxyAdmin::new(
        deployed("ProxyAdmin", ProxyAdmin::deploy_builder(provider)).await?,
        provider,
    );
    let initialize = TaskMailbox::initializeCall {
        _owner: config.admin,
        _feeSplit: 0,
        _feeSplitCollector: config.admin,
    };
    let proxy = TransparentUpgradeableProxy::new(
        deployed(
            "TransparentUpgradeableProxy",
            TransparentUpgradeableProxy::deploy_builder(
                provider,
                *implementation.address(),
                *proxy_admin.address(),
                initialize.abi_encode().into(),
            ),
        )
        .await?,
        provider,
    );
    if sender != config.admin {
        let step = "handing the proxy admin to the admin";
        confirm(
            step,
            proxy_admin.transferOwnership(config.admin).send().await,
        )
        .await?;
    }

    let bn254_calculator = BN254TableCalculator::new(
        deployed(
            "BN254TableCalculator",
            BN254TableCalculator::deploy_builder(
                provider,
                *allocation_manager.address(),
                *key_registrar.address(),
                config.admin,
            ),
        )
        .await?,
        provider,
    );
    let ecdsa_calculator = ECDSATableCalculator::new(
        deployed(
            "ECDSATableCalculator",
            ECDSATableCalculator::deploy_builder(
                provider,
                *allocation_manager.address(),
                *key_registrar.address(),
                config.admin,
            ),
        )
        .await?,
        provider,
    );

    Ok(StackAddresses {
        allocation_manager: *allocation_manager.address(),
        key_registrar: *key_registrar.address(),
        operator_table_updater: *updater.address(),
        bn254_certificate_verifier: *bn254.address(),
        ecdsa_certificate_verifier: *ecdsa.address(),
        task_mailbox: *proxy.address(),
        task_mailbox_implementation: *implementation.address(),
        proxy_admin: *proxy_admin.address(),
        bn254_table_calculator: *bn254_calculator.address(),
        ecdsa_table_calculator: *ecdsa_calculator.address(),
    })
}

/// Waits for a sent transaction's receipt and fails on a revert.
/// Sends a contract's deployment and returns its address once mined.
async fn deployed<P, N>(
    contract: &'static str,
    builder: alloy::contract::CallBuilder<P, (), N>,
) -> Result<Address, DeployError>
where
    P: Provider<N>,
    N: Network,
{
    let pending = builder
        .send()
        .await
        .map_err(|source| DeployError::Deploy { contract, source })?;
    let receipt = crate::receipt::receipt_of(pending)
        .await
        .map_err(|source| DeployError::Pending {
            step: contract,
            source,
        })?;
    match receipt.contract_address() {
        Some(address) if receipt.status() => Ok(address),
        _ => Err(DeployError::Reverted {
            step: contract,
            tx_hash: receipt.transaction_hash(),
        }),
    }
}

async fn confirm<N: Network>(
    step: &'static str,
    sent: Result<PendingTransactionBuilder<N>, alloy::contract::Error>,
) -> Result<(), DeployError> {
    let pending = sent.map_err(|source| DeployError::Setup { step, source })?;
    let receipt = crate::receipt::receipt_of(pending)
        .await
        .map_err(|source| DeployError::Pending { step, source })?;
    if receipt.status() {
        Ok(())
    } else {
        Err(DeployError::Reverted {
            step,
            tx_hash: receipt.transaction_hash(),
        })
    }
}
