//! `ponos-executor`: the executor every operator runs.

use std::path::PathBuf;

use clap::Parser;
use ponos_node::{executor, telemetry};

/// The Ponos executor: receives tasks from an AVS's aggregator, runs them in the AVS's
/// performer (a Docker container or a native process), signs the results and returns them.
///
/// Examples:
///   ponos-executor --config executor.toml
///   PONOS_BN254_PASSWORD=... ponos-executor --config executor.toml --log-format json
///   ponos-executor --config executor.toml --check    # validate the config and exit
#[derive(Debug, Parser)]
#[command(name = "ponos-executor", version)]
struct Args {
    /// The configuration file (see docs/executor.example.toml for every key).
    #[arg(long, short, env = "PONOS_EXECUTOR_CONFIG")]
    config: PathBuf,

    /// Log format; overrides the config file.
    #[arg(long, env = "PONOS_LOG_FORMAT", value_enum)]
    log_format: Option<telemetry::LogFormat>,

    /// Check the configuration and exit.
    #[arg(long)]
    check: bool,
}

fn main() -> eyre::Result<()> {
    let args = Args::parse();
    let config = executor::ExecutorConfig::load(&args.config)?;
    if args.check {
        println!("{}: ok ({} AVS)", args.config.display(), config.avss.len());
        return Ok(());
    }
    telemetry::init_logs(
        args.log_format.unwrap_or(config.log.format),
        &config.log.level,
    );
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(executor::run(config))
}
