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
    eips::eip2718::Encodable2718 as _,
    network::{EthereumWallet, NetworkTransactionBuilder as _, TransactionBuilder as _},
    primitives::{Address, B256, Bytes, keccak256},
    providers::{DynProvider, Provider},
    rpc::types::{TransactionReceipt, TransactionRequest},
    signers::local::PrivateKeySigner,
    sol_types::SolCall,
};
use ponos_chain::contracts::TaskMailbox;
use ponos_store::SubmissionRecord;
use tokio::{
    sync::{Mutex, mpsc, oneshot},
    task::JoinHandle,
};
use tracing::{info, warn};

use crate::{
    AggregatorError,
    leadership::Leadership,
    metrics::AggregatorMetrics,
    retry::{self, Recovery},
};

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
    /// the same timestamp and the mailbox takes results only in a later one. The chain's
    /// clock stays within [`MAX_LEAD_SECS`] of the wall clock.
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

/// What the mailbox's mined status says of a task whose submission has not landed: `Ok(None)`
/// while it is open. Only this is a verdict: a revert in a gas estimate against pending state,
/// a dropped transaction or a node error is tried again while the task is open.
fn verdict(
    status: OnchainStatus,
    task: B256,
    chain_id: u64,
) -> Result<Option<Landed>, AggregatorError> {
    match status {
        OnchainStatus::Created => Ok(None),
        OnchainStatus::Verified => Ok(Some(Landed::AlreadyVerified)),
        OnchainStatus::Expired => Err(AggregatorError::Expired(task)),
        OnchainStatus::None => Err(AggregatorError::Contract {
            chain_id,
            source: crate::error::ContractProblem::UnknownTask(task),
        }),
    }
}

/// Blocks the receipt scanner always reads one by one to catch up; past that, and past as many
/// blocks as transactions wait, it asks for each waiting receipt directly.
const SCAN_GAP: u64 = 4;

/// Transactions waiting for their receipt, and the scanner that finds them. The scanner reads
/// the chain only while a transaction waits; idle, it sleeps until the next one registers.
#[derive(Debug, Default)]
struct ReceiptBook {
    waiting: std::sync::Mutex<HashMap<B256, mpsc::Sender<(B256, TransactionReceipt)>>>,
    scanner: std::sync::Mutex<Option<JoinHandle<()>>>,
    wake: Arc<tokio::sync::Notify>,
}

impl ReceiptBook {
    /// Hands `receipt` to whoever waits for it.
    fn report(&self, receipt: TransactionReceipt) {
        let waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = waiting.get(&receipt.transaction_hash) {
            let _ = tx.try_send((receipt.transaction_hash, receipt));
        }
    }

    /// Registers `hashes`: their receipts arrive on the returned channel.
    fn register(&self, hashes: &[B256]) -> mpsc::Receiver<(B256, TransactionReceipt)> {
        let (tx, rx) = mpsc::channel(hashes.len().max(1));
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        for hash in hashes {
            waiting.insert(*hash, tx.clone());
        }
        rx
    }

    fn unregister(&self, hashes: &[B256]) {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        for hash in hashes {
            waiting.remove(hash);
        }
    }

    fn is_idle(&self) -> bool {
        self.waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty()
    }

    /// Wakes the block scanner, starting it unless it runs.
    fn ensure_scanning(self: &Arc<Self>, provider: &DynProvider, chain_id: u64, poll: Duration) {
        // A permit is kept when the scanner is busy: it looks again before it sleeps.
        self.wake.notify_one();
        let mut scanner = self.scanner.lock().unwrap_or_else(|e| e.into_inner());
        if scanner.as_ref().is_some_and(|s| !s.is_finished()) {
            return;
        }
        let book = Arc::downgrade(self);
        let wake = self.wake.clone();
        let provider = provider.clone();
        *scanner = Some(tokio::spawn(async move {
            let mut next: Option<u64> = None;
            loop {
                let Some(book) = book.upgrade() else { return };
                if book.is_idle() {
                    // The next scan goes on from where this one stopped if few blocks came in
                    // between, else it looks for the waiting receipts directly first.
                    drop(book);
                    wake.notified().await;
                    continue;
                }
                if let Err(error) = book.scan(&provider, &mut next).await {
                    warn!(target: "ponos::aggregator", chain = chain_id, %error, "scanning blocks for receipts");
                }
                drop(book);
                tokio::time::sleep(poll).await;
            }
        }));
    }

    /// Reports the receipts of waiting transactions in blocks `next..=head`. When more blocks
    /// came since the last scan than transactions wait (and more than [`SCAN_GAP`]), or on the
    /// first scan, it asks for each waiting receipt directly instead, then goes on from the
    /// head: whichever costs fewer calls.
    async fn scan(
        &self,
        provider: &DynProvider,
        next: &mut Option<u64>,
    ) -> Result<(), alloy::transports::TransportError> {
        let head = provider.get_block_number().await?;
        let hashes: Vec<B256> = self
            .waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .copied()
            .collect();
        let mut block = match *next {
            Some(next) if head.saturating_sub(next) < SCAN_GAP.max(hashes.len() as u64) => next,
            _ => {
                for hash in hashes {
                    if let Some(receipt) = provider.get_transaction_receipt(hash).await? {
                        self.report(receipt);
                    }
                }
                head
            }
        };
        while block <= head {
            let receipts = provider
                .get_block_receipts(block.into())
                .await?
                .unwrap_or_default();
            for receipt in receipts {
                self.report(receipt);
            }
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

/// The most task statuses one batched read asks for (each costs the call about 10k gas).
pub const STATUS_BATCH: usize = 256;

type StatusAnswer = oneshot::Sender<Result<u8, String>>;
type StatusAsk = (Address, B256, StatusAnswer);

/// Status reads waiting for the next call.
#[derive(Debug, Default)]
struct StatusReads {
    /// Asked for and not yet read.
    queue: std::sync::Mutex<Vec<StatusAsk>>,
    /// Held by the submission that reads for everybody queued.
    reading: Mutex<()>,
}

/// A shape's gas limit, once estimated.
type GasCell = Arc<Mutex<Option<u64>>>;

/// The sender's nonces.
#[derive(Debug, Default)]
struct Nonces {
    /// The next one to hand out, once read from the node.
    next: Option<u64>,
    /// The lowest one that may be handed out.
    floor: u64,
}

/// On development chains, how far ahead of the wall clock a stamped block may be, in seconds.
pub const MAX_LEAD_SECS: u64 = 2;

/// Sends from one account on one chain.
#[derive(Debug)]
pub struct TxSender {
    chain_id: u64,
    provider: DynProvider,
    from: Address,
    config: SenderConfig,
    wallet: EthereumWallet,
    nonces: Mutex<Nonces>,
    metrics: Arc<AggregatorMetrics>,
    /// Gas limits by (mailbox, certificate size, result size): results of one shape cost the
    /// same to verify and store, so the node's (expensive) estimate runs once per shape. One
    /// cell per shape: submissions of a shape that arrive together wait for one estimate.
    gas_estimates: std::sync::Mutex<HashMap<(Address, usize, usize), GasCell>>,
    receipts: Arc<ReceiptBook>,
    fee_estimate: Mutex<Option<(Instant, alloy::eips::eip1559::Eip1559Estimation)>>,
    statuses: StatusReads,
    /// The latest timestamp asked of the node for its next block: asks only ever rise, so
    /// concurrent submissions never undo each other's.
    stamped: Mutex<u64>,
    /// The lease this instance sends under, when it shares its store with standbys.
    leadership: Option<Arc<Leadership>>,
}

impl TxSender {
    /// A sender that signs with `signer`.
    pub fn new(
        chain_id: u64,
        provider: DynProvider,
        signer: PrivateKeySigner,
        config: SenderConfig,
        metrics: Arc<AggregatorMetrics>,
    ) -> Self {
        Self {
            chain_id,
            provider,
            from: signer.address(),
            wallet: EthereumWallet::from(signer),
            config,
            nonces: Mutex::new(Nonces::default()),
            metrics,
            stamped: Mutex::new(0),
            gas_estimates: std::sync::Mutex::default(),
            receipts: Arc::default(),
            fee_estimate: Mutex::default(),
            statuses: StatusReads::default(),
            leadership: None,
        }
    }

    /// This sender, sending only while `leadership` holds (always, when `None`).
    #[must_use]
    pub fn led_by(mut self, leadership: Option<Arc<Leadership>>) -> Self {
        self.leadership = leadership;
        self
    }

    /// Refuses to send once this instance's lease has lapsed: checked right before every
    /// broadcast, by the monotonic clock, so a process that was frozen past its lease sends
    /// nothing on waking.
    fn may_send(&self, task: B256) -> Result<(), AggregatorError> {
        match &self.leadership {
            Some(lease) if !lease.is_held() => {
                self.metrics.sends_fenced.inc();
                Err(AggregatorError::Deposed {
                    task,
                    epoch: lease.epoch(),
                })
            }
            _ => Ok(()),
        }
    }

    /// The sending account.
    pub fn from(&self) -> Address {
        self.from
    }

    /// Reads the task's status from the mailbox, at the node's latest block. Submissions that
    /// ask while a read is on its way are answered together by the next one, in one `eth_call`
    /// (a burst costs one read per round trip, not one per task).
    pub async fn status(
        &self,
        mailbox: Address,
        task: B256,
    ) -> Result<OnchainStatus, AggregatorError> {
        let (answer, mut answered) = oneshot::channel();
        self.statuses
            .queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((mailbox, task, answer));
        let status = loop {
            match answered.try_recv() {
                Ok(status) => break status,
                Err(oneshot::error::TryRecvError::Closed) => {
                    break Err("the read was cancelled".to_string());
                }
                Err(oneshot::error::TryRecvError::Empty) => {}
            }
            let _reading = self.statuses.reading.lock().await;
            let asked = std::mem::take(
                &mut *self
                    .statuses
                    .queue
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()),
            );
            if !asked.is_empty() {
                self.read_statuses(asked).await;
            }
        };
        let status = status
            .map_err(|e| AggregatorError::rpc(self.chain_id, "reading the task status", e))?;
        Ok(match status {
            1 => OnchainStatus::Created,
            2 => OnchainStatus::Verified,
            3 => OnchainStatus::Expired,
            _ => OnchainStatus::None,
        })
    }

    /// Reads the statuses `asked` for and answers each: one `getTaskStatus` for a lone task, a
    /// [`TaskStatusReader`](ponos_chain::contracts::TaskStatusReader) call per mailbox and up
    /// to [`STATUS_BATCH`] tasks otherwise.
    async fn read_statuses(&self, asked: Vec<StatusAsk>) {
        let mut by_mailbox: HashMap<Address, Vec<(B256, StatusAnswer)>> = HashMap::new();
        for (mailbox, task, answer) in asked {
            by_mailbox.entry(mailbox).or_default().push((task, answer));
        }
        for (mailbox, mut asks) in by_mailbox {
            while !asks.is_empty() {
                let batch: Vec<_> = asks.drain(..asks.len().min(STATUS_BATCH)).collect();
                let tasks: Vec<B256> = batch.iter().map(|(task, _)| *task).collect();
                let read = if let [task] = tasks[..] {
                    TaskMailbox::new(mailbox, &self.provider)
                        .getTaskStatus(task)
                        .call()
                        .await
                        .map(|status| vec![status])
                        .map_err(|e| e.to_string())
                } else {
                    let call = TransactionRequest::default().with_deploy_code(
                        ponos_chain::contracts::task_statuses_call(mailbox, tasks.clone()),
                    );
                    match self.provider.call(call).await {
                        Ok(output) => ponos_chain::contracts::decode_task_statuses(&output)
                            .map_err(|e| format!("the node's answer does not decode: {e}"))
                            .and_then(|statuses| {
                                if statuses.len() == tasks.len() {
                                    Ok(statuses)
                                } else {
                                    Err(format!(
                                        "the node answered {} statuses for {} tasks",
                                        statuses.len(),
                                        tasks.len()
                                    ))
                                }
                            }),
                        Err(e) => Err(e.to_string()),
                    }
                };
                match read {
                    Ok(statuses) => {
                        for ((_, answer), status) in batch.into_iter().zip(statuses) {
                            let _ = answer.send(Ok(status));
                        }
                    }
                    Err(error) => {
                        for (_, answer) in batch {
                            let _ = answer.send(Err(error.clone()));
                        }
                    }
                }
            }
        }
    }

    /// The mined status's verdict, as an outcome: `Ok(None)` while the task is open.
    async fn mined_verdict(
        &self,
        mailbox: Address,
        task: B256,
    ) -> Result<Option<Landed>, AggregatorError> {
        verdict(self.status(mailbox, task).await?, task, self.chain_id)
    }

    /// Submits `certificate` over `result` for `task`, created in a block at `created_at`
    /// (chain time); gives up at `deadline`.
    ///
    /// `sent` holds the transactions signed for the task so far (from the store, after a
    /// restart): they are looked for first (receipt, then the node's pool), waited for, and
    /// broadcast again when the pool lost them, so a task is never sent twice under two
    /// nonces. Every transaction signed here is appended to `sent` and handed to `journal`
    /// *before* it is broadcast.
    #[allow(clippy::too_many_arguments, reason = "one submission's facts")]
    pub async fn submit_result(
        &self,
        mailbox: Address,
        task: B256,
        created_at: u64,
        certificate: Bytes,
        result: Bytes,
        deadline: Instant,
        sent: &mut Vec<SubmissionRecord>,
        journal: &mut (dyn FnMut(&[SubmissionRecord]) -> Result<(), AggregatorError> + Send),
    ) -> Result<Landed, AggregatorError> {
        let id = self.chain_id;
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

        // What a previous run sent, first: it may have landed, or still be on its way.
        if let Some(last) = sent.last().cloned() {
            match self.recover(sent).await? {
                (Recovery::Mined, Some((hash, receipt))) => {
                    if receipt.status() {
                        return Ok(Landed::Verified {
                            tx: hash,
                            block: receipt.block_number.unwrap_or_default(),
                        });
                    }
                    // It reverted: whatever the mailbox says now decides.
                    sent.clear();
                }
                (Recovery::Pending, _) => {}
                (Recovery::Rebroadcast, _) => {
                    if self.config.stamp_later_blocks {
                        self.stamp_next_block_after(created_at).await?;
                    }
                    info!(target: "ponos::aggregator", chain = id, %task, tx = %last.hash, nonce = last.nonce, "the node lost the transaction: broadcasting it again");
                    self.may_send(task)?;
                    if let Err(error) = self.provider.send_raw_transaction(&last.raw).await {
                        warn!(target: "ponos::aggregator", chain = id, %task, %error, "broadcasting the recorded transaction again");
                    }
                    self.metrics.rebroadcasts.inc();
                }
                (_, _) => sent.clear(),
            }
        }

        let mut registered = None;
        if sent.is_empty() {
            if let Some(landed) = self.mined_verdict(mailbox, task).await? {
                return Ok(landed);
            }
            // The mailbox takes results only in a block after the task's.
            if self.config.stamp_later_blocks {
                self.stamp_next_block_after(created_at).await?;
            } else {
                self.wait_for_time_after(created_at, deadline, task).await?;
            }
            let gas = self.gas_limit(&request, &shape, task).await?;
            let fees = self.fees().await?;
            let nonce = self.take_nonce().await?;
            let signed = self
                .sign(
                    &request,
                    nonce,
                    gas,
                    fees.max_fee_per_gas,
                    fees.max_priority_fee_per_gas,
                )
                .await?;
            sent.push(signed.clone());
            journal(sent)?;
            // Waiting before it is broadcast: the scanner cannot miss its receipt, and no
            // direct look is needed.
            if let Err(error) = self.may_send(task) {
                self.reset_nonce().await;
                return Err(error);
            }
            registered = Some(self.receipts.register(&[signed.hash]));
            if let Err(error) = self.provider.send_raw_transaction(&signed.raw).await {
                self.receipts.unregister(&[signed.hash]);
                // The nonce was not used: count again from the node. The record stays; a
                // restart finds its nonce free and broadcasts it, or taken and signs anew.
                self.reset_nonce().await;
                return Err(AggregatorError::rpc(
                    id,
                    format!("sending submitResult for task {task}"),
                    error,
                ));
            }
        }

        loop {
            let hashes: Vec<B256> = sent.iter().map(|s| s.hash).collect();
            let replace_at = (Instant::now() + self.config.replace_after).min(deadline);
            if let Some((hash, receipt)) = self
                .wait_for_receipts(&hashes, replace_at, registered.take())
                .await?
            {
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
                let gas = sent.last().map_or(0, |s| s.gas_limit);
                // Out of gas with a limit from another task of the same shape (its hook may
                // charge differently): estimate afresh next time.
                if receipt.gas_used >= gas * 95 / 100 {
                    *self.gas_cell(&shape).lock().await = None;
                }
                let reason = self
                    .revert_reason(&request, receipt.block_number)
                    .await
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default();
                sent.clear();
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
            if let Some(landed) = self.mined_verdict(mailbox, task).await? {
                return Ok(landed);
            }
            let Some(last) = sent.last().cloned() else {
                return Err(AggregatorError::Expired(task));
            };
            let (max_fee, tip) = replacement_fees(
                last.max_fee_per_gas,
                last.max_priority_fee_per_gas,
                self.config.fee_bump_percent,
            );
            info!(target: "ponos::aggregator", chain = id, %task, nonce = last.nonce, max_fee, tip, "not mined in time: replacing with higher fees");
            let replacement = self
                .sign(&request, last.nonce, last.gas_limit, max_fee, tip)
                .await?;
            sent.push(replacement.clone());
            journal(sent)?;
            self.may_send(task)?;
            if let Err(error) = self.provider.send_raw_transaction(&replacement.raw).await {
                warn!(target: "ponos::aggregator", chain = id, %task, %error, "replacement not accepted; waiting for the earlier transaction");
            }
        }
    }

    /// Where the transactions of a previous run are: mined (with the receipt), in the pool,
    /// lost with their nonce still free, or lost with their nonce taken by another.
    async fn recover(
        &self,
        sent: &[SubmissionRecord],
    ) -> Result<(Recovery, Option<(B256, TransactionReceipt)>), AggregatorError> {
        let id = self.chain_id;
        let Some(last) = sent.last() else {
            return Ok((Recovery::Resign, None));
        };
        self.floor_nonce(last.nonce + 1).await;
        if let Some(mined) = self.mined_receipt(sent).await? {
            return Ok((Recovery::Mined, Some(mined)));
        }
        let mut in_pool = false;
        for record in sent {
            if self
                .provider
                .get_transaction_by_hash(record.hash)
                .await
                .map_err(|e| AggregatorError::rpc(id, "looking for a transaction", e))?
                .is_some()
            {
                in_pool = true;
                break;
            }
        }
        let mined_nonce = self
            .provider
            .get_transaction_count(self.from)
            .latest()
            .await
            .map_err(|e| AggregatorError::rpc(id, "reading the nonce", e))?;
        let nonce_used = mined_nonce > last.nonce;
        // Mined between the receipt look-up and the nonce read?
        if nonce_used
            && !in_pool
            && let Some(mined) = self.mined_receipt(sent).await?
        {
            return Ok((Recovery::Mined, Some(mined)));
        }
        Ok((retry::recovery(false, in_pool, nonce_used), None))
    }

    /// The receipt of whichever of `sent` is mined.
    async fn mined_receipt(
        &self,
        sent: &[SubmissionRecord],
    ) -> Result<Option<(B256, TransactionReceipt)>, AggregatorError> {
        for record in sent {
            if let Some(receipt) = self
                .provider
                .get_transaction_receipt(record.hash)
                .await
                .map_err(|e| AggregatorError::rpc(self.chain_id, "reading a receipt", e))?
            {
                return Ok(Some((record.hash, receipt)));
            }
        }
        Ok(None)
    }

    /// Signs `request` at `nonce` with the given gas and fees.
    async fn sign(
        &self,
        request: &TransactionRequest,
        nonce: u64,
        gas_limit: u64,
        max_fee_per_gas: u128,
        max_priority_fee_per_gas: u128,
    ) -> Result<SubmissionRecord, AggregatorError> {
        let envelope = request
            .clone()
            .with_nonce(nonce)
            .with_gas_limit(gas_limit)
            .with_max_fee_per_gas(max_fee_per_gas)
            .with_max_priority_fee_per_gas(max_priority_fee_per_gas)
            .with_chain_id(self.chain_id)
            .build(&self.wallet)
            .await
            .map_err(|e| AggregatorError::rpc(self.chain_id, "signing submitResult", e))?;
        let raw = Bytes::from(envelope.encoded_2718());
        Ok(SubmissionRecord {
            hash: keccak256(&raw),
            nonce,
            max_fee_per_gas,
            max_priority_fee_per_gas,
            gas_limit,
            raw,
        })
    }

    /// The gas limit for `request`: the estimate of its shape, or a fresh one. The estimate
    /// runs against pending state (the next block's timestamp is what the mailbox checks),
    /// which may already hold a submission of this task by someone else: a revert there is no
    /// verdict, and the caller tries again while the mined status says the task is open.
    async fn gas_limit(
        &self,
        request: &TransactionRequest,
        shape: &(Address, usize, usize),
        task: B256,
    ) -> Result<u64, AggregatorError> {
        let cell = self.gas_cell(shape);
        let mut known = cell.lock().await;
        if let Some(gas) = *known {
            return Ok(gas);
        }
        let estimated = self
            .provider
            .estimate_gas(request.clone())
            .await
            .map_err(|e| {
                AggregatorError::rpc(
                    self.chain_id,
                    format!("estimating gas for submitResult of task {task}"),
                    e,
                )
            })?;
        let gas = estimated + estimated * self.config.gas_margin_percent / 100;
        *known = Some(gas);
        Ok(gas)
    }

    /// Waits until one of `hashes` is mined (or `until`): the block scanner reports receipts as
    /// blocks arrive, one `eth_getBlockReceipts` per block however many transactions wait.
    /// `registered` is the channel of hashes registered before they were broadcast (the
    /// scanner cannot miss those); others are registered now and looked for once directly.
    async fn wait_for_receipts(
        &self,
        hashes: &[B256],
        until: Instant,
        registered: Option<mpsc::Receiver<(B256, TransactionReceipt)>>,
    ) -> Result<Option<(B256, TransactionReceipt)>, AggregatorError> {
        let look = registered.is_none();
        let mut rx = registered.unwrap_or_else(|| self.receipts.register(hashes));
        self.receipts
            .ensure_scanning(&self.provider, self.chain_id, self.config.poll_interval);
        // A receipt mined before the registration is not reported: look once directly.
        let mut found = None;
        for hash in hashes.iter().filter(|_| look) {
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
        self.receipts.unregister(hashes);
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

    /// The gas estimate cell of `shape`.
    fn gas_cell(&self, shape: &(Address, usize, usize)) -> GasCell {
        self.gas_estimates
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(*shape)
            .or_default()
            .clone()
    }

    async fn take_nonce(&self) -> Result<u64, AggregatorError> {
        let mut nonces = self.nonces.lock().await;
        let next = match nonces.next {
            Some(nonce) => nonce,
            None => self
                .provider
                .get_transaction_count(self.from)
                .pending()
                .await
                .map_err(|e| AggregatorError::rpc(self.chain_id, "reading the nonce", e))?,
        }
        .max(nonces.floor);
        nonces.next = Some(next + 1);
        Ok(next)
    }

    /// Counts nonces from the node again at the next send.
    async fn reset_nonce(&self) {
        self.nonces.lock().await.next = None;
    }

    /// Never hands out a nonce below `floor`: the ones under it belong to recorded
    /// transactions that may still be broadcast again.
    pub async fn floor_nonce(&self, floor: u64) {
        let mut nonces = self.nonces.lock().await;
        nonces.floor = nonces.floor.max(floor);
    }

    /// On a development chain: makes sure the next block is stamped after `created_at`,
    /// never asking for a timestamp more than [`MAX_LEAD_SECS`] ahead of the wall clock. A
    /// task whose block is already that far ahead waits for the wall clock instead: without
    /// the bound every stamp would move the chain's clock further ahead, and SLAs would run
    /// out faster than real time under load.
    async fn stamp_next_block_after(&self, created_at: u64) -> Result<(), AggregatorError> {
        let mut stamped = self.stamped.lock().await;
        if *stamped > created_at {
            return Ok(());
        }
        let wanted = created_at + 1;
        let allowed_from_ms = wanted.saturating_sub(MAX_LEAD_SECS) * 1000;
        let wall_ms = crate::watcher::now_ms();
        if wall_ms < allowed_from_ms {
            tokio::time::sleep(Duration::from_millis(allowed_from_ms - wall_ms)).await;
        }
        let latest = self
            .provider
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .map_err(|e| AggregatorError::rpc(self.chain_id, "reading the latest block", e))?
            .map_or(0, |b| b.header.timestamp);
        if latest > created_at {
            return Ok(());
        }
        // Once the wall clock has passed `wanted`, stamping it brings the chain back to wall
        // time (the node keeps the offset of the last stamp for the blocks after it).
        let next = wanted.max(crate::watcher::now_ms() / 1000);
        let _: serde_json::Value = self
            .provider
            .raw_request("evm_setNextBlockTimestamp".into(), (next,))
            .await
            .map_err(|e| AggregatorError::rpc(self.chain_id, "stamping the next block", e))?;
        *stamped = next;
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

/// The fees of a replacement for a transaction sent with `max_fee` and `tip`: each raised by at
/// least `bump_percent` (rounded up) and by at least one wei, as nodes require of a replacement
/// (geth and reth refuse less than 10%), and the fee cap never below the tip.
fn replacement_fees(max_fee: u128, tip: u128, bump_percent: u128) -> (u128, u128) {
    let bump =
        |fee: u128| fee.saturating_add(fee.saturating_mul(bump_percent).div_ceil(100).max(1));
    let tip = bump(tip);
    (bump(max_fee).max(tip), tip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_replacement_raises_both_fees_by_the_bump_at_least() {
        // 20% of each, rounded up.
        assert_eq!(replacement_fees(100, 10, 20), (120, 12));
        assert_eq!(replacement_fees(101, 11, 20), (122, 14));
        // Tiny fees still rise; the cap follows a tip that overtakes it.
        assert_eq!(replacement_fees(1, 0, 20), (2, 1));
        assert_eq!(replacement_fees(10, 10, 50), (15, 15));
        // Three replacements in a row: a schedule that compounds, never stalls.
        let mut fees = (30_000_000_000, 1_000_000_000);
        let mut schedule = Vec::new();
        for _ in 0..3 {
            fees = replacement_fees(fees.0, fees.1, 10);
            schedule.push(fees);
        }
        assert_eq!(
            schedule,
            [
                (33_000_000_000, 1_100_000_000),
                (36_300_000_000, 1_210_000_000),
                (39_930_000_000, 1_331_000_000)
            ]
        );
        assert_eq!(
            replacement_fees(u128::MAX, u128::MAX, 20),
            (u128::MAX, u128::MAX)
        );
    }

    #[test]
    fn only_the_mined_status_is_a_verdict() {
        let task = B256::repeat_byte(7);
        assert!(matches!(verdict(OnchainStatus::Created, task, 1), Ok(None)));
        assert!(matches!(
            verdict(OnchainStatus::Verified, task, 1),
            Ok(Some(Landed::AlreadyVerified))
        ));
        assert!(matches!(
            verdict(OnchainStatus::Expired, task, 1),
            Err(AggregatorError::Expired(t)) if t == task
        ));
        assert!(matches!(
            verdict(OnchainStatus::None, task, 1),
            Err(AggregatorError::Contract { .. })
        ));
    }
}
