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
use ponos_devkit::devnet::{
    ChainSummary, DevnetSummary, certificate_summary,
    notes::{TaskNotes, read_notes},
    read_summary,
};
use serde::Serialize;
use tokio_stream::StreamExt as _;

use super::devnet::StateArgs;

/// Create tasks on the devnet and show their verified results.
#[derive(Debug, Args)]
pub(crate) struct TaskArgs {
    #[command(subcommand)]
    command: TaskCommand,
}

#[derive(Debug, Subcommand)]
enum TaskCommand {
    /// Create a task, wait for its fate, print the result, latency and certificate.
    ///
    /// Waits until the task is verified, or until the devnet knows it cannot be (every
    /// operator that could make up the threshold refused it or failed: their reasons are
    /// printed), or --timeout.
    ///
    /// Exit codes: 0 verified, 1 bad input or no devnet, 2 not verified (failed, expired, or
    /// still open at --timeout).
    #[command(
        after_help = "Examples:\n  ponos task create --text 7\n  ponos task create --payload 0x37                  # the same bytes, as hex\n  ponos task create --payload @input.txt --chain l2 --json\n  ponos task create --abi uint256 7 --returns uint256"
    )]
    Create(CreateArgs),
    /// Show one task: where it is, its status, and its result once verified.
    ///
    /// Exit codes: 0 found, 1 bad input, no devnet, or no such task.
    #[command(
        after_help = "Examples:\n  ponos task status 0x3f…e1                         # a hash from task create or task list\n  ponos task status 0x3f…e1 --returns uint256 --json"
    )]
    Status(StatusArgs),
    /// List the devnet's tasks, oldest first, with their status.
    ///
    /// Lists the tasks created in each chain's last 1024 blocks: a devnet keeps the
    /// transactions and logs of those only (`task status` finds any task, however old).
    #[command(after_help = "Examples:\n  ponos task list\n  ponos task list --chain l2 --json")]
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
    /// Seconds to wait for the task's fate.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
    /// The AVS, on a devnet that runs several (`ponos devnet up --avs N`): its number from 1
    /// or its address [default: the first].
    #[arg(long, value_name = "N|ADDRESS")]
    avs: Option<String>,
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
    /// The AVS, on a devnet that runs several (`ponos devnet up --avs N`): its number from 1
    /// or its address [default: the first].
    #[arg(long, value_name = "N|ADDRESS")]
    avs: Option<String>,
    #[command(flatten)]
    state: StateArgs,
}

#[derive(Debug, Args)]
struct ListArgs {
    /// List this chain's tasks only.
    #[arg(long, value_enum)]
    chain: Option<ChainArg>,
    /// The AVS, on a devnet that runs several (`ponos devnet up --avs N`): its number from 1
    /// or its address [default: the first].
    #[arg(long, value_name = "N|ADDRESS")]
    avs: Option<String>,
    #[command(flatten)]
    state: StateArgs,
}

/// `summary` seen from the AVS `selector` names (the first when `None`): its address,
/// curve, registrar and task hooks in the places the single-AVS fields hold them.
fn for_avs(summary: DevnetSummary, selector: Option<&str>) -> Result<DevnetSummary, String> {
    let picked = summary.pick_avs(selector)?;
    let mut chains = summary.chains.clone();
    for (chain, hook) in chains.iter_mut().zip(&picked.task_hooks) {
        chain.task_hook = *hook;
    }
    Ok(DevnetSummary {
        avs: picked.avs,
        curve: picked.curve,
        registrar: picked.registrar,
        chains,
        ..summary
    })
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

/// A task as every `ponos task` command prints it with `--json` (`create` and `status` one
/// object, `list` an array of them). Every key is always there; `null` means not known (yet).
#[derive(Debug, Serialize)]
struct TaskReport {
    /// The task hash.
    task: B256,
    /// `l1` or `l2`.
    chain: String,
    chain_id: u64,
    /// `verified`, `failed` (no result can reach the threshold: see `reasons`), `expired`, or
    /// `created` (open).
    status: &'static str,
    /// The block `createTask` landed in.
    block: Option<u64>,
    payload_hex: Bytes,
    result_hex: Option<Bytes>,
    /// The result as text, when it is printable UTF-8.
    result_text: Option<String>,
    /// The result decoded as `--returns` says, a value each.
    result_decoded: Option<Vec<String>>,
    /// From `createTask` sent to `TaskVerified` seen on the chain (`task create` only).
    latency_ms: Option<u64>,
    signers: Option<usize>,
    non_signers: Option<usize>,
    /// Why it is not verified: each operator's failure as its executor reported it, and how
    /// the aggregator's session ended.
    reasons: Vec<String>,
    /// Anything else worth knowing (a result that does not decode as `--returns`).
    warnings: Vec<String>,
}

impl TaskReport {
    fn new(task: B256, chain: &ChainSummary, payload: Bytes) -> Self {
        Self {
            task,
            chain: chain.name.clone(),
            chain_id: chain.chain_id,
            status: "created",
            block: None,
            payload_hex: payload,
            result_hex: None,
            result_text: None,
            result_decoded: None,
            latency_ms: None,
            signers: None,
            non_signers: None,
            reasons: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Fills in the verified result, as text and decoded as `returns` says (a result that does
    /// not decode is shown raw, with a warning).
    fn verified(&mut self, result: Bytes, returns: Option<&str>) {
        self.status = "verified";
        self.result_text = std::str::from_utf8(&result)
            .ok()
            .filter(|t| !t.is_empty() && t.chars().all(|c| !c.is_control()))
            .map(str::to_owned);
        if let Some(spec) = returns {
            match decode_abi(spec, &result) {
                Ok(values) => self.result_decoded = Some(values),
                Err(why) => self.warnings.push(why),
            }
        }
        self.result_hex = Some(result);
    }

    /// Signers and non-signers from the certificate.
    fn certificate(&mut self, certificate: &[u8], summary: &DevnetSummary) {
        match certificate_summary(
            certificate,
            summary.executors.len(),
            summary.curve == "bn254",
        ) {
            Ok((signers, non_signers)) => {
                self.signers = Some(signers);
                self.non_signers = Some(non_signers);
            }
            Err(reason) => self.warnings.push(format!("the certificate: {reason}")),
        }
    }

    /// What the devnet noted of an open task: it failed when no result can reach the threshold.
    fn noted(&mut self, notes: Option<TaskNotes>) {
        let Some(notes) = notes else { return };
        if self.status == "created" && notes.failed() {
            self.status = "failed";
        }
        if self.status != "verified" {
            self.reasons = notes.reasons;
            self.reasons.extend(notes.error);
        }
    }

    /// The result as people read it: the decoded values, else the quoted text, else hex.
    fn shown_result(&self) -> Option<String> {
        match (&self.result_decoded, &self.result_text, &self.result_hex) {
            (Some(values), _, _) => Some(values.join(", ")),
            (None, Some(text), _) => Some(format!("{text:?}")),
            (None, None, hex) => hex.as_ref().map(ToString::to_string),
        }
    }

    fn print(&self, json: bool) -> eyre::Result<()> {
        if json {
            println!("{}", serde_json::to_string_pretty(self)?);
            return Ok(());
        }
        println!(
            "{:<10} task {} on {} (chain {})",
            self.status, self.task, self.chain, self.chain_id
        );
        if let Some(result) = self.shown_result() {
            println!("result     {result}");
        }
        if let Some(hex) = &self.result_hex {
            println!("result hex {hex}");
        }
        if let Some(latency) = self.latency_ms {
            println!("latency    {latency} ms (createTask sent to TaskVerified on chain)");
        }
        if let (Some(signers), Some(non_signers)) = (self.signers, self.non_signers) {
            println!("cert       {signers} signers, {non_signers} non-signers");
        }
        for reason in &self.reasons {
            println!("reason     {reason}");
        }
        for warning in &self.warnings {
            eprintln!("warning: {warning}");
        }
        Ok(())
    }
}

/// Prints `message` as the one error line (and as `{"error": ...}` on stdout with `--json`)
/// and returns exit code `code`.
fn fail(json: bool, message: impl std::fmt::Display, code: i32) -> i32 {
    if json {
        println!("{}", serde_json::json!({ "error": message.to_string() }));
    }
    eprintln!("error: {message}");
    code
}

/// The devnet's summary and a read-only connection to each of its chains (`only`, when given).
async fn connect(
    dir: &std::path::Path,
    only: Option<ChainArg>,
    avs: Option<&str>,
) -> Result<(DevnetSummary, Vec<(ChainSummary, DynProvider)>), String> {
    let summary = for_avs(read_summary(dir).map_err(|e| e.to_string())?, avs)?;
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
            "--payload {value:?}: give 0x-prefixed hex (e.g. 0x37) or @file"
        ));
    };
    let bytes = hex::decode(digits).map_err(|e| format!("--payload {value:?} is not hex: {e}"))?;
    if bytes.is_empty() {
        return Err("--payload is empty; the mailbox refuses empty payloads".into());
    }
    Ok(bytes)
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

/// The `TaskVerified` log of one task, decoded.
type Verified = alloy::rpc::types::Log<TaskMailbox::TaskVerified>;

impl CreateArgs {
    fn payload(&self) -> Result<Vec<u8>, String> {
        let payload = match (&self.payload, &self.text, &self.abi) {
            (Some(payload), _, _) => parse_payload(payload),
            (None, Some(text), _) if text.is_empty() => {
                Err("--text is empty; the mailbox refuses empty payloads".into())
            }
            (None, Some(text), _) => Ok(text.clone().into_bytes()),
            (None, None, Some(abi)) => encode_abi(abi, &self.values),
            (None, None, None) => Err("give --payload, --text or --abi".into()),
        }?;
        if let Some(spec) = &self.returns {
            abi_tuple(spec).map_err(|e| format!("--returns {e}"))?;
        }
        Ok(payload)
    }

    async fn run(self) -> eyre::Result<i32> {
        let json = self.state.json;
        let payload = match self.payload() {
            Ok(payload) => payload,
            Err(message) => return Ok(fail(json, message, 1)),
        };
        // Resolved once: it walks up to the project root.
        let dir = self.state.dir();
        let summary = match read_summary(&dir)
            .map_err(|e| e.to_string())
            .and_then(|summary| for_avs(summary, self.avs.as_deref()))
        {
            Ok(summary) => summary,
            Err(error) => return Ok(fail(json, error, 1)),
        };
        let name = self.chain.name();
        let Some(chain) = summary.chains.iter().find(|c| c.name == name) else {
            return Ok(fail(json, format!("this devnet runs no {name}"), 1));
        };
        let gone = || {
            format!(
                "the devnet's {name} at {} does not answer; is `ponos devnet up` still running?",
                chain.rpc_url
            )
        };
        let signer = PrivateKeySigner::from_bytes(&summary.task_creator_key)?;
        let provider = ProviderBuilder::new()
            .wallet(EthereumWallet::from(signer))
            .connect_http(chain.rpc_url.parse()?);
        // TaskVerified is pushed over the node's WebSocket as its block is mined: the latency
        // is the chain's, not a polling interval's. Subscribed before the task exists.
        let ws_url = chain.rpc_url.replacen("http", "ws", 1);
        let Ok(ws) = ProviderBuilder::new()
            .connect_ws(alloy::providers::WsConnect::new(ws_url))
            .await
        else {
            return Ok(fail(json, gone(), 1));
        };
        let filter = alloy::rpc::types::Filter::new()
            .address(chain.task_mailbox)
            .event_signature(TaskMailbox::TaskVerified::SIGNATURE_HASH)
            .topic3(summary.avs.into_word());
        let Ok(subscription) = ws.subscribe_logs(&filter).await else {
            return Ok(fail(json, gone(), 1));
        };
        let mut verified = subscription.into_stream();

        let mailbox = TaskMailbox::new(chain.task_mailbox, &provider);
        let params = task_mailbox::ITaskMailboxTypes::TaskParams {
            refundCollector: summary.task_creator,
            executorOperatorSet: task_mailbox::OperatorSet {
                avs: summary.avs,
                id: ponos_devnet::EXECUTOR_SET,
            },
            payload: payload.clone().into(),
        };
        let started = Instant::now();
        let pending = match mailbox
            .createTask(params)
            .from(summary.task_creator)
            .send()
            .await
        {
            Ok(pending) => pending,
            Err(error) => return Ok(fail(json, format!("createTask: {error}"), 1)),
        };
        // The devnet mines each transaction as it arrives: the receipt is there at once.
        let tx = *pending.tx_hash();
        let receipt = loop {
            if let Some(receipt) = provider.get_transaction_receipt(tx).await? {
                break receipt;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        let Some(task) = receipt
            .inner
            .logs()
            .iter()
            .find_map(|l| l.log_decode::<TaskMailbox::TaskCreated>().ok())
            .map(|l| l.inner.data.taskHash)
        else {
            return Ok(fail(
                json,
                format!("createTask {tx} reverted or emitted no TaskCreated"),
                1,
            ));
        };
        let mut report = TaskReport::new(task, chain, payload.into());
        report.block = receipt.block_number;
        if let Some(stamp) = summary.performer_binary.as_ref().filter(|s| s.is_stale()) {
            report.warnings.push(format!(
                "{} was rebuilt after the devnet last loaded it: the devnet still runs the old build; `ponos devnet reload` swaps the new one in",
                stamp.path.display()
            ));
        }
        if !json {
            eprintln!("task {task} created on {name}; waiting for its fate");
        }

        let deadline = tokio::time::sleep(Duration::from_secs(self.timeout));
        tokio::pin!(deadline);
        let mut notes_tick = tokio::time::interval(Duration::from_millis(20));
        let code = loop {
            tokio::select! {
                log = verified.next() => {
                    let Some(log) = log else {
                        return Ok(fail(json, gone(), 1));
                    };
                    let Ok(event) = log.log_decode::<TaskMailbox::TaskVerified>() else {
                        continue;
                    };
                    if event.inner.data.taskHash != task {
                        continue;
                    }
                    report.latency_ms = Some(started.elapsed().as_millis() as u64);
                    let Verified { inner, .. } = event;
                    report.certificate(&inner.data.executorCert, &summary);
                    report.verified(inner.data.result, self.returns.as_deref());
                    break 0;
                }
                _ = notes_tick.tick() => {
                    let mut notes = read_notes(&dir, task);
                    if notes.as_ref().is_some_and(TaskNotes::failed) {
                        // The first refusals settle it; the other operators' words follow
                        // within milliseconds: wait briefly to show them all.
                        let settle = Instant::now() + Duration::from_millis(300);
                        while notes.as_ref().is_some_and(|n| n.reasons.len() < summary.executors.len() && !n.ended)
                            && Instant::now() < settle
                        {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            notes = read_notes(&dir, task).or(notes);
                        }
                        report.noted(notes);
                        if report.reasons.iter().any(|r| r.contains("expired")) {
                            report.status = "expired";
                        }
                        break 2;
                    }
                }
                () = &mut deadline => {
                    report.noted(read_notes(&dir, task));
                    report.warnings.push(format!(
                        "not verified within {} s (--timeout); the aggregator goes on until the task's deadline",
                        self.timeout
                    ));
                    break 2;
                }
            }
        };
        report.print(json)?;
        if code != 0 && !json {
            eprintln!("error: task {task} is {}", report.status);
        }
        Ok(code)
    }
}

/// The report of `task` on `chain`, read from the mailbox and the devnet's notes; `None` when
/// the chain has no such task.
async fn read_report(
    summary: &DevnetSummary,
    dir: &std::path::Path,
    chain: &ChainSummary,
    provider: &DynProvider,
    task: B256,
    returns: Option<&str>,
) -> eyre::Result<Option<TaskReport>> {
    let mailbox = TaskMailbox::new(chain.task_mailbox, provider);
    let info = mailbox.getTaskInfo(task).call().await?;
    if info.status == 0 {
        return Ok(None);
    }
    let mut report = TaskReport::new(task, chain, info.payload);
    report.status = status_name(info.status);
    if info.status == 2 {
        report.verified(info.result, returns);
        report.certificate(&info.executorCert, summary);
    }
    report.noted(read_notes(dir, task));
    Ok(Some(report))
}

impl StatusArgs {
    async fn run(self) -> eyre::Result<i32> {
        let json = self.state.json;
        let task: B256 = match self.task.parse() {
            Ok(task) => task,
            Err(_) => {
                let message = format!(
                    "{:?} is not a task hash (0x followed by 64 hex digits, from `ponos task list`)",
                    self.task
                );
                return Ok(fail(json, message, 1));
            }
        };
        if let Some(spec) = &self.returns
            && let Err(e) = abi_tuple(spec)
        {
            return Ok(fail(json, format!("--returns {e}"), 1));
        }
        let dir = self.state.dir();
        let (summary, chains) = match connect(&dir, self.chain, self.avs.as_deref()).await {
            Ok(connected) => connected,
            Err(message) => return Ok(fail(json, message, 1)),
        };
        for (chain, provider) in &chains {
            if let Some(report) = read_report(
                &summary,
                &dir,
                chain,
                provider,
                task,
                self.returns.as_deref(),
            )
            .await?
            {
                report.print(json)?;
                return Ok(0);
            }
        }
        let message = format!(
            "no task {task} on this devnet's {}",
            self.chain.map_or("chains", ChainArg::name)
        );
        Ok(fail(json, message, 1))
    }
}

impl ListArgs {
    async fn run(self) -> eyre::Result<i32> {
        let json = self.state.json;
        let dir = self.state.dir();
        let (summary, chains) = match connect(&dir, self.chain, self.avs.as_deref()).await {
            Ok(connected) => connected,
            Err(message) => return Ok(fail(json, message, 1)),
        };
        let mut rows = Vec::new();
        for (chain, provider) in &chains {
            let filter = alloy::rpc::types::Filter::new()
                .address(chain.task_mailbox)
                .event_signature(TaskMailbox::TaskCreated::SIGNATURE_HASH)
                .topic3(summary.avs.into_word())
                .from_block(0);
            for log in provider.get_logs(&filter).await? {
                let Ok(event) = log.log_decode::<TaskMailbox::TaskCreated>() else {
                    continue;
                };
                let task = event.inner.data.taskHash;
                if let Some(mut report) =
                    read_report(&summary, &dir, chain, provider, task, None).await?
                {
                    report.block = log.block_number;
                    rows.push(report);
                }
            }
        }
        if json {
            println!("{}", serde_json::to_string_pretty(&rows)?);
            return Ok(0);
        }
        if rows.is_empty() {
            println!("no tasks yet; create one with `ponos task create --text 7`");
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
                row.shown_result()
                    .or_else(|| row.reasons.first().cloned())
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
