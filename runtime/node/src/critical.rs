//! The binaries' long-lived tasks — the metrics and health server, the L1 probe, the pruning
//! loop, the gRPC servers. Each one is critical: none of them ends while the binary runs, so one
//! that ends, fails or panics is logged with its name and why, and the binary shuts down in
//! order and exits 1 instead of running on half-dead (ready, but with no metrics, or no pruning
//! until its disk fills). An orchestrator restarts it whole.

use std::{fmt::Display, future::Future};

use tokio::sync::watch;
use tracing::error;

/// The critical tasks of one binary, and the first of them to stop.
#[derive(Clone)]
pub struct Critical {
    stopped: watch::Sender<Option<String>>,
}

impl Default for Critical {
    fn default() -> Self {
        Self {
            stopped: watch::channel(None).0,
        }
    }
}

/// How a task's future ends: `()` for a loop, or a `Result` whose error says why it stopped.
pub trait TaskEnd {
    /// Why the task stopped, in words.
    fn why(self) -> String;
}

impl TaskEnd for () {
    fn why(self) -> String {
        "it returned".into()
    }
}

impl<E: Display> TaskEnd for Result<(), E> {
    fn why(self) -> String {
        match self {
            Ok(()) => "it returned".into(),
            Err(error) => format!("it failed: {error}"),
        }
    }
}

impl Critical {
    /// Runs `task` as the critical task `name`. Its end — returning, failing or panicking —
    /// stops the binary.
    pub fn spawn<F>(&self, name: &'static str, task: F)
    where
        F: Future + Send + 'static,
        F::Output: TaskEnd + Send,
    {
        let stopped = self.stopped.clone();
        let running = tokio::spawn(task);
        tokio::spawn(async move {
            let why = match running.await {
                Ok(end) => end.why(),
                Err(join) if join.is_panic() => format!("it panicked: {}", panic_text(join)),
                // Cancelled: only when the runtime itself shuts down.
                Err(_) => return,
            };
            let line = format!("{name} stopped: {why}");
            error!(target: "ponos::node", task = name, %why, "a critical task stopped: shutting down");
            stopped.send_if_modified(|first| {
                if first.is_some() {
                    return false;
                }
                *first = Some(line);
                true
            });
        });
    }

    /// Runs `server`, which ends on purpose only once `stopping` turns true (the binary shuts
    /// down): ending before that stops the binary like any critical task. Its outcome at
    /// shutdown is what [`ServerEnd::outcome`] gives.
    pub fn spawn_server<F, E>(
        &self,
        name: &'static str,
        server: F,
        stopping: watch::Receiver<bool>,
    ) -> ServerEnd
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
        E: std::error::Error + Send + Sync + 'static,
    {
        let (ended, outcome) = tokio::sync::oneshot::channel();
        self.spawn(name, async move {
            let result = server.await.map_err(eyre::Report::new);
            if !*stopping.borrow() {
                return result.and(Err(eyre::eyre!("it stopped serving")));
            }
            let _ = ended.send(result);
            std::future::pending::<eyre::Result<()>>().await
        });
        ServerEnd { name, outcome }
    }

    /// Resolves with the first critical task's stop, in one line; never while all run.
    pub async fn stopped(&self) -> String {
        let mut stopped = self.stopped.subscribe();
        match stopped.wait_for(Option::is_some).await {
            Ok(line) => line.clone().unwrap_or_default(),
            // The sender lives in `self`: it cannot be gone while this waits.
            Err(_) => std::future::pending().await,
        }
    }

    /// Resolves on SIGTERM or Ctrl-C (`Ok`), or as a critical task stops (`Err` naming it):
    /// either way the binary shuts down.
    pub async fn until_stop(&self) -> eyre::Result<()> {
        tokio::select! {
            () = crate::shutdown_signal() => Ok(()),
            line = self.stopped() => Err(eyre::eyre!(line)),
        }
    }
}

/// How a server started by [`Critical::spawn_server`] ended at shutdown.
pub struct ServerEnd {
    name: &'static str,
    outcome: tokio::sync::oneshot::Receiver<eyre::Result<()>>,
}

impl ServerEnd {
    /// Waits for the server to end after the binary began shutting down, with its outcome.
    pub async fn outcome(self) -> eyre::Result<()> {
        self.outcome
            .await
            .unwrap_or_else(|_| Err(eyre::eyre!("{} stopped without an answer", self.name)))
    }
}

/// A panic's message, when it has one.
fn panic_text(join: tokio::task::JoinError) -> String {
    let panic = join.into_panic();
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_task_to_stop_is_named_whether_it_returned_failed_or_panicked() {
        for (task, expected) in [
            (0, "the loop stopped: it returned"),
            (1, "the server stopped: it failed: address in use"),
            (2, "the probe stopped: it panicked: a bug"),
        ] {
            let critical = Critical::default();
            critical.spawn("forever", std::future::pending::<()>());
            match task {
                0 => critical.spawn("the loop", async {}),
                1 => critical.spawn("the server", async { Err::<(), _>("address in use") }),
                _ => critical.spawn("the probe", async {
                    if true {
                        panic!("a bug");
                    }
                }),
            }
            let stop =
                tokio::time::timeout(std::time::Duration::from_secs(5), critical.until_stop())
                    .await
                    .expect("a stopped task ends the wait");
            assert_eq!(stop.unwrap_err().to_string(), expected);
        }
    }
}
