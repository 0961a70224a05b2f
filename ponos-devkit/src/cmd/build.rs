//! `ponos build`: the project's contracts (forge), its performer as a static binary, and the
//! performer's `FROM scratch` image (through the Docker API; no docker CLI).

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Instant,
};

use clap::Args;
use ponos_devkit::project::{PERFORMER_TARGET, load_project};
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
            &root.join(PERFORMER_TARGET),
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
