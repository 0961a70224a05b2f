//! The Ponos production binaries. `ponos-executor` is the executor every operator runs
//! (`docs/executor.example.toml`); `ponos-aggregator` runs an AVS's task pipeline
//! (`docs/aggregator.example.toml`). Both also read Hourglass's YAML files ([`hourglass`]).

pub mod aggregator;
pub mod config;
pub mod critical;
pub mod executor;
pub mod hourglass;
pub mod telemetry;

/// Ends a binary: `Ok` exits 0; an error prints one line, `error: ` and its causes joined
/// with `: ` (URLs redacted), and exits 1. No report, no backtrace, whatever `RUST_BACKTRACE`
/// says: an operator reads the line, and the line says what to fix.
pub fn exit(outcome: eyre::Result<()>) -> std::process::ExitCode {
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{}", error_line(&error));
            std::process::ExitCode::FAILURE
        }
    }
}

/// The one line [`exit`] prints for `error`.
pub fn error_line(error: &eyre::Report) -> String {
    let causes: Vec<String> = error.chain().map(ToString::to_string).collect();
    let line = format!("error: {}", causes.join(": "));
    ponos_chain::redact::urls_in(&line.replace('\n', " "))
}

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
