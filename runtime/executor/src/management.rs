//! `ExecutorManagementService`: deploy, list and remove performers. Every call but
//! `GetChallengeToken` carries a single-use challenge token signed by the management key the
//! operator configures (an ECDSA key; the executor holds only its address), over the method and
//! the request, so a signature cannot be replayed or moved to another call.

use std::{collections::HashMap, sync::Mutex};

use alloy_primitives::{Address, hex, keccak256};
use ponos_crypto::{
    challenge::{self, ChallengeError, ChallengeTokens},
    ecdsa,
};
use ponos_proto::{
    common::AuthSignature,
    hourglass::{
        DeployArtifactRequest, DeployArtifactResponse, GetChallengeTokenRequest,
        GetChallengeTokenResponse, ListPerformersRequest, ListPerformersResponse, Performer,
        RemovePerformerRequest, RemovePerformerResponse,
        executor_management_service_server::ExecutorManagementService,
    },
};
use tonic::{Request, Response, Status};
use tracing::info;

use crate::{
    docker::ContainerSpec,
    service::{AvsEntry, AvsRegistry, PerformerHandle},
    supervisor::{Launch, Supervisor, SupervisorConfig},
};

pub use ponos_crypto::challenge::TOKEN_TTL;

/// The management service.
#[derive(Debug)]
pub struct Management {
    operator: Address,
    avss: AvsRegistry,
    docker: Option<bollard::Docker>,
    supervision: SupervisorConfig,
    tokens: ChallengeTokens,
    deployed: Mutex<HashMap<Address, Deployed>>,
}

#[derive(Debug, Clone)]
struct Deployed {
    performer_id: String,
    registry: String,
    digest: String,
}

impl Management {
    /// Management of `avss` for `operator`, accepting calls signed by the key of `admin`.
    /// Without a Docker connection, deploys are refused with a clear message.
    pub fn new(
        operator: Address,
        admin: Address,
        avss: AvsRegistry,
        docker: Option<bollard::Docker>,
        supervision: SupervisorConfig,
    ) -> Self {
        Self {
            operator,
            avss,
            docker,
            supervision,
            tokens: ChallengeTokens::new(admin),
            deployed: Mutex::default(),
        }
    }

    /// Checks the signed token of a call to `method` over `fields`; the token is used up.
    fn authenticate(
        &self,
        auth: Option<&AuthSignature>,
        method: &str,
        fields: &[&[u8]],
    ) -> Result<(), Status> {
        let auth =
            auth.ok_or_else(|| Status::unauthenticated(ChallengeError::Missing.to_string()))?;
        self.tokens
            .check(&auth.challenge_token, &auth.signature, method, fields)
            .map_err(|error| match error {
                ChallengeError::WrongSigner { .. } => Status::permission_denied(error.to_string()),
                _ => Status::unauthenticated(error.to_string()),
            })
    }
}

fn parse_avs(value: &str) -> Result<Address, Status> {
    value
        .parse()
        .map_err(|_| Status::invalid_argument(format!("avs_address {value:?} is not an address")))
}

#[tonic::async_trait]
impl ExecutorManagementService for Management {
    async fn get_challenge_token(
        &self,
        request: Request<GetChallengeTokenRequest>,
    ) -> Result<Response<GetChallengeTokenResponse>, Status> {
        let asked: Address = request
            .into_inner()
            .operator_address
            .parse()
            .map_err(|_| Status::invalid_argument("operator_address is not an address"))?;
        if asked != self.operator {
            return Err(Status::permission_denied(format!(
                "this executor is operator {}",
                self.operator
            )));
        }
        let (token, expires_at) = self.tokens.issue();
        Ok(Response::new(GetChallengeTokenResponse {
            challenge_token: token,
            expires_at,
        }))
    }

    async fn deploy_artifact(
        &self,
        request: Request<DeployArtifactRequest>,
    ) -> Result<Response<DeployArtifactResponse>, Status> {
        let request = request.into_inner();
        self.authenticate(
            request.auth.as_ref(),
            "DeployArtifact",
            &[
                request.avs_address.as_bytes(),
                request.digest.as_bytes(),
                request.registry_url.as_bytes(),
            ],
        )?;
        let avs = parse_avs(&request.avs_address)?;
        if request.registry_url.is_empty() {
            return Err(Status::invalid_argument(
                "registry_url (the image repository) is required",
            ));
        }
        let Some(entry) = self.avss.get(&avs) else {
            return Err(Status::failed_precondition(format!(
                "AVS {avs} is not configured in this executor; add it to the config file (its signing key and curve)"
            )));
        };
        let Some(docker) = self.docker.clone() else {
            return Err(Status::failed_precondition(
                "this executor has no Docker connection; deploys need Docker",
            ));
        };
        let image = if request.digest.is_empty() {
            request.registry_url.clone()
        } else {
            format!("{}@{}", request.registry_url, request.digest)
        };
        let env = request
            .env
            .iter()
            .map(|e| {
                let value = if e.value_from_env.is_empty() {
                    e.value.clone()
                } else {
                    std::env::var(&e.value_from_env).unwrap_or_default()
                };
                (e.name.clone(), value)
            })
            .collect();
        let performer_id = format!(
            "performer-{avs:#x}-{}",
            hex::encode(&keccak256(image.as_bytes())[..4])
        );
        let spec = ContainerSpec {
            env,
            performer_id: performer_id.clone(),
            ..ContainerSpec::new(image)
        };
        let launch = Launch::Docker {
            docker,
            spec: Box::new(spec),
        };
        let start =
            |e: crate::ExecutorError| Status::unavailable(format!("starting the performer: {e}"));
        match &entry.performer {
            Some(PerformerHandle::Supervised(supervisor)) => {
                supervisor.upgrade(launch).await.map_err(start)?
            }
            _ => {
                let supervisor = Supervisor::start(launch, self.supervision)
                    .await
                    .map_err(start)?;
                let signing = entry.signing.clone();
                self.avss.insert(
                    avs,
                    AvsEntry {
                        performer: Some(PerformerHandle::Supervised(supervisor)),
                        signing,
                    },
                );
            }
        }
        let deployed = Deployed {
            performer_id: performer_id.clone(),
            registry: request.registry_url,
            digest: request.digest,
        };
        self.deployed
            .lock()
            .map_err(|_| Status::internal("poisoned"))?
            .insert(avs, deployed);
        info!(target: "ponos::executor", %avs, performer = %performer_id, "performer deployed");
        Ok(Response::new(DeployArtifactResponse {
            success: true,
            message: format!("performer {performer_id} serves AVS {avs}"),
            deployment_id: performer_id,
        }))
    }

    async fn list_performers(
        &self,
        request: Request<ListPerformersRequest>,
    ) -> Result<Response<ListPerformersResponse>, Status> {
        let request = request.into_inner();
        self.authenticate(
            request.auth.as_ref(),
            "ListPerformers",
            &[request.avs_address.as_bytes()],
        )?;
        let filter = (!request.avs_address.is_empty())
            .then(|| parse_avs(&request.avs_address))
            .transpose()?;
        let deployed = self
            .deployed
            .lock()
            .map_err(|_| Status::internal("poisoned"))?
            .clone();
        let mut performers = Vec::new();
        for (avs, entry) in self.avss.all() {
            if filter.is_some_and(|f| f != avs) || entry.performer.is_none() {
                continue;
            }
            let info = deployed.get(&avs);
            performers.push(Performer {
                performer_id: info
                    .map(|d| d.performer_id.clone())
                    .unwrap_or_else(|| format!("performer-{avs:#x}")),
                avs_address: format!("{avs:#x}"),
                status: "InService".into(),
                artifact_registry: info.map(|d| d.registry.clone()).unwrap_or_default(),
                artifact_digest: info.map(|d| d.digest.clone()).unwrap_or_default(),
                resource_healthy: true,
                application_healthy: true,
                ..Default::default()
            });
        }
        Ok(Response::new(ListPerformersResponse { performers }))
    }

    async fn remove_performer(
        &self,
        request: Request<RemovePerformerRequest>,
    ) -> Result<Response<RemovePerformerResponse>, Status> {
        let request = request.into_inner();
        self.authenticate(
            request.auth.as_ref(),
            "RemovePerformer",
            &[request.performer_id.as_bytes()],
        )?;
        let avs = {
            let deployed = self
                .deployed
                .lock()
                .map_err(|_| Status::internal("poisoned"))?;
            deployed
                .iter()
                .find(|(_, d)| d.performer_id == request.performer_id)
                .map(|(avs, _)| *avs)
        };
        let Some(avs) = avs else {
            return Err(Status::not_found(format!(
                "no performer {}",
                request.performer_id
            )));
        };
        if let Some(entry) = self.avss.get(&avs) {
            if let Some(PerformerHandle::Supervised(supervisor)) = &entry.performer {
                supervisor.clone().shutdown().await;
            }
            self.avss.insert(
                avs,
                AvsEntry {
                    performer: None,
                    signing: entry.signing.clone(),
                },
            );
        }
        self.deployed
            .lock()
            .map_err(|_| Status::internal("poisoned"))?
            .remove(&avs);
        Ok(Response::new(RemovePerformerResponse {
            success: true,
            message: format!("removed {}", request.performer_id),
        }))
    }
}

/// What a management client sends: a token signed with the management key.
pub fn sign_call(
    key: &ecdsa::SecretKey,
    token: &str,
    method: &str,
    fields: &[&[u8]],
) -> AuthSignature {
    AuthSignature {
        challenge_token: token.into(),
        signature: challenge::sign_call(key, token, method, fields),
    }
}
