//! In-process performers: a Rust [`Performer`] value served on a loopback port inside the
//! executor, so tests and the devnet's fastest mode use the very same gRPC path as containers.

use ponos_performer::{Performer, serve_with_shutdown};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

use crate::ExecutorError;

/// A performer served by this process; stopped when dropped.
#[derive(Debug)]
pub struct InProcessPerformer {
    port: u16,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<()>,
}

impl InProcessPerformer {
    /// Serves `performer` on a free loopback port.
    pub async fn start<P: Performer>(performer: P) -> Result<Self, ExecutorError> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(ExecutorError::NoPort)?;
        let port = listener.local_addr().map_err(ExecutorError::NoPort)?.port();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            if let Err(error) = serve_with_shutdown(listener, performer, shutdown).await {
                tracing::error!(target: "ponos::executor", %error, "in-process performer stopped");
            }
        });
        Ok(Self {
            port,
            stop: Some(stop),
            server,
        })
    }

    /// The loopback port it serves on.
    pub const fn port(&self) -> u16 {
        self.port
    }

    /// Stops it, letting tasks in flight finish.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.server).await;
    }
}

impl Drop for InProcessPerformer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
