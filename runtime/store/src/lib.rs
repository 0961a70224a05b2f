#![doc = include_str!("../README.md")]

pub mod aggregator;
mod memory;
mod redb_store;

pub use aggregator::{
    AggregatorStore, MemoryAggregatorStore, RedbAggregatorStore, TaskRecord, TaskStatus,
};
pub use memory::MemoryStore;
pub use redb_store::RedbStore;

use serde::{Deserialize, Serialize};

/// A 32-byte task id (the task hash).
pub type TaskId = [u8; 32];

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file could not be opened or created.
    #[error("cannot open the store at {path}: {reason} (is another process using it?)")]
    Open {
        /// The file.
        path: String,
        /// What redb said.
        reason: String,
    },
    /// A read or write failed.
    #[error("store {operation} failed: {reason}")]
    Io {
        /// What was being done.
        operation: &'static str,
        /// What redb said.
        reason: String,
    },
    /// A stored record could not be decoded (written by an incompatible version).
    #[error("stored {what} is corrupt: {reason}")]
    Corrupt {
        /// What was being read.
        what: &'static str,
        /// What the decoder said.
        reason: String,
    },
}

/// How a performer runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuntimeKind {
    /// A Docker container.
    Docker,
    /// A native process.
    Process,
    /// A Rust value inside the executor.
    InProcess,
}

/// What the executor remembers of a performer across restarts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerformerRecord {
    /// The performer's id.
    pub performer_id: String,
    /// The AVS it serves (0x-prefixed, lower case).
    pub avs_address: String,
    /// How it runs.
    pub runtime: RuntimeKind,
    /// The image reference or binary path it runs.
    pub artifact: String,
    /// The container id or process id, once started.
    pub instance_id: Option<String>,
    /// The loopback port it serves on.
    pub port: Option<u16>,
    /// `in-service` or `staged` (during a blue/green upgrade).
    pub status: String,
    /// When it was deployed, unix seconds.
    pub deployed_at: u64,
}

/// The executor's persistent state.
pub trait ExecutorStore: Send + Sync + 'static {
    /// Records a task as processed until `deadline` (unix seconds). Returns `false` when it was
    /// already recorded: the task is a replay.
    fn mark_task_processed(&self, task_id: TaskId, deadline: u64) -> Result<bool, StoreError>;

    /// Forgets a task recorded by [`mark_task_processed`](Self::mark_task_processed) whose run
    /// ended without a signed result (cancelled by its caller, or the performer failed), so
    /// the aggregator may ask again. Returns whether it was recorded.
    fn release_task(&self, task_id: TaskId) -> Result<bool, StoreError>;

    /// Whether a task is recorded as processed.
    fn is_task_processed(&self, task_id: TaskId) -> Result<bool, StoreError>;

    /// Forgets tasks whose deadline is before `now`; returns how many.
    fn prune_processed_tasks(&self, now: u64) -> Result<usize, StoreError>;

    /// Saves (or replaces) a performer record.
    fn put_performer(&self, record: &PerformerRecord) -> Result<(), StoreError>;

    /// Every performer record, ordered by id.
    fn performers(&self) -> Result<Vec<PerformerRecord>, StoreError>;

    /// Removes a performer record; returns whether it existed.
    fn remove_performer(&self, performer_id: &str) -> Result<bool, StoreError>;
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn record(id: &str) -> PerformerRecord {
        PerformerRecord {
            performer_id: id.into(),
            avs_address: "0x00000000000000000000000000000000000000aa".into(),
            runtime: RuntimeKind::Docker,
            artifact: "square:latest".into(),
            instance_id: Some("c0ffee".into()),
            port: Some(9500),
            status: "in-service".into(),
            deployed_at: 1_700_000_000,
        }
    }

    /// The behaviour every backend must have.
    pub(crate) fn behaves_like_a_store(store: &dyn ExecutorStore) {
        let (a, b, c) = ([1u8; 32], [2u8; 32], [3u8; 32]);
        assert!(store.mark_task_processed(a, 100).unwrap());
        assert!(store.mark_task_processed(b, 200).unwrap());
        assert!(store.mark_task_processed(c, 200).unwrap());
        assert!(
            !store.mark_task_processed(a, 300).unwrap(),
            "replay refused"
        );
        assert!(store.is_task_processed(a).unwrap());
        let d = [4u8; 32];
        assert!(store.mark_task_processed(d, 150).unwrap());
        assert!(store.release_task(d).unwrap());
        assert!(!store.is_task_processed(d).unwrap());
        assert!(!store.release_task(d).unwrap());
        assert!(
            store.mark_task_processed(d, 150).unwrap(),
            "a released id is free"
        );
        assert!(store.release_task(d).unwrap());
        assert_eq!(
            store.prune_processed_tasks(100).unwrap(),
            0,
            "deadline 100 still holds at 100"
        );
        assert_eq!(store.prune_processed_tasks(101).unwrap(), 1);
        assert!(!store.is_task_processed(a).unwrap());
        assert!(store.is_task_processed(b).unwrap());
        assert_eq!(store.prune_processed_tasks(1_000).unwrap(), 2);
        assert!(
            store.mark_task_processed(a, 100).unwrap(),
            "a pruned id may be recorded again"
        );

        store.put_performer(&record("p2")).unwrap();
        store.put_performer(&record("p1")).unwrap();
        let mut staged = record("p1");
        staged.status = "staged".into();
        store.put_performer(&staged).unwrap();
        let all = store.performers().unwrap();
        assert_eq!(
            all.iter()
                .map(|r| r.performer_id.as_str())
                .collect::<Vec<_>>(),
            ["p1", "p2"]
        );
        assert_eq!(all[0].status, "staged", "replaced");
        assert!(store.remove_performer("p1").unwrap());
        assert!(!store.remove_performer("p1").unwrap());
        assert_eq!(store.performers().unwrap().len(), 1);
    }
}
