//! The pipeline: watchers feed tasks in, each task runs in its own session under a concurrency
//! bound and with its own deadline, certificates go to the task chain's sender, and every step
//! is recorded in the store. A restart resumes what was open: pending and processing tasks are
//! run again, submitted ones are checked on chain and resubmitted from the stored certificate.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::{Arc, Mutex, RwLock, atomic::Ordering},
    time::{Duration, Instant},
};

use alloy::{
    primitives::{Address, B256},
    signers::local::PrivateKeySigner,
};
use ponos_store::{AggregatorStore, OperatorAnswer, SubmissionRecord, TaskRecord, TaskStatus};
use tokio::{
    sync::{Semaphore, broadcast, mpsc, watch},
    task::{AbortHandle, JoinHandle, JoinSet},
};
use tracing::{info, warn};

use crate::{
    AggregatorError, TaskUpdate,
    chain::TaskChain,
    identity::{self, Identities, IdentityError},
    leadership::Leadership,
    metrics::{AggregatorMetrics, Stage},
    pool::{ExecutorPool, ExecutorTls},
    retry::Backoff,
    sender::{Landed, SenderConfig, TxSender},
    session::{self, SessionContext},
    view::{L1, OperatorSetView, OperatorViews},
    watcher::{AvsSet, ChainEvent, Watcher, now_ms},
};

/// What the aggregator runs with.
#[derive(Debug)]
pub struct AggregatorConfig {
    /// Where operator sets are read.
    pub l1: L1,
    /// The chains whose mailboxes are watched (the L1 too, when tasks are created there).
    pub chains: Vec<TaskChain>,
    /// The aggregator's identity towards executors: a default, and AVSs with their own.
    pub identities: Identities,
    /// The key that signs `submitResult` transactions (each is recorded before it is sent).
    pub tx_signer: PrivateKeySigner,
    /// The AVSs served from the start (more can be registered at run time).
    pub avss: Vec<Address>,
    /// Tasks run at once, at most.
    pub max_concurrent_tasks: usize,
    /// Results larger than this are refused.
    pub max_result_bytes: usize,
    /// How transactions are sent.
    pub sender: SenderConfig,
    /// Time kept for landing the certificate: collection stops this long before the deadline.
    pub submission_margin: Duration,
    /// How executors registered with `https://` sockets are checked.
    pub executor_tls: ExecutorTls,
    /// For an instance sharing its store with standbys: the lease it holds. Nothing is sent
    /// once it lapses (the store refuses writes on its own). `None` for a single instance.
    pub leadership: Option<Arc<Leadership>>,
}

struct Inner<S> {
    chains: HashMap<u64, Arc<TaskChain>>,
    senders: HashMap<u64, TxSender>,
    views: OperatorViews,
    store: Arc<S>,
    avss: AvsSet,
    /// AVSs configured or registered but not served, and why.
    unserved: RwLock<BTreeMap<Address, String>>,
    l1: crate::view::L1,
    ctx: SessionContext,
    limit: Arc<Semaphore>,
    sessions: Mutex<HashMap<B256, (u64, u64, AbortHandle)>>,
    metrics: Arc<AggregatorMetrics>,
    submission_margin: Duration,
}

/// The aggregator.
#[derive(Debug)]
pub struct Aggregator;

/// A running aggregator.
pub struct AggregatorHandle<S> {
    inner: Arc<Inner<S>>,
    shutdown: watch::Sender<bool>,
    tasks: Mutex<Option<(JoinSet<()>, JoinHandle<()>)>>,
}

impl<S> std::fmt::Debug for AggregatorHandle<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AggregatorHandle")
            .field("chains", &self.inner.chains.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Aggregator {
    /// Starts the pipeline: resumes the store's open tasks, then watches every chain.
    pub async fn start<S: AggregatorStore>(
        config: AggregatorConfig,
        store: Arc<S>,
    ) -> Result<AggregatorHandle<S>, AggregatorError> {
        if config.chains.is_empty() {
            return Err(AggregatorError::Config("no chains to watch".into()));
        }
        let metrics = Arc::new(AggregatorMetrics::default());
        let mut chains = HashMap::new();
        let mut senders = HashMap::new();
        for chain in config.chains {
            let id = chain.id();
            let sender = SenderConfig {
                stamp_later_blocks: config.sender.stamp_later_blocks || chain.config.development,
                ..config.sender
            };
            senders.insert(
                id,
                TxSender::new(
                    id,
                    chain.provider.clone(),
                    config.tx_signer.clone(),
                    sender,
                    metrics.clone(),
                )
                .led_by(config.leadership.clone()),
            );
            if chains.insert(id, Arc::new(chain)).is_some() {
                return Err(AggregatorError::Config(format!(
                    "chain {id} is configured twice"
                )));
            }
        }
        let l1_provider = config.l1.provider.clone();
        // Serve only the AVSs whose aggregator set holds this aggregator's key.
        let mut served = HashSet::new();
        let mut unserved = BTreeMap::new();
        for avs in config.avss {
            match checked(&config.l1, &config.identities, avs).await {
                Ok(()) => {
                    served.insert(avs);
                }
                Err(reason) => {
                    unserved.insert(avs, reason);
                }
            }
        }
        let l1 = config.l1.clone();
        let inner = Arc::new(Inner {
            chains,
            senders,
            views: OperatorViews::new(config.l1),
            store,
            avss: Arc::new(RwLock::new(served)),
            unserved: RwLock::new(unserved),
            l1,
            ctx: SessionContext {
                identities: Arc::new(config.identities),
                pool: Arc::new(ExecutorPool::new(config.executor_tls)),
                l1: l1_provider,
                max_result_bytes: config.max_result_bytes,
                metrics: metrics.clone(),
                updates: broadcast::channel(crate::updates::CAPACITY).0,
            },
            limit: Arc::new(Semaphore::new(config.max_concurrent_tasks.max(1))),
            sessions: Mutex::default(),
            metrics,
            submission_margin: config.submission_margin,
        });

        // Resume what a previous run left open.
        let open = inner.store.tasks_with_status(&[
            TaskStatus::Pending,
            TaskStatus::Processing,
            TaskStatus::Submitted,
        ])?;
        if !open.is_empty() {
            info!(target: "ponos::aggregator", tasks = open.len(), "resuming open tasks");
        }
        // Nonces of transactions recorded before the restart are not handed out again: those
        // transactions may still be waiting in a pool, or be broadcast again.
        for task in &open {
            if let (Some(sender), Some(last)) = (
                inner.senders.get(&task.chain_id),
                task.submissions.iter().map(|s| s.nonce).max(),
            ) {
                sender.floor_nonce(last + 1).await;
            }
        }
        for task in open {
            if inner.chains.contains_key(&task.chain_id) {
                spawn_task(&inner, task);
            }
        }

        let (shutdown, stopped) = watch::channel(false);
        let (events_tx, mut events_rx) = mpsc::channel(1024);
        let mut tasks = JoinSet::new();
        // When L1 is also a task chain, its watcher's heads drive the socket follower.
        let l1_id = inner.views.l1().chain_id;
        let mut l1_heads = None;
        for chain in inner.chains.values() {
            let mut watcher =
                Watcher::new(chain.clone(), inner.store.clone(), inner.metrics.clone())
                    .serving(inner.avss.clone());
            if chain.id() == l1_id {
                let (heads, followed) = watch::channel(0);
                watcher = watcher.publishing_heads(heads);
                l1_heads = Some(followed);
            }
            tasks.spawn(watcher.run(events_tx.clone(), stopped.clone()));
        }
        drop(events_tx);
        let poll = inner
            .chains
            .values()
            .map(|c| c.config.poll_interval)
            .min()
            .unwrap_or(Duration::from_secs(1))
            .max(Duration::from_millis(50));
        tasks.spawn(follow_sockets(inner.clone(), poll, l1_heads, stopped));
        let loop_inner = inner.clone();
        let events = tokio::spawn(async move {
            while let Some(event) = events_rx.recv().await {
                match event {
                    ChainEvent::Created(found) => {
                        for task in found {
                            loop_inner.metrics.tasks_seen.inc();
                            loop_inner.metrics.stage(
                                Stage::Discovery,
                                Duration::from_millis(
                                    task.seen_at_ms.saturating_sub(task.block_timestamp * 1000),
                                ),
                            );
                            spawn_task(&loop_inner, task);
                        }
                    }
                    ChainEvent::Reorg { chain_id, ancestor } => {
                        if let Err(error) = withdraw(&loop_inner, chain_id, ancestor) {
                            warn!(target: "ponos::aggregator", %error, "withdrawing reorganised tasks");
                        }
                    }
                }
            }
        });
        Ok(AggregatorHandle {
            inner,
            shutdown,
            tasks: Mutex::new(Some((tasks, events))),
        })
    }
}

impl<S: AggregatorStore> AggregatorHandle<S> {
    /// Updates on tasks as they run: operator failures, stalled tasks, ends.
    pub fn subscribe(&self) -> broadcast::Receiver<TaskUpdate> {
        self.inner.ctx.updates.subscribe()
    }

    /// Reads (and keeps) the view of `avs`'s operator set `set` that tasks on chain `chain_id`
    /// pinned at `reference_timestamp` are served with, as the first such task would. Tasks
    /// never need it done first; a devnet does it as it starts, while its chains still hold
    /// the reference block's state. `false` when the aggregator does not watch `chain_id`.
    pub async fn load_operator_set(
        &self,
        chain_id: u64,
        avs: Address,
        set: u32,
        reference_timestamp: u32,
    ) -> Result<bool, AggregatorError> {
        let Some(chain) = self.inner.chains.get(&chain_id) else {
            return Ok(false);
        };
        self.inner
            .views
            .get(chain, avs, set, reference_timestamp)
            .await?;
        Ok(true)
    }

    /// Starts serving `avs` (its tasks from now on are picked up) once L1 confirms its
    /// aggregator set holds this aggregator's key; `Ok(false)` when it was served already, the
    /// reason it cannot be served otherwise.
    pub async fn register_avs(&self, avs: Address) -> Result<bool, String> {
        if let Err(reason) = checked(&self.inner.l1, &self.inner.ctx.identities, avs).await {
            self.inner
                .unserved
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .insert(avs, reason.clone());
            return Err(reason);
        }
        self.inner
            .unserved
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&avs);
        Ok(self
            .inner
            .avss
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(avs))
    }

    /// The AVSs configured or registered that are not served, with the reason of each.
    pub fn unserved(&self) -> Vec<(Address, String)> {
        self.inner
            .unserved
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(avs, reason)| (*avs, reason.clone()))
            .collect()
    }

    /// Stops picking up tasks of `avs`; sessions already running finish.
    pub fn deregister_avs(&self, avs: Address) -> bool {
        self.inner
            .avss
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&avs)
    }

    /// The AVSs served.
    pub fn avss(&self) -> Vec<Address> {
        let mut avss: Vec<_> = self
            .inner
            .avss
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .copied()
            .collect();
        avss.sort();
        avss
    }

    /// The store.
    pub fn store(&self) -> &Arc<S> {
        &self.inner.store
    }

    /// The metrics.
    pub fn metrics(&self) -> &Arc<AggregatorMetrics> {
        &self.inner.metrics
    }

    /// The Prometheus text of every metric.
    pub fn render_metrics(&self) -> String {
        let counts: BTreeMap<&'static str, u64> = self
            .inner
            .store
            .status_counts()
            .unwrap_or_default()
            .into_iter()
            .map(|(status, n)| (status.as_str(), n))
            .collect();
        let mut out = self.inner.metrics.render(&counts);
        ponos_metrics::header(
            &mut out,
            "ponos_aggregator_avs_unserved",
            "gauge",
            "AVSs configured or registered but not served (their aggregator set does not hold this aggregator's key).",
        );
        for (avs, _) in self.unserved() {
            ponos_metrics::sample(
                &mut out,
                "ponos_aggregator_avs_unserved",
                &format!("avs=\"{avs:#x}\""),
                1,
            );
        }
        out
    }

    /// Sessions running now.
    pub fn running(&self) -> usize {
        self.inner
            .sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// Stops watching, lets running sessions finish for up to `grace`, then stops them (they
    /// resume from the store on the next start).
    pub async fn shutdown(&self, grace: Duration) {
        let _ = self.shutdown.send(true);
        let tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some((mut watchers, events)) = tasks {
            while watchers.join_next().await.is_some() {}
            let _ = events.await;
        }
        let until = Instant::now() + grace;
        while self.running() > 0 && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.abort_sessions();
    }

    /// Stops everything at once, writing nothing, as a crash would.
    pub fn kill(self) {
        self.abort();
    }

    /// Stops everything at once, writing nothing more (an instance that lost its lease).
    pub fn abort(&self) {
        if let Some((mut watchers, events)) =
            self.tasks.lock().unwrap_or_else(|e| e.into_inner()).take()
        {
            watchers.abort_all();
            events.abort();
        }
        self.abort_sessions();
    }

    /// The chain ids watched.
    pub fn chain_ids(&self) -> Vec<u64> {
        let mut ids: Vec<u64> = self.inner.chains.keys().copied().collect();
        ids.sort_unstable();
        ids
    }

    fn abort_sessions(&self) {
        let sessions = std::mem::take(
            &mut *self
                .inner
                .sessions
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        for (_, (_, _, handle)) in sessions {
            handle.abort();
        }
    }
}

/// Marks the open tasks of `chain_id` above `ancestor` as withdrawn and stops their sessions.
fn withdraw<S: AggregatorStore>(
    inner: &Arc<Inner<S>>,
    chain_id: u64,
    ancestor: u64,
) -> Result<(), AggregatorError> {
    {
        let mut sessions = inner.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions.retain(|_, (chain, block, handle)| {
            let orphaned = *chain == chain_id && *block > ancestor;
            if orphaned {
                handle.abort();
            }
            !orphaned
        });
    }
    // A task that failed because its block vanished under it (reads at a block that no longer
    // exists) was withdrawn, not failed.
    let open = inner.store.tasks_with_status(&[
        TaskStatus::Pending,
        TaskStatus::Processing,
        TaskStatus::Submitted,
        TaskStatus::Failed,
    ])?;
    for mut task in open
        .into_iter()
        .filter(|t| t.chain_id == chain_id && t.block_number > ancestor)
    {
        info!(target: "ponos::aggregator", task = %task.task_hash, chain = chain_id, block = task.block_number, "withdrawn: its block was reorganised away");
        task.status = TaskStatus::Withdrawn;
        task.updated_at_ms = now_ms();
        task.error = Some(format!("block {} was reorganised away", task.block_number));
        inner.store.put_task(&task)?;
        inner.metrics.tasks_withdrawn.inc();
    }
    Ok(())
}

/// Starts a task's session unless it already runs.
fn spawn_task<S: AggregatorStore>(inner: &Arc<Inner<S>>, task: TaskRecord) {
    let mut sessions = inner.sessions.lock().unwrap_or_else(|e| e.into_inner());
    if sessions.contains_key(&task.task_hash) {
        return;
    }
    let hash = task.task_hash;
    let (chain, block) = (task.chain_id, task.block_number);
    let run_inner = inner.clone();
    let handle = tokio::spawn(async move {
        let permit = run_inner.limit.clone().acquire_owned().await;
        run_inner
            .metrics
            .sessions_running
            .fetch_add(1, Ordering::Relaxed);
        run(&run_inner, task).await;
        run_inner
            .metrics
            .sessions_running
            .fetch_sub(1, Ordering::Relaxed);
        drop(permit);
        run_inner
            .sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&hash);
    });
    sessions.insert(hash, (chain, block, handle.abort_handle()));
}

/// Stores a session's progress unless the task was withdrawn meanwhile (`Ok(false)`): withdrawal
/// removes the session under the same lock before it marks the task.
fn record<S: AggregatorStore>(
    inner: &Inner<S>,
    task: &TaskRecord,
) -> Result<bool, AggregatorError> {
    let sessions = inner.sessions.lock().unwrap_or_else(|e| e.into_inner());
    if !sessions.contains_key(&task.task_hash) {
        return Ok(false);
    }
    inner.store.put_task(task)?;
    Ok(true)
}

/// Runs one task to its end and records how it ended.
async fn run<S: AggregatorStore>(inner: &Arc<Inner<S>>, mut task: TaskRecord) {
    let hash = task.task_hash;
    let outcome = drive(inner, &mut task).await;
    // Deposed: the task is the active instance's now, as the store has it.
    if let Err(
        error @ (AggregatorError::Deposed { .. }
        | AggregatorError::Store(ponos_store::StoreError::Fenced { .. })),
    ) = &outcome
    {
        info!(target: "ponos::aggregator", task = %hash, %error, "left to the active instance");
        return;
    }
    task.status = match &outcome {
        Ok(()) => TaskStatus::Verified,
        Err(AggregatorError::Expired(_)) => TaskStatus::Expired,
        Err(_) => TaskStatus::Failed,
    };
    if let Err(error) = &outcome {
        task.error = Some(error.to_string());
    }
    let _ = inner.ctx.updates.send(TaskUpdate::Ended {
        task: hash,
        error: outcome.as_ref().err().map(ToString::to_string),
    });
    task.updated_at_ms = now_ms();
    match record(inner, &task) {
        // Withdrawn meanwhile: the withdrawal counted it.
        Ok(false) => return,
        Ok(true) => {}
        Err(error) => {
            warn!(target: "ponos::aggregator", task = %hash, %error, "recording the task's end");
        }
    }
    match &outcome {
        Ok(()) => {
            inner.metrics.tasks_verified.inc();
            inner.metrics.stage(
                Stage::Total,
                Duration::from_millis(now_ms().saturating_sub(task.seen_at_ms)),
            );
        }
        Err(error) => {
            if task.status == TaskStatus::Expired {
                inner.metrics.tasks_expired.inc();
            } else {
                inner.metrics.tasks_failed.inc();
            }
            warn!(target: "ponos::aggregator", task = %hash, %error, "task not verified");
        }
    }
}

/// Collection (unless a certificate is stored already), then submission.
async fn drive<S: AggregatorStore>(
    inner: &Arc<Inner<S>>,
    task: &mut TaskRecord,
) -> Result<(), AggregatorError> {
    let chain = inner
        .chains
        .get(&task.chain_id)
        .ok_or_else(|| {
            AggregatorError::Config(format!("chain {} is not configured", task.chain_id))
        })?
        .clone();
    // The SLA counts from the creation block; measured here from when the task was first seen,
    // so chain clocks that run ahead or behind do not matter.
    let sla = Duration::from_secs(task.deadline.saturating_sub(task.block_timestamp));
    let since_seen = Duration::from_millis(now_ms().saturating_sub(task.seen_at_ms));
    let deadline = Instant::now() + sla.saturating_sub(since_seen);
    let margin = inner.submission_margin.min(sla / 4);
    let collect_until = deadline.checked_sub(margin).unwrap_or(deadline);

    let (certificate, result) = match (task.status, &task.certificate, &task.result) {
        (TaskStatus::Submitted, Some(certificate), Some(result)) => {
            (certificate.clone(), result.clone())
        }
        _ => {
            let started = Instant::now();
            task.status = TaskStatus::Processing;
            task.updated_at_ms = now_ms();
            record(inner, task)?;
            let view = load_view(inner, &chain, task, collect_until).await?;
            let mut snapshot = task.clone();
            let mut persist = |answers: &[OperatorAnswer]| {
                snapshot.answers = answers.to_vec();
                snapshot.updated_at_ms = now_ms();
                if let Err(error) = record(inner, &snapshot) {
                    warn!(target: "ponos::aggregator", task = %snapshot.task_hash, %error, "storing answers");
                }
            };
            let certified =
                session::run(&inner.ctx, task, &view, collect_until, &mut persist).await?;
            inner.metrics.stage(Stage::Collection, started.elapsed());
            info!(
                target: "ponos::aggregator",
                task = %task.task_hash, signers = certified.signers, non_signers = certified.non_signers,
                "threshold met; submitting"
            );
            task.certificate = Some(certified.certificate.clone());
            task.result = Some(certified.result.clone());
            task.answers.clear();
            (certified.certificate, certified.result)
        }
    };

    // The certificate is stored with the first transaction, before that is broadcast.
    let started = Instant::now();
    let sender = inner
        .senders
        .get(&task.chain_id)
        .ok_or_else(|| AggregatorError::Config(format!("no sender for chain {}", task.chain_id)))?;
    let mut sent = std::mem::take(&mut task.submissions);
    let mut attempt = 0;
    let landed = loop {
        let mut snapshot = task.clone();
        snapshot.status = TaskStatus::Submitted;
        let mut journal = |records: &[SubmissionRecord]| {
            snapshot.submissions = records.to_vec();
            snapshot.updated_at_ms = now_ms();
            if record(inner, &snapshot)? {
                Ok(())
            } else {
                Err(AggregatorError::Withdrawn(snapshot.task_hash))
            }
        };
        let outcome = sender
            .submit_result(
                task.mailbox,
                task.task_hash,
                task.block_timestamp,
                certificate.clone(),
                result.clone(),
                deadline,
                &mut sent,
                &mut journal,
            )
            .await;
        match outcome {
            Ok(landed) => break landed,
            Err(
                error @ (AggregatorError::Expired(_)
                | AggregatorError::Deposed { .. }
                | AggregatorError::Withdrawn(_)
                | AggregatorError::Contract { .. }
                | AggregatorError::Store(_)),
            ) => {
                task.submissions = sent;
                return Err(error);
            }
            // A node error, a revert, a lost transaction: the mailbox still takes a result
            // until the deadline.
            Err(error) => {
                let wait = Backoff::RPC.jittered(attempt);
                attempt += 1;
                if Instant::now() + wait >= deadline {
                    task.submissions = sent;
                    return Err(error);
                }
                warn!(target: "ponos::aggregator", task = %task.task_hash, %error, retry_in = ?wait, "submitting again");
                tokio::time::sleep(wait).await;
            }
        }
    };
    task.status = TaskStatus::Submitted;
    task.submissions = sent;
    match landed {
        Landed::Verified { tx, block } => {
            inner.metrics.stage(Stage::Submission, started.elapsed());
            info!(target: "ponos::aggregator", task = %task.task_hash, %tx, block, "verified");
            task.tx_hash = Some(tx);
        }
        Landed::AlreadyVerified => {
            info!(target: "ponos::aggregator", task = %task.task_hash, "already verified on chain");
        }
    }
    Ok(())
}

/// The task's operator view. A failed JSON-RPC read (a node restarting, a read racing a reorg) is
/// retried with backoff until collection must end; what the contracts say is final.
async fn load_view<S: AggregatorStore>(
    inner: &Arc<Inner<S>>,
    chain: &TaskChain,
    task: &TaskRecord,
    until: Instant,
) -> Result<Arc<OperatorSetView>, AggregatorError> {
    let mut attempt = 0;
    loop {
        match inner
            .views
            .get(
                chain,
                task.avs,
                task.operator_set_id,
                task.reference_timestamp,
            )
            .await
        {
            Err(error @ AggregatorError::Rpc { .. })
                if Instant::now() + Backoff::RPC.base(attempt) < until =>
            {
                let wait = Backoff::RPC.jittered(attempt);
                attempt += 1;
                warn!(target: "ponos::aggregator", task = %task.task_hash, %error, retry_in = ?wait, "reading the operator set");
                tokio::time::sleep(wait).await;
            }
            outcome => return outcome,
        }
    }
}

/// Follows `OperatorSocketSet` on L1: an operator that moves its executor announces the new
/// socket there, and the views holding the old one are forgotten so the next task reads it.
/// With `heads` (the L1 watcher's), it reads the logs of each new head and never asks for
/// the head itself; else it polls every `poll`.
async fn follow_sockets<S: AggregatorStore>(
    inner: Arc<Inner<S>>,
    poll: Duration,
    mut heads: Option<watch::Receiver<u64>>,
    mut stopped: watch::Receiver<bool>,
) {
    use alloy::{providers::Provider as _, rpc::types::Filter, sol_types::SolEvent as _};
    use ponos_chain::contracts::task_avs_registrar_base::TaskAVSRegistrarBase::OperatorSocketSet;

    let l1 = inner.views.l1();
    let mut last = None;
    loop {
        let head = match &mut heads {
            Some(heads) => {
                tokio::select! {
                    changed = heads.changed() => if changed.is_err() { return },
                    _ = stopped.wait_for(|s| *s) => return,
                }
                Ok(*heads.borrow_and_update())
            }
            None => l1.provider.get_block_number().await,
        };
        match head {
            Ok(head) => {
                let from = last.map_or(head, |l: u64| l + 1);
                if from <= head {
                    let filter = Filter::new()
                        .event_signature(OperatorSocketSet::SIGNATURE_HASH)
                        .from_block(from)
                        .to_block(head);
                    match l1.provider.get_logs(&filter).await {
                        Ok(logs) => {
                            for log in logs {
                                let forgotten = inner.views.forget_registrar(log.address());
                                if forgotten > 0 {
                                    inner.metrics.socket_changes.inc();
                                    info!(target: "ponos::aggregator", registrar = %log.address(), views = forgotten, "an operator set a new socket; its operator sets are read again");
                                }
                            }
                            last = Some(head);
                        }
                        Err(error) => {
                            inner.metrics.rpc_errors.inc();
                            warn!(target: "ponos::aggregator", chain = l1.chain_id, %error, "reading socket changes");
                        }
                    }
                }
            }
            Err(error) => {
                inner.metrics.rpc_errors.inc();
                warn!(target: "ponos::aggregator", chain = l1.chain_id, %error, "reading the L1 head");
            }
        }
        if heads.is_some() {
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = stopped.wait_for(|s| *s) => return,
        }
    }
}

/// Checks `avs`'s identity on L1: `Err` with a one-line reason (also logged) when the AVS must
/// not be served. When L1 cannot be read, the AVS is served: executors check every task anyway.
async fn checked(
    l1: &crate::view::L1,
    identities: &Identities,
    avs: Address,
) -> Result<(), String> {
    match identity::check(l1, identities.for_avs(&avs), avs).await {
        Ok(()) => Ok(()),
        Err(IdentityError::Mismatch(reason)) => {
            warn!(target: "ponos::aggregator", %avs, "not serving AVS {avs}: {reason}");
            Err(reason)
        }
        Err(IdentityError::Unreadable(reason)) => {
            warn!(target: "ponos::aggregator", %avs, %reason, "could not check the aggregator key on L1; serving the AVS");
            Ok(())
        }
    }
}
