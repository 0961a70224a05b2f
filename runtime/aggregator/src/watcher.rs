//! One watcher per chain, shared by every AVS: it follows the head (minus the configured
//! confirmations), scans new blocks with range `eth_getLogs` for the mailbox's `TaskCreated`
//! events, stores each new task before it moves on, and notices reorgs by comparing the hash of
//! the last block it processed with the chain's. A reorg withdraws the tasks above the common
//! ancestor; the blocks after it are scanned again.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use alloy::{primitives::B256, providers::Provider, rpc::types::Filter, sol_types::SolEvent};
use ponos_chain::contracts::TaskMailbox;
use ponos_store::{AggregatorStore, TaskRecord, TaskStatus};
use tokio::sync::{mpsc, watch};
use tracing::{debug, info, warn};

use crate::{AggregatorError, chain::TaskChain, metrics::AggregatorMetrics};

/// The AVSs served, read by the watchers on every scan (AVSs registered at run time are added by
/// the aggregator).
pub(crate) type AvsSet =
    std::sync::Arc<std::sync::RwLock<std::collections::HashSet<alloy::primitives::Address>>>;

/// What a watcher reports.
#[derive(Debug, Clone)]
pub enum ChainEvent {
    /// New tasks, already stored as pending.
    Created(Vec<TaskRecord>),
    /// The blocks of `chain_id` above `ancestor` were reorganised away.
    Reorg {
        /// The chain.
        chain_id: u64,
        /// The highest block still canonical.
        ancestor: u64,
    },
}

/// Follows new heads over a WebSocket subscription and wakes the watcher on each; reconnects
/// with backoff. `live` says whether the subscription stands: the watcher then reads only when
/// a head arrives (no call at all while no block is mined), else it polls at its interval, so
/// a dropped subscription costs latency, never tasks. The WebSocket's own pings (not JSON-RPC
/// calls) notice a connection that died; its end wakes the watcher and polling resumes.
async fn follow_heads(
    chain_id: u64,
    url: String,
    heads: Arc<tokio::sync::Notify>,
    live: Arc<std::sync::atomic::AtomicBool>,
    metrics: Arc<AggregatorMetrics>,
) {
    use alloy::providers::{ProviderBuilder, WsConnect};
    use backon::BackoffBuilder as _;
    use std::sync::atomic::Ordering;
    let reconnects = backon::ExponentialBuilder::new()
        .with_min_delay(Duration::from_millis(500))
        .with_max_delay(Duration::from_secs(30))
        .with_jitter()
        .without_max_times();
    let mut waits = reconnects.build();
    loop {
        match ProviderBuilder::new()
            .connect_ws(WsConnect::new(url.clone()))
            .await
        {
            Ok(provider) => match provider.subscribe_blocks().await {
                Ok(subscription) => {
                    waits = reconnects.build();
                    debug!(target: "ponos::aggregator", chain = chain_id, "following new heads over WebSocket");
                    let mut stream = subscription.into_stream();
                    use tokio_stream::StreamExt as _;
                    live.store(true, Ordering::SeqCst);
                    metrics.heads_subscribed(chain_id, true);
                    while stream.next().await.is_some() {
                        heads.notify_one();
                    }
                    live.store(false, Ordering::SeqCst);
                    metrics.heads_subscribed(chain_id, false);
                    // Blocks may have come while nobody listened.
                    heads.notify_one();
                    warn!(target: "ponos::aggregator", chain = chain_id, "new-head subscription ended; reconnecting");
                }
                Err(error) => {
                    warn!(target: "ponos::aggregator", chain = chain_id, %error, "subscribing to new heads");
                }
            },
            Err(error) => {
                warn!(target: "ponos::aggregator", chain = chain_id, %error, "connecting over WebSocket");
            }
        }
        tokio::time::sleep(waits.next().unwrap_or(Duration::from_secs(30))).await;
    }
}

/// Milliseconds since the epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64
}

/// Follows one chain.
#[derive(Debug)]
pub struct Watcher<S> {
    chain: Arc<TaskChain>,
    store: Arc<S>,
    metrics: Arc<AggregatorMetrics>,
    cursor: Option<(u64, B256)>,
    avss: Option<AvsSet>,
    /// The head the last tick saw.
    last_head: Option<u64>,
    /// Where each head read goes, for others that follow the chain.
    heads: Option<watch::Sender<u64>>,
}

impl<S: AggregatorStore> Watcher<S> {
    /// A watcher of `chain` that resumes from the store's last block for it.
    pub fn new(chain: Arc<TaskChain>, store: Arc<S>, metrics: Arc<AggregatorMetrics>) -> Self {
        Self {
            chain,
            store,
            metrics,
            cursor: None,
            avss: None,
            last_head: None,
            heads: None,
        }
    }

    /// Publishes every head it reads on `heads` (changes only).
    pub fn publishing_heads(mut self, heads: watch::Sender<u64>) -> Self {
        self.heads = Some(heads);
        self
    }

    /// Records only the tasks of the AVSs in `avss` (read on every scan, so AVSs can be
    /// registered at run time). Without it, every task of the mailbox is recorded.
    pub fn serving(mut self, avss: AvsSet) -> Self {
        self.avss = Some(avss);
        self
    }

    /// Runs until `shutdown` turns true or the receiver of `events` is gone.
    pub async fn run(
        mut self,
        events: mpsc::Sender<ChainEvent>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let id = self.chain.id();
        let heads = Arc::new(tokio::sync::Notify::new());
        let live = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let subscription = self.chain.config.ws_url.clone().map(|url| {
            self.metrics.heads_subscribed(id, false);
            tokio::spawn(follow_heads(
                id,
                url,
                heads.clone(),
                live.clone(),
                self.metrics.clone(),
            ))
        });
        let mut failures = 0u32;
        // Whether a new head (or a start, or an error) woke this tick: then the last block is
        // checked for a reorg even if the head number did not move.
        let mut woken = true;
        loop {
            if *shutdown.borrow() {
                break;
            }
            let wait = match self.step(woken).await {
                Ok((found, caught_up)) => {
                    failures = 0;
                    for event in found {
                        if events.send(event).await.is_err() {
                            break;
                        }
                    }
                    if !caught_up {
                        Some(Duration::ZERO)
                    } else if live.load(std::sync::atomic::Ordering::SeqCst) {
                        // Each new head wakes the watcher; with none, there is nothing to read.
                        None
                    } else {
                        Some(self.chain.config.poll_interval)
                    }
                }
                Err(error) => {
                    failures += 1;
                    self.metrics.rpc_errors.inc();
                    warn!(target: "ponos::aggregator", chain = id, %error, "watching the chain");
                    // Back off up to 30 s while the endpoint is down.
                    Some(
                        (self.chain.config.poll_interval * 2u32.saturating_pow(failures.min(5)))
                            .min(Duration::from_secs(30)),
                    )
                }
            };
            woken = wait == Some(Duration::ZERO) || failures > 0;
            if wait == Some(Duration::ZERO) {
                continue;
            }
            let poll = async {
                match wait {
                    Some(wait) => tokio::time::sleep(wait).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = poll => {}
                _ = heads.notified() => woken = true,
                _ = shutdown.changed() => {}
            }
        }
        if let Some(subscription) = subscription {
            subscription.abort();
        }
    }

    /// One step: reorg check, then at most one range of blocks. Returns the events and whether
    /// the watcher has caught up with the head.
    pub async fn tick(&mut self) -> Result<(Vec<ChainEvent>, bool), AggregatorError> {
        self.step(true).await
    }

    /// [`tick`](Self::tick), where a quiet poll (`woken` false) with the head where the last
    /// step left it costs one call: nothing was mined, so nothing was reorganised either (a
    /// new head at the same height comes with a head notification, or with the next block).
    async fn step(&mut self, woken: bool) -> Result<(Vec<ChainEvent>, bool), AggregatorError> {
        let id = self.chain.id();
        let provider = &self.chain.provider;
        let config = &self.chain.config;
        let mut events = Vec::new();

        if self.cursor.is_none() {
            self.cursor = self.store.last_block(id)?;
        }
        let head = provider
            .get_block_number()
            .await
            .map_err(|e| AggregatorError::rpc(id, "reading the head", e))?;
        let safe = head.saturating_sub(config.confirmations);
        let unmoved = self.last_head.replace(head) == Some(head);
        if let Some(heads) = &self.heads {
            heads.send_if_modified(|last| std::mem::replace(last, head) != head);
        }
        if !woken && unmoved && self.cursor.is_some_and(|(number, _)| number >= safe) {
            return Ok((events, true));
        }

        if let Some((number, hash)) = self.cursor
            && self.block_hash(number).await? != Some(hash)
        {
            let ancestor = self.common_ancestor(number).await?;
            warn!(target: "ponos::aggregator", chain = id, from = number, ancestor = ancestor.0, "reorg: withdrawing tasks above the common ancestor");
            self.metrics.reorgs.inc();
            self.store.remove_blocks_above(id, ancestor.0)?;
            self.cursor = Some(ancestor);
            events.push(ChainEvent::Reorg {
                chain_id: id,
                ancestor: ancestor.0,
            });
        }

        let from = match self.cursor {
            Some((number, _)) => number + 1,
            None => config.start_block.unwrap_or(safe),
        };
        if from > safe {
            return Ok((events, true));
        }
        let to = safe.min(from + config.max_block_range.max(1) - 1);
        let Some(to_hash) = self.block_hash(to).await? else {
            // The head moved back under us; the next tick sorts it out.
            return Ok((events, true));
        };

        let mut filter = Filter::new()
            .address(config.task_mailbox)
            .event_signature(TaskMailbox::TaskCreated::SIGNATURE_HASH)
            .from_block(from)
            .to_block(to);
        let served: Option<Vec<B256>> = self.avss.as_ref().map(|avss| {
            avss.read()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .map(|a| a.into_word())
                .collect()
        });
        let logs = match served {
            // Nobody to serve: nothing to ask for, but the blocks still count as scanned.
            Some(avss) if avss.is_empty() => Vec::new(),
            served => {
                if let Some(avss) = served {
                    filter = filter.topic3(avss);
                }
                provider.get_logs(&filter).await.map_err(|e| {
                    AggregatorError::rpc(id, format!("eth_getLogs {from}..={to}"), e)
                })?
            }
        };

        let mut timestamps: HashMap<u64, u64> = HashMap::new();
        let mut task_blocks: std::collections::BTreeMap<u64, B256> = Default::default();
        let mut created = Vec::new();
        for log in logs {
            let (Some(block_number), Some(block_hash)) = (log.block_number, log.block_hash) else {
                continue;
            };
            if log.removed {
                continue;
            }
            let event = match log.log_decode::<TaskMailbox::TaskCreated>() {
                Ok(event) => event.inner.data,
                Err(error) => {
                    warn!(target: "ponos::aggregator", chain = id, %error, "skipping an undecodable TaskCreated log");
                    continue;
                }
            };
            let block_timestamp = match log
                .block_timestamp
                .or_else(|| timestamps.get(&block_number).copied())
            {
                Some(ts) => ts,
                None => {
                    let ts = self.block_timestamp(block_number).await?;
                    timestamps.insert(block_number, ts);
                    ts
                }
            };
            let now = now_ms();
            let record = TaskRecord {
                task_hash: event.taskHash,
                chain_id: id,
                mailbox: config.task_mailbox,
                avs: event.avs,
                operator_set_id: event.executorOperatorSetId,
                reference_timestamp: event.operatorTableReferenceTimestamp,
                payload: event.payload,
                block_number,
                block_hash,
                block_timestamp,
                deadline: event.taskDeadline.saturating_to(),
                status: TaskStatus::Pending,
                seen_at_ms: now,
                updated_at_ms: now,
                tx_hash: None,
                error: None,
                certificate: None,
                result: None,
                answers: Vec::new(),
                submissions: Vec::new(),
            };
            // A task seen before stays as it is, unless its block was reorganised away and it
            // came back in the new chain.
            match self.store.task(record.task_hash)? {
                Some(known) if known.status != TaskStatus::Withdrawn => continue,
                _ => {}
            }
            self.store.put_task(&record)?;
            task_blocks.insert(block_number, block_hash);
            debug!(target: "ponos::aggregator", chain = id, task = %record.task_hash, block = block_number, "task created");
            created.push(record);
        }
        // Blocks are recorded only once every task in them is: the last recorded block is where
        // a restart resumes, and a block recorded half-way would lose the rest of its tasks.
        for (number, hash) in task_blocks {
            self.store.put_block(id, number, hash)?;
        }
        self.store.put_block(id, to, to_hash)?;
        self.store
            .prune_blocks_below(id, to.saturating_sub(config.reorg_window))?;
        self.cursor = Some((to, to_hash));
        self.metrics.chain_head(id, to);
        if !created.is_empty() {
            info!(target: "ponos::aggregator", chain = id, tasks = created.len(), blocks = %format!("{from}..={to}"), "found tasks");
            events.push(ChainEvent::Created(created));
        }
        Ok((events, to >= safe))
    }

    async fn block_hash(&self, number: u64) -> Result<Option<B256>, AggregatorError> {
        let block = self
            .chain
            .provider
            .get_block_by_number(number.into())
            .await
            .map_err(|e| {
                AggregatorError::rpc(self.chain.id(), format!("reading block {number}"), e)
            })?;
        Ok(block.map(|b| b.header.hash))
    }

    async fn block_timestamp(&self, number: u64) -> Result<u64, AggregatorError> {
        let block = self
            .chain
            .provider
            .get_block_by_number(number.into())
            .await
            .map_err(|e| {
                AggregatorError::rpc(self.chain.id(), format!("reading block {number}"), e)
            })?
            .ok_or_else(|| {
                AggregatorError::rpc(
                    self.chain.id(),
                    format!("reading block {number}"),
                    "no such block",
                )
            })?;
        Ok(block.header.timestamp)
    }

    /// The highest remembered block below `number` that is still canonical (or the block
    /// below the oldest remembered one, when none is).
    async fn common_ancestor(&self, number: u64) -> Result<(u64, B256), AggregatorError> {
        let id = self.chain.id();
        let remembered = self.store.blocks_from(id, 0)?;
        for (n, hash) in remembered.iter().rev().filter(|(n, _)| *n < number) {
            if self.block_hash(*n).await? == Some(*hash) {
                return Ok((*n, *hash));
            }
        }
        let below = remembered
            .first()
            .map_or(number, |(n, _)| *n)
            .saturating_sub(1);
        let hash = self.block_hash(below).await?.unwrap_or_default();
        Ok((below, hash))
    }
}
