//! One-off performers and memory limits, on real Docker.

use std::time::Duration;

use ponos_executor::{
    ExecutorError,
    docker::{ContainerSpec, LABEL},
    supervisor::{Launch, run_one_off},
};

use crate::test_performer_image;

async fn containers_of(docker: &bollard::Docker, performer_id: &str) -> usize {
    use bollard::query_parameters::ListContainersOptionsBuilder;
    let filters =
        std::collections::HashMap::from([("label", vec![format!("{LABEL}.id={performer_id}")])]);
    let options = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&filters)
        .build();
    docker.list_containers(Some(options)).await.unwrap().len()
}

#[tokio::test(flavor = "multi_thread")]
async fn one_off_runs_one_task_per_container_and_removes_it() {
    let docker = test_performer_image().await;
    let spec = ContainerSpec {
        performer_id: "one-off-test".into(),
        ..ContainerSpec::new(crate::TEST_IMAGE)
    };
    let launch = Launch::Docker {
        docker: docker.clone(),
        spec: Box::new(spec),
    };
    for i in 0..2 {
        let payload = format!("job {i}").into_bytes();
        let result = run_one_off(
            &launch,
            Duration::from_secs(30),
            "0x01",
            payload.clone(),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
        assert_eq!(result, payload);
        assert_eq!(
            containers_of(&docker, "one-off-test").await,
            0,
            "removed after its task"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_off_runs_one_task_per_process_and_stops_it() {
    let launch = Launch::Process {
        binary: crate::test_performer_binary().await.to_path_buf(),
        env: Vec::new(),
    };
    let binary = crate::test_performer_binary().await;
    for i in 0..2 {
        let payload = format!("job {i}").into_bytes();
        let result = run_one_off(
            &launch,
            Duration::from_secs(30),
            "0x01",
            payload.clone(),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
        assert_eq!(result, payload);
        assert_eq!(processes_of(binary), 0, "stopped after its task");
    }
    // A process that crashes on its task is reported, and the next one-off run still works.
    let error = run_one_off(
        &launch,
        Duration::from_secs(30),
        "0x02",
        b"crash".to_vec(),
        Duration::from_secs(10),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&error, ExecutorError::Process { reason, .. }
            if reason == "exited during task 0x02 (exit status: 3)"),
        "{error}"
    );
    let result = run_one_off(
        &launch,
        Duration::from_secs(30),
        "0x03",
        b"after".to_vec(),
        Duration::from_secs(10),
    )
    .await
    .unwrap();
    assert_eq!(result, b"after");
    assert_eq!(processes_of(binary), 0);
}

/// Live processes running `binary` (zombies excluded: they are already gone).
fn processes_of(binary: &std::path::Path) -> usize {
    let binary = binary.canonicalize().unwrap();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter(|entry| {
            let path = entry.path();
            std::fs::read_link(path.join("exe")).is_ok_and(|exe| exe == binary)
                && !std::fs::read_to_string(path.join("stat")).is_ok_and(|stat| {
                    stat.rsplit(')')
                        .next()
                        .is_some_and(|s| s.trim_start().starts_with('Z'))
                })
        })
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn exceeding_the_memory_limit_is_reported_as_out_of_memory() {
    let docker = test_performer_image().await;
    let spec = ContainerSpec {
        performer_id: "oom-test".into(),
        memory_bytes: Some(32 << 20),
        ..ContainerSpec::new(crate::TEST_IMAGE)
    };
    let launch = Launch::Docker {
        docker: docker.clone(),
        spec: Box::new(spec),
    };
    let error = run_one_off(
        &launch,
        Duration::from_secs(30),
        "0x02",
        b"alloc:256".to_vec(),
        Duration::from_secs(20),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(error, ExecutorError::OutOfMemory { limit_bytes } if limit_bytes == 32 << 20),
        "{error}"
    );
    assert_eq!(containers_of(&docker, "oom-test").await, 0);
    // The executor is still here and runs the next task.
    let fine = run_one_off(
        &launch,
        Duration::from_secs(30),
        "0x03",
        b"alloc:4".to_vec(),
        Duration::from_secs(20),
    )
    .await
    .unwrap();
    assert_eq!(fine, (4u64 << 20).to_string().into_bytes());
}
