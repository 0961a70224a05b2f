//! One gRPC connection per executor endpoint, shared by every task that goes there. Channels
//! connect lazily and reconnect on their own; a task never opens a connection of its own.
//!
//! An operator that registers its socket as `https://host:port` is reached over TLS: its
//! certificate must name `host` and chain to the system's roots or to a CA the aggregator is
//! configured with ([`ExecutorTls`]). A plain `host:port` (what Hourglass registers) is plaintext
//! HTTP/2.

use std::{collections::HashMap, sync::Mutex, time::Duration};

use ponos_proto::hourglass::executor_service_client::ExecutorServiceClient;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

/// The largest message an executor may send back (the reference drops results ≥ 1.5 MiB; the
/// size check on the output happens per response).
pub const MAX_RESPONSE_BYTES: usize = 4 << 20;

/// How executors behind TLS are checked.
#[derive(Debug, Clone, Default)]
pub struct ExecutorTls {
    /// CA certificates (PEM) that executors' certificates may chain to, beside the system's
    /// roots: for operators with a private CA.
    pub ca_pem: Option<Vec<u8>>,
}

/// The connections to executors.
#[derive(Debug, Default)]
pub struct ExecutorPool {
    channels: Mutex<HashMap<String, Channel>>,
    tls: ExecutorTls,
}

impl ExecutorPool {
    /// A pool that checks TLS executors as `tls` says.
    pub fn new(tls: ExecutorTls) -> Self {
        Self {
            channels: Mutex::default(),
            tls,
        }
    }

    /// A client for the executor at `socket` (`host:port`, or a full `http://` or `https://`
    /// URL).
    pub fn client(&self, socket: &str) -> Result<ExecutorServiceClient<Channel>, String> {
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        let channel = match channels.get(socket) {
            Some(channel) => channel.clone(),
            None => {
                let url = if socket.contains("://") {
                    socket.to_owned()
                } else {
                    format!("http://{socket}")
                };
                let mut endpoint = Endpoint::from_shared(url.clone()).map_err(|e| {
                    format!("executor socket {socket:?} is not a valid address: {e}")
                })?;
                if url.starts_with("https://") {
                    let mut tls = ClientTlsConfig::new().with_native_roots();
                    if let Some(ca) = &self.tls.ca_pem {
                        tls = tls.ca_certificate(Certificate::from_pem(ca));
                    }
                    endpoint = endpoint
                        .tls_config(tls)
                        .map_err(|e| format!("executor socket {socket}: TLS: {e}"))?;
                }
                let endpoint = endpoint
                    .connect_timeout(Duration::from_secs(5))
                    .tcp_nodelay(true)
                    .http2_keep_alive_interval(Duration::from_secs(30))
                    .keep_alive_while_idle(true);
                let channel = endpoint.connect_lazy();
                channels.insert(socket.to_owned(), channel.clone());
                channel
            }
        };
        Ok(ExecutorServiceClient::new(channel)
            .max_decoding_message_size(MAX_RESPONSE_BYTES)
            .max_encoding_message_size(usize::MAX))
    }

    /// How many endpoints have a connection.
    pub fn len(&self) -> usize {
        self.channels
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// Whether no endpoint has a connection yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
