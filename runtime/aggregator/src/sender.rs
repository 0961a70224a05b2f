//! Lands certificates: one sender per (chain, key) with its own nonce counter, EIP-1559 fees
//! from the node, gas estimated with a margin, and replacement of a transaction that is not
//! mined in time by the same nonce at higher fees. Before every send and every replacement it
//! reads the task's status, so a result that already landed is never sent again.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use alloy::{
    network::TransactionBuilder as _,
    primitives::{Address, B256, Bytes},
    providers::{DynProvider, Provider},
    rpc::types::{TransactionReceipt, TransactionRequest},
    sol_types::SolCall,
};
use ponos_chain::contracts::TaskMailbox;
use tokio::{
    sync::{Mutex, mpsc},
    task::JoinHandle,
};
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

/// Transactions waiting for their receipt, and the scanner that finds them.
#[derive(Debug, Default)]
struct ReceiptBook {
    waiting: std::sync::Mutex<HashMap<B256, mpsc::Sender<(B256, TransactionReceipt)>>>,
    scanner: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl ReceiptBook {
    /// Starts the block scanner unless it runs.
    fn ensure_scanning(self: &Arc<Self>, provider: &DynProvider, chain_id: u64, poll: Duration) {
        let mut scanner = self.scanner.lock().unwrap_or_else(|e| e.into_inner());
        if scanner.as_ref().is_some_and(|s| !s.is_finished()) {
            return;
        }
        let book = Arc::downgrade(self);
        let provider = provider.clone();
        *scanner = Some(tokio::spawn(async move {
            let mut next: Option<u64> = None;
            while let Some(book) = book.upgrade() {
                match book.scan(&provider, &mut next).await {
                    Ok(()) => {}
                    Err(error) => {
                        warn!(target: "ponos::aggregator", chain = chain_id, %error, "scanning blocks for receipts");
                    }
                }
                drop(book);
                tokio::time::sleep(poll).await;
            }
        }));
    }

    /// Reports the receipts of waiting transactions in blocks `next..=head`.
    async fn scan(
        &self,
        provider: &DynProvider,
        next: &mut Option<u64>,
    ) -> Result<(), alloy::transports::TransportError> {
        let head = provider.get_block_number().await?;
        if self
            .waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty()
        {
            // Nobody waits; whoever comes next checks its receipt directly first.
            *next = Some(head + 1);
            return Ok(());
        }
        let mut block = next.unwrap_or(head);
        while block <= head {
            let receipts = provider
                .get_block_receipts(block.into())
                .await?
                .unwrap_or_default();
            let waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
            for receipt in receipts {
                if let Some(tx) = waiting.get(&receipt.transaction_hash) {
                    let _ = tx.try_send((receipt.transaction_hash, receipt));
                }
            }
            drop(waiting);
            block += 1;
            *next = Some(block);
        }
        Ok(())
    }
}

impl Drop for ReceiptBook {
    fn drop(&mut self) {
        if let Some(scanner) = self
            .scanner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            scanner.abort();
        }
    }
}

/// The last timestamp asked of a development node, and when.
#[derive(Debug)]
struct Stamped {
    next: u64,
    at: Option<Instant>,
}

/// On development chains, stamps are at least this far apart: each moves the chain's clock a
/// second ahead, so one stamp serves every result waiting at that moment, and the chain's
/// clock runs at most ten seconds per second ahead of the wall clock under a flood of tasks.
const STAMP_WINDOW: Duration = Duration::from_millis(100);

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
    receipts: Arc<ReceiptBook>,
    fee_estimate: Mutex<Option<(Instant, alloy::eips::eip1559::Eip1559Estimation)>>,
    /// The latest timestamp asked of the node for its next block: asks only ever rise, so
    /// concurrent submissions never undo each other's.
    stamped: Mutex<Stamped>,
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
            stamped: Mutex::new(Stamped { next: 0, at: None }),
            gas_estimates: Mutex::default(),
            receipts: Arc::default(),
            fee_estimate: Mutex::default(),
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
        let fees = self.fees().await?;
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

            let replace_at = (Instant::now() + self.config.replace_after).min(deadline);
            if let Some((hash, receipt)) = self.wait_for_receipts(&sent, replace_at).await? {
                if receipt.status() {
                    return Ok(Landed::Verified {
                        tx: hash,
                        block: receipt.block_number.unwrap_or_default(),
                    });
                }
                // Another result may have landed first.
                if self.status(mailbox, task).await? == OnchainStatus::Verified {
                    return Ok(Landed::AlreadyVerified);
                }
                // Out of gas with a limit from another task of the same shape (its hook may
                // charge differently): estimate afresh next time.
                if receipt.gas_used >= gas * 95 / 100 {
                    self.gas_estimates.lock().await.remove(&shape);
                }
                let reason = self
                    .revert_reason(&request, receipt.block_number)
                    .await
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default();
                return Err(AggregatorError::Reverted {
                    task,
                    tx: hash,
                    gas_used: receipt.gas_used,
                    gas_limit: gas,
                    reason,
                });
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

    /// Waits until one of `hashes` is mined (or `until`): the block scanner reports receipts as
    /// blocks arrive, one `eth_getBlockReceipts` per block however many transactions wait.
    async fn wait_for_receipts(
        &self,
        hashes: &[B256],
        until: Instant,
    ) -> Result<Option<(B256, TransactionReceipt)>, AggregatorError> {
        let (tx, mut rx) = mpsc::channel(hashes.len().max(1));
        {
            let mut waiting = self
                .receipts
                .waiting
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            for hash in hashes {
                waiting.insert(*hash, tx.clone());
            }
        }
        self.receipts
            .ensure_scanning(&self.provider, self.chain_id, self.config.poll_interval);
        // A receipt mined before the registration is not reported: look once directly.
        let mut found = None;
        for hash in hashes {
            if let Some(receipt) = self
                .provider
                .get_transaction_receipt(*hash)
                .await
                .map_err(|e| AggregatorError::rpc(self.chain_id, "reading a receipt", e))?
            {
                found = Some((*hash, receipt));
                break;
            }
        }
        if found.is_none() {
            found = tokio::time::timeout_at(until.into(), rx.recv())
                .await
                .ok()
                .flatten();
        }
        let mut waiting = self
            .receipts
            .waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for hash in hashes {
            waiting.remove(hash);
        }
        Ok(found)
    }

    /// Why `request` reverts, replayed as a call at the block before `block`'s state.
    async fn revert_reason(
        &self,
        request: &TransactionRequest,
        block: Option<u64>,
    ) -> Option<String> {
        let block = block?.checked_sub(1)?;
        match self
            .provider
            .call(request.clone())
            .block(block.into())
            .await
        {
            Ok(_) => None,
            Err(error) => Some(error.to_string()),
        }
    }

    /// EIP-1559 fees from the node, asked at most once a second.
    async fn fees(&self) -> Result<alloy::eips::eip1559::Eip1559Estimation, AggregatorError> {
        let mut cached = self.fee_estimate.lock().await;
        if let Some((at, fees)) = *cached
            && at.elapsed() < Duration::from_secs(1)
        {
            return Ok(fees);
        }
        let fees = self
            .provider
            .estimate_eip1559_fees()
            .await
            .map_err(|e| AggregatorError::rpc(self.chain_id, "estimating fees", e))?;
        *cached = Some((Instant::now(), fees));
        Ok(fees)
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
        if stamped.next > created_at {
            return Ok(());
        }
        if let Some(at) = stamped.at {
            tokio::time::sleep_until((at + STAMP_WINDOW).into()).await;
        }
        let latest = self
            .provider
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .map_err(|e| AggregatorError::rpc(self.chain_id, "reading the latest block", e))?
            .map_or(0, |b| b.header.timestamp);
        if latest <= created_at {
            let next = created_at + 1;
            let _: serde_json::Value = self
                .provider
                .raw_request("evm_setNextBlockTimestamp".into(), (next,))
                .await
                .map_err(|e| AggregatorError::rpc(self.chain_id, "stamping the next block", e))?;
            *stamped = Stamped {
                next,
                at: Some(Instant::now()),
            };
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
