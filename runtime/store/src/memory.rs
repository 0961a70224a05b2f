//! The in-memory backend, for tests.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Mutex,
};

use crate::{ExecutorStore, PerformerRecord, StoreError, TaskId};

/// A store that lives as long as the value; nothing reaches the disk.
#[derive(Debug, Default)]
pub struct MemoryStore {
    tasks: Mutex<HashMap<TaskId, u64>>,
    performers: Mutex<BTreeMap<String, PerformerRecord>>,
}

fn poisoned(operation: &'static str) -> StoreError {
    StoreError::Io {
        operation,
        reason: "a thread panicked while holding the store".into(),
    }
}

impl ExecutorStore for MemoryStore {
    fn mark_task_processed(&self, task_id: TaskId, deadline: u64) -> Result<bool, StoreError> {
        let mut tasks = self.tasks.lock().map_err(|_| poisoned("mark task"))?;
        if tasks.contains_key(&task_id) {
            return Ok(false);
        }
        tasks.insert(task_id, deadline);
        Ok(true)
    }

    fn release_task(&self, task_id: TaskId) -> Result<bool, StoreError> {
        let mut tasks = self.tasks.lock().map_err(|_| poisoned("release task"))?;
        Ok(tasks.remove(&task_id).is_some())
    }

    fn is_task_processed(&self, task_id: TaskId) -> Result<bool, StoreError> {
        Ok(self
            .tasks
            .lock()
            .map_err(|_| poisoned("read task"))?
            .contains_key(&task_id))
    }

    fn prune_processed_tasks(&self, now: u64) -> Result<usize, StoreError> {
        let mut tasks = self.tasks.lock().map_err(|_| poisoned("prune tasks"))?;
        let before = tasks.len();
        tasks.retain(|_, deadline| *deadline >= now);
        Ok(before - tasks.len())
    }

    fn put_performer(&self, record: &PerformerRecord) -> Result<(), StoreError> {
        let mut performers = self
            .performers
            .lock()
            .map_err(|_| poisoned("put performer"))?;
        performers.insert(record.performer_id.clone(), record.clone());
        Ok(())
    }

    fn performers(&self) -> Result<Vec<PerformerRecord>, StoreError> {
        Ok(self
            .performers
            .lock()
            .map_err(|_| poisoned("list performers"))?
            .values()
            .cloned()
            .collect())
    }

    fn remove_performer(&self, performer_id: &str) -> Result<bool, StoreError> {
        Ok(self
            .performers
            .lock()
            .map_err(|_| poisoned("remove performer"))?
            .remove(performer_id)
            .is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_like_a_store() {
        crate::tests::behaves_like_a_store(&MemoryStore::default());
    }
}
