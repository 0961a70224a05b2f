//! `ponos build`: the project's contracts (forge), its performer as a static binary, and the
//! performer's `FROM scratch` image (through the Docker API; no docker CLI).

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Instant,
};

use clap::Args;
use serde::Deserialize;
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::Command,
};

/// Build the project: compile its contracts with forge, its performer as a statically linked
/// binary, and the performer's image.
///
/// Examples:
///   ponos build
///   ponos build --no-image        # machines without Docker
#[derive(Debug, Args)]
pub(crate) struct BuildArgs {
    /// Skip the image (the binary still builds).
    #[arg(long)]
    no_image: bool,
    /// Skip the contracts.
    #[arg(long)]
    no_contracts: bool,
    /// The project directory (ponos.toml is looked for here and above).
    #[arg(long, default_value = ".")]
    root: PathBuf,
}

/// The parts of `ponos.toml` the build reads.
#[derive(Debug, Deserialize)]
pub(crate) struct ProjectFile {
    pub(crate) project: ProjectSection,
    pub(crate) performer: PerformerSection,
    #[serde(default)]
    pub(crate) contracts: Option<ContractsSection>,
    #[serde(default)]
    pub(crate) deploy: DeploySection,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ProjectSection {
    pub(crate) name: String,
    #[serde(default = "default_curve")]
    pub(crate) curve: String,
}

fn default_curve() -> String {
    "bn254".into()
}

/// `[contracts]`: the project's contracts `ponos deploy` deploys.
#[derive(Debug, Deserialize)]
pub(crate) struct ContractsSection {
    pub(crate) task_hook: String,
    pub(crate) registrar: String,
}

/// `[deploy]`: how `ponos deploy` configures the AVS.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeploySection {
    #[serde(default = "default_sla")]
    pub(crate) task_sla_secs: u64,
    #[serde(default = "default_threshold")]
    pub(crate) threshold_bps: u16,
    #[serde(default)]
    pub(crate) metadata_uri: String,
    #[serde(default)]
    pub(crate) table_calculator: Option<alloy::primitives::Address>,
}

impl Default for DeploySection {
    fn default() -> Self {
        Self {
            task_sla_secs: default_sla(),
            threshold_bps: default_threshold(),
            metadata_uri: String::new(),
            table_calculator: None,
        }
    }
}

const fn default_sla() -> u64 {
    120
}

const fn default_threshold() -> u16 {
    10_000
}

/// Finds the project from `start` and reads its `ponos.toml`.
pub(crate) fn load_project(start: &Path) -> Result<(PathBuf, ProjectFile), String> {
    let root = find_project(start).ok_or_else(|| {
        format!(
            "no ponos.toml in {} or above; create a project with `ponos new <name>`",
            start.display()
        )
    })?;
    let path = root.join("ponos.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let project = toml::from_str(&text)
        .map_err(|e| format!("{}: {}", path.display(), e.to_string().trim()))?;
    Ok((root, project))
}

#[derive(Debug, Deserialize)]
pub(crate) struct PerformerSection {
    #[serde(rename = "crate")]
    pub(crate) crate_name: String,
    pub(crate) image: String,
}

/// The directory holding `ponos.toml`, from `start` upwards.
pub(crate) fn find_project(start: &Path) -> Option<PathBuf> {
    let start = start.canonicalize().ok()?;
    start
        .ancestors()
        .find(|dir| dir.join("ponos.toml").is_file())
        .map(Path::to_path_buf)
}

/// Runs a command in `dir`, printing its output lines prefixed with `label`.
async fn run_step(label: &str, dir: &Path, program: &str, args: &[&str]) -> Result<(), String> {
    let mut child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("running {program}: {e} (ponos doctor checks the tools)"))?;
    let stdout = child.stdout.take().map(BufReader::new);
    let stderr = child.stderr.take().map(BufReader::new);
    let mut tail = Vec::new();
    if let (Some(out), Some(err)) = (stdout, stderr) {
        let mut out = out.lines();
        let mut err = err.lines();
        loop {
            tokio::select! {
                line = out.next_line() => match line {
                    Ok(Some(line)) => println!("{label}: {line}"),
                    _ => break,
                },
                line = err.next_line() => if let Ok(Some(line)) = line {
                    tail.push(line);
                },
            }
        }
        while let Ok(Some(line)) = err.next_line().await {
            tail.push(line);
        }
    }
    let status = child.wait().await.map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        let start = tail.len().saturating_sub(20);
        Err(format!(
            "{program} {} failed:\n{}",
            args.join(" "),
            tail[start..].join("\n")
        ))
    }
}

impl BuildArgs {
    pub(crate) async fn run(self) -> eyre::Result<i32> {
        match self.build().await {
            Ok(()) => Ok(0),
            Err(message) => {
                eprintln!("error: {message}");
                Ok(1)
            }
        }
    }

    async fn build(self) -> Result<(), String> {
        let (root, project) = load_project(&self.root)?;
        println!("building {} in {}", project.project.name, root.display());

        if !self.no_contracts {
            let started = Instant::now();
            run_step("forge", &root, "forge", &["build"]).await?;
            println!(
                "contracts: built in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }

        let started = Instant::now();
        // Bring the lock file up to date with the workspace (offline: only cached crates).
        run_step(
            "cargo",
            &root,
            "cargo",
            &["update", "--workspace", "--offline", "--quiet"],
        )
        .await?;
        let binary = ponos_executor::docker::build_static_binary(
            &root,
            &project.performer.crate_name,
            &root.join("target/performer"),
        )
        .await
        .map_err(|e| e.to_string())?;
        println!(
            "performer: {} (static) in {:.1} s",
            binary.display(),
            started.elapsed().as_secs_f64()
        );

        if !self.no_image {
            let started = Instant::now();
            let docker = ponos_executor::docker::connect().await.map_err(|e| {
                format!("{e}; start Docker (ponos doctor shows how) or pass --no-image")
            })?;
            ponos_executor::docker::build_image(&docker, &binary, &project.performer.image)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "image: {} (FROM scratch) in {:.1} s",
                project.performer.image,
                started.elapsed().as_secs_f64()
            );
        }
        Ok(())
    }
}
