//! The standard gRPC health service: `SERVING` while the server takes work, `NOT_SERVING` once
//! it is shutting down.

use std::pin::Pin;

use ponos_proto::health::{
    HealthCheckRequest, HealthCheckResponse, health_check_response::ServingStatus,
    health_server::Health,
};
use tokio::sync::watch;
use tokio_stream::{Stream, StreamExt, wrappers::WatchStream};
use tonic::{Request, Response, Status};

/// A `grpc.health.v1.Health` service reporting one status for the whole server and the named
/// services; servers flip the status through the `watch` sender they keep.
#[derive(Debug, Clone)]
pub struct HealthService {
    status: watch::Receiver<ServingStatus>,
    services: Vec<&'static str>,
}

impl HealthService {
    /// Health for the server (the empty service name) and `services`.
    pub const fn new(status: watch::Receiver<ServingStatus>, services: Vec<&'static str>) -> Self {
        Self { status, services }
    }

    /// The status of `service`, if it is known.
    fn status_of(&self, service: &str) -> Option<ServingStatus> {
        let known = service.is_empty() || self.services.contains(&service);
        known.then(|| *self.status.borrow())
    }
}

#[tonic::async_trait]
impl Health for HealthService {
    async fn check(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        let service = request.into_inner().service;
        match self.status_of(&service) {
            Some(status) => Ok(Response::new(HealthCheckResponse {
                status: status.into(),
            })),
            None => Err(Status::not_found(format!("unknown service {service:?}"))),
        }
    }

    type WatchStream = Pin<Box<dyn Stream<Item = Result<HealthCheckResponse, Status>> + Send>>;

    async fn watch(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let service = request.into_inner().service;
        if self.status_of(&service).is_none() {
            let unknown = HealthCheckResponse {
                status: ServingStatus::ServiceUnknown.into(),
            };
            let stream = tokio_stream::once(Ok(unknown));
            return Ok(Response::new(Box::pin(stream)));
        }
        let stream = WatchStream::new(self.status.clone()).map(|status| {
            Ok(HealthCheckResponse {
                status: status.into(),
            })
        });
        Ok(Response::new(Box::pin(stream)))
    }
}
