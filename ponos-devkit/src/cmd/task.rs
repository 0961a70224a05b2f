//! `ponos task`: create tasks on the running devnet, show their verified results, their status,
//! and every task the devnet has seen.

use std::time::{Duration, Instant};

use alloy::{
    dyn_abi::{DynSolType, DynSolValue},
    network::EthereumWallet,
    primitives::{B256, Bytes, hex},
    providers::{DynProvider, Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
    sol_types::SolEvent,
};
use clap::{Args, Subcommand, ValueEnum};
use ponos_chain::contracts::{TaskMailbox, task_mailbox};
use ponos_devkit::devnet::{ChainSummary, DevnetSummary, certificate_summary, read_summary};
use serde::Serialize;

use super::devnet::StateArgs;

/// Create tasks on the devnet and read their results.
#[derive(Debug, Args)]
pub(crate) struct TaskArgs {
    #[command(subcommand)]
    command: TaskCommand,
}

#[derive(Debug, Subcommand)]
enum TaskCommand {
    /// Create a task, wait for `TaskVerified`, print the result, latency and certificate.
    ///
    /// Exit codes: 0 verified, 1 bad input or no devnet, 2 not verified within --timeout.
    ///
    /// Examples:
    ///   ponos task create --payload 0x2a
    ///   ponos task create --text 7
    ///   ponos task create --payload @input.bin --chain l2 --json
    ///   ponos task create --abi "uint256,string" 42 hello --returns "uint256"
    Create(CreateArgs),
    /// Show one task: where it is, its status, and its result once verified.
    ///
    /// Exit codes: 0 found, 1 bad input, no devnet, or no such task.
    ///
    /// Examples:
    ///   ponos task status 0x3f…e1
    ///   ponos task status 0x3f…e1 --returns "uint256" --json
    Status(StatusArgs),
    /// List the devnet's tasks, oldest first, with their status.
    ///
    /// Examples:
    ///   ponos task list
    ///   ponos task list --chain l2 --json
    List(ListArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ChainArg {
    L1,
    L2,
}

impl ChainArg {
    const fn name(self) -> &'static str {
        match self {
            Self::L1 => "l1",
            Self::L2 => "l2",
        }
    }
}

#[derive(Debug, Args)]
struct CreateArgs {
    /// The payload: 0x-prefixed hex, or @file for a file's bytes.
    #[arg(long, required_unless_present_any = ["abi", "text"], conflicts_with_all = ["abi", "text"])]
    payload: Option<String>,
    /// The payload as UTF-8 text (e.g. --text 7 for a performer that reads decimal numbers).
    #[arg(long, conflicts_with = "abi")]
    text: Option<String>,
    /// ABI-encode the VALUES as these Solidity types ("uint256,string" or "(uint256,string)").
    #[arg(long, requires = "values")]
    abi: Option<String>,
    /// The values for --abi, one per type (arrays and tuples as `[1,2]` and `(1,"a")`).
    #[arg(requires = "abi")]
    values: Vec<String>,
    /// Decode the result as these Solidity types.
    #[arg(long)]
    returns: Option<String>,
    /// The chain to create it on.
    #[arg(long, value_enum, default_value = "l1")]
    chain: ChainArg,
    /// Seconds to wait for the verified result.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
    #[command(flatten)]
    state: StateArgs,
}

#[derive(Debug, Args)]
struct StatusArgs {
    /// The task hash (from `task create` or `task list`).
    task: String,
    /// Look on this chain only.
    #[arg(long, value_enum)]
    chain: Option<ChainArg>,
    /// Decode the result as these Solidity types.
    #[arg(long)]
    returns: Option<String>,
    #[command(flatten)]
    state: StateArgs,
}

#[derive(Debug, Args)]
struct ListArgs {
    /// List this chain's tasks only.
    #[arg(long, value_enum)]
    chain: Option<ChainArg>,
    #[command(flatten)]
    state: StateArgs,
}

/// The Solidity types of `spec`, as one tuple.
fn abi_tuple(spec: &str) -> Result<Vec<DynSolType>, String> {
    let spec = spec.trim();
    let tuple = if spec.starts_with('(') && spec.ends_with(')') {
        spec.to_string()
    } else {
        format!("({spec})")
    };
    match DynSolType::parse(&tuple) {
        Ok(DynSolType::Tuple(types)) => Ok(types),
        Ok(other) => Ok(vec![other]),
        Err(e) => Err(format!("{spec:?} is not a list of Solidity types: {e}")),
    }
}

/// ABI-encodes `values` as the types of `spec` (as a function's parameters are).
pub(crate) fn encode_abi(spec: &str, values: &[String]) -> Result<Vec<u8>, String> {
    let types = abi_tuple(spec).map_err(|e| format!("--abi {e}"))?;
    if types.len() != values.len() {
        return Err(format!(
            "--abi {spec:?} takes {} value(s); {} given",
            types.len(),
            values.len()
        ));
    }
    let values = types
        .iter()
        .zip(values)
        .map(|(ty, value)| {
            ty.coerce_str(value)
                .map_err(|e| format!("{value:?} is not a {ty}: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(DynSolValue::Tuple(values).abi_encode_params())
}

/// Decodes `bytes` as the types of `spec`, each value as text.
pub(crate) fn decode_abi(spec: &str, bytes: &[u8]) -> Result<Vec<String>, String> {
    let types = abi_tuple(spec).map_err(|e| format!("--returns {e}"))?;
    let value = DynSolType::Tuple(types)
        .abi_decode_params(bytes)
        .map_err(|e| format!("the result does not decode as ({spec}): {e}"))?;
    match value {
        DynSolValue::Tuple(values) => Ok(values.iter().map(show_value).collect()),
        other => Ok(vec![show_value(&other)]),
    }
}

fn show_value(value: &DynSolValue) -> String {
    let list = |values: &[DynSolValue], open, close| {
        let inner: Vec<String> = values.iter().map(show_value).collect();
        format!("{open}{}{close}", inner.join(", "))
    };
    match value {
        DynSolValue::Bool(b) => b.to_string(),
        DynSolValue::Int(i, _) => i.to_string(),
        DynSolValue::Uint(u, _) => u.to_string(),
        DynSolValue::FixedBytes(word, size) => hex::encode_prefixed(&word[..*size]),
        DynSolValue::Address(a) => a.to_checksum(None),
        DynSolValue::Function(f) => hex::encode_prefixed(f.as_slice()),
        DynSolValue::Bytes(b) => hex::encode_prefixed(b),
        DynSolValue::String(s) => format!("{s:?}"),
        DynSolValue::Array(values) | DynSolValue::FixedArray(values) => list(values, "[", "]"),
        DynSolValue::Tuple(values) => list(values, "(", ")"),
    }
}

/// A result as text (when it is printable UTF-8) and decoded (with `--returns`).
#[derive(Debug, Default, Serialize)]
struct Readable {
    /// The result's bytes as text.
    #[serde(rename = "result_text", skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    /// The result decoded as `--returns` says, a value each.
    #[serde(rename = "result_decoded", skip_serializing_if = "Option::is_none")]
    decoded: Option<Vec<String>>,
}

impl Readable {
    fn new(result: &[u8], returns: Option<&str>) -> Result<Self, String> {
        Ok(Self {
            text: std::str::from_utf8(result)
                .ok()
                .filter(|t| !t.is_empty() && t.chars().all(|c| !c.is_control()))
                .map(str::to_owned),
            decoded: returns.map(|spec| decode_abi(spec, result)).transpose()?,
        })
    }

    /// How people read it: the decoded values, else the quoted text.
    fn display(&self) -> Option<String> {
        match (&self.decoded, &self.text) {
            (Some(values), _) => Some(values.join(", ")),
            (None, Some(text)) => Some(format!("{text:?}")),
            (None, None) => None,
        }
    }
}

/// The devnet's summary and a read-only connection to each of its chains (`only`, when given).
async fn connect(
    state: &StateArgs,
    only: Option<ChainArg>,
) -> Result<(DevnetSummary, Vec<(ChainSummary, DynProvider)>), String> {
    let summary = read_summary(&state.state_dir).map_err(|e| e.to_string())?;
    let mut chains = Vec::new();
    for chain in &summary.chains {
        if only.is_some_and(|c| c.name() != chain.name) {
            continue;
        }
        let url = chain
            .rpc_url
            .parse()
            .map_err(|e| format!("{}: {e}", chain.rpc_url))?;
        let provider = ProviderBuilder::new().connect_http(url).erased();
        if provider.get_chain_id().await.is_err() {
            return Err(format!(
                "the devnet's {} at {} does not answer; is `ponos devnet up` still running?",
                chain.name, chain.rpc_url
            ));
        }
        chains.push((chain.clone(), provider));
    }
    if chains.is_empty() {
        return Err(format!(
            "this devnet runs no {}",
            only.map_or("chain", ChainArg::name)
        ));
    }
    Ok((summary, chains))
}

const fn status_name(status: u8) -> &'static str {
    match status {
        1 => "created",
        2 => "verified",
        3 => "expired",
        _ => "unknown",
    }
}

/// Parses `--payload`: `0x…` hex or `@file`.
pub(crate) fn parse_payload(value: &str) -> Result<Vec<u8>, String> {
    if let Some(path) = value.strip_prefix('@') {
        return std::fs::read(path).map_err(|e| format!("--payload @{path}: {e}"));
    }
    let Some(digits) = value.strip_prefix("0x") else {
        return Err(format!(
            "--payload {value:?}: give 0x-prefixed hex (e.g. 0x2a) or @file"
        ));
    };
    let bytes = hex::decode(digits).map_err(|e| format!("--payload {value:?} is not hex: {e}"))?;
    if bytes.is_empty() {
        return Err("--payload is empty; the mailbox refuses empty payloads".into());
    }
    Ok(bytes)
}

#[derive(Serialize)]
struct Shown {
    task: B256,
    chain_id: u64,
    status: &'static str,
    result_hex: Option<Bytes>,
    #[serde(flatten)]
    readable: Readable,
    latency_ms: u64,
    signers: usize,
    non_signers: usize,
}

impl TaskArgs {
    pub(crate) async fn run(self) -> eyre::Result<i32> {
        match self.command {
            TaskCommand::Create(args) => args.run().await,
            TaskCommand::Status(args) => args.run().await,
            TaskCommand::List(args) => args.run().await,
        }
    }
}

impl CreateArgs {
    async fn run(self) -> eyre::Result<i32> {
        let payload = match (&self.payload, &self.text, &self.abi) {
            (Some(payload), _, _) => parse_payload(payload),
            (None, Some(text), _) if text.is_empty() => {
                Err("--text is empty; the mailbox refuses empty payloads".into())
            }
            (None, Some(text), _) => Ok(text.clone().into_bytes()),
            (None, None, Some(abi)) => encode_abi(abi, &self.values),
            (None, None, None) => Err("give --payload, --text or --abi".into()),
        };
        if let Some(spec) = &self.returns
            && let Err(e) = abi_tuple(spec)
        {
            eprintln!("error: --returns {e}");
            return Ok(1);
        }
        let payload = match payload {
            Ok(payload) => payload,
            Err(message) => {
                eprintln!("error: {message}");
                return Ok(1);
            }
        };
        let summary = match read_summary(&self.state.state_dir) {
            Ok(summary) => summary,
            Err(error) => {
                eprintln!("error: {error}");
                return Ok(1);
            }
        };
        let name = self.chain.name();
        let Some(chain) = summary.chains.iter().find(|c| c.name == name) else {
            eprintln!("error: this devnet runs no {name}");
            return Ok(1);
        };
        let signer = PrivateKeySigner::from_bytes(&summary.task_creator_key)?;
        let provider = ProviderBuilder::new()
            .wallet(EthereumWallet::from(signer))
            .connect_http(chain.rpc_url.parse()?);
        if provider.get_chain_id().await.is_err() {
            eprintln!(
                "error: the devnet's {name} at {} does not answer; is `ponos devnet up` still running?",
                chain.rpc_url
            );
            return Ok(1);
        }
        let mailbox = TaskMailbox::new(chain.task_mailbox, &provider);
        let params = task_mailbox::ITaskMailboxTypes::TaskParams {
            refundCollector: summary.task_creator,
            executorOperatorSet: task_mailbox::OperatorSet {
                avs: summary.avs,
                id: ponos_devnet::EXECUTOR_SET,
            },
            payload: payload.into(),
        };
        let started = Instant::now();
        let receipt = mailbox
            .createTask(params)
            .from(summary.task_creator)
            .send()
            .await?
            .get_receipt()
            .await?;
        let task = receipt
            .inner
            .logs()
            .iter()
            .find_map(|l| l.log_decode::<TaskMailbox::TaskCreated>().ok())
            .map(|l| l.inner.data.taskHash)
            .ok_or_else(|| eyre::eyre!("createTask emitted no TaskCreated"))?;
        if !self.state.json {
            eprintln!("task {task} created on {name}; waiting for TaskVerified");
        }
        let until = Instant::now() + Duration::from_secs(self.timeout);
        loop {
            if mailbox.getTaskStatus(task).call().await? == 2 {
                break;
            }
            if Instant::now() >= until {
                eprintln!(
                    "error: task {task} was not verified within {} s",
                    self.timeout
                );
                return Ok(2);
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let latency_ms = started.elapsed().as_millis() as u64;
        let result = mailbox.getTaskResult(task).call().await?;
        let filter = alloy::rpc::types::Filter::new()
            .address(chain.task_mailbox)
            .event_signature(
                <TaskMailbox::TaskVerified as alloy::sol_types::SolEvent>::SIGNATURE_HASH,
            )
            .topic2(task)
            .from_block(receipt.block_number.unwrap_or_default());
        // The node may index the block's logs a moment after its state.
        let mut certificate = Bytes::new();
        for _ in 0..100 {
            let logs = provider.get_logs(&filter).await?;
            if let Some(event) = logs
                .first()
                .and_then(|l| l.log_decode::<TaskMailbox::TaskVerified>().ok())
            {
                certificate = event.inner.data.executorCert;
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let (signers, non_signers) = certificate_summary(
            &certificate,
            summary.executors.len(),
            summary.curve == "bn254",
        );
        let readable = match Readable::new(&result, self.returns.as_deref()) {
            Ok(readable) => readable,
            Err(message) => {
                eprintln!("error: task {task} verified, but {message}");
                return Ok(1);
            }
        };
        let shown = Shown {
            task,
            chain_id: chain.chain_id,
            status: "verified",
            readable,
            result_hex: Some(result),
            latency_ms,
            signers,
            non_signers,
        };
        if self.state.json {
            println!("{}", serde_json::to_string_pretty(&shown)?);
        } else {
            println!("verified   task {task} on chain {}", shown.chain_id);
            if let Some(text) = shown.readable.display() {
                println!("result     {text}");
            }
            println!(
                "result hex {}",
                shown
                    .result_hex
                    .as_ref()
                    .map(|b| b.to_string())
                    .unwrap_or_default()
            );
            println!("latency    {latency_ms} ms (createTask to TaskVerified)");
            println!(
                "cert       {} {} signers, {} non-signers",
                summary.curve, signers, non_signers
            );
        }
        Ok(0)
    }
}

#[derive(Serialize)]
struct TaskRow {
    task: B256,
    chain: String,
    chain_id: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    block: Option<u64>,
    status: &'static str,
    payload_hex: Bytes,
    #[serde(skip_serializing_if = "Option::is_none")]
    result_hex: Option<Bytes>,
    #[serde(flatten)]
    readable: Readable,
}

impl StatusArgs {
    async fn run(self) -> eyre::Result<i32> {
        let task: B256 = match self.task.parse() {
            Ok(task) => task,
            Err(_) => {
                eprintln!(
                    "error: {:?} is not a task hash (0x followed by 64 hex digits)",
                    self.task
                );
                return Ok(1);
            }
        };
        let (_, chains) = match connect(&self.state, self.chain).await {
            Ok(connected) => connected,
            Err(message) => {
                eprintln!("error: {message}");
                return Ok(1);
            }
        };
        for (chain, provider) in &chains {
            let mailbox = TaskMailbox::new(chain.task_mailbox, provider);
            let info = mailbox.getTaskInfo(task).call().await?;
            if info.status == 0 {
                continue;
            }
            let result = (info.status == 2).then_some(info.result);
            let readable = match result
                .as_deref()
                .map(|r| Readable::new(r, self.returns.as_deref()))
            {
                Some(Err(message)) => {
                    eprintln!("error: {message}");
                    return Ok(1);
                }
                Some(Ok(readable)) => readable,
                None => Readable::default(),
            };
            let row = TaskRow {
                task,
                chain: chain.name.clone(),
                chain_id: chain.chain_id,
                block: None,
                status: status_name(info.status),
                payload_hex: info.payload,
                result_hex: result,
                readable,
            };
            if self.state.json {
                println!("{}", serde_json::to_string_pretty(&row)?);
            } else {
                println!(
                    "task       {task} on {} (chain {})",
                    row.chain, row.chain_id
                );
                println!("status     {}", row.status);
                println!(
                    "created    {} (unix s) by {}",
                    info.creationTime, info.creator
                );
                println!("payload    {}", row.payload_hex);
                if let Some(text) = row.readable.display() {
                    println!("result     {text}");
                }
                if let Some(hex) = &row.result_hex {
                    println!("result hex {hex}");
                }
            }
            return Ok(0);
        }
        eprintln!(
            "error: no task {task} on this devnet's {}",
            self.chain.map_or("chains", ChainArg::name)
        );
        Ok(1)
    }
}

impl ListArgs {
    async fn run(self) -> eyre::Result<i32> {
        let (summary, chains) = match connect(&self.state, self.chain).await {
            Ok(connected) => connected,
            Err(message) => {
                eprintln!("error: {message}");
                return Ok(1);
            }
        };
        let mut rows = Vec::new();
        for (chain, provider) in &chains {
            let filter = alloy::rpc::types::Filter::new()
                .address(chain.task_mailbox)
                .event_signature(TaskMailbox::TaskCreated::SIGNATURE_HASH)
                .topic3(summary.avs.into_word())
                .from_block(0);
            let mailbox = TaskMailbox::new(chain.task_mailbox, provider);
            for log in provider.get_logs(&filter).await? {
                let block = log.block_number.unwrap_or_default();
                let Ok(event) = log.log_decode::<TaskMailbox::TaskCreated>() else {
                    continue;
                };
                let task = event.inner.data.taskHash;
                let status = mailbox.getTaskStatus(task).call().await?;
                let result = if status == 2 {
                    Some(mailbox.getTaskResult(task).call().await?)
                } else {
                    None
                };
                rows.push(TaskRow {
                    task,
                    chain: chain.name.clone(),
                    chain_id: chain.chain_id,
                    block: Some(block),
                    status: status_name(status),
                    payload_hex: event.inner.data.payload.clone(),
                    readable: result
                        .as_deref()
                        .and_then(|r| Readable::new(r, None).ok())
                        .unwrap_or_default(),
                    result_hex: result,
                });
            }
        }
        if self.state.json {
            println!("{}", serde_json::to_string_pretty(&rows)?);
            return Ok(0);
        }
        if rows.is_empty() {
            println!("no tasks yet; create one with `ponos task create --payload 0x2a`");
            return Ok(0);
        }
        println!(
            "{:<4} {:>6}  {:<66}  {:<9}  result",
            "", "block", "task", "status"
        );
        for row in &rows {
            println!(
                "{:<4} {:>6}  {:<66}  {:<9}  {}",
                row.chain,
                row.block.unwrap_or_default(),
                row.task.to_string(),
                row.status,
                row.readable
                    .display()
                    .or_else(|| row.result_hex.as_ref().map(ToString::to_string))
                    .unwrap_or_default()
            );
        }
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::{decode_abi, encode_abi, parse_payload};

    #[test]
    fn abi_payloads_encode_and_results_decode() {
        let encoded = encode_abi("uint256,string", &["42".into(), "hello".into()]).unwrap();
        assert_eq!(encoded.len(), 32 * 4);
        assert_eq!(
            decode_abi("(uint256,string)", &encoded).unwrap(),
            ["42", "\"hello\""]
        );
        assert_eq!(
            decode_abi(
                "address[],bool",
                &encode_abi(
                    "address[],bool",
                    &[
                        "[0x0000000000000000000000000000000000000001]".into(),
                        "true".into()
                    ]
                )
                .unwrap()
            )
            .unwrap(),
            ["[0x0000000000000000000000000000000000000001]", "true"]
        );
        assert!(
            encode_abi("uint256", &[])
                .unwrap_err()
                .contains("takes 1 value")
        );
        assert!(
            encode_abi("uint8", &["300".into()])
                .unwrap_err()
                .contains("not a uint8")
        );
        assert!(
            encode_abi("uint257", &["1".into()])
                .unwrap_err()
                .contains("not a list of Solidity types")
        );
        assert!(
            decode_abi("uint256", &[1, 2])
                .unwrap_err()
                .contains("does not decode")
        );
    }

    #[test]
    fn payloads_are_hex_or_files_and_mistakes_are_named() {
        assert_eq!(parse_payload("0x2a").unwrap(), [0x2a]);
        assert!(parse_payload("2a").unwrap_err().contains("0x-prefixed"));
        assert!(parse_payload("0xzz").unwrap_err().contains("not hex"));
        assert!(parse_payload("0x").unwrap_err().contains("empty"));
        assert!(
            parse_payload("@/no/such/file")
                .unwrap_err()
                .contains("/no/such/file")
        );
    }
}
