//! `ponos task`: create a task on the running devnet and show its verified result.

use std::time::{Duration, Instant};

use alloy::{
    network::EthereumWallet,
    primitives::{B256, Bytes, hex},
    providers::{Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
};
use clap::{Args, Subcommand, ValueEnum};
use ponos_chain::contracts::{TaskMailbox, task_mailbox};
use ponos_devkit::devnet::{certificate_summary, read_summary};
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
    ///   ponos task create --payload @input.bin --chain l2 --json
    Create(CreateArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ChainArg {
    L1,
    L2,
}

#[derive(Debug, Args)]
struct CreateArgs {
    /// The payload: 0x-prefixed hex, or @file for a file's bytes.
    #[arg(long)]
    payload: String,
    /// The chain to create it on.
    #[arg(long, value_enum, default_value = "l1")]
    chain: ChainArg,
    /// Seconds to wait for the verified result.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
    #[command(flatten)]
    state: StateArgs,
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
    result_text: Option<String>,
    latency_ms: u64,
    signers: usize,
    non_signers: usize,
}

impl TaskArgs {
    pub(crate) async fn run(self) -> eyre::Result<i32> {
        match self.command {
            TaskCommand::Create(args) => args.run().await,
        }
    }
}

impl CreateArgs {
    async fn run(self) -> eyre::Result<i32> {
        let payload = match parse_payload(&self.payload) {
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
        let name = match self.chain {
            ChainArg::L1 => "l1",
            ChainArg::L2 => "l2",
        };
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
        let shown = Shown {
            task,
            chain_id: chain.chain_id,
            status: "verified",
            result_text: std::str::from_utf8(&result)
                .ok()
                .filter(|t| t.chars().all(|c| !c.is_control()))
                .map(str::to_owned),
            result_hex: Some(result),
            latency_ms,
            signers,
            non_signers,
        };
        if self.state.json {
            println!("{}", serde_json::to_string_pretty(&shown)?);
        } else {
            println!("verified   task {task} on chain {}", shown.chain_id);
            if let Some(text) = &shown.result_text {
                println!("result     {text:?}");
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

#[cfg(test)]
mod tests {
    use super::parse_payload;

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
