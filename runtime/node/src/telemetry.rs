//! Logs (text on a terminal, JSON for collectors) and the HTTP endpoints every Ponos binary
//! serves: `/metrics` (Prometheus text), `/healthz` (the process is up) and `/readyz` (it can
//! take work).

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use alloy::providers::{DynProvider, Provider as _};
use axum::{Router, extract::State, http::StatusCode, routing::get};
use serde::Deserialize;
use tokio::net::TcpListener;
use tracing::{info, warn};
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
    // Colours only for a person at a terminal: a log file or a collector gets plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(|| RedactingStderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Standard error, with every URL in a log line redacted: Ponos's own errors are redacted
/// where they are made, and this catches what libraries log (an HTTP client's span names the
/// URL it sends to, API key included, at debug level). The formatter writes each event in one
/// call, so a URL never straddles two writes.
struct RedactingStderr;

impl std::io::Write for RedactingStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let mut stderr = std::io::stderr().lock();
        if text.contains("://") {
            stderr.write_all(ponos_chain::redact::urls_in(&text).as_bytes())?;
        } else {
            stderr.write_all(buf)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Something that renders Prometheus text.
pub trait Metrics: Send + Sync + 'static {
    /// The exposition text.
    fn render(&self) -> String;
}

/// How often a binary checks that its L1 answers.
pub const L1_PROBE_INTERVAL: Duration = Duration::from_secs(2);

/// What `/readyz` answers: ready once the binary has started, and only while its L1 answers
/// (an executor that cannot read keys and memberships, or an aggregator that cannot read
/// operator sets, cannot take work), and, for an aggregator with standbys, only while it is the
/// active instance.
#[derive(Default)]
pub struct Readiness {
    started: AtomicBool,
    l1_unreachable: AtomicBool,
    standby: std::sync::Mutex<Option<String>>,
    notes: std::sync::Mutex<Option<Notes>>,
}

/// Lines `/readyz` adds below its verdict: what is ready but not whole.
type Notes = Box<dyn Fn() -> Vec<String> + Send + Sync>;

impl std::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readiness")
            .field("not_ready", &self.not_ready())
            .finish_non_exhaustive()
    }
}

impl Readiness {
    /// Lines `/readyz` shows below its verdict, read on each request (an aggregator's AVSs it
    /// does not serve, and why).
    pub fn set_notes(&self, notes: impl Fn() -> Vec<String> + Send + Sync + 'static) {
        *self.notes.lock().unwrap_or_else(|e| e.into_inner()) = Some(Box::new(notes));
    }

    /// The verdict and the notes, as `/readyz` answers them.
    pub fn report(&self) -> (bool, String) {
        let (ready, mut body) = match self.not_ready() {
            None => (true, "ready\n".to_string()),
            Some(reason) => (false, format!("{reason}\n")),
        };
        if let Some(notes) = self
            .notes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            for line in notes() {
                body.push_str(&line);
                body.push('\n');
            }
        }
        (ready, body)
    }

    /// Marks the binary started (or stopping).
    pub fn set_started(&self, started: bool) {
        self.started.store(started, Ordering::SeqCst);
    }

    /// Marks an aggregator a standby (and why: who is active), or the active one (`None`).
    pub fn set_standby(&self, standby: Option<String>) {
        *self.standby.lock().unwrap_or_else(|e| e.into_inner()) = standby;
    }

    /// Why the binary is not ready, or `None` when it is.
    pub fn not_ready(&self) -> Option<String> {
        let standby = self.standby.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(standby) = standby.as_ref() {
            Some(format!("standby: {standby}"))
        } else if !self.started.load(Ordering::SeqCst) {
            Some("starting".into())
        } else if self.l1_unreachable.load(Ordering::SeqCst) {
            Some("the L1 cannot be read".into())
        } else {
            None
        }
    }

    /// Reads the L1 head every `every` (each read bounded by `every` too) for as long as the
    /// process runs, and is not ready while it fails. Each change is logged once.
    pub fn watch_l1(
        self: &Arc<Self>,
        provider: DynProvider,
        every: Duration,
        critical: &crate::critical::Critical,
    ) {
        critical.spawn("the L1 probe", probe_l1(self.clone(), provider, every));
    }
}

/// The L1 probe of [`Readiness::watch_l1`]; runs for as long as the process does.
async fn probe_l1(readiness: Arc<Readiness>, provider: DynProvider, every: Duration) {
    loop {
        let read = tokio::time::timeout(every, provider.get_block_number()).await;
        let failure = match read {
            Ok(Ok(_)) => None,
            Ok(Err(error)) => Some(ponos_chain::redact::urls_in(&error.to_string())),
            Err(_) => Some(format!("no answer within {every:?}")),
        };
        let was_down = readiness
            .l1_unreachable
            .swap(failure.is_some(), Ordering::SeqCst);
        match (&failure, was_down) {
            (Some(error), false) => {
                warn!(target: "ponos::node", %error, "the L1 cannot be read: not ready");
            }
            (None, true) => info!(target: "ponos::node", "the L1 answers again: ready"),
            _ => {}
        }
        tokio::time::sleep(every).await;
    }
}

#[derive(Clone)]
struct HttpState {
    metrics: Arc<dyn Metrics>,
    readiness: Arc<Readiness>,
}

/// Serves `/metrics`, `/healthz` and `/readyz` on `listener` until the process ends.
pub async fn serve_http(
    listener: TcpListener,
    metrics: Arc<dyn Metrics>,
    readiness: Arc<Readiness>,
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
                match s.readiness.report() {
                    (true, body) => (StatusCode::OK, body),
                    (false, body) => (StatusCode::SERVICE_UNAVAILABLE, body),
                }
            }),
        )
        .with_state(HttpState { metrics, readiness });
    axum::serve(listener, router).await
}

/// Binds `addr` with a message that names it.
pub async fn bind(addr: SocketAddr, what: &str) -> eyre::Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|e| {
        eyre::eyre!("cannot listen on {addr} for {what}: {e} (is another process using the port?)")
    })
}
