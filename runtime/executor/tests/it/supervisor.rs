//! Supervised performers: restarts after a crash, blue/green upgrades, deadlines.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
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

/// One answer of the stream: the generation seen before the call, the answer, and the
/// generation seen after it.
type Answered = (u64, String, u64);

/// Four workers send tasks back to back (each takes 100 ms) while the performer is upgraded from
/// the `blue` instance to the `green` one (`launch` for a tag; the tag prefixes each answer).
async fn upgrade_under_load(launch: impl Fn(&str) -> Launch) {
    let supervisor = Supervisor::start(launch("blue"), fast()).await.unwrap();
    let old_port = supervisor.port().await;

    let stop = Arc::new(AtomicBool::new(false));
    // Answers so far, from each instance.
    let (blue, green) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut streams = Vec::new();
    for worker in 0..4u64 {
        let (supervisor, stop) = (supervisor.clone(), stop.clone());
        let (blue, green) = (blue.clone(), green.clone());
        streams.push(tokio::spawn(async move {
            let mut answered: Vec<Answered> = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let payload = format!("{worker}-{}", answered.len());
                let before = supervisor.status().borrow().generation;
                let result = supervisor
                    .execute(
                        "0x03",
                        payload.clone().into_bytes(),
                        Duration::from_secs(10),
                    )
                    .await
                    .expect("no task lost");
                let after = supervisor.status().borrow().generation;
                let text = String::from_utf8(result).unwrap();
                let (tag, echoed) = text.split_once(':').expect("a tagged answer");
                assert_eq!(echoed, payload, "each task gets its own answer");
                match tag {
                    "blue" => &blue,
                    _ => &green,
                }
                .fetch_add(1, Ordering::SeqCst);
                answered.push((before, tag.to_string(), after));
            }
            answered
        }));
    }
    // Some tasks on the old instance first.
    let mut status = supervisor.status();
    until_counted(&blue, 4).await;
    supervisor.upgrade(launch("green")).await.unwrap();
    assert_ne!(supervisor.port().await, old_port, "a new instance serves");
    assert_eq!(status.borrow_and_update().generation, 2);
    // Some tasks on the new one.
    until_counted(&green, 4).await;
    stop.store(true, Ordering::SeqCst);
    let mut answers = Vec::new();
    for stream in streams {
        answers.extend(stream.await.unwrap());
    }
    let count = |wanted: &dyn Fn(&Answered) -> bool| answers.iter().filter(|a| wanted(a)).count();
    let straddled = count(&|(before, tag, after)| *before == 1 && tag == "blue" && *after == 2);
    assert!(
        straddled > 0,
        "a task sent to the old instance was answered after the switch: {answers:?}"
    );
    assert!(count(&|(_, tag, _)| tag == "green") > 0, "{answers:?}");
    assert_eq!(
        count(&|(before, tag, _)| *before == 2 && tag == "blue"),
        0,
        "nothing is sent to the old instance after the switch: {answers:?}"
    );
    supervisor.shutdown().await;
}

/// Waits until `counter` reaches `n` (a minute at most).
async fn until_counted(counter: &AtomicU64, n: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while counter.load(Ordering::SeqCst) < n {
        assert!(
            std::time::Instant::now() < deadline,
            "fewer than {n} answers"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The test performer answering `<tag>:<payload>` after 100 ms.
fn tagged(tag: &str) -> Vec<(String, String)> {
    vec![
        ("TEST_PERFORMER_TAG".into(), tag.into()),
        ("TEST_PERFORMER_DELAY_MS".into(), "100".into()),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn blue_green_upgrade_of_a_container_under_a_stream_of_tasks_loses_none() {
    let docker = crate::test_performer_image().await;
    upgrade_under_load(|tag| Launch::Docker {
        docker: docker.clone(),
        spec: Box::new(ContainerSpec {
            env: tagged(tag),
            ..ContainerSpec::new(crate::TEST_IMAGE)
        }),
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn blue_green_upgrade_of_a_process_under_a_stream_of_tasks_loses_none() {
    let binary = crate::test_performer_binary().await.to_path_buf();
    upgrade_under_load(|tag| Launch::Process {
        binary: binary.clone(),
        env: tagged(tag),
    })
    .await;
}

/// Sleeps as long as the payload says (milliseconds), noting whether it finished and whether
/// its work was dropped before it did.
#[derive(Clone, Default)]
struct Sleeper {
    finished: Arc<AtomicBool>,
    dropped: Arc<AtomicBool>,
}

/// Notes, when dropped unfinished, that the work was dropped.
struct DroppedUnfinished(Option<Arc<AtomicBool>>);

impl Drop for DroppedUnfinished {
    fn drop(&mut self) {
        if let Some(dropped) = self.0.take() {
            dropped.store(true, Ordering::SeqCst);
        }
    }
}

impl Performer for Sleeper {
    async fn handle_task(&self, task: Task) -> Result<Vec<u8>, PerformerError> {
        let millis: u64 = String::from_utf8_lossy(&task.payload)
            .parse()
            .map_err(|_| PerformerError::InvalidTask("milliseconds expected".into()))?;
        let mut guard = DroppedUnfinished(Some(self.dropped.clone()));
        tokio::time::sleep(Duration::from_millis(millis)).await;
        guard.0 = None;
        self.finished.store(true, Ordering::SeqCst);
        Ok(b"slept".to_vec())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn long_tasks_finish_within_their_deadline_and_late_ones_are_cancelled() {
    let sleeper = Sleeper::default();
    let (finished, dropped) = (sleeper.finished.clone(), sleeper.dropped.clone());
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
    // The performer's work is dropped with the request, long before its 3 s are up.
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while !dropped.load(Ordering::SeqCst) {
        assert!(
            std::time::Instant::now() < deadline,
            "the late task was left running"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!finished.load(Ordering::SeqCst));
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
