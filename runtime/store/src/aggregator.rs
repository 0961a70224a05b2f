//! What the aggregator keeps across restarts: every task it has seen with its status, and the
//! recent blocks of each chain (number and hash) so a restart resumes where it stopped and a
//! reorg is noticed even across a restart.

use std::{
    collections::{BTreeMap, HashMap},
    path::Path,
    sync::Mutex,
};

use alloy_primitives::{Address, B256, Bytes};
use redb::{Database, ReadableDatabase, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::StoreError;

/// Where a task is in the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskStatus {
    /// Seen on chain, not yet dispatched.
    Pending,
    /// Dispatched to the operators; collecting results.
    Processing,
    /// A certificate was sent; waiting for it to land.
    Submitted,
    /// `TaskVerified` landed on chain.
    Verified,
    /// Its deadline came without a certificate landing (no result reached the threshold in
    /// time, or every submission failed).
    Failed,
    /// Its deadline passed before a certificate landed.
    Expired,
    /// The block that created it was reorganised away.
    Withdrawn,
}

impl TaskStatus {
    /// Every status, in pipeline order.
    pub const ALL: [Self; 7] = [
        Self::Pending,
        Self::Processing,
        Self::Submitted,
        Self::Verified,
        Self::Failed,
        Self::Expired,
        Self::Withdrawn,
    ];

    /// Whether the task still needs work (resumed after a restart).
    pub const fn is_open(self) -> bool {
        matches!(self, Self::Pending | Self::Processing | Self::Submitted)
    }

    /// Its lower-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Processing => "processing",
            Self::Submitted => "submitted",
            Self::Verified => "verified",
            Self::Failed => "failed",
            Self::Expired => "expired",
            Self::Withdrawn => "withdrawn",
        }
    }

    const fn code(self) -> u8 {
        self as u8
    }
}

impl std::fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A task as the aggregator tracks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRecord {
    /// The task hash (its id).
    pub task_hash: B256,
    /// The chain it was created on.
    pub chain_id: u64,
    /// The mailbox it was created in.
    pub mailbox: Address,
    /// The AVS.
    pub avs: Address,
    /// The executor operator set.
    pub operator_set_id: u32,
    /// The operator table reference timestamp the task is pinned to.
    pub reference_timestamp: u32,
    /// The task's payload.
    pub payload: Bytes,
    /// The block that created it.
    pub block_number: u64,
    /// That block's hash.
    pub block_hash: B256,
    /// That block's timestamp.
    pub block_timestamp: u64,
    /// `taskDeadline` from the event (chain time, unix seconds).
    pub deadline: u64,
    /// Where it is.
    pub status: TaskStatus,
    /// When the aggregator first saw it (unix milliseconds).
    pub seen_at_ms: u64,
    /// When its status last changed (unix milliseconds).
    pub updated_at_ms: u64,
    /// The `submitResult` transaction, once sent.
    pub tx_hash: Option<B256>,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// The certificate (`executorCert`), once built: a restart resubmits it without asking the
    /// operators again.
    #[serde(default)]
    pub certificate: Option<Bytes>,
    /// The result the certificate is over.
    #[serde(default)]
    pub result: Option<Bytes>,
    /// Operators' answers already checked, kept while the session waits for more: a restart
    /// asks only the operators missing here.
    #[serde(default)]
    pub answers: Vec<OperatorAnswer>,
    /// Every `submitResult` transaction signed for the task, in the order sent (a replacement
    /// follows what it replaces), recorded before it was broadcast.
    #[serde(default)]
    pub submissions: Vec<SubmissionRecord>,
}

/// One operator's answer to a task, as it came.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorAnswer {
    /// The operator.
    pub operator: Address,
    /// The result.
    pub output: Bytes,
    /// Its signature over the certificate digest.
    pub result_signature: Bytes,
    /// Its signature binding the result signature to the task and operator.
    pub auth_signature: Bytes,
}

/// A signed `submitResult` transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmissionRecord {
    /// The transaction hash.
    pub hash: B256,
    /// The sender's nonce it uses.
    pub nonce: u64,
    /// Its EIP-1559 fee cap.
    pub max_fee_per_gas: u128,
    /// Its EIP-1559 tip.
    pub max_priority_fee_per_gas: u128,
    /// Its gas limit.
    pub gas_limit: u64,
    /// The signed transaction (EIP-2718 encoding), to broadcast again if a node loses it.
    pub raw: Bytes,
}

/// The aggregator's persistent state.
pub trait AggregatorStore: Send + Sync + 'static {
    /// Saves a task, replacing an earlier record of it.
    fn put_task(&self, task: &TaskRecord) -> Result<(), StoreError>;

    /// The task with this hash.
    fn task(&self, task_hash: B256) -> Result<Option<TaskRecord>, StoreError>;

    /// Every task in one of `statuses`.
    fn tasks_with_status(&self, statuses: &[TaskStatus]) -> Result<Vec<TaskRecord>, StoreError>;

    /// How many tasks are in each status.
    fn status_counts(&self) -> Result<BTreeMap<TaskStatus, u64>, StoreError>;

    /// Records a processed block of a chain.
    fn put_block(&self, chain_id: u64, number: u64, hash: B256) -> Result<(), StoreError>;

    /// The processed blocks of a chain from `from` on, ascending.
    fn blocks_from(&self, chain_id: u64, from: u64) -> Result<Vec<(u64, B256)>, StoreError>;

    /// The last processed block of a chain.
    fn last_block(&self, chain_id: u64) -> Result<Option<(u64, B256)>, StoreError>;

    /// Forgets blocks of a chain above `number` (they were reorganised away).
    fn remove_blocks_above(&self, chain_id: u64, number: u64) -> Result<(), StoreError>;

    /// Forgets blocks of a chain below `number` (deeper than any reorg to be handled).
    fn prune_blocks_below(&self, chain_id: u64, number: u64) -> Result<(), StoreError>;
}

pub(crate) fn encode(task: &TaskRecord) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(task).map_err(|e| StoreError::Io {
        operation: "encode task",
        reason: e.to_string(),
    })
}

pub(crate) fn decode(bytes: &[u8]) -> Result<TaskRecord, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        what: "task record",
        reason: e.to_string(),
    })
}

/// The in-memory backend, for tests.
#[derive(Debug, Default)]
pub struct MemoryAggregatorStore {
    tasks: Mutex<HashMap<B256, TaskRecord>>,
    blocks: Mutex<BTreeMap<(u64, u64), B256>>,
}

fn poisoned(operation: &'static str) -> StoreError {
    StoreError::Io {
        operation,
        reason: "a thread panicked while holding the store".into(),
    }
}

impl AggregatorStore for MemoryAggregatorStore {
    fn put_task(&self, task: &TaskRecord) -> Result<(), StoreError> {
        let mut tasks = self.tasks.lock().map_err(|_| poisoned("put task"))?;
        tasks.insert(task.task_hash, task.clone());
        Ok(())
    }

    fn task(&self, task_hash: B256) -> Result<Option<TaskRecord>, StoreError> {
        let tasks = self.tasks.lock().map_err(|_| poisoned("read task"))?;
        Ok(tasks.get(&task_hash).cloned())
    }

    fn tasks_with_status(&self, statuses: &[TaskStatus]) -> Result<Vec<TaskRecord>, StoreError> {
        let tasks = self.tasks.lock().map_err(|_| poisoned("list tasks"))?;
        let mut out: Vec<_> = tasks
            .values()
            .filter(|t| statuses.contains(&t.status))
            .cloned()
            .collect();
        out.sort_by_key(|t| (t.seen_at_ms, t.task_hash));
        Ok(out)
    }

    fn status_counts(&self) -> Result<BTreeMap<TaskStatus, u64>, StoreError> {
        let tasks = self.tasks.lock().map_err(|_| poisoned("count tasks"))?;
        let mut counts = BTreeMap::new();
        for task in tasks.values() {
            *counts.entry(task.status).or_default() += 1;
        }
        Ok(counts)
    }

    fn put_block(&self, chain_id: u64, number: u64, hash: B256) -> Result<(), StoreError> {
        let mut blocks = self.blocks.lock().map_err(|_| poisoned("put block"))?;
        blocks.insert((chain_id, number), hash);
        Ok(())
    }

    fn blocks_from(&self, chain_id: u64, from: u64) -> Result<Vec<(u64, B256)>, StoreError> {
        let blocks = self.blocks.lock().map_err(|_| poisoned("read blocks"))?;
        Ok(blocks
            .range((chain_id, from)..=(chain_id, u64::MAX))
            .map(|((_, n), h)| (*n, *h))
            .collect())
    }

    fn last_block(&self, chain_id: u64) -> Result<Option<(u64, B256)>, StoreError> {
        let blocks = self.blocks.lock().map_err(|_| poisoned("read blocks"))?;
        Ok(blocks
            .range((chain_id, 0)..=(chain_id, u64::MAX))
            .next_back()
            .map(|((_, n), h)| (*n, *h)))
    }

    fn remove_blocks_above(&self, chain_id: u64, number: u64) -> Result<(), StoreError> {
        let mut blocks = self.blocks.lock().map_err(|_| poisoned("remove blocks"))?;
        blocks.retain(|(c, n), _| *c != chain_id || *n <= number);
        Ok(())
    }

    fn prune_blocks_below(&self, chain_id: u64, number: u64) -> Result<(), StoreError> {
        let mut blocks = self.blocks.lock().map_err(|_| poisoned("prune blocks"))?;
        blocks.retain(|(c, n), _| *c != chain_id || *n >= number);
        Ok(())
    }
}

/// task hash -> JSON record.
const TASKS: TableDefinition<'_, &[u8; 32], &[u8]> = TableDefinition::new("tasks");
/// (status, task hash) -> ().
const BY_STATUS: TableDefinition<'_, (u8, &[u8; 32]), ()> = TableDefinition::new("tasks_by_status");
/// (chain id, block number) -> block hash.
const BLOCKS: TableDefinition<'_, (u64, u64), &[u8; 32]> = TableDefinition::new("blocks");

/// The redb backend: one crash-safe file; every call is one transaction.
#[derive(Debug)]
pub struct RedbAggregatorStore {
    db: Database,
}

fn io(operation: &'static str) -> impl Fn(&dyn std::fmt::Display) -> StoreError {
    move |e| StoreError::Io {
        operation,
        reason: e.to_string(),
    }
}

impl RedbAggregatorStore {
    /// Opens the store at `path`, creating the file and its tables if needed.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        let db = Database::create(path).map_err(|e| StoreError::Open {
            path: path.display().to_string(),
            reason: format!("{e} (is another process using it?)"),
        })?;
        let err = io("create tables");
        let txn = db.begin_write().map_err(|e| err(&e))?;
        {
            txn.open_table(TASKS).map_err(|e| err(&e))?;
            txn.open_table(BY_STATUS).map_err(|e| err(&e))?;
            txn.open_table(BLOCKS).map_err(|e| err(&e))?;
        }
        txn.commit().map_err(|e| err(&e))?;
        Ok(Self { db })
    }
}

impl AggregatorStore for RedbAggregatorStore {
    fn put_task(&self, task: &TaskRecord) -> Result<(), StoreError> {
        let err = io("put task");
        let json = encode(task)?;
        let key = &task.task_hash.0;
        let txn = self.db.begin_write().map_err(|e| err(&e))?;
        {
            let mut tasks = txn.open_table(TASKS).map_err(|e| err(&e))?;
            let old = tasks
                .insert(key, json.as_slice())
                .map_err(|e| err(&e))?
                .map(|old| decode(old.value()))
                .transpose()?;
            let mut by_status = txn.open_table(BY_STATUS).map_err(|e| err(&e))?;
            if let Some(old) = old {
                by_status
                    .remove((old.status.code(), key))
                    .map_err(|e| err(&e))?;
            }
            by_status
                .insert((task.status.code(), key), ())
                .map_err(|e| err(&e))?;
        }
        txn.commit().map_err(|e| err(&e))
    }

    fn task(&self, task_hash: B256) -> Result<Option<TaskRecord>, StoreError> {
        let err = io("read task");
        let txn = self.db.begin_read().map_err(|e| err(&e))?;
        let tasks = txn.open_table(TASKS).map_err(|e| err(&e))?;
        tasks
            .get(&task_hash.0)
            .map_err(|e| err(&e))?
            .map(|v| decode(v.value()))
            .transpose()
    }

    fn tasks_with_status(&self, statuses: &[TaskStatus]) -> Result<Vec<TaskRecord>, StoreError> {
        let err = io("list tasks");
        let txn = self.db.begin_read().map_err(|e| err(&e))?;
        let by_status = txn.open_table(BY_STATUS).map_err(|e| err(&e))?;
        let tasks = txn.open_table(TASKS).map_err(|e| err(&e))?;
        let mut out = Vec::new();
        for status in statuses {
            let code = status.code();
            for entry in by_status
                .range((code, &[0u8; 32])..=(code, &[0xffu8; 32]))
                .map_err(|e| err(&e))?
            {
                let (key, _) = entry.map_err(|e| err(&e))?;
                let (_, hash) = key.value();
                if let Some(json) = tasks.get(hash).map_err(|e| err(&e))? {
                    out.push(decode(json.value())?);
                }
            }
        }
        out.sort_by_key(|t| (t.seen_at_ms, t.task_hash));
        Ok(out)
    }

    fn status_counts(&self) -> Result<BTreeMap<TaskStatus, u64>, StoreError> {
        let err = io("count tasks");
        let txn = self.db.begin_read().map_err(|e| err(&e))?;
        let by_status = txn.open_table(BY_STATUS).map_err(|e| err(&e))?;
        let mut counts = BTreeMap::new();
        for status in TaskStatus::ALL {
            let code = status.code();
            let n = by_status
                .range((code, &[0u8; 32])..=(code, &[0xffu8; 32]))
                .map_err(|e| err(&e))?
                .count() as u64;
            if n > 0 {
                counts.insert(status, n);
            }
        }
        Ok(counts)
    }

    fn put_block(&self, chain_id: u64, number: u64, hash: B256) -> Result<(), StoreError> {
        let err = io("put block");
        let txn = self.db.begin_write().map_err(|e| err(&e))?;
        {
            let mut blocks = txn.open_table(BLOCKS).map_err(|e| err(&e))?;
            blocks
                .insert((chain_id, number), &hash.0)
                .map_err(|e| err(&e))?;
        }
        txn.commit().map_err(|e| err(&e))
    }

    fn blocks_from(&self, chain_id: u64, from: u64) -> Result<Vec<(u64, B256)>, StoreError> {
        let err = io("read blocks");
        let txn = self.db.begin_read().map_err(|e| err(&e))?;
        let blocks = txn.open_table(BLOCKS).map_err(|e| err(&e))?;
        blocks
            .range((chain_id, from)..=(chain_id, u64::MAX))
            .map_err(|e| err(&e))?
            .map(|entry| {
                entry
                    .map(|(k, v)| (k.value().1, B256::from(*v.value())))
                    .map_err(|e| err(&e))
            })
            .collect()
    }

    fn last_block(&self, chain_id: u64) -> Result<Option<(u64, B256)>, StoreError> {
        let err = io("read blocks");
        let txn = self.db.begin_read().map_err(|e| err(&e))?;
        let blocks = txn.open_table(BLOCKS).map_err(|e| err(&e))?;
        let last = blocks
            .range((chain_id, 0)..=(chain_id, u64::MAX))
            .map_err(|e| err(&e))?
            .next_back()
            .transpose()
            .map_err(|e| err(&e))?;
        Ok(last.map(|(k, v)| (k.value().1, B256::from(*v.value()))))
    }

    fn remove_blocks_above(&self, chain_id: u64, number: u64) -> Result<(), StoreError> {
        self.remove_range(
            chain_id,
            number.saturating_add(1),
            u64::MAX,
            "remove blocks",
        )
    }

    fn prune_blocks_below(&self, chain_id: u64, number: u64) -> Result<(), StoreError> {
        if number == 0 {
            return Ok(());
        }
        self.remove_range(chain_id, 0, number - 1, "prune blocks")
    }
}

impl RedbAggregatorStore {
    fn remove_range(
        &self,
        chain_id: u64,
        from: u64,
        to: u64,
        operation: &'static str,
    ) -> Result<(), StoreError> {
        let err = io(operation);
        let txn = self.db.begin_write().map_err(|e| err(&e))?;
        {
            let mut blocks = txn.open_table(BLOCKS).map_err(|e| err(&e))?;
            blocks
                .retain_in((chain_id, from)..=(chain_id, to), |_, _| false)
                .map_err(|e| err(&e))?;
        }
        txn.commit().map_err(|e| err(&e))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn task(n: u8, status: TaskStatus) -> TaskRecord {
        TaskRecord {
            task_hash: B256::repeat_byte(n),
            chain_id: 31337,
            mailbox: Address::repeat_byte(0x11),
            avs: Address::repeat_byte(0xaa),
            operator_set_id: 1,
            reference_timestamp: 1_700_000_000,
            payload: Bytes::from(vec![n; 4]),
            block_number: u64::from(n),
            block_hash: B256::repeat_byte(0xb0 + n),
            block_timestamp: 1_700_000_010,
            deadline: 1_700_000_130,
            status,
            seen_at_ms: u64::from(n),
            updated_at_ms: u64::from(n),
            tx_hash: None,
            error: None,
            certificate: None,
            result: None,
            answers: Vec::new(),
            submissions: Vec::new(),
        }
    }

    pub(crate) fn behaves_like_an_aggregator_store(store: &dyn AggregatorStore) {
        store.put_task(&task(1, TaskStatus::Pending)).unwrap();
        store.put_task(&task(2, TaskStatus::Processing)).unwrap();
        store.put_task(&task(3, TaskStatus::Verified)).unwrap();
        let open = store
            .tasks_with_status(&[TaskStatus::Pending, TaskStatus::Processing])
            .unwrap();
        assert_eq!(
            open.iter().map(|t| t.block_number).collect::<Vec<_>>(),
            [1, 2]
        );

        let mut moved = task(1, TaskStatus::Submitted);
        moved.tx_hash = Some(B256::repeat_byte(0x77));
        moved.answers.push(OperatorAnswer {
            operator: Address::repeat_byte(0x01),
            output: Bytes::from_static(b"49"),
            result_signature: Bytes::from_static(&[1; 65]),
            auth_signature: Bytes::from_static(&[2; 65]),
        });
        moved.submissions.push(SubmissionRecord {
            hash: B256::repeat_byte(0x77),
            nonce: 7,
            max_fee_per_gas: 2_000_000_000,
            max_priority_fee_per_gas: 1_000_000_000,
            gas_limit: 300_000,
            raw: Bytes::from_static(b"signed"),
        });
        store.put_task(&moved).unwrap();
        assert!(
            store
                .tasks_with_status(&[TaskStatus::Pending])
                .unwrap()
                .is_empty()
        );
        assert_eq!(store.task(moved.task_hash).unwrap(), Some(moved));
        let counts = store.status_counts().unwrap();
        assert_eq!(counts.get(&TaskStatus::Submitted), Some(&1));
        assert_eq!(counts.get(&TaskStatus::Pending), None);
        assert_eq!(store.task(B256::ZERO).unwrap(), None);

        for n in 10..20 {
            store
                .put_block(1, n, B256::with_last_byte(n as u8))
                .unwrap();
            store
                .put_block(2, n, B256::with_last_byte(100 + n as u8))
                .unwrap();
        }
        assert_eq!(
            store.last_block(1).unwrap(),
            Some((19, B256::with_last_byte(19)))
        );
        store.remove_blocks_above(1, 15).unwrap();
        assert_eq!(
            store.last_block(1).unwrap(),
            Some((15, B256::with_last_byte(15)))
        );
        store.prune_blocks_below(1, 13).unwrap();
        let kept: Vec<u64> = store
            .blocks_from(1, 0)
            .unwrap()
            .iter()
            .map(|b| b.0)
            .collect();
        assert_eq!(kept, [13, 14, 15]);
        assert_eq!(
            store.last_block(2).unwrap().unwrap().0,
            19,
            "other chains untouched"
        );
        assert_eq!(store.last_block(3).unwrap(), None);
    }

    #[test]
    fn memory_store() {
        behaves_like_an_aggregator_store(&MemoryAggregatorStore::default());
    }

    #[test]
    fn redb_store_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aggregator.redb");
        {
            let store = RedbAggregatorStore::open(&path).unwrap();
            behaves_like_an_aggregator_store(&store);
        }
        let store = RedbAggregatorStore::open(&path).unwrap();
        assert_eq!(store.last_block(1).unwrap().unwrap().0, 15);
        assert_eq!(
            store
                .tasks_with_status(&[TaskStatus::Verified])
                .unwrap()
                .len(),
            1
        );
    }
}
