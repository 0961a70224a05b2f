//! The redb backend: one crash-safe file; every call is one transaction.

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use crate::{ExecutorStore, PerformerRecord, StoreError, TaskId};

/// task id -> deadline.
const PROCESSED: TableDefinition<'_, &[u8; 32], u64> = TableDefinition::new("processed_tasks");
/// (deadline, task id) -> (), to prune in deadline order.
const BY_DEADLINE: TableDefinition<'_, (u64, &[u8; 32]), ()> =
    TableDefinition::new("processed_by_deadline");
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
            reason: e.to_string(),
        })?;
        let txn = db.begin_write().map_err(|e| io("create tables")(&e))?;
        {
            txn.open_table(PROCESSED)
                .map_err(|e| io("create tables")(&e))?;
            txn.open_table(BY_DEADLINE)
                .map_err(|e| io("create tables")(&e))?;
            txn.open_table(PERFORMERS)
                .map_err(|e| io("create tables")(&e))?;
        }
        txn.commit().map_err(|e| io("create tables")(&e))?;
        Ok(Self { db })
    }
}

impl ExecutorStore for RedbStore {
    fn mark_task_processed(&self, task_id: TaskId, deadline: u64) -> Result<bool, StoreError> {
        let err = io("mark task");
        let txn = self.db.begin_write().map_err(|e| err(&e))?;
        {
            let mut processed = txn.open_table(PROCESSED).map_err(|e| err(&e))?;
            if processed.get(&task_id).map_err(|e| err(&e))?.is_some() {
                return Ok(false);
            }
            processed.insert(&task_id, deadline).map_err(|e| err(&e))?;
            let mut by_deadline = txn.open_table(BY_DEADLINE).map_err(|e| err(&e))?;
            by_deadline
                .insert((deadline, &task_id), ())
                .map_err(|e| err(&e))?;
        }
        txn.commit().map_err(|e| err(&e))?;
        Ok(true)
    }

    fn release_task(&self, task_id: TaskId) -> Result<bool, StoreError> {
        let err = io("release task");
        let txn = self.db.begin_write().map_err(|e| err(&e))?;
        let existed = {
            let mut processed = txn.open_table(PROCESSED).map_err(|e| err(&e))?;
            let deadline = processed
                .remove(&task_id)
                .map_err(|e| err(&e))?
                .map(|d| d.value());
            if let Some(deadline) = deadline {
                let mut by_deadline = txn.open_table(BY_DEADLINE).map_err(|e| err(&e))?;
                by_deadline
                    .remove((deadline, &task_id))
                    .map_err(|e| err(&e))?;
            }
            deadline.is_some()
        };
        txn.commit().map_err(|e| err(&e))?;
        Ok(existed)
    }

    fn is_task_processed(&self, task_id: TaskId) -> Result<bool, StoreError> {
        let err = io("read task");
        let txn = self.db.begin_read().map_err(|e| err(&e))?;
        let processed = txn.open_table(PROCESSED).map_err(|e| err(&e))?;
        Ok(processed.get(&task_id).map_err(|e| err(&e))?.is_some())
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
            let mut processed = txn.open_table(PROCESSED).map_err(|e| err(&e))?;
            for (deadline, id) in &expired {
                by_deadline.remove((*deadline, id)).map_err(|e| err(&e))?;
                processed.remove(id).map_err(|e| err(&e))?;
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
            assert!(store.mark_task_processed([9; 32], 500).unwrap());
            store.put_performer(&crate::tests::record("p")).unwrap();
        }
        let store = RedbStore::open(&path).unwrap();
        assert!(
            !store.mark_task_processed([9; 32], 500).unwrap(),
            "a replay after a restart is refused"
        );
        assert_eq!(store.performers().unwrap(), [crate::tests::record("p")]);
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
