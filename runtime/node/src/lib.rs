//! The Ponos production binaries. `ponos-executor` is the executor every operator runs
//! (`docs/executor.example.toml`); `ponos-aggregator` runs an AVS's task pipeline
//! (`docs/aggregator.example.toml`).

pub mod aggregator;
pub mod config;
pub mod executor;
pub mod telemetry;

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
