//! Test an EigenLayer AVS end to end on a local Ponos devnet, from the AVS's own `cargo test`.
//!
//! [`Devnet::builder`] starts `ponos devnet up` in the background (anvil L1 and L2, the
//! TaskMailbox stack, the AVS's contracts when they are compiled, its operators, the
//! aggregator and one executor per operator running the AVS's performer);
//! [`Devnet::create_task`] runs `ponos task create --json` and returns the task's fate;
//! dropping the [`Devnet`] stops it. The kit links nothing of Ponos: it drives the `ponos`
//! command (found on `PATH`, or at the path in `PONOS`), so a test crate that uses it builds in
//! seconds.
//!
//! ```no_run
//! use ponos_testkit::{Chain, Devnet};
//!
//! # fn main() -> Result<(), ponos_testkit::Error> {
//! let devnet = Devnet::builder()
//!     .performer_binary("target/debug/my-avs-performer")
//!     .start()?;
//! let task = devnet.create_task(Chain::L1, b"7")?;
//! assert_eq!(task.result, b"49");
//! # Ok(())
//! # }
//! ```
//!
//! In an integration test of the performer's crate, `env!("CARGO_BIN_EXE_<binary>")` names
//! the binary cargo has just built for the test.

use std::{
    ffi::OsString,
    fmt,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    sync::atomic::{AtomicU32, Ordering},
};

use serde::Deserialize;

/// Why the kit could not do what was asked.
#[derive(Debug)]
pub enum Error {
    /// The `ponos` command could not be run.
    Spawn {
        /// The program that was tried.
        program: PathBuf,
        /// What the system said.
        error: std::io::Error,
    },
    /// `ponos` ran and failed; its own one-line error.
    Ponos {
        /// The subcommand (`devnet up`, `task create`, ...).
        command: String,
        /// What it printed.
        message: String,
    },
    /// `ponos` printed something that is not the JSON this kit reads (a `ponos` of another
    /// version than the kit).
    Output {
        /// The subcommand.
        command: String,
        /// The parse error.
        error: String,
    },
    /// The task ran and was not verified: the report says why.
    NotVerified(Box<Task>),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Spawn { program, error } => write!(
                f,
                "cannot run {}: {error}; install Ponos so that `ponos` is on PATH, or set PONOS to its path",
                program.display()
            ),
            Self::Ponos { command, message } => write!(f, "ponos {command}: {message}"),
            Self::Output { command, error } => write!(
                f,
                "ponos {command} printed JSON this kit cannot read ({error}); use a ponos-testkit of the same version as `ponos --version`"
            ),
            Self::NotVerified(task) => {
                write!(f, "task {} on {} is {}", task.task, task.chain, task.status)?;
                for reason in &task.reasons {
                    write!(f, "; {reason}")?;
                }
                for warning in &task.warnings {
                    write!(f, "; {warning}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for Error {}

/// The chain a task is created on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chain {
    /// The L1 (chain 31337).
    L1,
    /// The L2 (chain 31338).
    L2,
}

impl Chain {
    const fn name(self) -> &'static str {
        match self {
            Self::L1 => "l1",
            Self::L2 => "l2",
        }
    }
}

/// How the devnet's executors run the performer.
#[derive(Debug, Clone)]
enum Runtime {
    /// The project's default (`ponos devnet up` decides: the binary `ponos build` made).
    Default,
    /// This native binary, one process per executor.
    Process(PathBuf),
    /// This Docker image, one container per executor.
    Docker(String),
}

/// Options of a devnet; [`start`](Self::start) starts it.
#[derive(Debug, Clone)]
#[must_use]
pub struct DevnetBuilder {
    root: PathBuf,
    runtime: Runtime,
    executors: Option<usize>,
    l2: Option<bool>,
    extra: Vec<OsString>,
}

impl DevnetBuilder {
    /// The project directory (`ponos.toml` is looked for here and above). Default: the
    /// current directory, which is the package's directory under `cargo test`.
    pub fn root(mut self, root: impl Into<PathBuf>) -> Self {
        self.root = root.into();
        self
    }

    /// Run this performer binary, one process per executor.
    pub fn performer_binary(mut self, binary: impl Into<PathBuf>) -> Self {
        self.runtime = Runtime::Process(binary.into());
        self
    }

    /// Run this performer image, one container per executor (`ponos build` makes it).
    pub fn performer_image(mut self, image: impl Into<String>) -> Self {
        self.runtime = Runtime::Docker(image.into());
        self
    }

    /// Operators in the executor set (default: `[devnet] executors` in `ponos.toml`, else 4).
    pub const fn executors(mut self, executors: usize) -> Self {
        self.executors = Some(executors);
        self
    }

    /// Whether to run an L2 beside the L1 (default: `[devnet] l2` in `ponos.toml`, else yes).
    pub const fn l2(mut self, l2: bool) -> Self {
        self.l2 = Some(l2);
        self
    }

    /// Any other `ponos devnet up` argument, as written on the command line.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.extra.push(arg.into());
        self
    }

    /// Starts the devnet and returns once it is ready.
    pub fn start(self) -> Result<Devnet, Error> {
        let ponos = ponos_program();
        let state_dir = state_dir();
        let mut args: Vec<OsString> = vec!["devnet".into(), "up".into(), "--detach".into()];
        args.extend(["--root".into(), self.root.clone().into_os_string()]);
        args.extend(["--state-dir".into(), state_dir.clone().into_os_string()]);
        match &self.runtime {
            Runtime::Default => {}
            Runtime::Process(binary) => {
                args.extend(["--runtime".into(), "process".into()]);
                args.extend(["--performer".into(), binary.clone().into_os_string()]);
            }
            Runtime::Docker(image) => {
                args.extend(["--runtime".into(), "docker".into()]);
                args.extend(["--performer".into(), image.into()]);
            }
        }
        if let Some(executors) = self.executors {
            args.extend(["--executors".into(), executors.to_string().into()]);
        }
        match self.l2 {
            Some(false) => args.push("--no-l2".into()),
            Some(true) => args.push("--l2".into()),
            None => {}
        }
        args.extend(self.extra);
        args.push("--json".into());
        let mut devnet = Devnet {
            ponos,
            state_dir,
            summary: Summary::default(),
        };
        let output = devnet.run("devnet up", &args)?;
        devnet.summary = serde_json::from_slice(&output.stdout).map_err(|e| Error::Output {
            command: "devnet up".into(),
            error: e.to_string(),
        })?;
        Ok(devnet)
    }
}

/// The parts of `ponos devnet up --json` a test reads.
#[derive(Debug, Clone, Default, Deserialize)]
struct Summary {
    chains: Vec<ChainSummary>,
    executors: Vec<serde_json::Value>,
    ready_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
struct ChainSummary {
    name: String,
    rpc_url: String,
}

/// A running devnet; dropping it stops it.
#[derive(Debug)]
pub struct Devnet {
    ponos: PathBuf,
    state_dir: PathBuf,
    summary: Summary,
}

/// A task's fate, as `ponos task create --json` reports it.
#[derive(Debug, Clone, Deserialize)]
pub struct Task {
    /// The task hash.
    pub task: String,
    /// `l1` or `l2`.
    pub chain: String,
    /// The chain id.
    pub chain_id: u64,
    /// `verified`, `failed` (the operators' answers cannot meet the threshold: see
    /// [`reasons`](Self::reasons)), `expired`, or `created` (still open when `ponos` stopped
    /// waiting).
    pub status: String,
    /// The verified result (empty unless verified).
    #[serde(rename = "result_hex", default, deserialize_with = "hex_bytes")]
    pub result: Vec<u8>,
    /// From `createTask` sent to `TaskVerified` seen on the chain.
    pub latency_ms: Option<u64>,
    /// Operators whose signatures the certificate carries.
    pub signers: Option<usize>,
    /// Operators the certificate lists as non-signers.
    pub non_signers: Option<usize>,
    /// Why the task is not verified, operator by operator, as the executors said it.
    #[serde(default)]
    pub reasons: Vec<String>,
    /// What else the devnet noticed (a stale performer binary, an undecodable result).
    #[serde(default)]
    pub warnings: Vec<String>,
}

fn hex_bytes<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let text: Option<String> = Option::deserialize(d)?;
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    let digits = text.strip_prefix("0x").unwrap_or(&text);
    if digits.len() % 2 != 0 {
        return Err(serde::de::Error::custom("odd number of hex digits"));
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).map_err(serde::de::Error::custom))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(2 + bytes.len() * 2);
    text.push_str("0x");
    for byte in bytes {
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

impl Devnet {
    /// A devnet for the project in the current directory, with its defaults.
    pub fn builder() -> DevnetBuilder {
        DevnetBuilder {
            root: PathBuf::from("."),
            runtime: Runtime::Default,
            executors: None,
            l2: None,
            extra: Vec::new(),
        }
    }

    /// Creates a task with `payload` on `chain` and waits for its fate: the verified task, or
    /// [`Error::NotVerified`] with the operators' reasons.
    pub fn create_task(&self, chain: Chain, payload: &[u8]) -> Result<Task, Error> {
        let args: Vec<OsString> = vec![
            "task".into(),
            "create".into(),
            "--chain".into(),
            chain.name().into(),
            "--payload".into(),
            hex(payload).into(),
            "--json".into(),
            "--state-dir".into(),
            self.state_dir.clone().into_os_string(),
        ];
        let output = self.command(&args).map_err(|error| Error::Spawn {
            program: self.ponos.clone(),
            error,
        })?;
        // A task that ran prints its report whatever its fate.
        let task: Task = match serde_json::from_slice(&output.stdout) {
            Ok(task) => task,
            Err(error) if output.status.success() => {
                return Err(Error::Output {
                    command: "task create".into(),
                    error: error.to_string(),
                });
            }
            Err(_) => return Err(failure("task create", &output)),
        };
        if task.status == "verified" {
            Ok(task)
        } else {
            Err(Error::NotVerified(Box::new(task)))
        }
    }

    /// The JSON-RPC URL of `chain`, for reading it with any client.
    pub fn rpc_url(&self, chain: Chain) -> Option<&str> {
        self.summary
            .chains
            .iter()
            .find(|c| c.name == chain.name())
            .map(|c| c.rpc_url.as_str())
    }

    /// Operators in the executor set.
    pub fn executors(&self) -> usize {
        self.summary.executors.len()
    }

    /// How long the devnet took to be ready, in milliseconds.
    pub const fn ready_ms(&self) -> u64 {
        self.summary.ready_ms
    }

    /// The devnet's state directory (its summary, logs, task reports).
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// Its logs (every component), for a test that failed.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(self.state_dir.join("devnet.log")).unwrap_or_default()
    }

    fn command(&self, args: &[OsString]) -> std::io::Result<Output> {
        Command::new(&self.ponos)
            .args(args)
            .stdin(Stdio::null())
            .output()
    }

    fn run(&self, name: &str, args: &[OsString]) -> Result<Output, Error> {
        let output = self.command(args).map_err(|error| Error::Spawn {
            program: self.ponos.clone(),
            error,
        })?;
        if output.status.success() {
            Ok(output)
        } else {
            Err(failure(name, &output))
        }
    }
}

impl Drop for Devnet {
    fn drop(&mut self) {
        let args: Vec<OsString> = vec![
            "devnet".into(),
            "down".into(),
            "--state-dir".into(),
            self.state_dir.clone().into_os_string(),
        ];
        let _ = self.command(&args);
        let _ = std::fs::remove_dir_all(&self.state_dir);
    }
}

/// `ponos`'s own error line(s) from a failed run.
fn failure(command: &str, output: &Output) -> Error {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let errors: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("error: "))
        .collect();
    let message = if errors.is_empty() {
        format!("exited with {}: {}", output.status, stderr.trim())
    } else {
        errors.join("; ")
    };
    Error::Ponos {
        command: command.into(),
        message,
    }
}

/// `PONOS`, else `ponos` (from `PATH`).
fn ponos_program() -> PathBuf {
    std::env::var_os("PONOS").map_or_else(|| PathBuf::from("ponos"), PathBuf::from)
}

/// A fresh state directory for one devnet: devnets of parallel tests never share one.
fn state_dir() -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    std::env::temp_dir().join(format!(
        "ponos-testkit-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_report_is_read_whatever_its_fate() {
        let verified: Task = serde_json::from_str(
            r#"{"task":"0x01","chain":"l1","chain_id":31337,"status":"verified",
                "result_hex":"0x3439","latency_ms":120,"signers":4,"non_signers":0,
                "reasons":[],"warnings":[]}"#,
        )
        .unwrap();
        assert_eq!(verified.result, b"49");
        let failed: Task = serde_json::from_str(
            r#"{"task":"0x02","chain":"l2","chain_id":31338,"status":"failed","result_hex":null,
                "latency_ms":null,"signers":null,"non_signers":null,
                "reasons":["0xabc: performer refused: not a number"],"warnings":[]}"#,
        )
        .unwrap();
        assert!(failed.result.is_empty());
        let shown = Error::NotVerified(Box::new(failed)).to_string();
        assert!(
            shown.contains("failed; 0xabc: performer refused: not a number"),
            "{shown}"
        );
        assert_eq!(hex(b"7"), "0x37");
    }
}
