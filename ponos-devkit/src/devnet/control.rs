//! The running devnet's control socket: `ponos devnet reload` asks the devnet process to swap in
//! a new performer build through it.
//!
//! A Unix socket in the state directory; a request is one JSON line, and so is its answer.

use std::{path::Path, sync::Arc};

use serde::{Deserialize, Serialize};
use tokio::{
    io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader},
    net::{UnixListener, UnixStream},
    task::JoinHandle,
};
use tracing::warn;

use super::{Devnet, DevnetError, Reloaded};

/// The control socket's file in the state directory.
pub const CONTROL_SOCKET: &str = "control.sock";

/// What a client asks.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "command")]
enum Request {
    /// Swap the performer build on disk in on every executor.
    Reload,
}

/// What the devnet answers.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Answer {
    Reloaded(Reloaded),
    Error(String),
}

/// The control socket, bound before the devnet starts: a request sent as soon as the devnet
/// is ready waits for [`serve`](Self::serve) instead of failing.
#[derive(Debug)]
pub struct ControlSocket(UnixListener);

impl ControlSocket {
    /// Binds the control socket in `dir` (replacing one a killed devnet left).
    pub fn bind(dir: &Path) -> Result<Self, DevnetError> {
        let path = dir.join(CONTROL_SOCKET);
        let _ = std::fs::remove_file(&path);
        UnixListener::bind(&path)
            .map(Self)
            .map_err(|e| DevnetError::State {
                path,
                reason: format!("opening the control socket: {e}"),
            })
    }

    /// Answers requests for `devnet` until the handle is aborted.
    pub fn serve(self, devnet: Arc<Devnet>) -> JoinHandle<()> {
        serve(self.0, devnet)
    }
}

fn serve(listener: UnixListener, devnet: Arc<Devnet>) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let devnet = devnet.clone();
            tokio::spawn(async move {
                if let Err(error) = answer(&devnet, stream).await {
                    warn!(target: "ponos::devnet", %error, "control request dropped");
                }
            });
        }
    })
}

async fn answer(devnet: &Devnet, stream: UnixStream) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    BufReader::new(read).read_line(&mut line).await?;
    let answer = match serde_json::from_str::<Request>(&line) {
        Ok(Request::Reload) => match devnet.reload().await {
            Ok(reloaded) => Answer::Reloaded(reloaded),
            Err(error) => Answer::Error(error.to_string()),
        },
        Err(error) => Answer::Error(format!("not a control request: {error}")),
    };
    let mut json = serde_json::to_vec(&answer).map_err(std::io::Error::other)?;
    json.push(b'\n');
    write.write_all(&json).await
}

/// Asks the devnet whose state directory is `dir` to reload its performer, and waits for the
/// swap to finish.
pub async fn reload(dir: &Path) -> Result<Reloaded, DevnetError> {
    let path = dir.join(CONTROL_SOCKET);
    let failed = |reason: String| DevnetError::State {
        path: path.clone(),
        reason,
    };
    let stream = UnixStream::connect(&path).await.map_err(|e| {
        failed(format!(
            "{e}: is the devnet running? (`ponos devnet status` shows it)"
        ))
    })?;
    let (read, mut write) = stream.into_split();
    let mut request = serde_json::to_vec(&Request::Reload).map_err(|e| failed(e.to_string()))?;
    request.push(b'\n');
    write
        .write_all(&request)
        .await
        .map_err(|e| failed(e.to_string()))?;
    let mut line = String::new();
    BufReader::new(read)
        .read_line(&mut line)
        .await
        .map_err(|e| failed(e.to_string()))?;
    match serde_json::from_str(&line) {
        Ok(Answer::Reloaded(reloaded)) => Ok(reloaded),
        Ok(Answer::Error(reason)) => Err(DevnetError::Invalid(reason)),
        Err(_) if line.is_empty() => Err(failed(
            "the devnet closed the connection without an answer (see `ponos devnet logs`)".into(),
        )),
        Err(error) => Err(failed(format!("not a devnet answer: {error}"))),
    }
}
