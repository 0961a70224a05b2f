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

/// The example performer, built once per test run as a static binary.
async fn square_binary() -> &'static Path {
    static BINARY: OnceCell<PathBuf> = OnceCell::const_new();
    BINARY
        .get_or_init(|| async {
            let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
            let target = workspace.join("target/performer");
            ponos_executor::docker::build_static_binary(&workspace, "square-performer", &target)
                .await
                .expect("the example performer builds")
        })
        .await
}

/// The test performer (sleeps, allocates, crashes on request), built once as a static binary.
async fn test_performer_binary() -> &'static Path {
    static BINARY: OnceCell<PathBuf> = OnceCell::const_new();
    BINARY
        .get_or_init(|| async {
            let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
            let target = workspace.join("target/performer");
            ponos_executor::docker::build_static_binary(
                &workspace,
                "executor-test-performer",
                &target,
            )
            .await
            .expect("the test performer builds")
        })
        .await
}

const TEST_IMAGE: &str = "ponos-test/test-performer:latest";

/// The test performer's image, built once.
async fn test_performer_image() -> bollard::Docker {
    let docker = ponos_executor::docker::connect()
        .await
        .expect("a Docker daemon answers (run script/setup)");
    static BUILT: OnceCell<()> = OnceCell::const_new();
    BUILT
        .get_or_init(|| async {
            let binary = test_performer_binary().await;
            ponos_executor::docker::build_image(&docker, binary, TEST_IMAGE)
                .await
                .expect("image builds");
        })
        .await;
    docker
}
