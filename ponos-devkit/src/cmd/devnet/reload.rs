//! `ponos devnet reload` and `ponos devnet up --watch`: rebuild the performer and swap it in on
//! the running devnet, blue/green, without restarting chains or redeploying anything.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use clap::Args;
use notify::{EventKind, RecursiveMode, Watcher as _};
use ponos_devkit::{
    devnet::{Devnet, control, read_summary},
    project::{ProjectFile, load_project},
};
use tokio::{sync::mpsc, task::JoinHandle};
use tracing::{error, info};

use super::{StateArgs, process_alive};
use crate::cmd::build;

/// Rebuild the project's performer and swap it in on the running devnet.
///
/// Each executor starts the new build beside the old one, sends new tasks to it once it is
/// healthy and stops the old one after its tasks finish: chains, contracts, operators and the
/// aggregator keep running, and no task is dropped. When the new build fails to compile or to
/// start, the old one keeps serving. Contracts are not redeployed: restart the devnet for that.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  ponos devnet reload\n  ponos devnet reload --no-build     # swap in what is on disk as it is\n  ponos devnet up --watch --detach   # reload on every save instead"
)]
pub(crate) struct ReloadArgs {
    /// Swap in the performer on disk without building it first.
    #[arg(long)]
    no_build: bool,
    /// The project directory (ponos.toml is looked for here and above).
    #[arg(long, default_value = ".")]
    root: PathBuf,
    #[command(flatten)]
    state: StateArgs,
}

impl ReloadArgs {
    pub(crate) async fn run(self) -> eyre::Result<i32> {
        match self.reload().await {
            Ok(()) => Ok(0),
            Err(message) => {
                eprintln!("error: {message}");
                Ok(1)
            }
        }
    }

    async fn reload(self) -> Result<(), String> {
        let started = Instant::now();
        let dir = self.state.dir_for(&self.root);
        let summary = read_summary(&dir).map_err(|e| e.to_string())?;
        if !process_alive(summary.pid) {
            return Err(format!(
                "the devnet in {} is not running (its process {} is gone); start one with `ponos devnet up`",
                dir.display(),
                summary.pid
            ));
        }
        if summary.performer_runtime == "in-process" {
            return Err(
                "this devnet runs the built-in in-process performer: there is nothing to reload \
                 (start it with `--runtime process` or `--runtime docker`)"
                    .into(),
            );
        }
        if !self.no_build {
            let (root, project) = load_project(&self.root)
                .map_err(|e| format!("{e}; or pass --no-build to swap in the performer on disk"))?;
            rebuild(&root, &project, summary.performer_runtime == "docker").await?;
        }
        let reloaded = control::reload(&dir).await.map_err(|e| e.to_string())?;
        if self.state.json {
            let json = serde_json::to_string_pretty(&reloaded).map_err(|e| e.to_string())?;
            println!("{json}");
        }
        eprintln!(
            "devnet: performer generation {} serving on {} executors (swapped in {} ms, {:.1} s in all)",
            reloaded.generation,
            reloaded.executors,
            reloaded.swap_ms,
            started.elapsed().as_secs_f64()
        );
        Ok(())
    }
}

/// Compiles the performer and, for a devnet of containers, its image.
async fn rebuild(root: &Path, project: &ProjectFile, image: bool) -> Result<(), String> {
    let binary = build::performer(root, project).await?;
    if image {
        let docker = ponos_executor::docker::connect()
            .await
            .map_err(|e| format!("{e}; start Docker (`ponos doctor` shows how)"))?;
        build::image(&docker, &binary, project).await?;
    }
    Ok(())
}

/// The directory of the project's performer crate, from cargo's metadata.
fn performer_dir(root: &Path, project: &ProjectFile) -> Result<PathBuf, String> {
    let out = std::process::Command::new("cargo")
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(root)
        .output()
        .map_err(|e| format!("running cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("cargo metadata: {e}"))?;
    let crate_name = &project.performer.crate_name;
    metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == crate_name.as_str())
        .and_then(|p| p["manifest_path"].as_str())
        .and_then(|manifest| Path::new(manifest).parent().map(Path::to_path_buf))
        .ok_or_else(|| {
            format!(
                "the workspace in {} has no crate {crate_name}",
                root.display()
            )
        })
}

/// Watches the performer crate (and the workspace's `Cargo.toml`) from before the devnet
/// starts, so that no save is missed; once the devnet runs, [`run`](Self::run) rebuilds and
/// swaps in after each burst of changes.
pub(crate) struct Watch {
    watcher: notify::RecommendedWatcher,
    events: mpsc::UnboundedReceiver<notify::Result<notify::Event>>,
    root: PathBuf,
    crate_dir: PathBuf,
    project: ProjectFile,
}

impl Watch {
    pub(crate) fn start(root: PathBuf, project: ProjectFile) -> Result<Self, String> {
        let crate_dir = performer_dir(&root, &project)?;
        let (tx, events) = mpsc::unbounded_channel();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                let _ = tx.send(event);
            })
            .map_err(|e| format!("watching files: {e}"))?;
        watcher
            .watch(&crate_dir, RecursiveMode::Recursive)
            .map_err(|e| format!("watching {}: {e}", crate_dir.display()))?;
        watcher
            .watch(&root, RecursiveMode::NonRecursive)
            .map_err(|e| format!("watching {}: {e}", root.display()))?;
        Ok(Self {
            watcher,
            events,
            root,
            crate_dir,
            project,
        })
    }

    /// Rebuilds and swaps in on `devnet` after each burst of changes (the image too when
    /// `image`). A build that fails leaves the running performer serving and says why.
    pub(crate) fn run(self, devnet: Arc<Devnet>, image: bool) -> JoinHandle<()> {
        let Self {
            watcher,
            events: mut rx,
            root,
            crate_dir,
            project,
        } = self;
        let manifest = root.join("Cargo.toml");
        let relevant = move |event: &notify::Event| {
            matches!(
                event.kind,
                EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_)
            ) && event.paths.iter().any(|path| {
                path == &manifest
                    || (path.starts_with(&crate_dir) && !path.starts_with(crate_dir.join("target")))
            })
        };
        eprintln!(
            "devnet: watching {} and Cargo.toml; each save rebuilds the performer and swaps it in",
            project.performer.crate_name
        );
        tokio::spawn(async move {
            // Dropping the watcher stops the events.
            let _watcher = watcher;
            loop {
                let changed = match rx.recv().await {
                    None => return,
                    Some(Ok(event)) if relevant(&event) => event.paths[0].clone(),
                    Some(_) => continue,
                };
                // Editors write a file in several steps: build once the burst has settled.
                loop {
                    match tokio::time::timeout(Duration::from_millis(150), rx.recv()).await {
                        Ok(Some(_)) => continue,
                        Ok(None) => return,
                        Err(_) => break,
                    }
                }
                let started = Instant::now();
                let file = changed.strip_prefix(&root).unwrap_or(&changed).display();
                eprintln!("devnet: {file} changed; rebuilding the performer");
                info!(target: "ponos::devnet", %file, "rebuilding the performer");
                if let Err(why) = rebuild(&root, &project, image).await {
                    eprintln!(
                        "devnet: the build failed; the running performer keeps serving\n{why}"
                    );
                    error!(target: "ponos::devnet", %why, "performer build failed");
                    continue;
                }
                match devnet.reload().await {
                    Ok(reloaded) => eprintln!(
                        "devnet: performer generation {} serving on {} executors ({:.1} s after the change)",
                        reloaded.generation,
                        reloaded.executors,
                        started.elapsed().as_secs_f64()
                    ),
                    Err(why) => {
                        eprintln!(
                            "devnet: the new build did not start; the running performer keeps serving: {why}"
                        );
                        error!(target: "ponos::devnet", %why, "performer reload failed");
                    }
                }
            }
        })
    }
}
