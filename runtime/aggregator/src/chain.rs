//! A chain the aggregator watches and submits to: its provider and the contracts it reads.

use std::time::Duration;

use alloy::{
    primitives::Address,
    providers::{DynProvider, Provider},
};
use ponos_chain::contracts::{BN254CertificateVerifier, ECDSACertificateVerifier, TaskMailbox};

use crate::AggregatorError;

/// How one chain is watched.
#[derive(Debug, Clone)]
pub struct ChainConfig {
    /// The chain id (checked against the node).
    pub chain_id: u64,
    /// The TaskMailbox (proxy) address.
    pub task_mailbox: Address,
    /// Blocks a `TaskCreated` must be below the head before it is acted on; 0 acts at once.
    pub confirmations: u64,
    /// How often the head is polled (with `ws_url`, a fallback: new heads wake the watcher).
    pub poll_interval: Duration,
    /// A WebSocket endpoint of the chain: the watcher subscribes to new heads there and scans
    /// as soon as one arrives.
    pub ws_url: Option<String>,
    /// The first block to scan when the store has no position yet; `None` starts at the head.
    pub start_block: Option<u64>,
    /// The widest `eth_getLogs` range asked at once.
    pub max_block_range: u64,
    /// How many recent blocks are remembered to detect reorgs.
    pub reorg_window: u64,
    /// A development chain (anvil): see [`SenderConfig::stamp_later_blocks`](crate::sender::SenderConfig::stamp_later_blocks).
    pub development: bool,
}

impl ChainConfig {
    /// Defaults for a chain: no confirmations, a 1 s poll, start at the head.
    pub fn new(chain_id: u64, task_mailbox: Address) -> Self {
        Self {
            chain_id,
            task_mailbox,
            confirmations: 0,
            poll_interval: Duration::from_secs(1),
            ws_url: None,
            start_block: None,
            max_block_range: 2_000,
            reorg_window: 64,
            development: false,
        }
    }
}

/// A connected chain.
#[derive(Debug, Clone)]
pub struct TaskChain {
    /// How it is watched.
    pub config: ChainConfig,
    /// Reads and (with the aggregator's wallet) sends.
    pub provider: DynProvider,
    /// The BN254 certificate verifier the mailbox uses.
    pub bn254_verifier: Address,
    /// The ECDSA certificate verifier the mailbox uses.
    pub ecdsa_verifier: Address,
    /// The ECDSA verifier's release version (its EIP-712 domain).
    pub ecdsa_verifier_version: String,
    /// The operator table updater the verifiers take tables from.
    pub table_updater: Address,
}

impl TaskChain {
    /// Connects: checks the chain id and reads the verifiers and table updater from the mailbox.
    pub async fn connect(
        config: ChainConfig,
        provider: DynProvider,
    ) -> Result<Self, AggregatorError> {
        let id = config.chain_id;
        let actual = provider
            .get_chain_id()
            .await
            .map_err(|e| AggregatorError::rpc(id, "reading the chain id", e))?;
        if actual != id {
            return Err(AggregatorError::Config(format!(
                "the RPC endpoint configured for chain {id} serves chain {actual}"
            )));
        }
        let code = provider
            .get_code_at(config.task_mailbox)
            .await
            .map_err(|e| AggregatorError::rpc(id, "reading the mailbox code", e))?;
        if code.is_empty() {
            return Err(AggregatorError::Config(format!(
                "chain {id}: no contract at task_mailbox {}",
                config.task_mailbox
            )));
        }
        let mailbox = TaskMailbox::new(config.task_mailbox, &provider);
        let rpc = |what: &'static str| move |e| AggregatorError::rpc(id, what, e);
        let bn254_verifier = mailbox
            .BN254_CERTIFICATE_VERIFIER()
            .call()
            .await
            .map_err(rpc("reading the mailbox's BN254 verifier"))?;
        let ecdsa_verifier = mailbox
            .ECDSA_CERTIFICATE_VERIFIER()
            .call()
            .await
            .map_err(rpc("reading the mailbox's ECDSA verifier"))?;
        let table_updater = BN254CertificateVerifier::new(bn254_verifier, &provider)
            .operatorTableUpdater()
            .call()
            .await
            .map_err(rpc("reading the table updater"))?;
        let ecdsa_verifier_version = ECDSACertificateVerifier::new(ecdsa_verifier, &provider)
            .version()
            .call()
            .await
            .map_err(rpc("reading the ECDSA verifier's version"))?;
        Ok(Self {
            config,
            provider,
            bn254_verifier,
            ecdsa_verifier,
            ecdsa_verifier_version,
            table_updater,
        })
    }

    /// The chain id.
    pub fn id(&self) -> u64 {
        self.config.chain_id
    }
}

pub(crate) use ponos_chain::contracts::retype as to;
