//! Integration tests of the `ponos` binary, run as a user would run it.

mod deploy;
mod devnet;
mod doctor;
mod faults;
mod fleet;
mod ha;
mod keys;
mod multi_avs;
mod new;
mod procs;

use std::process::{Command, Output};

use ponos_performer::{Performer, PerformerError, Task};

/// Runs the `ponos` binary built for this test run with `args`.
fn ponos(args: &[&str], configure: impl FnOnce(&mut Command)) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ponos"));
    cmd.args(args);
    configure(&mut cmd);
    cmd.output().expect("the ponos binary runs")
}

/// A performer that reverses the payload.
#[derive(Clone)]
struct Reverse;

impl Performer for Reverse {
    async fn handle_task(&self, task: Task) -> Result<Vec<u8>, PerformerError> {
        Ok(task.payload.iter().rev().copied().collect())
    }
}

/// The tasks of `tasks` still not verified when `within` has passed (none, once all are).
async fn unverified_after<P: alloy::providers::Provider>(
    mailbox: &ponos_chain::contracts::TaskMailbox::TaskMailboxInstance<P>,
    tasks: &[alloy::primitives::B256],
    within: std::time::Duration,
) -> Vec<alloy::primitives::B256> {
    let until = std::time::Instant::now() + within;
    let mut open = tasks.to_vec();
    loop {
        let mut still = Vec::new();
        for task in open {
            if mailbox.getTaskStatus(task).call().await.unwrap() != 2 {
                still.push(task);
            }
        }
        open = still;
        if open.is_empty() || std::time::Instant::now() >= until {
            return open;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
