#![doc = include_str!("../README.md")]

pub mod env;
pub mod health;
mod server;

pub use server::{ServeError, serve, serve_with_shutdown};

use std::future::Future;

/// One task, as the executor hands it to the performer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// The task hash, `0x`-prefixed hex (the executor sends its UTF-8 bytes).
    pub task_id: String,
    /// The payload given to `TaskMailbox.createTask`.
    pub payload: Vec<u8>,
}

/// Why a task was not done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PerformerError {
    /// The task is malformed or not for this performer; the executor reports it as invalid.
    #[error("invalid task: {0}")]
    InvalidTask(String),
    /// The task was valid but running it failed.
    #[error("task failed: {0}")]
    Failed(String),
}

/// What an AVS implements: a check of each task and the work itself.
pub trait Performer: Send + Sync + 'static {
    /// Checks a task before it runs. The default accepts every task.
    fn validate_task(&self, task: &Task) -> Result<(), PerformerError> {
        let _ = task;
        Ok(())
    }

    /// Runs the task and returns its result bytes.
    fn handle_task(
        &self,
        task: Task,
    ) -> impl Future<Output = Result<Vec<u8>, PerformerError>> + Send;
}
