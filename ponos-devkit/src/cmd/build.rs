//! `ponos build`: the project's contracts (forge), its performer as a static binary, and the
//! performer's `FROM scratch` image (through the Docker API; no docker CLI).

use std::{
    io::IsTerminal as _,
    path::{Path, PathBuf},
    process::Stdio,
    time::Instant,
};

use clap::Args;
use ponos_devkit::project::{PERFORMER_TARGET, ProjectFile, load_project};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::Command,
};

/// Compile the project's contracts, its performer binary and the performer's image.
///
/// The contracts compile with forge, the performer as a statically linked release binary, and
/// its image `FROM scratch` around that binary.
///
/// Each stage prints a line when it starts and when it ends; cargo's own progress shows while
/// the performer compiles (its progress bar on a terminal, a line per crate otherwise).
/// Docker is checked before anything compiles when an image is wanted.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  ponos build\n  ponos build --no-image        # machines without Docker\n  ponos build --no-contracts    # only the performer"
)]
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

/// Runs `command`, printing its output lines prefixed with `label` (stdout when `show_stdout`,
/// stderr always) and returning its last stderr lines when it fails.
async fn stream(label: &str, mut command: Command, show_stdout: bool) -> Result<(), String> {
    let program = command
        .as_std()
        .get_program()
        .to_string_lossy()
        .into_owned();
    let mut child = command
        .stdout(if show_stdout {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("running {program}: {e} (`ponos doctor` checks the tools)"))?;
    let mut out = child.stdout.take().map(|o| BufReader::new(o).lines());
    let mut err = child.stderr.take().map(|e| BufReader::new(e).lines());
    let mut tail = std::collections::VecDeque::new();
    loop {
        tokio::select! {
            line = async { out.as_mut()?.next_line().await.ok().flatten() }, if out.is_some() => match line {
                Some(line) => eprintln!("{label}: {line}"),
                None => out = None,
            },
            line = async { err.as_mut()?.next_line().await.ok().flatten() }, if err.is_some() => match line {
                Some(line) => {
                    eprintln!("{label}: {}", line.trim_start());
                    if tail.len() == 20 {
                        tail.pop_front();
                    }
                    tail.push_back(line);
                }
                None => err = None,
            },
            else => break,
        }
    }
    let status = child.wait().await.map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} failed ({status}):\n{}",
            Vec::from(tail).join("\n")
        ))
    }
}

/// A command for `program` in `dir`.
fn command(program: &str, dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(program);
    command.args(args).current_dir(dir);
    command
}

/// Installs the contract libraries the project's `package.json` lists (OpenZeppelin) when
/// they are not in `node_modules` yet.
pub(crate) async fn install_contract_libraries(root: &Path) -> Result<(), String> {
    if !root.join("package.json").is_file()
        || root.join("node_modules/@openzeppelin/contracts").is_dir()
    {
        return Ok(());
    }
    eprintln!("contracts: installing the libraries in package.json (npm install)");
    let install = command(
        "npm",
        root,
        &[
            "install",
            "--no-audit",
            "--no-fund",
            "--prefer-offline",
            "--loglevel=error",
        ],
    );
    stream("npm", install, true)
        .await
        .map_err(|e| format!("installing the contract libraries: {e}"))
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
        eprintln!("building {} in {}", project.project.name, root.display());
        let docker = if self.no_image {
            None
        } else {
            Some(ponos_executor::docker::connect().await.map_err(|e| {
                format!("{e}; start Docker (`ponos doctor` shows how) or pass --no-image")
            })?)
        };

        if !self.no_contracts {
            let started = Instant::now();
            install_contract_libraries(&root).await?;
            eprintln!("contracts: compiling (forge build)");
            stream("forge", command("forge", &root, &["build"]), true).await?;
            println!(
                "contracts: built in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }

        let binary = performer(&root, &project).await?;
        if let Some(docker) = docker {
            image(&docker, &binary, &project).await?;
        }
        Ok(())
    }
}

/// Compiles the project's performer (release, statically linked) and returns the binary.
pub(crate) async fn performer(root: &Path, project: &ProjectFile) -> Result<PathBuf, String> {
    let started = Instant::now();
    let crate_name = &project.performer.crate_name;
    // Bring the lock file up to date with the workspace (the build itself is --locked).
    let resolve = command(
        "cargo",
        root,
        &["metadata", "--format-version", "1", "--quiet"],
    );
    stream("cargo", resolve, false).await?;
    eprintln!("performer: compiling {crate_name} (release, statically linked)");
    let target = root.join(PERFORMER_TARGET);
    let mut build = ponos_executor::docker::static_build_command(root, crate_name, &target);
    if std::io::stderr().is_terminal() {
        // cargo draws its own progress bar on the terminal.
        let status = build
            .status()
            .await
            .map_err(|e| format!("running cargo: {e}"))?;
        if !status.success() {
            return Err(format!("cargo build of {crate_name} failed ({status})"));
        }
    } else {
        stream("cargo", build, false).await?;
    }
    let binary =
        ponos_executor::docker::built_binary(&target, crate_name).map_err(|e| e.to_string())?;
    println!(
        "performer: {} (static) in {:.1} s",
        binary.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(binary)
}

/// Builds the performer's `FROM scratch` image around `binary`, under the project's tag.
pub(crate) async fn image(
    docker: &bollard::Docker,
    binary: &Path,
    project: &ProjectFile,
) -> Result<(), String> {
    let started = Instant::now();
    eprintln!("image: building {} (FROM scratch)", project.performer.image);
    ponos_executor::docker::build_image(docker, binary, &project.performer.image)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "image: {} (FROM scratch) in {:.1} s",
        project.performer.image,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
