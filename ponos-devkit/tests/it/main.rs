//! Integration tests of the `ponos` binary, run as a user would run it.

mod deploy;
mod devnet;
mod doctor;
mod faults;
mod keys;
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
