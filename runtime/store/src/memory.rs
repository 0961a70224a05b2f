//! The in-memory backend, for tests.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Mutex,
};

use crate::{ExecutorStore, PerformerRecord, SpentTask, StoreError, TaskId};

/// A store that lives as long as the value; nothing reaches the disk.
#[derive(Debug, Default)]
pub struct MemoryStore {
    tasks: Mutex<HashMap<TaskId, (SpentTask, u64)>>,
    performers: Mutex<BTreeMap<String, PerformerRecord>>,
}

fn poisoned(operation: &'static str) -> StoreError {
    StoreError::Io {
        operation,
        reason: "a thread panicked while holding the store".into(),
    }
}

impl ExecutorStore for MemoryStore {
    fn claim_task(
        &self,
        task_id: TaskId,
        fingerprint: [u8; 32],
        deadline: u64,
    ) -> Result<Option<SpentTask>, StoreError> {
        let mut tasks = self.tasks.lock().map_err(|_| poisoned("claim task"))?;
        if let Some((spent, _)) = tasks.get(&task_id) {
            return Ok(Some(spent.clone()));
        }
        tasks.insert(task_id, (SpentTask::Running { fingerprint }, deadline));
        Ok(None)
    }

    fn answer_task(&self, task_id: TaskId, response: &[u8]) -> Result<(), StoreError> {
        let mut tasks = self.tasks.lock().map_err(|_| poisoned("answer task"))?;
        if let Some((spent, _)) = tasks.get_mut(&task_id) {
            *spent = SpentTask::Answered {
                fingerprint: *spent.fingerprint(),
                response: response.to_vec(),
            };
        }
        Ok(())
    }

    fn release_task(&self, task_id: TaskId) -> Result<bool, StoreError> {
        let mut tasks = self.tasks.lock().map_err(|_| poisoned("release task"))?;
        if matches!(tasks.get(&task_id), Some((SpentTask::Running { .. }, _))) {
            tasks.remove(&task_id);
            return Ok(true);
        }
        Ok(false)
    }

    fn spent_task(&self, task_id: TaskId) -> Result<Option<SpentTask>, StoreError> {
        Ok(self
            .tasks
            .lock()
            .map_err(|_| poisoned("read task"))?
            .get(&task_id)
            .map(|(spent, _)| spent.clone()))
    }

    fn prune_processed_tasks(&self, now: u64) -> Result<usize, StoreError> {
        let mut tasks = self.tasks.lock().map_err(|_| poisoned("prune tasks"))?;
        let before = tasks.len();
        tasks.retain(|_, (_, deadline)| *deadline >= now);
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
