//! Lands certificates: one sender per (chain, key) with its own nonce counter, EIP-1559 fees
//! from the node, gas estimated with a margin, and replacement of a transaction that is not
//! mined in time by the same nonce at higher fees. Before every send and every replacement it
//! reads the task's status, so a result that already landed is never sent again.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use alloy::{
    network::TransactionBuilder as _,
    primitives::{Address, B256, Bytes},
    providers::{DynProvider, Provider},
    rpc::types::TransactionRequest,
    sol_types::SolCall,
};
use ponos_chain::contracts::TaskMailbox;
use tokio::sync::Mutex;
use tracing::{info, warn};

use crate::AggregatorError;

/// How transactions are sent.
#[derive(Debug, Clone, Copy)]
pub struct SenderConfig {
    /// How often receipts and new blocks are polled.
    pub poll_interval: Duration,
    /// How long a transaction may stay unmined before it is replaced.
    pub replace_after: Duration,
    /// How much a replacement raises both fees, in percent (nodes need at least 10).
    pub fee_bump_percent: u128,
    /// Extra gas over the estimate, in percent.
    pub gas_margin_percent: u64,
    /// Development chains only (anvil): when the head's timestamp is not yet past a task's
    /// creation, ask the node to stamp the next block one second after it
    /// (`evm_setNextBlockTimestamp`), because an automining node can give consecutive blocks
    /// the same timestamp and the mailbox takes results only in a later one.
    pub stamp_later_blocks: bool,
}

impl Default for SenderConfig {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(500),
            replace_after: Duration::from_secs(30),
            fee_bump_percent: 20,
            gas_margin_percent: 20,
            stamp_later_blocks: false,
        }
    }
}

/// How a submission ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Landed {
    /// Our transaction verified the task.
    Verified {
        /// The transaction.
        tx: B256,
        /// Its block.
        block: u64,
    },
    /// The task was already verified (by an earlier run or another aggregator).
    AlreadyVerified,
}

/// The mailbox's `TaskStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnchainStatus {
    /// Unknown to the mailbox (never created, or reorganised away).
    None,
    /// Waiting for a result.
    Created,
    /// A certificate landed.
    Verified,
    /// Past its SLA.
    Expired,
}

/// Sends from one account on one chain.
#[derive(Debug)]
pub struct TxSender {
    chain_id: u64,
    provider: DynProvider,
    from: Address,
    config: SenderConfig,
    next_nonce: Mutex<Option<u64>>,
    /// Gas limits by (mailbox, certificate size, result size): results of one shape cost the
    /// same to verify and store, so the node's (expensive) estimate runs once per shape.
    gas_estimates: Mutex<HashMap<(Address, usize, usize), u64>>,
    /// The latest timestamp asked of the node for its next block: asks only ever rise, so
    /// concurrent submissions never undo each other's.
    stamped: Mutex<u64>,
}

impl TxSender {
    /// A sender from `from`, whose key the provider's wallet holds.
    pub fn new(chain_id: u64, provider: DynProvider, from: Address, config: SenderConfig) -> Self {
        Self {
            chain_id,
            provider,
            from,
            config,
            next_nonce: Mutex::new(None),
            stamped: Mutex::new(0),
            gas_estimates: Mutex::default(),
        }
    }

    /// The sending account.
    pub fn from(&self) -> Address {
        self.from
    }

    /// Reads the task's status from the mailbox.
    pub async fn status(
        &self,
        mailbox: Address,
        task: B256,
    ) -> Result<OnchainStatus, AggregatorError> {
        let status = TaskMailbox::new(mailbox, &self.provider)
            .getTaskStatus(task)
            .call()
            .await
            .map_err(|e| AggregatorError::rpc(self.chain_id, "reading the task status", e))?;
        Ok(match status {
            1 => OnchainStatus::Created,
            2 => OnchainStatus::Verified,
            3 => OnchainStatus::Expired,
            _ => OnchainStatus::None,
        })
    }

    /// Submits `certificate` over `result` for `task`, created in a block at
    /// `created_at` (chain time); gives up at `deadline`.
    pub async fn submit_result(
        &self,
        mailbox: Address,
        task: B256,
        created_at: u64,
        certificate: Bytes,
        result: Bytes,
        deadline: Instant,
    ) -> Result<Landed, AggregatorError> {
        let id = self.chain_id;
        match self.status(mailbox, task).await? {
            OnchainStatus::Created => {}
            OnchainStatus::Verified => return Ok(Landed::AlreadyVerified),
            OnchainStatus::Expired => return Err(AggregatorError::Expired(task)),
            OnchainStatus::None => {
                return Err(AggregatorError::Contract {
                    chain_id: id,
                    source: crate::error::ContractProblem::UnknownTask(task),
                });
            }
        }
        // The mailbox takes results only in a block after the task's.
        if self.config.stamp_later_blocks {
            self.stamp_next_block_after(created_at).await?;
        } else {
            self.wait_for_time_after(created_at, deadline, task).await?;
        }

        let (certificate_len, result_len) = (certificate.len(), result.len());
        let input = TaskMailbox::submitResultCall {
            taskHash: task,
            executorCert: certificate,
            result,
        }
        .abi_encode();
        let request = TransactionRequest::default()
            .with_from(self.from)
            .with_to(mailbox)
            .with_input(input);
        let shape = (mailbox, certificate_len, result_len);
        let gas = match self.gas_by_shape(&shape).await {
            Some(gas) => gas,
            None => {
                let estimated = self
                    .provider
                    .estimate_gas(request.clone())
                    .await
                    .map_err(|e| {
                        AggregatorError::rpc(
                            id,
                            format!("submitResult for task {task} would fail"),
                            e,
                        )
                    })?;
                let gas = estimated + estimated * self.config.gas_margin_percent / 100;
                self.gas_estimates.lock().await.insert(shape, gas);
                gas
            }
        };
        let fees = self
            .provider
            .estimate_eip1559_fees()
            .await
            .map_err(|e| AggregatorError::rpc(id, "estimating fees", e))?;
        let (mut max_fee, mut tip) = (fees.max_fee_per_gas, fees.max_priority_fee_per_gas);

        let nonce = self.take_nonce().await?;
        let mut sent: Vec<B256> = Vec::new();
        loop {
            let tx = request
                .clone()
                .with_nonce(nonce)
                .with_gas_limit(gas)
                .with_max_fee_per_gas(max_fee)
                .with_max_priority_fee_per_gas(tip)
                .with_chain_id(id);
            match self.provider.send_transaction(tx).await {
                Ok(pending) => sent.push(*pending.tx_hash()),
                Err(error) if sent.is_empty() => {
                    // The nonce was not used: count again from the node.
                    *self.next_nonce.lock().await = None;
                    return Err(AggregatorError::rpc(
                        id,
                        format!("sending submitResult for task {task}"),
                        error,
                    ));
                }
                Err(error) => {
                    warn!(target: "ponos::aggregator", chain = id, %task, %error, "replacement not accepted; waiting for the earlier transaction");
                }
            }

            let replace_at = Instant::now() + self.config.replace_after;
            while Instant::now() < replace_at.min(deadline) {
                for hash in &sent {
                    let receipt = self
                        .provider
                        .get_transaction_receipt(*hash)
                        .await
                        .map_err(|e| AggregatorError::rpc(id, "reading a receipt", e))?;
                    if let Some(receipt) = receipt {
                        if receipt.status() {
                            return Ok(Landed::Verified {
                                tx: *hash,
                                block: receipt.block_number.unwrap_or_default(),
                            });
                        }
                        // Another result may have landed first.
                        if self.status(mailbox, task).await? == OnchainStatus::Verified {
                            return Ok(Landed::AlreadyVerified);
                        }
                        // Out of gas with a limit from another task of the same shape (its
                        // hook may charge differently): estimate afresh next time.
                        if receipt.gas_used >= gas * 95 / 100 {
                            self.gas_estimates.lock().await.remove(&shape);
                        }
                        return Err(AggregatorError::Reverted { task, tx: *hash });
                    }
                }
                tokio::time::sleep(self.config.poll_interval).await;
            }
            if Instant::now() >= deadline {
                return Err(AggregatorError::Expired(task));
            }
            match self.status(mailbox, task).await? {
                OnchainStatus::Created => {}
                OnchainStatus::Verified => return Ok(Landed::AlreadyVerified),
                OnchainStatus::Expired => return Err(AggregatorError::Expired(task)),
                OnchainStatus::None => {
                    return Err(AggregatorError::Contract {
                        chain_id: id,
                        source: crate::error::ContractProblem::UnknownTask(task),
                    });
                }
            }
            max_fee += max_fee * self.config.fee_bump_percent / 100;
            tip += tip * self.config.fee_bump_percent / 100 + 1;
            info!(target: "ponos::aggregator", chain = id, %task, nonce, max_fee, tip, "not mined in time: replacing with higher fees");
        }
    }

    async fn gas_by_shape(&self, shape: &(Address, usize, usize)) -> Option<u64> {
        self.gas_estimates.lock().await.get(shape).copied()
    }

    async fn take_nonce(&self) -> Result<u64, AggregatorError> {
        let mut next = self.next_nonce.lock().await;
        let nonce = match *next {
            Some(nonce) => nonce,
            None => self
                .provider
                .get_transaction_count(self.from)
                .pending()
                .await
                .map_err(|e| AggregatorError::rpc(self.chain_id, "reading the nonce", e))?,
        };
        *next = Some(nonce + 1);
        Ok(nonce)
    }

    /// On a development chain: makes sure every block from now on is stamped after
    /// `created_at`. Blocks never go back in time, so once one is, all later ones are.
    async fn stamp_next_block_after(&self, created_at: u64) -> Result<(), AggregatorError> {
        let mut stamped = self.stamped.lock().await;
        let latest = self
            .provider
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .map_err(|e| AggregatorError::rpc(self.chain_id, "reading the latest block", e))?
            .map_or(0, |b| b.header.timestamp);
        if latest <= created_at && *stamped <= created_at {
            let next = (created_at + 1).max(*stamped);
            let _: serde_json::Value = self
                .provider
                .raw_request("evm_setNextBlockTimestamp".into(), (next,))
                .await
                .map_err(|e| AggregatorError::rpc(self.chain_id, "stamping the next block", e))?;
            *stamped = next;
        }
        Ok(())
    }

    /// Waits until the chain's latest block is later than `created_at`.
    async fn wait_for_time_after(
        &self,
        created_at: u64,
        deadline: Instant,
        task: B256,
    ) -> Result<(), AggregatorError> {
        loop {
            let latest = self
                .provider
                .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
                .await
                .map_err(|e| AggregatorError::rpc(self.chain_id, "reading the latest block", e))?;
            // The next block is at least one second later than the latest.
            if latest.is_some_and(|b| b.header.timestamp >= created_at) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(AggregatorError::Expired(task));
            }
            tokio::time::sleep(self.config.poll_interval).await;
        }
    }
}
