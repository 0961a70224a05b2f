//! Performers as native processes: the same gRPC contract on a loopback port, for machines
//! without Docker and a fast inner loop.

use std::time::Duration;
use std::{path::PathBuf, process::Stdio};

use tokio::{
    io::{AsyncBufReadExt as _, AsyncRead, BufReader},
    process::{Child, Command},
};
use tracing::info;

use crate::{ExecutorError, performer::free_port};

/// Makes the child die when the executor dies, however it dies: `kill_on_drop` covers an
/// orderly exit, and on Linux the kernel sends the child SIGKILL when its parent is killed
/// (`PR_SET_PDEATHSIG`). The signal follows the thread that spawned the child, so performers
/// are spawned from the runtime's worker threads, which live as long as the executor.
fn die_with_parent(command: &mut Command) {
    #[cfg(target_os = "linux")]
    {
        let parent = std::process::id();
        // SAFETY: the closure runs in the forked child before exec and calls only
        // async-signal-safe functions (prctl, getppid, _exit); it allocates nothing.
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The parent died between fork and prctl: nobody would signal us.
                if libc::getppid() as u32 != parent {
                    libc::_exit(1);
                }
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = command;
}

/// Forwards what the performer on `port` writes to `stream` into the executor's log, a line per
/// event (target `ponos::performer`), until it closes the stream.
async fn forward(output: impl AsyncRead + Unpin, port: u16, stream: &'static str) {
    let mut lines = BufReader::new(output).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        info!(target: "ponos::performer", port, stream, "{line}");
    }
}

/// A running performer process; killed when dropped, and when the executor is killed.
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
        let mut command = Command::new(&binary);
        command
            .env("PERFORMER_PORT", port.to_string())
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        die_with_parent(&mut command);
        let mut child = command.spawn().map_err(|e| ExecutorError::Process {
            binary: binary.display().to_string(),
            reason: e.to_string(),
        })?;
        if let Some(stdout) = child.stdout.take() {
            tokio::spawn(forward(stdout, port, "stdout"));
        }
        if let Some(stderr) = child.stderr.take() {
            tokio::spawn(forward(stderr, port, "stderr"));
        }
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

    /// How it exited, waiting up to `within` for it to; `None` while it still runs.
    pub async fn exited_within(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        tokio::time::timeout(within, self.child.wait())
            .await
            .ok()
            .and_then(Result::ok)
    }

    /// The binary it runs.
    pub fn binary(&self) -> &std::path::Path {
        &self.binary
    }

    /// Kills it and waits for it to exit.
    pub async fn kill(&mut self) -> Result<(), ExecutorError> {
        self.child.kill().await.map_err(|e| ExecutorError::Process {
            binary: self.binary.display().to_string(),
            reason: e.to_string(),
        })
    }
}
