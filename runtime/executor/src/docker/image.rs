//! Performer images from Rust crates: a statically linked release binary in a `FROM scratch`
//! image, built through Docker's build API (no docker CLI, no base image to pull).

use std::{
    path::{Path, PathBuf},
    process::Stdio,
};

use bollard::{Docker, body_full, query_parameters::BuildImageOptionsBuilder};
use tokio::process::Command;
use tokio_stream::StreamExt as _;
use tracing::{debug, info};

use crate::ExecutorError;

/// The target performer binaries are built for: the gnu target with a static C runtime.
const TARGET: &str = "x86_64-unknown-linux-gnu";

/// The cargo command that builds `package` of the Cargo workspace at `workspace` as a
/// statically linked release binary into `target_dir`, landing at
/// [`static_binary_path`]`(target_dir, package)`. Its output is the caller's to route (a
/// terminal shows cargo's own progress).
pub fn static_build_command(workspace: &Path, package: &str, target_dir: &Path) -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command
        .current_dir(workspace)
        .args([
            "build",
            "--release",
            "--locked",
            "--target",
            TARGET,
            "-p",
            package,
        ])
        .arg("--target-dir")
        .arg(target_dir)
        .env("RUSTFLAGS", "-C target-feature=+crt-static");
    command
}

/// Builds `package` of the Cargo workspace at `workspace` as a statically linked release binary
/// (into `target_dir`) and returns its path; cargo's output is kept for the error only.
///
/// The binary lands at [`static_binary_path`]`(target_dir, package)`.
pub async fn build_static_binary(
    workspace: &Path,
    package: &str,
    target_dir: &Path,
) -> Result<PathBuf, ExecutorError> {
    info!(target: "ponos::executor", package, "building a static performer binary");
    let output = static_build_command(workspace, package, target_dir)
        .stdout(Stdio::null())
        .output()
        .await
        .map_err(|e| ExecutorError::Build(format!("running cargo: {e}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<_> = stderr.lines().rev().take(20).collect();
        return Err(ExecutorError::Build(format!(
            "cargo build of {package} failed:\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        )));
    }
    built_binary(target_dir, package)
}

/// The binary a static build of `package` produced, or why there is none.
pub fn built_binary(target_dir: &Path, package: &str) -> Result<PathBuf, ExecutorError> {
    let binary = static_binary_path(target_dir, package);
    if !binary.is_file() {
        return Err(ExecutorError::Build(format!(
            "{} was not produced (is {package} a binary?)",
            binary.display()
        )));
    }
    Ok(binary)
}

/// Builds the image `tag` holding `binary` as its entrypoint, `FROM scratch`.
pub async fn build_image(docker: &Docker, binary: &Path, tag: &str) -> Result<(), ExecutorError> {
    let context = image_context(binary)?;
    let options = BuildImageOptionsBuilder::default()
        .dockerfile("Dockerfile")
        .t(tag)
        .rm(true)
        .build();
    let mut progress = docker.build_image(options, None, Some(body_full(context.into())));
    while let Some(step) = progress.next().await {
        let step = step.map_err(|source| ExecutorError::Docker {
            context: format!("building image {tag}"),
            source,
        })?;
        if let Some(detail) = step.error_detail {
            return Err(ExecutorError::Build(
                detail
                    .message
                    .unwrap_or_else(|| "image build failed".into()),
            ));
        }
        if let Some(line) = step
            .stream
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            debug!(target: "ponos::executor", tag, "{line}");
        }
    }
    info!(target: "ponos::executor", tag, "performer image built");
    Ok(())
}

/// The build context: the Dockerfile and the binary, as a tar archive.
fn image_context(binary: &Path) -> Result<Vec<u8>, ExecutorError> {
    let dockerfile = b"FROM scratch\nCOPY performer /performer\nENTRYPOINT [\"/performer\"]\n";
    let contents = std::fs::read(binary)
        .map_err(|e| ExecutorError::Build(format!("reading {}: {e}", binary.display())))?;
    let mut archive = tar::Builder::new(Vec::new());
    for (name, data, mode) in [
        ("Dockerfile", &dockerfile[..], 0o644),
        ("performer", &contents[..], 0o755),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(mode);
        header.set_cksum();
        archive
            .append_data(&mut header, name, data)
            .map_err(|e| ExecutorError::Build(format!("packing the build context: {e}")))?;
    }
    archive
        .into_inner()
        .map_err(|e| ExecutorError::Build(format!("packing the build context: {e}")))
}

/// Where [`build_static_binary`] puts `package`'s binary.
pub fn static_binary_path(target_dir: &Path, package: &str) -> PathBuf {
    target_dir.join(TARGET).join("release").join(package)
}
