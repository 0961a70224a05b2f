//! Performer containers on a real Docker daemon.

use std::time::Duration;

use ponos_executor::{
    ExecutorError,
    docker::{self, ContainerSpec},
    performer::PerformerClient,
};

use crate::square_binary;

pub(crate) const IMAGE: &str = "ponos-test/square-performer:latest";

pub(crate) async fn image() -> bollard::Docker {
    let docker = docker::connect()
        .await
        .expect("a Docker daemon answers (run script/setup)");
    static BUILT: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    BUILT
        .get_or_init(|| async {
            docker::build_image(&docker, square_binary().await, IMAGE)
                .await
                .expect("image builds");
        })
        .await;
    docker
}

#[tokio::test(flavor = "multi_thread")]
async fn built_image_serves_tasks_over_host_networking() {
    let docker = image().await;
    let container = docker::start(&docker, ContainerSpec::new(IMAGE))
        .await
        .unwrap();
    let mut client = PerformerClient::connect(container.port(), Duration::from_secs(30))
        .await
        .unwrap();

    let result = client
        .execute("0xabc", b"12".to_vec(), Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(result, b"144");
    let refused = client
        .execute("0xabc", b"twelve".to_vec(), Duration::from_secs(10))
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            ExecutorError::Task {
                code: "refused the task",
                ..
            }
        ),
        "{refused}"
    );

    assert_eq!(container.state(&docker).await.unwrap(), (true, false));
    container.kill(&docker).await.unwrap();
    let (running, _) = container.state(&docker).await.unwrap();
    assert!(!running, "killed");
    assert!(
        client.check(Duration::from_secs(1)).await.is_err(),
        "no health answer once killed"
    );
    container.remove(&docker).await.unwrap();
}
