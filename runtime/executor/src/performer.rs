//! Talking to a running performer over gRPC: health and tasks, each bounded by a deadline.

use std::time::{Duration, Instant};

use ponos_proto::{
    health::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    },
    performer::{TaskRequest, performer_service_client::PerformerServiceClient},
};
use tonic::{Code, transport::Channel};

use crate::ExecutorError;

/// A connection to one performer on a loopback port.
#[derive(Debug, Clone)]
pub struct PerformerClient {
    port: u16,
    tasks: PerformerServiceClient<Channel>,
    health: HealthClient<Channel>,
}

impl PerformerClient {
    /// Connects to the performer on `127.0.0.1:port` and waits until its health check says
    /// `SERVING`, for at most `wait`.
    pub async fn connect(port: u16, wait: Duration) -> Result<Self, ExecutorError> {
        let channel = Channel::from_shared(format!("http://127.0.0.1:{port}"))
            .map_err(|e| ExecutorError::Unreachable {
                port,
                reason: e.to_string(),
            })?
            .connect_lazy();
        let mut client = Self {
            port,
            tasks: PerformerServiceClient::new(channel.clone()),
            health: HealthClient::new(channel),
        };
        client.wait_healthy(wait).await?;
        Ok(client)
    }

    /// The performer's port.
    pub const fn port(&self) -> u16 {
        self.port
    }

    /// One health check, bounded by `timeout`.
    pub async fn check(&mut self, timeout: Duration) -> Result<(), String> {
        let request = HealthCheckRequest {
            service: String::new(),
        };
        match tokio::time::timeout(timeout, self.health.check(request)).await {
            Ok(Ok(response)) if response.get_ref().status == ServingStatus::Serving as i32 => {
                Ok(())
            }
            Ok(Ok(response)) => Err(format!("health status {}", response.get_ref().status)),
            Ok(Err(status)) => Err(status.message().to_string()),
            Err(_) => Err(format!("no health answer within {timeout:?}")),
        }
    }

    /// Polls the health check until `SERVING` or `wait` runs out.
    pub async fn wait_healthy(&mut self, wait: Duration) -> Result<(), ExecutorError> {
        use backon::BackoffBuilder as _;
        let start = Instant::now();
        let mut pauses = backon::ExponentialBuilder::new()
            .with_min_delay(Duration::from_millis(20))
            .with_max_delay(Duration::from_millis(500))
            .without_max_times()
            .build();
        loop {
            let last_error = match self.check(Duration::from_secs(1)).await {
                Ok(()) => return Ok(()),
                Err(error) => error,
            };
            if start.elapsed() >= wait {
                return Err(ExecutorError::Unhealthy {
                    port: self.port,
                    waited: wait,
                    last_error,
                });
            }
            let pause = pauses.next().unwrap_or(Duration::from_millis(500));
            tokio::time::sleep(pause.min(wait.saturating_sub(start.elapsed()))).await;
        }
    }

    /// Runs one task, cancelled when `deadline` passes; returns the performer's result.
    pub async fn execute(
        &mut self,
        task_id: &str,
        payload: Vec<u8>,
        deadline: Duration,
    ) -> Result<Vec<u8>, ExecutorError> {
        let request = TaskRequest {
            task_id: task_id.as_bytes().to_vec(),
            payload,
        };
        let response = match tokio::time::timeout(deadline, self.tasks.execute_task(request)).await
        {
            Err(_) => return Err(ExecutorError::DeadlineExceeded(deadline)),
            Ok(Err(status)) => {
                let code = match status.code() {
                    Code::InvalidArgument | Code::FailedPrecondition => "refused the task",
                    Code::Unavailable => {
                        return Err(ExecutorError::Unreachable {
                            port: self.port,
                            reason: status.message().to_string(),
                        });
                    }
                    _ => "failed",
                };
                return Err(ExecutorError::Task {
                    code,
                    message: status.message().to_string(),
                });
            }
            Ok(Ok(response)) => response.into_inner(),
        };
        if response.task_id != task_id.as_bytes() {
            return Err(ExecutorError::WrongTaskId {
                expected: task_id.into(),
                got: String::from_utf8_lossy(&response.task_id).into_owned(),
            });
        }
        Ok(response.result)
    }
}

/// A free loopback port: bound, read, released. Another process could take it in between;
/// the performer then fails to bind and the health wait reports it.
pub fn free_port() -> Result<u16, ExecutorError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(ExecutorError::NoPort)?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(ExecutorError::NoPort)
}
