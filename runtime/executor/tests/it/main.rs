//! The performer runtimes with real Docker, real processes and real gRPC on loopback.

mod docker;
mod management;
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
