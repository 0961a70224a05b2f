#![doc = include_str!("../README.md")]

pub mod aggregator;
mod memory;
#[cfg(feature = "postgres")]
pub mod postgres;
mod redb_store;

pub use aggregator::{
    AggregatorStore, MemoryAggregatorStore, OperatorAnswer, RedbAggregatorStore, SubmissionRecord,
    TaskRecord, TaskStatus,
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
    #[error("cannot open the store at {path}: {reason}")]
    Open {
        /// The file.
        path: String,
        /// What the backend said.
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
    /// A write of an aggregator whose lease was taken over by another instance: it no longer
    /// acts (PostgreSQL store only).
    #[error(
        "this aggregator's lease (epoch {epoch}) was taken over by {holder} (epoch {current}): it no longer writes"
    )]
    Fenced {
        /// The epoch the write carried.
        epoch: u64,
        /// The lease's epoch now.
        current: u64,
        /// Who holds the lease now.
        holder: String,
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
    /// The environment it was deployed with (values taken from the executor's environment are
    /// kept by name, never by value).
    #[serde(default)]
    pub env: Vec<PerformerEnv>,
}

/// One environment variable of a deployed performer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerformerEnv {
    /// The variable's name.
    pub name: String,
    /// Its value, when given directly.
    #[serde(default)]
    pub value: String,
    /// The executor's own variable to take the value from, when not empty.
    #[serde(default)]
    pub value_from_env: String,
}

/// A task id the executor has seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpentTask {
    /// A run holds it and has not answered yet.
    Running {
        /// The hash of the request's content.
        fingerprint: [u8; 32],
    },
    /// It was answered.
    Answered {
        /// The hash of the request's content.
        fingerprint: [u8; 32],
        /// The signed response, encoded as it left.
        response: Vec<u8>,
    },
}

impl SpentTask {
    /// The hash of the content of the request that spent the id.
    pub const fn fingerprint(&self) -> &[u8; 32] {
        match self {
            Self::Running { fingerprint } | Self::Answered { fingerprint, .. } => fingerprint,
        }
    }

    /// Its encoding in a store: a state byte, the deadline, the fingerprint, the response.
    pub(crate) fn encode(&self, deadline: u64) -> Vec<u8> {
        let (state, response): (u8, &[u8]) = match self {
            Self::Running { .. } => (0, &[]),
            Self::Answered { response, .. } => (1, response),
        };
        let mut out = Vec::with_capacity(41 + response.len());
        out.push(state);
        out.extend_from_slice(&deadline.to_be_bytes());
        out.extend_from_slice(self.fingerprint());
        out.extend_from_slice(response);
        out
    }

    /// Decodes [`encode`](Self::encode)'s bytes into the task and its deadline.
    pub(crate) fn decode(bytes: &[u8]) -> Result<(Self, u64), StoreError> {
        let corrupt = |reason: &str| StoreError::Corrupt {
            what: "spent task",
            reason: reason.into(),
        };
        if bytes.len() < 41 {
            return Err(corrupt("shorter than 41 bytes"));
        }
        let deadline = u64::from_be_bytes(bytes[1..9].try_into().map_err(|_| corrupt("deadline"))?);
        let fingerprint: [u8; 32] = bytes[9..41]
            .try_into()
            .map_err(|_| corrupt("fingerprint"))?;
        let task = match bytes[0] {
            0 => Self::Running { fingerprint },
            1 => Self::Answered {
                fingerprint,
                response: bytes[41..].to_vec(),
            },
            other => return Err(corrupt(&format!("unknown state {other}"))),
        };
        Ok((task, deadline))
    }
}

/// The executor's persistent state.
pub trait ExecutorStore: Send + Sync + 'static {
    /// Claims `task_id` for a run whose request has `fingerprint` (a hash of its content), kept
    /// until `deadline` (unix seconds). Returns `None` when the id was free and is now claimed,
    /// or what the store already holds for it: a run still going on, or the answer that left.
    fn claim_task(
        &self,
        task_id: TaskId,
        fingerprint: [u8; 32],
        deadline: u64,
    ) -> Result<Option<SpentTask>, StoreError>;

    /// Records the signed response of a task claimed with [`claim_task`](Self::claim_task):
    /// from now on a retry of the same request gets these bytes back.
    fn answer_task(&self, task_id: TaskId, response: &[u8]) -> Result<(), StoreError>;

    /// Frees a claimed task whose run ended without a signed response (cancelled by its caller,
    /// or the performer failed), so the aggregator may ask again. An answered task stays
    /// answered. Returns whether a claim was freed.
    fn release_task(&self, task_id: TaskId) -> Result<bool, StoreError>;

    /// What the store holds for a task id.
    fn spent_task(&self, task_id: TaskId) -> Result<Option<SpentTask>, StoreError>;

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
            env: vec![PerformerEnv {
                name: "API_TOKEN".into(),
                value: String::new(),
                value_from_env: "PONOS_API_TOKEN".into(),
            }],
        }
    }

    /// The behaviour every backend must have.
    pub(crate) fn behaves_like_a_store(store: &dyn ExecutorStore) {
        let (a, b, c) = ([1u8; 32], [2u8; 32], [3u8; 32]);
        let (fa, fb) = ([0xa0u8; 32], [0xb0u8; 32]);
        assert_eq!(
            store.claim_task(a, fa, 100).unwrap(),
            None,
            "a free id is claimed"
        );
        assert_eq!(store.claim_task(b, fb, 200).unwrap(), None);
        assert_eq!(store.claim_task(c, fb, 200).unwrap(), None);
        assert_eq!(
            store.claim_task(a, fb, 300).unwrap(),
            Some(SpentTask::Running { fingerprint: fa }),
            "a second claim sees the first run"
        );
        store.answer_task(a, b"signed").unwrap();
        let answered = SpentTask::Answered {
            fingerprint: fa,
            response: b"signed".to_vec(),
        };
        assert_eq!(
            store.claim_task(a, fa, 300).unwrap(),
            Some(answered.clone())
        );
        assert_eq!(store.spent_task(a).unwrap(), Some(answered));
        assert!(
            !store.release_task(a).unwrap(),
            "an answered task stays answered"
        );
        assert!(store.spent_task(a).unwrap().is_some());
        let d = [4u8; 32];
        assert_eq!(store.claim_task(d, fa, 150).unwrap(), None);
        assert!(store.release_task(d).unwrap());
        assert_eq!(store.spent_task(d).unwrap(), None);
        assert!(!store.release_task(d).unwrap());
        assert_eq!(
            store.claim_task(d, fa, 150).unwrap(),
            None,
            "a released id is free"
        );
        assert!(store.release_task(d).unwrap());
        assert_eq!(
            store.prune_processed_tasks(100).unwrap(),
            0,
            "deadline 100 still holds at 100"
        );
        assert_eq!(store.prune_processed_tasks(101).unwrap(), 1);
        assert_eq!(store.spent_task(a).unwrap(), None);
        assert!(store.spent_task(b).unwrap().is_some());
        assert_eq!(store.prune_processed_tasks(1_000).unwrap(), 2);
        assert_eq!(
            store.claim_task(a, fa, 100).unwrap(),
            None,
            "a pruned id may be claimed again"
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
