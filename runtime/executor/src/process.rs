//! Performers as native processes: the same gRPC contract on a loopback port, for machines
//! without Docker and a fast inner loop.

use std::{path::PathBuf, process::Stdio};

use tokio::process::{Child, Command};

use crate::{ExecutorError, performer::free_port};

/// A running performer process; killed when dropped.
#[derive(Debug)]
pub struct PerformerProcess {
    binary: PathBuf,
    child: Child,
    port: u16,
}

impl PerformerProcess {
    /// Starts `binary` with `PERFORMER_PORT` set to a free loopback port and `env` added.
    pub fn start(
        binary: impl Into<PathBuf>,
        env: &[(String, String)],
    ) -> Result<Self, ExecutorError> {
        let binary = binary.into();
        let port = free_port()?;
        let child = Command::new(&binary)
            .env("PERFORMER_PORT", port.to_string())
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| ExecutorError::Process {
                binary: binary.display().to_string(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            binary,
            child,
            port,
        })
    }

    /// The loopback port it serves on.
    pub const fn port(&self) -> u16 {
        self.port
    }

    /// Whether it still runs.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Kills it and waits for it to exit.
    pub async fn kill(&mut self) -> Result<(), ExecutorError> {
        self.child.kill().await.map_err(|e| ExecutorError::Process {
            binary: self.binary.display().to_string(),
            reason: e.to_string(),
        })
    }
}
