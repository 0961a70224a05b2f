//! `ponos devnet`: a whole devnet in this process, and its status.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use ponos_devkit::devnet::{
    Curve, Devnet, DevnetConfig, DevnetSummary, PerformerRuntime, read_summary,
};
use ponos_performer::{Performer, PerformerError, Task};

/// Run a local devnet, or show the one running here.
#[derive(Debug, Args)]
pub(crate) struct DevnetArgs {
    #[command(subcommand)]
    command: DevnetCommand,
}

#[derive(Debug, Subcommand)]
enum DevnetCommand {
    /// Start anvil for L1 (31337) and L2 (31338), deploy the TaskMailbox stack, set up the AVS
    /// with N operators, push operator tables to both chains, and run the aggregator and N
    /// executors in this process until Ctrl-C.
    ///
    /// Examples:
    ///   ponos devnet up --runtime process --performer target/release/my-performer
    ///   ponos devnet up --runtime docker --performer my-avs/performer:latest --executors 4
    ///   ponos devnet up --runtime in-process --curve ecdsa --no-l2   # built-in echo performer
    Up(UpArgs),
    /// Show the devnet running in the state directory.
    Status(StateArgs),
    /// Stop the devnet running in the state directory.
    Down(StateArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum CurveArg {
    Bn254,
    Ecdsa,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RuntimeArg {
    /// A native binary per executor (`--performer <path>`).
    Process,
    /// A Docker image per executor (`--performer <image>`).
    Docker,
    /// A built-in performer that echoes each payload, inside this process.
    InProcess,
}

#[derive(Debug, Args)]
struct UpArgs {
    /// Executors (operators) in the executor set.
    #[arg(long, default_value_t = 4)]
    executors: usize,
    /// The executor set's curve.
    #[arg(long, value_enum, default_value = "bn254")]
    curve: CurveArg,
    /// Run the L1 only.
    #[arg(long)]
    no_l2: bool,
    /// How performers run.
    #[arg(long, value_enum, default_value = "process")]
    runtime: RuntimeArg,
    /// The performer: a binary path (process) or an image (docker).
    #[arg(long, required_if_eq_any([("runtime", "process"), ("runtime", "docker")]))]
    performer: Option<String>,
    /// Task SLA in seconds.
    #[arg(long, default_value_t = 120)]
    task_sla: u64,
    /// The share of stake a certificate needs, in basis points.
    #[arg(long, default_value_t = 10_000)]
    threshold_bps: u16,
    #[command(flatten)]
    state: StateArgs,
}

#[derive(Debug, Args)]
pub(crate) struct StateArgs {
    /// Where the devnet writes its summary (devnet.json).
    #[arg(long, default_value = ".ponos/devnet", env = "PONOS_DEVNET_DIR")]
    pub(crate) state_dir: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub(crate) json: bool,
}

/// Answers each task with its payload.
#[derive(Clone)]
struct Echo;

impl Performer for Echo {
    async fn handle_task(&self, task: Task) -> Result<Vec<u8>, PerformerError> {
        Ok(task.payload)
    }
}

impl DevnetArgs {
    pub(crate) async fn run(self) -> eyre::Result<i32> {
        match self.command {
            DevnetCommand::Up(args) => args.run().await,
            DevnetCommand::Down(args) => {
                let summary = read_summary(&args.state_dir)?;
                if !process_alive(summary.pid) {
                    eprintln!(
                        "error: the devnet in {} is not running",
                        args.state_dir.display()
                    );
                    let _ = std::fs::remove_file(
                        args.state_dir.join(ponos_devkit::devnet::SUMMARY_FILE),
                    );
                    return Ok(1);
                }
                let _ = std::process::Command::new("kill")
                    .args(["-TERM", &summary.pid.to_string()])
                    .status();
                let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
                while process_alive(summary.pid) && std::time::Instant::now() < until {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                if process_alive(summary.pid) {
                    eprintln!(
                        "error: the devnet (process {}) did not stop within 20 s",
                        summary.pid
                    );
                    return Ok(1);
                }
                eprintln!("devnet: stopped");
                Ok(0)
            }
            DevnetCommand::Status(args) => {
                let summary = read_summary(&args.state_dir)?;
                if !process_alive(summary.pid) {
                    eprintln!(
                        "error: the devnet in {} is not running (its process {} is gone); start one with `ponos devnet up`",
                        args.state_dir.display(),
                        summary.pid
                    );
                    return Ok(1);
                }
                print_summary(&summary, args.json)?;
                Ok(0)
            }
        }
    }
}

/// Whether process `pid` is running (an exited process its parent has not reaped yet is not).
fn process_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
    })
}

impl UpArgs {
    async fn run(self) -> eyre::Result<i32> {
        if let Ok(existing) = read_summary(&self.state.state_dir)
            && process_alive(existing.pid)
            && existing.pid != std::process::id()
        {
            eprintln!(
                "error: a devnet is already running in {} (process {}); stop it, or pass another --state-dir",
                self.state.state_dir.display(),
                existing.pid
            );
            return Ok(1);
        }
        let config = DevnetConfig {
            executors: self.executors,
            curve: match self.curve {
                CurveArg::Bn254 => Curve::Bn254,
                CurveArg::Ecdsa => Curve::Ecdsa,
            },
            l2: !self.no_l2,
            task_sla: self.task_sla,
            threshold_bps: self.threshold_bps,
            state_dir: Some(self.state.state_dir.clone()),
        };
        eprintln!(
            "devnet: starting {} chain(s), {} executors ({:?} performers)",
            if self.no_l2 { 1 } else { 2 },
            self.executors,
            self.runtime
        );
        let devnet = match self.runtime {
            RuntimeArg::InProcess => Devnet::start(config, Echo).await?,
            RuntimeArg::Process => {
                let binary = PathBuf::from(self.performer.unwrap_or_default());
                if !binary.is_file() {
                    eprintln!(
                        "error: performer binary {} not found (build it with `ponos build` or cargo)",
                        binary.display()
                    );
                    return Ok(1);
                }
                Devnet::start_with(config, PerformerRuntime::Process(binary)).await?
            }
            RuntimeArg::Docker => {
                Devnet::start_with(
                    config,
                    PerformerRuntime::Docker(self.performer.unwrap_or_default()),
                )
                .await?
            }
        };
        print_summary(devnet.summary(), self.state.json)?;
        eprintln!(
            "devnet: ready in {} ms; create a task with `ponos task create --payload 0x2a`; Ctrl-C stops",
            devnet.summary().ready_ms
        );
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        eprintln!("devnet: stopping");
        devnet.stop().await;
        let _ = std::fs::remove_file(
            self.state
                .state_dir
                .join(ponos_devkit::devnet::SUMMARY_FILE),
        );
        Ok(0)
    }
}

fn print_summary(summary: &DevnetSummary, json: bool) -> eyre::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(summary)?);
        return Ok(());
    }
    for chain in &summary.chains {
        println!(
            "{:<3} chain {:<6} {}  mailbox {}",
            chain.name, chain.chain_id, chain.rpc_url, chain.task_mailbox
        );
    }
    println!(
        "avs        {} ({} executor set)",
        summary.avs, summary.curve
    );
    println!("aggregator {}", summary.aggregator);
    for (i, executor) in summary.executors.iter().enumerate() {
        println!("executor {i} {} at {}", executor.operator, executor.socket);
    }
    println!(
        "creator    {} (anvil development key)",
        summary.task_creator
    );
    Ok(())
}
