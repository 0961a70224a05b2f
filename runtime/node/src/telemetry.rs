//! Logs (text on a terminal, JSON for collectors) and the HTTP endpoints every Ponos binary
//! serves: `/metrics` (Prometheus text), `/healthz` (the process is up) and `/readyz` (it can
//! take work).

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use axum::{Router, extract::State, http::StatusCode, routing::get};
use serde::Deserialize;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

pub use ponos_metrics::{Counter, Histogram, LATENCY_BUCKETS};

/// How logs are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Installs the global logger: `level` is a filter such as `info` or `ponos=debug,info`
/// (`RUST_LOG` wins when set).
pub fn init_logs(format: LogFormat, level: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Something that renders Prometheus text.
pub trait Metrics: Send + Sync + 'static {
    /// The exposition text.
    fn render(&self) -> String;
}

#[derive(Clone)]
struct HttpState {
    metrics: Arc<dyn Metrics>,
    ready: Arc<AtomicBool>,
}

/// Serves `/metrics`, `/healthz` and `/readyz` on `listener` until the process ends.
pub async fn serve_http(
    listener: TcpListener,
    metrics: Arc<dyn Metrics>,
    ready: Arc<AtomicBool>,
) -> std::io::Result<()> {
    let router = Router::new()
        .route(
            "/metrics",
            get(|State(s): State<HttpState>| async move { s.metrics.render() }),
        )
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(|State(s): State<HttpState>| async move {
                if s.ready.load(Ordering::SeqCst) {
                    (StatusCode::OK, "ready\n")
                } else {
                    (StatusCode::SERVICE_UNAVAILABLE, "starting\n")
                }
            }),
        )
        .with_state(HttpState { metrics, ready });
    axum::serve(listener, router).await
}

/// Binds `addr` with a message that names it.
pub async fn bind(addr: SocketAddr, what: &str) -> eyre::Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|e| {
        eyre::eyre!("cannot listen on {addr} for {what}: {e} (is another process using the port?)")
    })
}
