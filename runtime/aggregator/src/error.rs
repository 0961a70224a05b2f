//! What can go wrong in the aggregator.

use alloy::primitives::{Address, B256};

/// An aggregator error.
#[derive(Debug, thiserror::Error)]
pub enum AggregatorError {
    /// A JSON-RPC call failed.
    #[error("chain {chain_id}: {what}: {reason}")]
    Rpc {
        /// The chain.
        chain_id: u64,
        /// What was being read or sent.
        what: String,
        /// What the node or transport said.
        reason: String,
    },
    /// The chain's contracts say something the aggregator cannot work with.
    #[error("chain {chain_id}: {source}")]
    Contract {
        /// The chain.
        chain_id: u64,
        /// What is wrong.
        #[source]
        source: ContractProblem,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] ponos_store::StoreError),
    /// Not enough operators agreed before the deadline.
    #[error(
        "task {task}: no result reached the threshold before collection had to end ({answered} of {operators} operators answered; best result holds {best_bps} of {threshold_bps} bps){}",
        if reasons.is_empty() { String::new() } else { format!("; last errors: {reasons}") }
    )]
    ThresholdNotMet {
        /// The task.
        task: B256,
        /// Valid answers received.
        answered: usize,
        /// Operators asked.
        operators: usize,
        /// The heaviest result's share of the total weight.
        best_bps: u64,
        /// The share needed.
        threshold_bps: u16,
        /// The last error of each operator that gave no usable answer (`operator: reason; ...`).
        reasons: String,
    },
    /// This instance lost the lease it shares with standbys: it sends nothing more.
    #[error("task {task}: not sent: this aggregator's lease (epoch {epoch}) has lapsed")]
    Deposed {
        /// The task.
        task: B256,
        /// The lease epoch this instance held.
        epoch: u64,
    },
    /// The task's deadline passed.
    #[error("task {0}: its deadline passed")]
    Expired(B256),
    /// The task's block was reorganised away while it was worked on.
    #[error("task {0}: its block was reorganised away")]
    Withdrawn(B256),
    /// A certificate could not be built.
    #[error("task {task}: building the certificate: {reason}")]
    Certificate {
        /// The task.
        task: B256,
        /// What went wrong.
        reason: String,
    },
    /// The submission transaction reverted.
    #[error(
        "task {task}: submitResult reverted in transaction {tx} (gas used {gas_used} of {gas_limit}){reason}"
    )]
    Reverted {
        /// The task.
        task: B256,
        /// The transaction.
        tx: B256,
        /// Gas the transaction used.
        gas_used: u64,
        /// Its gas limit.
        gas_limit: u64,
        /// The revert reason, when the node gives one (prefixed with ": ").
        reason: String,
    },
    /// The configuration is inconsistent.
    #[error("{0}")]
    Config(String),
}

/// Contract state the aggregator cannot work with.
#[derive(Debug, thiserror::Error)]
pub enum ContractProblem {
    /// The executor set's consensus is not a stake threshold.
    #[error(
        "AVS {avs} set {set}: consensus type {consensus} is not supported (configure STAKE_PROPORTION_THRESHOLD)"
    )]
    Consensus {
        /// The AVS.
        avs: Address,
        /// The set.
        set: u32,
        /// The consensus type found.
        consensus: u8,
    },
    /// The task chain's table updater knows no L1 block for the reference timestamp.
    #[error("no operator table was pushed at reference timestamp {0}")]
    UnknownReference(u32),
    /// The table read from L1 does not hash to the root the verifier holds.
    #[error(
        "AVS {avs} set {set}: the operator table read from L1 does not match the verifier's at reference timestamp {reference_timestamp}"
    )]
    TableMismatch {
        /// The AVS.
        avs: Address,
        /// The set.
        set: u32,
        /// The reference timestamp.
        reference_timestamp: u32,
    },
    /// The operator set has no operators with weight.
    #[error("AVS {avs} set {set} has no operators with weight")]
    EmptySet {
        /// The AVS.
        avs: Address,
        /// The set.
        set: u32,
    },
    /// A registered key is unusable.
    #[error("operator {operator}: registered key is invalid: {reason}")]
    BadKey {
        /// The operator.
        operator: Address,
        /// What is wrong.
        reason: String,
    },
    /// The mailbox does not know the task (never created, or reorganised away).
    #[error("the mailbox does not know task {0} (was its block reorganised away?)")]
    UnknownTask(B256),
    /// The curve type is unknown.
    #[error("AVS {avs} set {set}: curve type {curve} is not BN254 (2) or ECDSA (1)")]
    Curve {
        /// The AVS.
        avs: Address,
        /// The set.
        set: u32,
        /// The curve type found.
        curve: u8,
    },
}

impl AggregatorError {
    pub(crate) fn rpc(
        chain_id: u64,
        what: impl Into<String>,
        reason: impl std::fmt::Display,
    ) -> Self {
        // Transport errors quote the URL they failed to reach, API key and all.
        Self::Rpc {
            chain_id,
            what: what.into(),
            reason: ponos_chain::redact::urls_in(&reason.to_string()),
        }
    }
}
