//! The redb backend: one crash-safe file; every call is one transaction.

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use crate::{ExecutorStore, PerformerRecord, SpentTask, StoreError, TaskId};

/// task id -> [`SpentTask`] with its deadline (see `SpentTask::encode`).
const SPENT: TableDefinition<'_, &[u8; 32], &[u8]> = TableDefinition::new("spent_tasks");
/// (deadline, task id) -> (), to prune in deadline order.
const BY_DEADLINE: TableDefinition<'_, (u64, &[u8; 32]), ()> =
    TableDefinition::new("spent_by_deadline");
/// performer id -> JSON record.
const PERFORMERS: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("performers");

/// A store in one redb file.
#[derive(Debug)]
pub struct RedbStore {
    db: Database,
}

fn io(operation: &'static str) -> impl Fn(&dyn std::fmt::Display) -> StoreError {
    move |e| StoreError::Io {
        operation,
        reason: e.to_string(),
    }
}

impl RedbStore {
    /// Opens the store at `path`, creating the file and its tables if needed.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        let db = Database::create(path).map_err(|e| StoreError::Open {
            path: path.display().to_string(),
            reason: format!("{e} (is another process using it?)"),
        })?;
        let txn = db.begin_write().map_err(|e| io("create tables")(&e))?;
        {
            txn.open_table(SPENT).map_err(|e| io("create tables")(&e))?;
            txn.open_table(BY_DEADLINE)
                .map_err(|e| io("create tables")(&e))?;
            txn.open_table(PERFORMERS)
                .map_err(|e| io("create tables")(&e))?;
        }
        txn.commit().map_err(|e| io("create tables")(&e))?;
        let store = Self { db };
        store.release_running()?;
        Ok(store)
    }

    /// Frees every claim of a run that has not answered. A file is used by one process at a
    /// time, so at open such claims belong to runs that died with the previous process; kept,
    /// they would make every retry of their tasks wait for an answer that never comes.
    fn release_running(&self) -> Result<usize, StoreError> {
        let err = io("release unanswered claims");
        let txn = self.db.begin_write().map_err(|e| err(&e))?;
        let released = {
            let mut spent = txn.open_table(SPENT).map_err(|e| err(&e))?;
            let mut running = Vec::new();
            for entry in spent.iter().map_err(|e| err(&e))? {
                let (id, held) = entry.map_err(|e| err(&e))?;
                if let (SpentTask::Running { .. }, deadline) = SpentTask::decode(held.value())? {
                    running.push((*id.value(), deadline));
                }
            }
            let mut by_deadline = txn.open_table(BY_DEADLINE).map_err(|e| err(&e))?;
            for (id, deadline) in &running {
                spent.remove(id).map_err(|e| err(&e))?;
                by_deadline.remove((*deadline, id)).map_err(|e| err(&e))?;
            }
            running.len()
        };
        txn.commit().map_err(|e| err(&e))?;
        Ok(released)
    }
}

/// What `spent` holds for `task_id`, with its deadline.
fn held(
    spent: &redb::Table<'_, &[u8; 32], &[u8]>,
    task_id: &TaskId,
) -> Result<Option<(SpentTask, u64)>, StoreError> {
    spent
        .get(task_id)
        .map_err(|e| io("read task")(&e))?
        .map(|held| SpentTask::decode(held.value()))
        .transpose()
}

impl ExecutorStore for RedbStore {
    fn claim_task(
        &self,
        task_id: TaskId,
        fingerprint: [u8; 32],
        deadline: u64,
    ) -> Result<Option<SpentTask>, StoreError> {
        let err = io("claim task");
        let txn = self.db.begin_write().map_err(|e| err(&e))?;
        {
            let mut spent = txn.open_table(SPENT).map_err(|e| err(&e))?;
            if let Some(held) = spent.get(&task_id).map_err(|e| err(&e))? {
                return Ok(Some(SpentTask::decode(held.value())?.0));
            }
            let claim = SpentTask::Running { fingerprint }.encode(deadline);
            spent
                .insert(&task_id, claim.as_slice())
                .map_err(|e| err(&e))?;
            let mut by_deadline = txn.open_table(BY_DEADLINE).map_err(|e| err(&e))?;
            by_deadline
                .insert((deadline, &task_id), ())
                .map_err(|e| err(&e))?;
        }
        txn.commit().map_err(|e| err(&e))?;
        Ok(None)
    }

    fn answer_task(&self, task_id: TaskId, response: &[u8]) -> Result<(), StoreError> {
        let err = io("answer task");
        let txn = self.db.begin_write().map_err(|e| err(&e))?;
        {
            let mut spent = txn.open_table(SPENT).map_err(|e| err(&e))?;
            let held = held(&spent, &task_id)?;
            if let Some((task, deadline)) = held {
                let answered = SpentTask::Answered {
                    fingerprint: *task.fingerprint(),
                    response: response.to_vec(),
                };
                spent
                    .insert(&task_id, answered.encode(deadline).as_slice())
                    .map_err(|e| err(&e))?;
            }
        }
        txn.commit().map_err(|e| err(&e))
    }

    fn release_task(&self, task_id: TaskId) -> Result<bool, StoreError> {
        let err = io("release task");
        let txn = self.db.begin_write().map_err(|e| err(&e))?;
        let released = {
            let mut spent = txn.open_table(SPENT).map_err(|e| err(&e))?;
            let held = held(&spent, &task_id)?;
            match held {
                Some((SpentTask::Running { .. }, deadline)) => {
                    spent.remove(&task_id).map_err(|e| err(&e))?;
                    let mut by_deadline = txn.open_table(BY_DEADLINE).map_err(|e| err(&e))?;
                    by_deadline
                        .remove((deadline, &task_id))
                        .map_err(|e| err(&e))?;
                    true
                }
                _ => false,
            }
        };
        txn.commit().map_err(|e| err(&e))?;
        Ok(released)
    }

    fn spent_task(&self, task_id: TaskId) -> Result<Option<SpentTask>, StoreError> {
        let err = io("read task");
        let txn = self.db.begin_read().map_err(|e| err(&e))?;
        let spent = txn.open_table(SPENT).map_err(|e| err(&e))?;
        spent
            .get(&task_id)
            .map_err(|e| err(&e))?
            .map(|held| SpentTask::decode(held.value()).map(|(task, _)| task))
            .transpose()
    }

    fn prune_processed_tasks(&self, now: u64) -> Result<usize, StoreError> {
        let err = io("prune tasks");
        let txn = self.db.begin_write().map_err(|e| err(&e))?;
        let pruned;
        {
            let mut by_deadline = txn.open_table(BY_DEADLINE).map_err(|e| err(&e))?;
            let expired: Vec<(u64, TaskId)> = by_deadline
                .range(..(now, &[0u8; 32]))
                .map_err(|e| err(&e))?
                .map(|entry| {
                    entry.map(|(key, _)| {
                        let (deadline, id) = key.value();
                        (deadline, *id)
                    })
                })
                .collect::<Result<_, _>>()
                .map_err(|e| err(&e))?;
            let mut spent = txn.open_table(SPENT).map_err(|e| err(&e))?;
            for (deadline, id) in &expired {
                by_deadline.remove((*deadline, id)).map_err(|e| err(&e))?;
                spent.remove(id).map_err(|e| err(&e))?;
            }
            pruned = expired.len();
        }
        txn.commit().map_err(|e| err(&e))?;
        Ok(pruned)
    }

    fn put_performer(&self, record: &PerformerRecord) -> Result<(), StoreError> {
        let err = io("put performer");
        let json = serde_json::to_vec(record).map_err(|e| err(&e))?;
        let txn = self.db.begin_write().map_err(|e| err(&e))?;
        {
            let mut performers = txn.open_table(PERFORMERS).map_err(|e| err(&e))?;
            performers
                .insert(record.performer_id.as_str(), json.as_slice())
                .map_err(|e| err(&e))?;
        }
        txn.commit().map_err(|e| err(&e))
    }

    fn performers(&self) -> Result<Vec<PerformerRecord>, StoreError> {
        let err = io("list performers");
        let txn = self.db.begin_read().map_err(|e| err(&e))?;
        let performers = txn.open_table(PERFORMERS).map_err(|e| err(&e))?;
        let mut out = Vec::new();
        for entry in performers.iter().map_err(|e| err(&e))? {
            let (_, value) = entry.map_err(|e| err(&e))?;
            let record =
                serde_json::from_slice(value.value()).map_err(|e| StoreError::Corrupt {
                    what: "performer record",
                    reason: e.to_string(),
                })?;
            out.push(record);
        }
        Ok(out)
    }

    fn remove_performer(&self, performer_id: &str) -> Result<bool, StoreError> {
        let err = io("remove performer");
        let txn = self.db.begin_write().map_err(|e| err(&e))?;
        let existed = {
            let mut performers = txn.open_table(PERFORMERS).map_err(|e| err(&e))?;
            performers
                .remove(performer_id)
                .map_err(|e| err(&e))?
                .is_some()
        };
        txn.commit().map_err(|e| err(&e))?;
        Ok(existed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_like_a_store() {
        let dir = tempfile::tempdir().unwrap();
        crate::tests::behaves_like_a_store(
            &RedbStore::open(dir.path().join("store.redb")).unwrap(),
        );
    }

    #[test]
    fn survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        {
            let store = RedbStore::open(&path).unwrap();
            assert_eq!(store.claim_task([9; 32], [1; 32], 500).unwrap(), None);
            store.answer_task([9; 32], b"answer").unwrap();
            store.put_performer(&crate::tests::record("p")).unwrap();
        }
        let store = RedbStore::open(&path).unwrap();
        assert_eq!(
            store.claim_task([9; 32], [1; 32], 500).unwrap(),
            Some(SpentTask::Answered {
                fingerprint: [1; 32],
                response: b"answer".to_vec()
            }),
            "a retry after a restart finds the answer"
        );
        assert_eq!(store.performers().unwrap(), [crate::tests::record("p")]);
    }

    #[test]
    fn a_claim_does_not_outlive_its_process() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        {
            let store = RedbStore::open(&path).unwrap();
            assert_eq!(store.claim_task([1; 32], [1; 32], 500).unwrap(), None);
            assert_eq!(store.claim_task([2; 32], [2; 32], 500).unwrap(), None);
            store.answer_task([2; 32], b"answer").unwrap();
        }
        let store = RedbStore::open(&path).unwrap();
        assert_eq!(
            store.spent_task([1; 32]).unwrap(),
            None,
            "the dead run's claim is gone"
        );
        assert!(matches!(
            store.spent_task([2; 32]).unwrap(),
            Some(SpentTask::Answered { .. })
        ));
        assert_eq!(store.prune_processed_tasks(1_000).unwrap(), 1);
    }

    #[test]
    fn a_second_open_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        let _first = RedbStore::open(&path).unwrap();
        let err = RedbStore::open(&path).unwrap_err();
        assert!(err.to_string().contains("store.redb"), "{err}");
    }
}
