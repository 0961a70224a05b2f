//! `ponos-aggregator`: the aggregator an AVS runs.

use std::{net::SocketAddr, path::PathBuf};

use clap::Parser;
use ponos_node::{aggregator, telemetry};

const EXAMPLES: &str = "\
Examples:
  ponos-aggregator --config aggregator.toml
  PONOS_AGGREGATOR_PASSWORD=... ponos-aggregator --config aggregator.toml --log-format json
  ponos-aggregator --config aggregator.toml --check    # validate the config and exit
";

/// The Ponos aggregator: watches the TaskMailbox on every configured chain, sends each task to
/// the operators of the AVS's executor set, aggregates their signed results into a certificate
/// that meets the stake threshold, and submits it on the task's chain.
#[derive(Debug, Parser)]
#[command(name = "ponos-aggregator", version, after_help = EXAMPLES)]
struct Args {
    /// The configuration file: Ponos TOML (docs/aggregator.example.toml has every key), or Hourglass's
    /// aggregator YAML (`.yaml`/`.yml`; docs/migrating-from-hourglass.md maps its keys).
    #[arg(long, short, env = "PONOS_AGGREGATOR_CONFIG")]
    config: PathBuf,

    /// Log format; overrides `[log] format`.
    #[arg(long, env = "PONOS_LOG_FORMAT", value_enum)]
    log_format: Option<telemetry::LogFormat>,

    /// Log filter such as `info` or `ponos=debug,info`; overrides `[log] level`.
    #[arg(long, env = "PONOS_LOG_LEVEL")]
    log_level: Option<String>,

    /// Management service address; overrides `[server] management_addr`.
    #[arg(long, env = "PONOS_AGGREGATOR_MANAGEMENT_ADDR")]
    management_addr: Option<SocketAddr>,

    /// Metrics and health address; overrides `[server] http_addr`.
    #[arg(long, env = "PONOS_AGGREGATOR_HTTP_ADDR")]
    http_addr: Option<SocketAddr>,

    /// Store file (`:memory:` for none); overrides `[store] path`.
    #[arg(long, env = "PONOS_AGGREGATOR_STORE")]
    store: Option<String>,

    /// Check the configuration and exit.
    #[arg(long)]
    check: bool,
}

fn main() -> std::process::ExitCode {
    ponos_node::exit(run(Args::parse()))
}

fn run(args: Args) -> eyre::Result<()> {
    let mut config = aggregator::AggregatorFileConfig::load(&args.config)?;
    let server = &mut config.server;
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
        println!(
            "{}: ok ({} chains, {} AVS)",
            args.config.display(),
            config.chains.len(),
            config.avss.len()
        );
        return Ok(());
    }
    telemetry::init_logs(config.log.format, &config.log.level);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(aggregator::run(config))
}
