//! `ponos devnet`: a whole devnet in this process, and its status.

mod reload;

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use clap::{Args, Subcommand, ValueEnum};
use ponos_devkit::devnet::{
    AvsContracts, Curve, Devnet, DevnetConfig, DevnetSummary, PerformerRuntime, control,
    read_summary,
};
use ponos_performer::{Performer, PerformerError, Task};

/// Run a local devnet (anvil L1 and L2, the contract stack, aggregator, executors).
#[derive(Debug, Args)]
pub(crate) struct DevnetArgs {
    #[command(subcommand)]
    command: DevnetCommand,
}

impl DevnetArgs {
    /// Whether this is `devnet up` (foreground, or the background process `--detach` starts).
    pub(crate) const fn serves(&self) -> bool {
        matches!(self.command, DevnetCommand::Up(_))
    }
}

#[derive(Debug, Subcommand)]
enum DevnetCommand {
    /// Start anvil for L1 (31337) and L2 (31338), deploy the TaskMailbox stack, set up the AVS
    /// with N operators, push operator tables to both chains, and run the aggregator and N
    /// executors in this process until Ctrl-C.
    #[command(
        after_help = "Examples:\n  ponos devnet up --detach                     # the project's performer binary (ponos build)\n  ponos devnet up --watch                      # rebuild and swap the performer in on every save\n  ponos devnet up --runtime docker --executors 8 --detach\n  ponos devnet up --runtime in-process --curve ecdsa --no-l2   # built-in echo performer"
    )]
    Up(UpArgs),
    /// Show the devnet running in the state directory.
    Status(StateArgs),
    Reload(reload::ReloadArgs),
    /// Print the devnet's logs: all of them, or one component's.
    #[command(
        after_help = "Examples:\n  ponos devnet logs\n  ponos devnet logs aggregator --follow"
    )]
    Logs(LogsArgs),
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

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Component {
    /// The aggregator: tasks seen, operator sets read, certificates, submissions.
    Aggregator,
    /// The executors: tasks received, checked, run and signed.
    Executor,
    /// The performers' runtimes: starts, restarts, health.
    Performer,
}

#[derive(Debug, Args)]
struct LogsArgs {
    /// One component only.
    #[arg(value_enum)]
    component: Option<Component>,
    /// Keep printing new lines until Ctrl-C.
    #[arg(long, short)]
    follow: bool,
    #[command(flatten)]
    state: StateArgs,
}

/// The devnet's log file in its state directory.
const LOG_FILE: &str = "devnet.log";

#[derive(Debug, Args)]
struct UpArgs {
    /// Executors (operators) in the executor set, 1 to 128 [default: `[devnet] executors`,
    /// else 4].
    #[arg(long)]
    executors: Option<usize>,
    /// AVSs on the devnet's one stack, 1 to 8, each with its own operator sets, keys and
    /// performers, all served by the one aggregator and the same executors [default: the
    /// `[[devnet.avs]]` entries of ponos.toml, else 1]. Beyond those entries, AVSs are the
    /// project's. `ponos task create --avs N` picks one.
    #[arg(long, value_name = "N")]
    avs: Option<usize>,
    /// The executor set's curve [default: the project's, else bn254].
    #[arg(long, value_enum)]
    curve: Option<CurveArg>,
    /// Run an L2 (chain 31338) beside the L1 [default: `[devnet] l2`, else yes].
    #[arg(long, overrides_with = "no_l2")]
    l2: bool,
    /// Run the L1 only.
    #[arg(long, overrides_with = "l2")]
    no_l2: bool,
    /// How performers run.
    #[arg(long, value_enum, default_value = "process")]
    runtime: RuntimeArg,
    /// The performer: a binary path (process) or an image (docker). Inside a project, the
    /// binary and image `ponos build` makes are the default.
    #[arg(long)]
    performer: Option<String>,
    /// The project directory (ponos.toml is looked for here and above). Its compiled contracts
    /// (registrar, task hook) are deployed; without a project, Ponos's registrar and an open task
    /// hook are.
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// Task SLA in seconds [default: `[devnet] task_sla_secs`, else 120].
    #[arg(long)]
    task_sla: Option<u64>,
    /// The share of stake a certificate needs, in basis points [default: `[devnet]
    /// threshold_bps`, else 10000].
    #[arg(long)]
    threshold_bps: Option<u16>,
    /// The L1's port (a free one when left out).
    #[arg(long)]
    l1_port: Option<u16>,
    /// The L2's port (a free one when left out).
    #[arg(long)]
    l2_port: Option<u16>,
    /// Fork the L1 from this JSON-RPC endpoint (e.g. an Ethereum or Sepolia node) instead of
    /// starting it empty; the stack and the AVS are deployed on top.
    #[arg(long)]
    fork_url: Option<String>,
    /// Start in the background and return once the devnet is ready.
    #[arg(long)]
    detach: bool,
    /// Watch the project's performer crate: after each save, rebuild it and swap it in on the
    /// running executors (what `ponos devnet reload` does by hand).
    #[arg(long)]
    watch: bool,
    #[command(flatten)]
    state: StateArgs,
}

#[derive(Debug, Args)]
pub(crate) struct StateArgs {
    /// Where the devnet keeps its summary (devnet.json), logs and task notes. Default:
    /// .ponos/devnet in the project (ponos.toml here or above), else in this directory.
    #[arg(long, env = "PONOS_DEVNET_DIR")]
    state_dir: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub(crate) json: bool,
}

impl StateArgs {
    /// The state directory: the one given, else the project's, else `./.ponos/devnet`.
    pub(crate) fn dir(&self) -> PathBuf {
        self.dir_for(Path::new("."))
    }

    /// The state directory given, else that of the project at or above `root`, else
    /// `root/.ponos/devnet`.
    pub(crate) fn dir_for(&self, root: &Path) -> PathBuf {
        if let Some(dir) = &self.state_dir {
            return dir.clone();
        }
        ponos_devkit::project::find_project(root)
            .unwrap_or_else(|| root.to_path_buf())
            .join(".ponos/devnet")
    }
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
            DevnetCommand::Up(args) if args.detach => args.detach().await,
            DevnetCommand::Up(args) => args.run().await,
            DevnetCommand::Logs(args) => args.run().await,
            DevnetCommand::Reload(args) => args.run().await,
            DevnetCommand::Down(args) => {
                let dir = args.dir();
                let summary = match read_summary(&dir) {
                    Ok(summary) => summary,
                    Err(error) => {
                        eprintln!("error: {error}");
                        return Ok(1);
                    }
                };
                if !process_alive(summary.pid) {
                    let summary_file = dir.join(ponos_devkit::devnet::SUMMARY_FILE);
                    if let Some(cleaned) = clean_up_after(&summary).await {
                        let _ = std::fs::remove_file(summary_file);
                        eprintln!(
                            "devnet: the devnet in {} had been killed; cleaned up {cleaned}",
                            dir.display()
                        );
                        return Ok(0);
                    }
                    eprintln!("error: the devnet in {} is not running", dir.display());
                    let _ = std::fs::remove_file(summary_file);
                    return Ok(1);
                }
                if !is_ours(summary.pid, "ponos", summary.pid_started) {
                    eprintln!(
                        "error: process {} is not the devnet that wrote {}; remove the file if the devnet is gone",
                        summary.pid,
                        dir.join(ponos_devkit::devnet::SUMMARY_FILE).display()
                    );
                    return Ok(1);
                }
                signal(summary.pid, libc::SIGTERM);
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
                let dir = args.dir();
                let summary = match read_summary(&dir) {
                    Ok(summary) => summary,
                    Err(error) => {
                        eprintln!("error: {error}");
                        return Ok(1);
                    }
                };
                if !process_alive(summary.pid) {
                    eprintln!(
                        "error: the devnet in {} is not running (its process {} is gone); start one with `ponos devnet up`",
                        dir.display(),
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

/// What a killed devnet left running (its anvils and performer containers; its process
/// performers die with it), stopped now. `None` when nothing was left; else what was cleaned,
/// in words.
async fn clean_up_after(summary: &ponos_devkit::devnet::DevnetSummary) -> Option<String> {
    let mut anvils = 0;
    for (i, pid) in summary.anvil_pids.iter().enumerate() {
        let started = summary.anvil_started.get(i).copied().flatten();
        if process_alive(*pid) && is_ours(*pid, "anvil", started) {
            signal(*pid, libc::SIGKILL);
            anvils += 1;
        }
    }
    let prefix = ponos_devkit::devnet::container_prefix(summary.pid);
    let containers = match ponos_executor::docker::connect().await {
        Ok(docker) => ponos_executor::docker::remove_by_id_prefix(&docker, &prefix)
            .await
            .unwrap_or(0),
        Err(_) => 0,
    };
    (anvils + containers > 0)
        .then(|| format!("{anvils} anvil process(es) and {containers} performer container(s)"))
}

/// Whether process `pid` is still the one a state file recorded: its program is `name` and it
/// started when recorded (a pid from an old state file may belong to another process by now).
/// A state file from before start times were recorded is checked by name alone.
fn is_ours(pid: u32, name: &str, started: Option<u64>) -> bool {
    is_named(pid, name)
        && started.is_none_or(|started| ponos_devkit::devnet::process_started(pid) == Some(started))
}

/// Whether process `pid`'s program name contains `name`.
fn is_named(pid: u32, name: &str) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|cmdline| {
        let program = cmdline.split(|b| *b == 0).next().unwrap_or_default();
        String::from_utf8_lossy(program)
            .rsplit('/')
            .next()
            .is_some_and(|p| p.contains(name))
    })
}

/// Sends `signal` to `pid`.
fn signal(pid: u32, signal: libc::c_int) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: kill(2) takes plain integers and touches no memory of ours.
        unsafe {
            libc::kill(pid, signal);
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
        let state_dir = self.state.dir_for(&self.root);
        if let Ok(existing) = read_summary(&state_dir) {
            if process_alive(existing.pid) && existing.pid != std::process::id() {
                eprintln!(
                    "error: a devnet is already running in {} (process {}); stop it, or pass another --state-dir",
                    state_dir.display(),
                    existing.pid
                );
                return Ok(1);
            }
            if !process_alive(existing.pid)
                && let Some(cleaned) = clean_up_after(&existing).await
            {
                eprintln!("devnet: the previous devnet had been killed; cleaned up {cleaned}");
            }
        }
        let setup = match self.project_setup() {
            Ok(setup) => setup,
            Err(message) => {
                eprintln!("error: {message}");
                return Ok(1);
            }
        };
        // Both are set up before the devnet starts: nothing sent or saved once it is ready is
        // missed.
        let watch = if self.watch {
            let project = ponos_devkit::project::load_project(&self.root);
            match (project, self.runtime) {
                (_, RuntimeArg::InProcess) => {
                    eprintln!(
                        "error: --watch rebuilds the project's performer; the built-in in-process one has nothing to rebuild (use --runtime process or docker)"
                    );
                    return Ok(1);
                }
                (Err(why), _) => {
                    eprintln!("error: --watch rebuilds the project's performer: {why}");
                    return Ok(1);
                }
                (Ok((root, project)), _) => match reload::Watch::start(root, project) {
                    Ok(watch) => Some(watch),
                    Err(why) => {
                        eprintln!("error: --watch: {why}");
                        return Ok(1);
                    }
                },
            }
        } else {
            None
        };
        let defaults = setup.devnet;
        let l2 = match (self.l2, self.no_l2) {
            (_, true) => false,
            (true, _) => true,
            _ => defaults.l2,
        };
        let executors = self.executors.unwrap_or(defaults.executors);
        let config = DevnetConfig {
            executors,
            curve: setup.curve,
            l2,
            task_sla: self.task_sla.unwrap_or(defaults.task_sla_secs),
            threshold_bps: self.threshold_bps.unwrap_or(defaults.threshold_bps),
            state_dir: Some(state_dir.clone()),
            l1_port: self.l1_port,
            l2_port: self.l2_port,
            fork_url: self.fork_url.clone(),
            contracts: setup.contracts,
            avss: setup.avss,
        };
        if let Err(message) = start_log(&state_dir) {
            eprintln!("error: {message}");
            return Ok(1);
        }
        let control = control::ControlSocket::bind(&state_dir)
            .inspect_err(|error| {
                eprintln!("devnet: `ponos devnet reload` will not reach this devnet: {error}");
            })
            .ok();
        if matches!(self.runtime, RuntimeArg::Docker)
            && let Err(error) = ponos_executor::docker::connect().await
        {
            eprintln!(
                "error: --runtime docker needs a Docker daemon: {error}; start Docker (`ponos doctor` shows how) or use --runtime process"
            );
            return Ok(1);
        }
        eprintln!(
            "devnet: starting {} chain(s), {executors} executors ({:?} performers)",
            if l2 { 2 } else { 1 },
            self.runtime
        );
        let devnet = match self.runtime {
            RuntimeArg::InProcess => Devnet::start(config, Echo).await,
            RuntimeArg::Process => {
                let Some(binary) = setup.performer.map(PathBuf::from) else {
                    eprintln!(
                        "error: --runtime process needs --performer <binary> (inside a project, `ponos build` makes one)"
                    );
                    return Ok(1);
                };
                if !binary.is_file() {
                    eprintln!(
                        "error: performer binary {} not found (build it with `ponos build` or cargo)",
                        binary.display()
                    );
                    return Ok(1);
                }
                Devnet::start_with(config, PerformerRuntime::Process(binary)).await
            }
            RuntimeArg::Docker => {
                let Some(image) = setup.performer else {
                    eprintln!(
                        "error: --runtime docker needs --performer <image> (inside a project, `ponos build` makes one)"
                    );
                    return Ok(1);
                };
                Devnet::start_with(config, PerformerRuntime::Docker(image)).await
            }
        };
        let devnet = match devnet {
            Ok(devnet) => Arc::new(devnet),
            Err(error) => {
                eprintln!("error: {error}");
                return Ok(1);
            }
        };
        let mut background = Vec::new();
        if let Some(control) = control {
            background.push(control.serve(devnet.clone()));
        }
        if let Some(watch) = watch {
            let image = matches!(self.runtime, RuntimeArg::Docker);
            background.push(watch.run(devnet.clone(), image));
        }
        print_summary(devnet.summary(), self.state.json)?;
        eprintln!(
            "devnet: ready in {} ms; create a task with `ponos task create --text 7`; Ctrl-C stops",
            devnet.summary().ready_ms
        );
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        eprintln!("devnet: stopping");
        for handle in background {
            handle.abort();
        }
        devnet.stop().await;
        let _ = std::fs::remove_file(state_dir.join(ponos_devkit::devnet::SUMMARY_FILE));
        let _ = std::fs::remove_file(state_dir.join(control::CONTROL_SOCKET));
        Ok(0)
    }
}

/// What `devnet up` takes from the project it runs in (when it runs in one).
struct ProjectSetup {
    curve: Curve,
    devnet: ponos_devkit::project::DevnetSection,
    contracts: Option<AvsContracts>,
    performer: Option<String>,
    avss: Vec<ponos_devkit::devnet::DevnetAvs>,
}

impl UpArgs {
    fn project_setup(&self) -> Result<ProjectSetup, String> {
        let flag_curve = self.curve.map(|c| match c {
            CurveArg::Bn254 => Curve::Bn254,
            CurveArg::Ecdsa => Curve::Ecdsa,
        });
        let Some(root) = ponos_devkit::project::find_project(&self.root) else {
            return Ok(ProjectSetup {
                curve: flag_curve.unwrap_or(Curve::Bn254),
                devnet: ponos_devkit::project::DevnetSection::default(),
                contracts: None,
                performer: self.performer.clone(),
                avss: self.avss(&[])?,
            });
        };
        let (root, project) = ponos_devkit::project::load_project(&root)?;
        // A project that names its contracts gets them or an error; only one that names none
        // runs on Ponos's stand-ins.
        let contracts = if project.contracts.is_some() {
            let (task_hook, registrar) = project
                .compiled_contracts(&root)
                .map_err(|why| format!("the project's contracts: {why}"))?;
            eprintln!(
                "devnet: {}: deploying {} and {}",
                project.project.name, registrar.name, task_hook.name
            );
            Some(AvsContracts {
                registrar: registrar.bytecode,
                task_hook: task_hook.bytecode,
            })
        } else {
            eprintln!(
                "devnet: {}: ponos.toml names no [contracts]; Ponos's registrar and an open task hook stand in",
                project.project.name
            );
            None
        };
        let performer = self.performer.clone().or_else(|| match self.runtime {
            RuntimeArg::Process => Some(project.performer_binary(&root).display().to_string()),
            RuntimeArg::Docker => Some(project.performer.image.clone()),
            RuntimeArg::InProcess => None,
        });
        Ok(ProjectSetup {
            avss: self.avss(&project.devnet.avs)?,
            devnet: project.devnet.clone(),
            curve: match flag_curve {
                Some(curve) => curve,
                None => project.curve()?,
            },
            contracts,
            performer,
        })
    }

    /// The AVSs: `--avs N` of them, the `[[devnet.avs]]` `entries` first.
    fn avss(
        &self,
        entries: &[ponos_devkit::project::DevnetAvsEntry],
    ) -> Result<Vec<ponos_devkit::devnet::DevnetAvs>, String> {
        let count = self.avs.unwrap_or(entries.len().max(1));
        if count == 0 || count > ponos_devkit::devnet::MAX_AVSS {
            return Err(format!(
                "--avs {count}: a devnet runs 1 to {} AVSs",
                ponos_devkit::devnet::MAX_AVSS
            ));
        }
        let mut avss = entries
            .iter()
            .take(count)
            .map(ponos_devkit::project::DevnetAvsEntry::to_devnet)
            .collect::<Result<Vec<_>, _>>()?;
        avss.resize(count, ponos_devkit::devnet::DevnetAvs::default());
        Ok(avss)
    }

    /// Runs `ponos devnet up` (these arguments without `--detach`) in the background and returns
    /// once it is ready, or with its error when it fails to start.
    async fn detach(self) -> eyre::Result<i32> {
        use std::os::unix::process::CommandExt as _;

        let dir = &self.state.dir_for(&self.root);
        std::fs::create_dir_all(dir)?;
        let out_path = dir.join("devnet.out");
        let out = std::fs::File::create(&out_path)?;
        let args: Vec<_> = std::env::args_os()
            .skip(1)
            .filter(|a| a != "--detach")
            .collect();
        let mut child = std::process::Command::new(std::env::current_exe()?)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(out)
            // Its own process group: the shell's Ctrl-C does not reach it.
            .process_group(0)
            .spawn()?;
        let pid = child.id();
        loop {
            if let Some(status) = child.try_wait()? {
                let output = std::fs::read_to_string(&out_path).unwrap_or_default();
                let error = output
                    .lines()
                    .rev()
                    .find(|l| l.starts_with("error:"))
                    .map_or_else(
                        || format!("error: devnet up exited ({status})"),
                        str::to_owned,
                    );
                eprintln!("{error}");
                return Ok(1);
            }
            if let Ok(summary) = read_summary(dir)
                && summary.pid == pid
            {
                // What it said while starting (which contracts, which performers).
                let output = std::fs::read_to_string(&out_path).unwrap_or_default();
                for line in output.lines().filter(|l| !l.contains("ready in")) {
                    eprintln!("{line}");
                }
                print_summary(&summary, self.state.json)?;
                eprintln!(
                    "devnet: ready in {} ms, running in the background (process {pid}); \
                     `ponos devnet logs` shows its logs, `ponos devnet down` stops it",
                    summary.ready_ms
                );
                return Ok(0);
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

/// Sends the devnet's logs (every component, `info` and up unless `PONOS_LOG` says otherwise)
/// to `devnet.log` in the state directory.
fn start_log(dir: &std::path::Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join(LOG_FILE);
    let file = std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("PONOS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .try_init()
        .map_err(|e| format!("starting the devnet log: {e}"))
}

impl LogsArgs {
    async fn run(self) -> eyre::Result<i32> {
        use std::io::{BufRead as _, Seek as _};

        let path = self.state.dir().join(LOG_FILE);
        let Ok(file) = std::fs::File::open(&path) else {
            eprintln!(
                "error: no devnet log at {}; start a devnet with `ponos devnet up`",
                path.display()
            );
            return Ok(1);
        };
        let target = self.component.map(|c| match c {
            Component::Aggregator => " ponos::aggregator",
            Component::Executor => " ponos::executor",
            Component::Performer => " ponos::performer",
        });
        let mut reader = std::io::BufReader::new(file);
        let mut line = String::new();
        loop {
            line.clear();
            let read = reader.read_line(&mut line)?;
            if read == 0 {
                if !self.follow {
                    return Ok(0);
                }
                // A new devnet in the same directory starts the file over.
                let position = reader.stream_position()?;
                if std::fs::metadata(&path).is_ok_and(|m| m.len() < position) {
                    reader.seek(std::io::SeekFrom::Start(0))?;
                }
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                continue;
            }
            if target.is_none_or(|t| line.contains(t)) {
                let mut out = std::io::stdout().lock();
                std::io::Write::write_all(&mut out, line.as_bytes())?;
                if self.follow {
                    std::io::Write::flush(&mut out)?;
                }
            }
        }
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
    if summary.avss.len() > 1 {
        for (i, avs) in summary.avss.iter().enumerate() {
            println!(
                "avs {}      {} ({} executor set), registrar {}, performer {}",
                i + 1,
                avs.avs,
                avs.curve,
                avs.registrar,
                avs.performer
            );
            for (chain, hook) in summary.chains.iter().zip(&avs.task_hooks) {
                println!("  task hook {hook} on {}", chain.name);
            }
        }
    } else {
        println!(
            "avs        {} ({} executor set), registrar {}",
            summary.avs, summary.curve, summary.registrar
        );
        for chain in &summary.chains {
            println!("task hook  {} on {}", chain.task_hook, chain.name);
        }
    }
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
