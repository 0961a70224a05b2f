//! The gRPC server around a [`Performer`].

use std::{future::Future, net::SocketAddr, sync::Arc};

use ponos_proto::{
    health::{health_check_response::ServingStatus, health_server::HealthServer},
    performer::{
        StartSyncRequest, StartSyncResponse, TaskRequest, TaskResponse,
        performer_service_server::{PerformerService, PerformerServiceServer},
    },
};
use tokio::{net::TcpListener, sync::watch};
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{Request, Response, Status, transport::Server};
use tracing::{info, warn};

use crate::{Performer, PerformerError, Task, health::HealthService};

/// Why the server stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source} (is another performer running on that port?)")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The listen address in the environment is wrong.
    #[error(transparent)]
    Env(#[from] crate::env::EnvError),
    /// The gRPC server failed.
    #[error("gRPC server: {0}")]
    Transport(#[from] tonic::transport::Error),
}

struct Service<P> {
    performer: Arc<P>,
}

#[tonic::async_trait]
impl<P: Performer> PerformerService for Service<P> {
    async fn start_sync(
        &self,
        _: Request<StartSyncRequest>,
    ) -> Result<Response<StartSyncResponse>, Status> {
        Ok(Response::new(StartSyncResponse {}))
    }

    async fn execute_task(
        &self,
        request: Request<TaskRequest>,
    ) -> Result<Response<TaskResponse>, Status> {
        let TaskRequest { task_id, payload } = request.into_inner();
        let id = String::from_utf8(task_id.clone()).map_err(|_| {
            Status::invalid_argument("task_id must be the UTF-8 hex of the task hash")
        })?;
        let task = Task {
            task_id: id,
            payload,
        };
        self.performer.validate_task(&task).map_err(to_status)?;
        let result = self.performer.handle_task(task).await.map_err(to_status)?;
        Ok(Response::new(TaskResponse { task_id, result }))
    }
}

fn to_status(error: PerformerError) -> Status {
    match error {
        PerformerError::InvalidTask(reason) => Status::invalid_argument(reason),
        PerformerError::Failed(reason) => Status::internal(reason),
    }
}

/// Serves `performer` on `addr` until SIGTERM or Ctrl-C, then finishes the tasks in flight.
pub async fn serve<P: Performer>(addr: SocketAddr, performer: P) -> Result<(), ServeError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    serve_with_shutdown(listener, performer, shutdown_signal()).await
}

/// Serves `performer` on an already bound listener until `shutdown` completes; health turns
/// `NOT_SERVING` at once, tasks in flight finish, then the server returns.
pub async fn serve_with_shutdown<P, F>(
    listener: TcpListener,
    performer: P,
    shutdown: F,
) -> Result<(), ServeError>
where
    P: Performer,
    F: Future<Output = ()> + Send,
{
    let addr = listener.local_addr().ok();
    let (status, health) = watch::channel(ServingStatus::Serving);
    let service = Service {
        performer: Arc::new(performer),
    };
    info!(target: "ponos::performer", ?addr, "serving");
    let shutdown = async move {
        shutdown.await;
        let _ = status.send(ServingStatus::NotServing);
        info!(target: "ponos::performer", "shutting down");
    };
    Server::builder()
        .add_service(HealthServer::new(HealthService::new(
            health,
            vec!["eigenlayer.hourglass.v1.performer.PerformerService"],
        )))
        .add_service(PerformerServiceServer::new(service))
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown)
        .await?;
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
                return;
            }
            Err(error) => {
                warn!(target: "ponos::performer", %error, "cannot watch SIGTERM; Ctrl-C only")
            }
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
