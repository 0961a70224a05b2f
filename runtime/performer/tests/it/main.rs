//! The performer server over real gRPC on loopback.

use std::{sync::Arc, time::Duration};

use ponos_performer::{Performer, PerformerError, Task, serve_with_shutdown};
use ponos_proto::{
    health::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    },
    performer::{TaskRequest, performer_service_client::PerformerServiceClient},
};
use tokio::{
    net::TcpListener,
    sync::{Notify, oneshot},
};
use tonic::{Code, transport::Channel};

/// Echoes the payload; "bad" is invalid, "fail" fails, "slow" says it started, then takes a
/// moment.
#[derive(Default)]
struct Test {
    started: Arc<Notify>,
}

impl Performer for Test {
    fn validate_task(&self, task: &Task) -> Result<(), PerformerError> {
        if task.payload == b"bad" {
            return Err(PerformerError::InvalidTask("bad payload".into()));
        }
        Ok(())
    }

    async fn handle_task(&self, task: Task) -> Result<Vec<u8>, PerformerError> {
        match task.payload.as_slice() {
            b"fail" => Err(PerformerError::Failed("it broke".into())),
            b"slow" => {
                self.started.notify_one();
                tokio::time::sleep(Duration::from_millis(300)).await;
                Ok(b"done".to_vec())
            }
            _ => Ok([task.task_id.as_bytes(), b":", &task.payload].concat()),
        }
    }
}

struct Running {
    channel: Channel,
    started: Arc<Notify>,
    stop: Option<oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<Result<(), ponos_performer::ServeError>>,
}

async fn start() -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let performer = Test::default();
    let started = performer.started.clone();
    let server = tokio::spawn(serve_with_shutdown(listener, performer, async {
        let _ = stopped.await;
    }));
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    Running {
        channel,
        started,
        stop: Some(stop),
        server,
    }
}

fn request(task_id: &str, payload: &str) -> TaskRequest {
    TaskRequest {
        task_id: task_id.as_bytes().to_vec(),
        payload: payload.as_bytes().to_vec(),
    }
}

#[tokio::test]
async fn executes_tasks_and_echoes_the_task_id() {
    let running = start().await;
    let mut client = PerformerServiceClient::new(running.channel.clone());
    let response = client
        .execute_task(request("0xabc", "hello"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.task_id, b"0xabc");
    assert_eq!(response.result, b"0xabc:hello");
}

#[tokio::test]
async fn invalid_and_failed_tasks_map_to_grpc_codes() {
    let running = start().await;
    let mut client = PerformerServiceClient::new(running.channel.clone());
    let invalid = client
        .execute_task(request("0x1", "bad"))
        .await
        .unwrap_err();
    assert_eq!(invalid.code(), Code::InvalidArgument);
    assert!(invalid.message().contains("bad payload"));
    let failed = client
        .execute_task(request("0x1", "fail"))
        .await
        .unwrap_err();
    assert_eq!(failed.code(), Code::Internal);
    let not_utf8 = client
        .execute_task(TaskRequest {
            task_id: vec![0xff, 0xfe],
            payload: vec![],
        })
        .await
        .unwrap_err();
    assert_eq!(not_utf8.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn health_is_serving_and_names_unknown_services() {
    let running = start().await;
    let mut health = HealthClient::new(running.channel.clone());
    for service in ["", "eigenlayer.hourglass.v1.performer.PerformerService"] {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        assert_eq!(status, ServingStatus::Serving as i32);
    }
    let unknown = health
        .check(HealthCheckRequest {
            service: "nope".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
}

#[tokio::test]
async fn shutdown_finishes_tasks_in_flight() {
    let mut running = start().await;
    let mut client = PerformerServiceClient::new(running.channel.clone());
    let in_flight = tokio::spawn(async move { client.execute_task(request("0x2", "slow")).await });
    running.started.notified().await;
    running.stop.take().unwrap().send(()).unwrap();
    let response = in_flight.await.unwrap().unwrap().into_inner();
    assert_eq!(response.result, b"done");
    running.server.await.unwrap().unwrap();
}
