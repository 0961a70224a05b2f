//! `ponos-executor`: the executor every operator runs.

use std::{net::SocketAddr, path::PathBuf};

use clap::Parser;
use ponos_node::{executor, telemetry};

const EXAMPLES: &str = "\
Examples:
  ponos-executor --config executor.toml
  PONOS_BN254_PASSWORD=... ponos-executor --config executor.toml --log-format json
  ponos-executor --config executor.toml --check    # validate the config and exit
";

/// The Ponos executor: receives tasks from an AVS's aggregator, runs them in the AVS's
/// performer (a Docker container or a native process), signs the results and returns them.
#[derive(Debug, Parser)]
#[command(name = "ponos-executor", version, after_help = EXAMPLES)]
struct Args {
    /// The configuration file: Ponos TOML (docs/executor.example.toml has every key), or Hourglass's
    /// executor YAML (`.yaml`/`.yml`; docs/migrating-from-hourglass.md maps its keys).
    #[arg(long, short, env = "PONOS_EXECUTOR_CONFIG")]
    config: PathBuf,

    /// Log format; overrides `[log] format`.
    #[arg(long, env = "PONOS_LOG_FORMAT", value_enum)]
    log_format: Option<telemetry::LogFormat>,

    /// Log filter such as `info` or `ponos=debug,info`; overrides `[log] level`.
    #[arg(long, env = "PONOS_LOG_LEVEL")]
    log_level: Option<String>,

    /// Task service address; overrides `[server] grpc_addr`.
    #[arg(long, env = "PONOS_EXECUTOR_GRPC_ADDR")]
    grpc_addr: Option<SocketAddr>,

    /// Management service address; overrides `[server] management_addr`.
    #[arg(long, env = "PONOS_EXECUTOR_MANAGEMENT_ADDR")]
    management_addr: Option<SocketAddr>,

    /// Metrics and health address; overrides `[server] http_addr`.
    #[arg(long, env = "PONOS_EXECUTOR_HTTP_ADDR")]
    http_addr: Option<SocketAddr>,

    /// Store file (`:memory:` for none); overrides `[store] path`.
    #[arg(long, env = "PONOS_EXECUTOR_STORE")]
    store: Option<String>,

    /// Check the configuration and exit.
    #[arg(long)]
    check: bool,
}

fn main() -> std::process::ExitCode {
    ponos_node::exit(run(Args::parse()))
}

fn run(args: Args) -> eyre::Result<()> {
    let mut config = executor::ExecutorConfig::load(&args.config)?;
    let server = &mut config.server;
    server.grpc_addr = args.grpc_addr.unwrap_or(server.grpc_addr);
    server.management_addr = args.management_addr.unwrap_or(server.management_addr);
    server.http_addr = args.http_addr.unwrap_or(server.http_addr);
    config
        .management
        .auth
        .check_address(config.server.management_addr, "--management-addr")?;
    if let Some(path) = args.store {
        config.store.path = path;
    }
    if let Some(format) = args.log_format {
        config.log.format = format;
    }
    if let Some(level) = args.log_level {
        config.log.level = level;
    }
    if args.check {
        println!("{}: ok ({} AVS)", args.config.display(), config.avss.len());
        return Ok(());
    }
    telemetry::init_logs(config.log.format, &config.log.level);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(executor::run(config))
}
