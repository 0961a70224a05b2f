//! A JSON-RPC proxy on loopback that counts the requests passing through it by method: what
//! benchmarks use to count the calls a component makes, from outside it.
//!
//! It relays bytes both ways unchanged and reads only the client's side, counting each
//! `"method":"…"` it sees (a batch counts each of its calls). [`hold`](CountingProxy::hold)
//! keeps requests from going on until [`release`](CountingProxy::release): a test that needs a
//! call to stay in flight holds it there.

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};

/// Calls counted so far, by method.
pub type Counts = BTreeMap<String, u64>;

/// A counting proxy in front of one upstream endpoint. Dropping it stops it.
#[derive(Debug)]
pub struct CountingProxy {
    address: SocketAddr,
    counts: Arc<Mutex<Counts>>,
    held: tokio::sync::watch::Sender<bool>,
    server: JoinHandle<()>,
}

impl CountingProxy {
    /// Listens on a free loopback port and relays to `upstream` (`host:port`).
    pub async fn start(upstream: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let counts = Arc::new(Mutex::new(Counts::new()));
        let shared = counts.clone();
        let (held, holding) = tokio::sync::watch::channel(false);
        let server = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let counts = shared.clone();
                let holding = holding.clone();
                tokio::spawn(async move {
                    if let Ok(upstream) = TcpStream::connect(upstream).await {
                        relay(client, upstream, counts, holding).await;
                    }
                });
            }
        });
        Ok(Self {
            address,
            counts,
            held,
            server,
        })
    }

    /// The proxy's HTTP endpoint.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The calls counted so far.
    pub fn counts(&self) -> Counts {
        self.counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Counts the requests that arrive from now on but keeps them from the upstream until
    /// [`release`](Self::release).
    pub fn hold(&self) {
        self.held.send_replace(true);
    }

    /// Lets held and later requests go on.
    pub fn release(&self) {
        self.held.send_replace(false);
    }

    /// All calls counted so far.
    pub fn total(&self) -> u64 {
        self.counts().values().sum()
    }
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// What a request's method looks like on the wire (serde_json writes no spaces).
const NEEDLE: &[u8] = b"\"method\":\"";

async fn relay(
    client: TcpStream,
    upstream: TcpStream,
    counts: Arc<Mutex<Counts>>,
    mut holding: tokio::sync::watch::Receiver<bool>,
) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut upstream_read, mut upstream_write) = upstream.into_split();
    let requests = async move {
        let mut buffer = vec![0u8; 64 * 1024];
        // The end of the previous read, so a method split between two reads is still seen.
        let mut carry: Vec<u8> = Vec::new();
        loop {
            let read = match client_read.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(read) => read,
            };
            carry.extend_from_slice(&buffer[..read]);
            let consumed = count_methods(&carry, &counts);
            carry.drain(..consumed);
            if holding.wait_for(|held| !*held).await.is_err() {
                break;
            }
            if upstream_write.write_all(&buffer[..read]).await.is_err() {
                break;
            }
        }
        let _ = upstream_write.shutdown().await;
    };
    let answers = async move {
        let _ = tokio::io::copy(&mut upstream_read, &mut client_write).await;
        let _ = client_write.shutdown().await;
    };
    tokio::join!(requests, answers);
}

/// Counts the complete `"method":"name"` occurrences in `bytes`; returns how many bytes are
/// done with (the rest may hold the start of one).
fn count_methods(bytes: &[u8], counts: &Mutex<Counts>) -> usize {
    let mut done = 0;
    let mut at = 0;
    while let Some(start) = find(&bytes[at..], NEEDLE).map(|i| at + i) {
        let name_start = start + NEEDLE.len();
        let Some(end) = bytes[name_start..].iter().position(|b| *b == b'"') else {
            return start;
        };
        let name = String::from_utf8_lossy(&bytes[name_start..name_start + end]).into_owned();
        *counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(name)
            .or_default() += 1;
        at = name_start + end + 1;
        done = at;
    }
    // Keep a tail long enough to hold a needle cut in two.
    done.max(bytes.len().saturating_sub(NEEDLE.len()))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_counted_across_reads_and_in_batches() {
        let counts = Mutex::new(Counts::new());
        let wire = br#"POST / HTTP/1.1\r\n\r\n[{"jsonrpc":"2.0","id":1,"method":"eth_call"},{"id":2,"method":"eth_blockNumber"}]POST / HTTP/1.1\r\n\r\n{"method":"eth_call","params":[]}"#;
        let mut carry = Vec::new();
        for piece in wire.chunks(7) {
            carry.extend_from_slice(piece);
            let done = count_methods(&carry, &counts);
            carry.drain(..done);
        }
        let counts = counts.into_inner().unwrap();
        assert_eq!(counts.get("eth_call"), Some(&2));
        assert_eq!(counts.get("eth_blockNumber"), Some(&1));
        assert_eq!(counts.len(), 2);
    }
}
