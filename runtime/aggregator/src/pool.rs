//! One gRPC connection per executor endpoint, shared by every task that goes there. Channels
//! connect lazily and reconnect on their own; a task never opens a connection of its own.

use std::{collections::HashMap, sync::Mutex, time::Duration};

use ponos_proto::hourglass::executor_service_client::ExecutorServiceClient;
use tonic::transport::{Channel, Endpoint};

/// The largest message an executor may send back (the reference drops results ≥ 1.5 MiB; the
/// size check on the output happens per response).
pub const MAX_RESPONSE_BYTES: usize = 4 << 20;

/// The connections to executors.
#[derive(Debug, Default)]
pub struct ExecutorPool {
    channels: Mutex<HashMap<String, Channel>>,
}

impl ExecutorPool {
    /// A client for the executor at `socket` (`host:port`, or a full `http://` URL).
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
                if url.starts_with("https://") {
                    return Err(format!(
                        "executor socket {socket}: TLS endpoints are not supported yet; register a plain host:port"
                    ));
                }
                let endpoint = Endpoint::from_shared(url)
                    .map_err(|e| format!("executor socket {socket:?} is not a valid address: {e}"))?
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
