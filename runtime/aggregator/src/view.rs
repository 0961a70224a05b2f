//! The operators of a task's executor set, as the certificate verifier sees them: read once per
//! (chain, AVS, set, reference timestamp) and cached. Members, weights and index order come
//! from the L1 table calculator at the L1 block the task chain's table was computed at; keys
//! from the KeyRegistrar at that block; sockets from the AVS registrar. The table is checked
//! against the verifier on the task chain, so non-signer witnesses always match its root.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use alloy::{
    primitives::{Address, U256},
    providers::DynProvider,
    sol_types::SolValue,
};
use futures_util::{StreamExt as _, TryStreamExt as _};
use ponos_chain::contracts::{
    AllocationManager, BN254CertificateVerifier, BN254TableCalculator, ECDSACertificateVerifier,
    ECDSATableCalculator, KeyRegistrar, OperatorTableUpdater, TaskAVSRegistrar, TaskMailbox,
};
use ponos_crypto::{
    bn254,
    table::{Bn254Operator, Bn254OperatorTable},
    types,
};
use tokio::sync::OnceCell;
use tracing::info;

use crate::{
    AggregatorError,
    chain::{TaskChain, to},
    error::ContractProblem,
};

/// The L1 contracts the view reads.
#[derive(Debug, Clone, Copy)]
pub struct L1Contracts {
    /// EigenLayer's AllocationManager (or the sandbox's).
    pub allocation_manager: Address,
    /// EigenLayer's KeyRegistrar (or the sandbox's).
    pub key_registrar: Address,
    /// The table calculator of BN254 executor sets.
    pub bn254_table_calculator: Address,
    /// The table calculator of ECDSA executor sets.
    pub ecdsa_table_calculator: Address,
}

/// The L1 chain.
#[derive(Debug, Clone)]
pub struct L1 {
    /// The chain id.
    pub chain_id: u64,
    /// A provider for reads.
    pub provider: DynProvider,
    /// Its contracts.
    pub contracts: L1Contracts,
}

/// An executor set's curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    /// BN254 (BLS) certificates.
    Bn254,
    /// ECDSA certificates.
    Ecdsa,
}

/// An operator's signing key.
#[derive(Debug, Clone)]
pub enum OperatorKey {
    /// BN254, both halves.
    Bn254(bn254::PublicKey),
    /// The ECDSA signing address.
    Ecdsa(Address),
}

/// One operator of a set, at its index in the verifier's table.
#[derive(Debug, Clone)]
pub struct Operator {
    /// Index in the operator table.
    pub index: usize,
    /// The operator's account.
    pub address: Address,
    /// Where its executor listens (`host:port`), empty when it registered none.
    pub socket: String,
    /// Its signing key.
    pub key: OperatorKey,
    /// Its weight per stake type.
    pub weights: Vec<U256>,
}

/// An executor set at one reference timestamp.
#[derive(Debug, Clone)]
pub struct OperatorSetView {
    /// The AVS.
    pub avs: Address,
    /// The set id.
    pub set: u32,
    /// The reference timestamp.
    pub reference_timestamp: u32,
    /// The L1 block the table was computed at.
    pub l1_block: u64,
    /// The set's curve.
    pub curve: Curve,
    /// The share of the total weight a certificate needs, in basis points.
    pub threshold_bps: u16,
    /// The operators, in table order.
    pub operators: Vec<Operator>,
    /// The table's total weight per stake type.
    pub total_weights: Vec<U256>,
    /// The BN254 table (for non-signer witnesses); `None` for ECDSA sets.
    pub bn254_table: Option<Bn254OperatorTable>,
    /// The ECDSA verifier of the task chain (its EIP-712 domain) and its version.
    pub ecdsa_domain: (Address, String),
    /// The AVS's registrar on L1, where its operators' sockets live.
    pub registrar: Address,
}

type Key = (u64, Address, u32, u32);

/// Operators whose socket and key are read at once when a view is loaded.
const OPERATOR_READS: usize = 16;

/// The cache of operator set views.
#[derive(Debug)]
pub struct OperatorViews {
    l1: L1,
    cache: Mutex<HashMap<Key, Arc<OnceCell<Arc<OperatorSetView>>>>>,
}

impl OperatorViews {
    /// Views read from `l1`.
    pub fn new(l1: L1) -> Self {
        Self {
            l1,
            cache: Mutex::default(),
        }
    }

    /// The view of `avs`'s set `set` for a task on `chain` pinned at `reference_timestamp`.
    /// Concurrent callers for the same key share one read.
    pub async fn get(
        &self,
        chain: &TaskChain,
        avs: Address,
        set: u32,
        reference_timestamp: u32,
    ) -> Result<Arc<OperatorSetView>, AggregatorError> {
        let key = (chain.id(), avs, set, reference_timestamp);
        let cell = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_default()
            .clone();
        cell.get_or_try_init(|| async {
            let view = self.load(chain, avs, set, reference_timestamp).await?;
            info!(
                target: "ponos::aggregator",
                chain = chain.id(), %avs, set, reference_timestamp,
                operators = view.operators.len(), l1_block = view.l1_block,
                "read operator set"
            );
            Ok(Arc::new(view))
        })
        .await
        .cloned()
    }

    /// Forgets every cached view (after the operators re-register sockets, for example).
    pub fn clear(&self) {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Forgets the views whose sockets came from `registrar` (an operator set a new socket
    /// there); the next task reads them again. Returns how many were forgotten.
    pub fn forget_registrar(&self, registrar: Address) -> usize {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let before = cache.len();
        cache.retain(|_, cell| cell.get().is_none_or(|view| view.registrar != registrar));
        before - cache.len()
    }

    /// The L1 the views are read from.
    pub fn l1(&self) -> &L1 {
        &self.l1
    }

    async fn load(
        &self,
        chain: &TaskChain,
        avs: Address,
        set: u32,
        reference_timestamp: u32,
    ) -> Result<OperatorSetView, AggregatorError> {
        let id = chain.id();
        let l1_id = self.l1.chain_id;
        let operator_set = types::OperatorSet { avs, id: set };
        let problem = |source| AggregatorError::Contract {
            chain_id: id,
            source,
        };

        // The task chain: the mailbox's config for the set and the table's L1 block.
        let (curve, threshold_bps, l1_block) =
            task_config(chain, &operator_set, reference_timestamp).await?;

        // L1 at that block: members in table order, their weights and keys.
        let provider = &self.l1.provider;
        let contracts = self.l1.contracts;
        let (addresses, weights) = match curve {
            Curve::Bn254 => {
                let r = BN254TableCalculator::new(contracts.bn254_table_calculator, provider)
                    .getOperatorSetWeights(to(&operator_set))
                    .block(l1_block.into())
                    .call()
                    .await
                    .map_err(|e| AggregatorError::rpc(l1_id, "reading operator weights", e))?;
                (r.operators, r.weights)
            }
            Curve::Ecdsa => {
                let r = ECDSATableCalculator::new(contracts.ecdsa_table_calculator, provider)
                    .getOperatorSetWeights(to(&operator_set))
                    .block(l1_block.into())
                    .call()
                    .await
                    .map_err(|e| AggregatorError::rpc(l1_id, "reading operator weights", e))?;
                (r.operators, r.weights)
            }
        };
        if addresses.is_empty() {
            return Err(problem(ContractProblem::EmptySet { avs, set }));
        }
        let registrar = AllocationManager::new(contracts.allocation_manager, provider)
            .getAVSRegistrar(avs)
            .call()
            .await
            .map_err(|e| AggregatorError::rpc(l1_id, "reading the AVS registrar", e))?;
        let registrar = TaskAVSRegistrar::new(registrar, provider);
        let keys = KeyRegistrar::new(contracts.key_registrar, provider);

        // Each operator's socket and key, a few operators at a time, in table order.
        let (registrar, keys, operator_set) = (&registrar, &keys, &operator_set);
        let reads = addresses.into_iter().zip(weights).enumerate().map(
            |(index, (address, weights))| async move {
                let socket = registrar
                    .getOperatorSocket(address)
                    .call()
                    .await
                    .map_err(|e| {
                        AggregatorError::rpc(l1_id, format!("reading the socket of {address}"), e)
                    })?;
                let unread =
                    |e| AggregatorError::rpc(l1_id, format!("reading the key of {address}"), e);
                let key = match curve {
                    Curve::Bn254 => {
                        let key = keys
                            .getBN254Key(to(operator_set), address)
                            .block(l1_block.into())
                            .call()
                            .await
                            .map_err(unread)?;
                        let bad = |e: ponos_crypto::CryptoError| {
                            problem(ContractProblem::BadKey {
                                operator: address,
                                reason: e.to_string(),
                            })
                        };
                        let g1 = bn254::g1_from_point(&to(&key.g1Point)).map_err(bad)?;
                        let g2 = bn254::g2_from_point(&to(&key.g2Point)).map_err(bad)?;
                        OperatorKey::Bn254(bn254::PublicKey { g1, g2 })
                    }
                    Curve::Ecdsa => OperatorKey::Ecdsa(
                        keys.getECDSAAddress(to(operator_set), address)
                            .block(l1_block.into())
                            .call()
                            .await
                            .map_err(unread)?,
                    ),
                };
                Ok::<_, AggregatorError>(Operator {
                    index,
                    address,
                    socket,
                    key,
                    weights,
                })
            },
        );
        let operators: Vec<Operator> = futures_util::stream::iter(reads)
            .buffered(OPERATOR_READS)
            .try_collect()
            .await?;

        let mismatch = || {
            problem(ContractProblem::TableMismatch {
                avs,
                set,
                reference_timestamp,
            })
        };
        let stake_types = operators[0].weights.len();
        let mut total_weights = vec![U256::ZERO; stake_types];
        for operator in &operators {
            if operator.weights.len() != stake_types {
                return Err(mismatch());
            }
            for (total, w) in total_weights.iter_mut().zip(&operator.weights) {
                *total += *w;
            }
        }

        // The task chain's verifier must hold this very table.
        let bn254_table =
            checked_table(chain, curve, &operators, operator_set, reference_timestamp).await?;

        Ok(OperatorSetView {
            avs,
            set,
            reference_timestamp,
            l1_block,
            curve,
            threshold_bps,
            operators,
            total_weights,
            bn254_table,
            ecdsa_domain: (chain.ecdsa_verifier, chain.ecdsa_verifier_version.clone()),
            registrar: *registrar.address(),
        })
    }
}

/// What a task chain's mailbox says of an executor set — its curve and threshold — and the L1
/// block of the operator table at `reference_timestamp`.
async fn task_config(
    chain: &TaskChain,
    operator_set: &types::OperatorSet,
    reference_timestamp: u32,
) -> Result<(Curve, u16, u64), AggregatorError> {
    let id = chain.id();
    let (avs, set) = (operator_set.avs, operator_set.id);
    let problem = |source| AggregatorError::Contract {
        chain_id: id,
        source,
    };
    let mailbox = TaskMailbox::new(chain.config.task_mailbox, &chain.provider);
    let config = mailbox
        .getExecutorOperatorSetTaskConfig(to(operator_set))
        .call()
        .await
        .map_err(|e| AggregatorError::rpc(id, "reading the executor set's task config", e))?;
    let curve = match config.curveType {
        1 => Curve::Ecdsa,
        2 => Curve::Bn254,
        curve => return Err(problem(ContractProblem::Curve { avs, set, curve })),
    };
    if config.consensus.consensusType != 1 {
        return Err(problem(ContractProblem::Consensus {
            avs,
            set,
            consensus: config.consensus.consensusType,
        }));
    }
    let threshold_bps = U256::abi_decode(&config.consensus.value)
        .ok()
        .and_then(|v| u16::try_from(v).ok())
        .unwrap_or(10_000);
    let updater = OperatorTableUpdater::new(chain.table_updater, &chain.provider);
    let l1_block = updater
        .getReferenceBlockNumberByTimestamp(reference_timestamp)
        .call()
        .await
        .map_err(|e| AggregatorError::rpc(id, "reading the table's reference block", e))?;
    if l1_block == 0 {
        return Err(problem(ContractProblem::UnknownReference(
            reference_timestamp,
        )));
    }
    Ok((curve, threshold_bps, u64::from(l1_block)))
}

/// The BN254 table of `operators` (`None` for an ECDSA set), once the task chain's certificate
/// verifier is seen to hold this very table at `reference_timestamp`.
async fn checked_table(
    chain: &TaskChain,
    curve: Curve,
    operators: &[Operator],
    operator_set: &types::OperatorSet,
    reference_timestamp: u32,
) -> Result<Option<Bn254OperatorTable>, AggregatorError> {
    let id = chain.id();
    let mismatch = || AggregatorError::Contract {
        chain_id: id,
        source: ContractProblem::TableMismatch {
            avs: operator_set.avs,
            set: operator_set.id,
            reference_timestamp,
        },
    };
    Ok(match curve {
        Curve::Bn254 => {
            let table = Bn254OperatorTable::new(
                operators
                    .iter()
                    .map(|o| Bn254Operator {
                        key: match &o.key {
                            OperatorKey::Bn254(key) => *key,
                            OperatorKey::Ecdsa(_) => unreachable!("a BN254 set"),
                        },
                        weights: o.weights.clone(),
                    })
                    .collect(),
            )
            .map_err(|_| mismatch())?;
            let info = BN254CertificateVerifier::new(chain.bn254_verifier, &chain.provider)
                .getOperatorSetInfo(to(operator_set), reference_timestamp)
                .call()
                .await
                .map_err(|e| AggregatorError::rpc(id, "reading the verifier's table", e))?;
            if info.operatorInfoTreeRoot != table.info().operatorInfoTreeRoot {
                return Err(mismatch());
            }
            Some(table)
        }
        Curve::Ecdsa => {
            let infos = ECDSACertificateVerifier::new(chain.ecdsa_verifier, &chain.provider)
                .getOperatorInfos(to(operator_set), reference_timestamp)
                .call()
                .await
                .map_err(|e| AggregatorError::rpc(id, "reading the verifier's table", e))?;
            let same = infos.len() == operators.len()
                && infos.iter().zip(operators).all(|(info, o)| {
                    matches!(o.key, OperatorKey::Ecdsa(k) if k == info.pubkey)
                        && info.weights == o.weights
                });
            if !same {
                return Err(mismatch());
            }
            None
        }
    })
}
