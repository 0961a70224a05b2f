//! Supervised performers: restarts after a crash, blue/green upgrades, deadlines.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use ponos_executor::{
    ExecutorError,
    docker::ContainerSpec,
    in_process::InProcessPerformer,
    performer::PerformerClient,
    supervisor::{Launch, Supervisor, SupervisorConfig},
};
use ponos_performer::{Performer, PerformerError, Task};

use crate::{docker::image, square_binary};

fn fast() -> SupervisorConfig {
    SupervisorConfig {
        health_interval: Duration::from_millis(200),
        start_timeout: Duration::from_secs(30),
        failure_threshold: 2,
        backoff_initial: Duration::from_millis(200),
        backoff_max: Duration::from_secs(2),
    }
}

async fn restarted(supervisor: &Supervisor, generation: u64) {
    let mut status = supervisor.status();
    tokio::time::timeout(
        Duration::from_secs(60),
        status.wait_for(|s| s.generation >= generation),
    )
    .await
    .expect("restarted within a minute")
    .unwrap();
}

async fn crash_then_serve(launch: Launch) {
    let supervisor = Supervisor::start(launch, fast()).await.unwrap();
    assert_eq!(
        supervisor
            .execute("0x01", b"3".to_vec(), Duration::from_secs(10))
            .await
            .unwrap(),
        b"9"
    );
    supervisor.kill().await.unwrap();
    restarted(&supervisor, 2).await;
    assert_eq!(supervisor.status().borrow().restarts, 1);
    let result = supervisor
        .execute("0x02", b"4".to_vec(), Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(
        result, b"16",
        "the next task succeeds on the restarted performer"
    );
    supervisor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_container_is_restarted() {
    let docker = image().await;
    let launch = Launch::Docker {
        docker,
        spec: Box::new(ContainerSpec::new(crate::docker::IMAGE)),
    };
    crash_then_serve(launch).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_process_is_restarted() {
    let launch = Launch::Process {
        binary: square_binary().await.to_path_buf(),
        env: Vec::new(),
    };
    crash_then_serve(launch).await;
}

async fn upgrade_under_load(launch: Launch) {
    let supervisor = Supervisor::start(launch.clone(), fast()).await.unwrap();
    let old_port = supervisor.port().await;

    let stop = Arc::new(AtomicBool::new(false));
    let mut streams = Vec::new();
    for worker in 0..4u64 {
        let (supervisor, stop) = (supervisor.clone(), stop.clone());
        streams.push(tokio::spawn(async move {
            let mut done = 0u64;
            while !stop.load(Ordering::SeqCst) {
                let n = worker * 1000 + done;
                let result = supervisor
                    .execute("0x03", n.to_string().into_bytes(), Duration::from_secs(10))
                    .await;
                assert_eq!(
                    result.expect("no task lost"),
                    (u128::from(n) * u128::from(n)).to_string().into_bytes()
                );
                done += 1;
            }
            done
        }));
    }
    supervisor.upgrade(launch).await.unwrap();
    assert_ne!(supervisor.port().await, old_port, "a new instance serves");
    stop.store(true, Ordering::SeqCst);
    let mut total = 0;
    for stream in streams {
        total += stream.await.unwrap();
    }
    assert!(total > 0);
    assert_eq!(supervisor.status().borrow().generation, 2);
    supervisor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn blue_green_upgrade_of_a_container_under_a_stream_of_tasks_loses_none() {
    let docker = image().await;
    upgrade_under_load(Launch::Docker {
        docker,
        spec: Box::new(ContainerSpec::new(crate::docker::IMAGE)),
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn blue_green_upgrade_of_a_process_under_a_stream_of_tasks_loses_none() {
    upgrade_under_load(Launch::Process {
        binary: square_binary().await.to_path_buf(),
        env: Vec::new(),
    })
    .await;
}

/// Sleeps as long as the payload says (milliseconds), noting whether it finished.
#[derive(Clone, Default)]
struct Sleeper {
    finished: Arc<AtomicBool>,
}

impl Performer for Sleeper {
    async fn handle_task(&self, task: Task) -> Result<Vec<u8>, PerformerError> {
        let millis: u64 = String::from_utf8_lossy(&task.payload)
            .parse()
            .map_err(|_| PerformerError::InvalidTask("milliseconds expected".into()))?;
        tokio::time::sleep(Duration::from_millis(millis)).await;
        self.finished.store(true, Ordering::SeqCst);
        Ok(b"slept".to_vec())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn long_tasks_finish_within_their_deadline_and_late_ones_are_cancelled() {
    let sleeper = Sleeper::default();
    let finished = sleeper.finished.clone();
    let performer = InProcessPerformer::start(sleeper).await.unwrap();
    let mut client = PerformerClient::connect(performer.port(), Duration::from_secs(10))
        .await
        .unwrap();

    // 15 s of work under a 30 s deadline: no per-call cap cuts it short.
    let result = client
        .execute("0x04", b"15000".to_vec(), Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(result, b"slept");

    finished.store(false, Ordering::SeqCst);
    let late = client
        .execute("0x05", b"3000".to_vec(), Duration::from_millis(500))
        .await
        .unwrap_err();
    assert!(matches!(late, ExecutorError::DeadlineExceeded(_)), "{late}");
    assert!(late.to_string().contains("cancelled"));
    // The performer's work was dropped with the request: it never finishes.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert!(
        !finished.load(Ordering::SeqCst),
        "the late task was cancelled, not left running"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restarted_executor_adopts_the_running_container() {
    let docker = image().await;
    let spec = ContainerSpec {
        performer_id: "adopt-test".into(),
        ..ContainerSpec::new(crate::docker::IMAGE)
    };
    let launch = Launch::Docker {
        docker,
        spec: Box::new(spec),
    };

    let first = Supervisor::start(launch.clone(), fast()).await.unwrap();
    let port = first.port().await;
    // The executor goes away without stopping its performer, as in a crash or an upgrade.
    drop(first);

    let second = Supervisor::start(launch, fast()).await.unwrap();
    assert_eq!(second.port().await, port, "the same container serves");
    assert_eq!(
        second
            .execute("0x06", b"5".to_vec(), Duration::from_secs(10))
            .await
            .unwrap(),
        b"25"
    );
    second.shutdown().await;
}
