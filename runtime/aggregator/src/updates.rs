//! What happens to tasks as it happens, for tools that show a task's fate while it runs (the
//! devnet behind `ponos task create`) and for logs. Updates are broadcast: a receiver that falls
//! behind loses the oldest ones, never holds up a session.

use alloy::primitives::{Address, B256};

/// How many updates a receiver may fall behind before it loses the oldest.
pub const CAPACITY: usize = 4096;

/// One step of a task's fate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskUpdate {
    /// An operator gave no usable answer; it is asked again until the deadline.
    OperatorFailed {
        /// The task.
        task: B256,
        /// The operator.
        operator: Address,
        /// What it said (its executor's status and message), or what was wrong with its answer.
        reason: String,
        /// Whether the answer is settled for now (a refusal, a failed, panicked or timed-out
        /// performer, a bad signature) rather than a passing condition (unreachable, restarting).
        settled: bool,
    },
    /// The operators that are left cannot bring any result to the threshold: the answers and
    /// settled failures so far rule it out. The task is still asked for until its deadline, in
    /// case an operator changes, but without that it fails.
    Stalled {
        /// The task.
        task: B256,
        /// Each failed operator's reason, `operator: reason`.
        reasons: Vec<String>,
    },
    /// The task's session ended.
    Ended {
        /// The task.
        task: B256,
        /// `None` when its certificate landed; else why it did not.
        error: Option<String>,
    },
}

impl TaskUpdate {
    /// The task it is about.
    pub const fn task(&self) -> B256 {
        match self {
            Self::OperatorFailed { task, .. }
            | Self::Stalled { task, .. }
            | Self::Ended { task, .. } => *task,
        }
    }
}
