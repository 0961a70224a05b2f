//! The performer runtimes with real Docker, real processes and real gRPC on loopback.

mod docker;
mod management;
mod onchain;
mod oneoff;
mod process;
mod service;
mod supervisor;

use std::path::{Path, PathBuf};

use tokio::sync::OnceCell;

/// A workspace performer, built as a static binary into `target/performer`.
async fn build(package: &str) -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    ponos_executor::docker::build_static_binary(
        &workspace,
        package,
        &workspace.join("target/performer"),
    )
    .await
    .unwrap_or_else(|e| panic!("{package} builds: {e}"))
}

/// The image `tag` around `binary`, built once per `cell`.
async fn image(cell: &'static OnceCell<()>, binary: &Path, tag: &str) -> bollard::Docker {
    let docker = ponos_executor::docker::connect()
        .await
        .expect("a Docker daemon answers (run script/setup)");
    cell.get_or_init(|| async {
        ponos_executor::docker::build_image(&docker, binary, tag)
            .await
            .expect("image builds");
    })
    .await;
    docker
}

/// The example performer, built once per test run.
async fn square_binary() -> &'static Path {
    static BINARY: OnceCell<PathBuf> = OnceCell::const_new();
    BINARY.get_or_init(|| build("square-performer")).await
}

/// The test performer (sleeps, allocates, crashes on request), built once per test run.
async fn test_performer_binary() -> &'static Path {
    static BINARY: OnceCell<PathBuf> = OnceCell::const_new();
    BINARY
        .get_or_init(|| build("executor-test-performer"))
        .await
}

const TEST_IMAGE: &str = "ponos-test/test-performer:latest";

const FIXED_PORT_IMAGE: &str = "ponos-test/fixed-port-performer:latest";

/// The image of a performer shaped like Hourglass's (listens on `0.0.0.0:8080` whatever the
/// environment says; built with the test performer's package), built once.
async fn fixed_port_image() -> bollard::Docker {
    static BUILT: OnceCell<()> = OnceCell::const_new();
    let binary = test_performer_binary()
        .await
        .with_file_name("fixed-port-performer");
    image(&BUILT, &binary, FIXED_PORT_IMAGE).await
}

/// The test performer's image, built once.
async fn test_performer_image() -> bollard::Docker {
    static BUILT: OnceCell<()> = OnceCell::const_new();
    image(&BUILT, test_performer_binary().await, TEST_IMAGE).await
}
