//! The error type of the executor.

use std::time::Duration;

/// What can go wrong running performers.
#[derive(Debug, thiserror::Error)]
pub enum ExecutorError {
    /// The Docker daemon did not answer or refused a request.
    #[error("Docker: {context}: {source}{}", docker_hint(source))]
    Docker {
        /// What was being done.
        context: String,
        /// What the daemon said.
        #[source]
        source: bollard::errors::Error,
    },
    /// Building the performer binary or image failed.
    #[error("building the performer: {0}")]
    Build(String),
    /// The performer did not become healthy in time.
    #[error("the performer on 127.0.0.1:{port} was not healthy within {waited:?}: {last_error}")]
    Unhealthy {
        /// Its port.
        port: u16,
        /// How long we waited.
        waited: Duration,
        /// The last failure seen.
        last_error: String,
    },
    /// The performer refused or failed the task.
    #[error("the performer {code}: {message}")]
    Task {
        /// How it failed: "refused the task" or "failed".
        code: &'static str,
        /// Its message.
        message: String,
    },
    /// The task did not finish before its deadline; it was cancelled.
    #[error("the task did not finish within {0:?} and was cancelled")]
    DeadlineExceeded(Duration),
    /// The performer answered with another task's id.
    #[error("the performer answered for task {got}, not {expected}")]
    WrongTaskId {
        /// The id sent.
        expected: String,
        /// The id it answered with.
        got: String,
    },
    /// The performer could not be reached.
    #[error("cannot reach the performer on 127.0.0.1:{port}: {reason}")]
    Unreachable {
        /// Its port.
        port: u16,
        /// Why.
        reason: String,
    },
    /// Starting or stopping a native process failed.
    #[error("performer process {binary}: {reason}")]
    Process {
        /// The binary.
        binary: String,
        /// What went wrong.
        reason: String,
    },
    /// The performer container was killed for exceeding its memory limit.
    #[error("the performer ran out of memory (limit {limit_bytes} bytes) and was killed")]
    OutOfMemory {
        /// The container's memory limit.
        limit_bytes: i64,
    },
    /// No free loopback port could be found.
    #[error("no free loopback port: {0}")]
    NoPort(std::io::Error),
}

/// What to try, given what the daemon (or the lack of one) said.
fn docker_hint(error: &bollard::errors::Error) -> &'static str {
    use bollard::errors::Error;
    match error {
        Error::DockerResponseServerError {
            status_code: 404, ..
        } => " (is the image built? `ponos build` builds it; `docker images` lists what is there)",
        Error::DockerResponseServerError { .. } => "",
        _ => " (is dockerd running? `ponos doctor` checks it)",
    }
}
