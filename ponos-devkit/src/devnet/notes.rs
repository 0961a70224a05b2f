//! What the devnet learns of a task beyond the chain: each operator's failure as its executor
//! reported it, whether the task stalled (no result can reach the threshold), and how its
//! session ended. Kept for tasks that did not go smoothly only, one small JSON file each in
//! the state directory's `tasks/`, so `ponos task create` can end as soon as a task's fate is
//! known and `ponos task status` can say why.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use alloy::primitives::B256;
use ponos_aggregator::TaskUpdate;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use tracing::warn;

/// The directory under the state directory that holds the notes.
pub const NOTES_DIR: &str = "tasks";

/// What the devnet knows of one task beyond the chain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskNotes {
    /// The task.
    pub task: B256,
    /// `operator: reason` for each operator that gave no usable answer, its latest reason.
    pub reasons: Vec<String>,
    /// No result can reach the threshold with the operators' answers so far.
    pub stalled: bool,
    /// The session ended without a certificate, and why (e.g. the deadline passed).
    pub error: Option<String>,
    /// The session ended.
    pub ended: bool,
}

impl TaskNotes {
    /// Whether the task's fate is known and it is not verified.
    pub const fn failed(&self) -> bool {
        self.stalled || self.error.is_some()
    }

    /// Takes in `update` (about this task).
    fn apply(&mut self, update: &TaskUpdate) {
        match update {
            TaskUpdate::OperatorFailed {
                operator, reason, ..
            } => {
                let prefix = format!("{operator}: ");
                let line = format!("{prefix}{reason}");
                match self.reasons.iter_mut().find(|r| r.starts_with(&prefix)) {
                    Some(known) => *known = line,
                    None => self.reasons.push(line),
                }
            }
            TaskUpdate::Stalled { reasons, .. } => {
                self.stalled = true;
                self.reasons.clone_from(reasons);
            }
            TaskUpdate::Ended { error, .. } => {
                self.ended = true;
                self.error.clone_from(error);
            }
        }
    }
}

/// The notes file of `task` under state directory `dir`.
pub fn notes_path(dir: &Path, task: B256) -> PathBuf {
    dir.join(NOTES_DIR).join(format!("{task}.json"))
}

/// The notes of `task`, when the devnet in `dir` kept any.
pub fn read_notes(dir: &Path, task: B256) -> Option<TaskNotes> {
    let text = std::fs::read(notes_path(dir, task)).ok()?;
    serde_json::from_slice(&text).ok()
}

/// The notes of the tasks still running, in memory; finished ones live in their files only.
#[derive(Debug, Clone, Default)]
pub struct Notebook {
    open: Arc<Mutex<HashMap<B256, TaskNotes>>>,
    dir: Option<PathBuf>,
}

impl Notebook {
    /// A notebook writing under state directory `dir` (in memory only without one).
    pub fn new(dir: Option<&Path>) -> Self {
        Self {
            open: Arc::default(),
            dir: dir.map(Path::to_path_buf),
        }
    }

    /// The notes of a running `task`, or of a finished one when they were written to a file.
    pub fn get(&self, task: B256) -> Option<TaskNotes> {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.get(&task)
            .cloned()
            .or_else(|| self.dir.as_deref().and_then(|dir| read_notes(dir, task)))
    }

    /// Takes in the aggregator's updates until it stops.
    pub async fn follow(self, mut updates: broadcast::Receiver<TaskUpdate>) {
        loop {
            match updates.recv().await {
                Ok(update) => self.apply(&update),
                Err(broadcast::error::RecvError::Lagged(lost)) => {
                    warn!(target: "ponos::devnet", lost, "task notes fell behind the aggregator");
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }

    fn apply(&self, update: &TaskUpdate) {
        let task = update.task();
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        // A task that ends well with nothing noted leaves no trace.
        if matches!(update, TaskUpdate::Ended { error: None, .. }) && !open.contains_key(&task) {
            return;
        }
        let notes = open.entry(task).or_insert_with(|| TaskNotes {
            task,
            ..TaskNotes::default()
        });
        notes.apply(update);
        let snapshot = notes.clone();
        if snapshot.ended {
            open.remove(&task);
        }
        drop(open);
        if let Some(dir) = &self.dir
            && let Err(error) = write_notes(dir, &snapshot)
        {
            warn!(target: "ponos::devnet", %task, %error, "writing task notes");
        }
    }
}

/// Writes `notes` whole (a reader never sees half a file).
fn write_notes(dir: &Path, notes: &TaskNotes) -> std::io::Result<()> {
    let path = notes_path(dir, notes.task);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let partial = path.with_extension("json.partial");
    std::fs::write(&partial, serde_json::to_vec(notes)?)?;
    std::fs::rename(partial, path)
}

#[cfg(test)]
mod tests {
    use alloy::primitives::Address;

    use super::*;

    #[test]
    fn notes_keep_each_operators_latest_reason_and_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let book = Notebook::new(Some(dir.path()));
        let (task, quiet) = (B256::repeat_byte(1), B256::repeat_byte(2));
        let failed = |operator: u8, reason: &str| TaskUpdate::OperatorFailed {
            task,
            operator: Address::repeat_byte(operator),
            reason: reason.into(),
            settled: true,
        };
        book.apply(&failed(7, "Unavailable: restarting"));
        book.apply(&failed(7, "InvalidArgument: not a number"));
        book.apply(&failed(8, "InvalidArgument: not a number"));
        assert_eq!(book.get(task).unwrap().reasons.len(), 2);
        assert!(!book.get(task).unwrap().failed());
        book.apply(&TaskUpdate::Stalled {
            task,
            reasons: vec!["a: no".into()],
        });
        assert!(read_notes(dir.path(), task).unwrap().failed());
        book.apply(&TaskUpdate::Ended {
            task,
            error: Some("expired".into()),
        });
        let ended = read_notes(dir.path(), task).unwrap();
        assert_eq!(ended.error.as_deref(), Some("expired"));
        assert!(book.open.lock().unwrap().is_empty());
        // A task that went well is not written down.
        book.apply(&TaskUpdate::Ended {
            task: quiet,
            error: None,
        });
        assert!(book.get(quiet).is_none());
    }
}
