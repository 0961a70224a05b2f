//! `ExecutorManagementService`: deploy, list and remove performers. Every call but
//! `GetChallengeToken` carries a single-use challenge token signed as the operator's
//! [`ManagementAuth`] says: by default by the management key the operator configures (an ECDSA
//! key; the executor holds only its address), over the method and the request, so a signature
//! cannot be replayed or moved to another call; or as Hourglass's hgctl signs it; or not at all.
//!
//! With [`Management::with_new_avss`], `DeployArtifact` for an AVS the executor does not serve
//! yet starts serving it, and the deploy is recorded in the store so that it survives a restart
//! ([`restore_new_avss`]).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use alloy_primitives::{Address, hex, keccak256};
use ponos_crypto::{
    challenge::{self, ChallengeError, ChallengeTokens, ManagementAuth},
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
use ponos_store::{ExecutorStore, PerformerEnv, PerformerRecord, RuntimeKind};
use tonic::{Request, Response, Status};
use tracing::{info, warn};

use crate::{
    docker::ContainerSpec,
    service::{AvsEntry, AvsRegistry, PerformerHandle, ResultSigning},
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
    new_avss: Option<NewAvss>,
    /// The AVSs a deploy brought (not in the config): their deploys are recorded.
    brought: Mutex<std::collections::HashSet<Address>>,
}

/// How the executor serves an AVS that a `DeployArtifact` brings, which its config does not
/// name.
#[derive(Clone)]
pub struct NewAvss {
    /// How results of such AVSs are signed.
    pub signing: Arc<ResultSigning>,
    /// Where deploys are recorded, so they survive a restart.
    pub records: Arc<dyn ExecutorStore>,
}

impl std::fmt::Debug for NewAvss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAvss").finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
struct Deployed {
    performer_id: String,
    registry: String,
    digest: String,
}

impl Management {
    /// Management of `avss` for `operator`, accepting calls as `auth` says. Without a Docker
    /// connection, deploys are refused with a clear message.
    pub fn new(
        operator: Address,
        auth: ManagementAuth,
        avss: AvsRegistry,
        docker: Option<bollard::Docker>,
        supervision: SupervisorConfig,
    ) -> Self {
        Self {
            operator,
            avss,
            docker,
            supervision,
            tokens: ChallengeTokens::with_auth(auth),
            deployed: Mutex::default(),
            new_avss: None,
            brought: Mutex::default(),
        }
    }

    /// Lets `DeployArtifact` bring AVSs the executor does not serve yet.
    pub fn with_new_avss(mut self, new_avss: NewAvss) -> Self {
        self.new_avss = Some(new_avss);
        self
    }

    /// Remembers a deploy made before a restart (see [`restore_new_avss`]).
    pub fn remember(&self, avs: Address, record: &PerformerRecord) {
        let deployed = Deployed {
            performer_id: record.performer_id.clone(),
            registry: record.artifact.clone(),
            digest: String::new(),
        };
        if let Ok(mut all) = self.deployed.lock() {
            all.insert(avs, deployed);
        }
        if let Ok(mut brought) = self.brought.lock() {
            brought.insert(avs);
        }
    }

    fn was_brought(&self, avs: &Address) -> bool {
        self.brought.lock().is_ok_and(|b| b.contains(avs))
    }

    /// Checks the signed token of a call to `method` over `fields`; the token is used up.
    fn authenticate(
        &self,
        auth: Option<&AuthSignature>,
        method: &str,
        fields: &[&[u8]],
    ) -> Result<(), Status> {
        if !self.tokens.required() {
            return Ok(());
        }
        let auth =
            auth.ok_or_else(|| Status::unauthenticated(ChallengeError::Missing.to_string()))?;
        self.tokens
            .check(&auth.challenge_token, &auth.signature, method, fields)
            .map_err(|error| match error {
                ChallengeError::WrongSigner { .. } | ChallengeError::NotAManager(_) => {
                    Status::permission_denied(error.to_string())
                }
                _ => Status::unauthenticated(error.to_string()),
            })
    }
}

/// The Docker spec a deploy of `image` with `env` runs.
fn deploy_spec(avs: Address, image: &str, env: &[PerformerEnv]) -> ContainerSpec {
    let env = env
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
    ContainerSpec {
        env,
        performer_id: deploy_id(avs, image),
        ..ContainerSpec::new(image)
    }
}

/// The performer id of a deploy of `image` for `avs`.
fn deploy_id(avs: Address, image: &str) -> String {
    format!(
        "performer-{avs:#x}-{}",
        hex::encode(&keccak256(image.as_bytes())[..4])
    )
}

/// Starts serving again the AVSs that `DeployArtifact` brought before a restart (the Docker
/// performer records in `records` whose AVS the registry does not serve), with `signing`;
/// returns the AVSs and records restored. A record that cannot start is logged and kept.
pub async fn restore_new_avss(
    avss: &AvsRegistry,
    records: &dyn ExecutorStore,
    signing: &Arc<ResultSigning>,
    docker: &bollard::Docker,
    supervision: SupervisorConfig,
) -> Result<Vec<(Address, PerformerRecord)>, ponos_store::StoreError> {
    let mut restored = Vec::new();
    for record in records.performers()? {
        let Ok(avs) = record.avs_address.parse::<Address>() else {
            continue;
        };
        if record.runtime != RuntimeKind::Docker || avss.get(&avs).is_some() {
            continue;
        }
        let launch = Launch::Docker {
            docker: docker.clone(),
            spec: Box::new(deploy_spec(avs, &record.artifact, &record.env)),
        };
        match Supervisor::start(launch, supervision).await {
            Ok(supervisor) => {
                avss.insert(
                    avs,
                    AvsEntry {
                        performer: Some(PerformerHandle::Supervised(supervisor)),
                        signing: signing.clone(),
                    },
                );
                info!(target: "ponos::executor", %avs, image = %record.artifact, "serving a deployed AVS again");
                restored.push((avs, record));
            }
            Err(error) => {
                warn!(target: "ponos::executor", %avs, image = %record.artifact, %error, "could not start a deployed AVS's performer");
            }
        }
    }
    Ok(restored)
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
        let (entry, signing) = match (self.avss.get(&avs), &self.new_avss) {
            (Some(entry), _) => {
                let signing = entry.signing.clone();
                (Some(entry), signing)
            }
            (None, Some(new_avss)) => (None, new_avss.signing.clone()),
            (None, None) => {
                return Err(Status::failed_precondition(format!(
                    "AVS {avs} is not configured in this executor; add it to the config file (its signing key and curve), or set [management] allow_deploy_new_avs = true"
                )));
            }
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
        let env: Vec<PerformerEnv> = request
            .env
            .iter()
            .map(|e| PerformerEnv {
                name: e.name.clone(),
                value: e.value.clone(),
                value_from_env: e.value_from_env.clone(),
            })
            .collect();
        let spec = deploy_spec(avs, &image, &env);
        let performer_id = spec.performer_id.clone();
        let launch = Launch::Docker {
            docker,
            spec: Box::new(spec),
        };
        let start =
            |e: crate::ExecutorError| Status::unavailable(format!("starting the performer: {e}"));
        let existing = entry.as_ref().and_then(|e| match &e.performer {
            Some(PerformerHandle::Supervised(supervisor)) => Some(supervisor.clone()),
            _ => None,
        });
        match existing {
            Some(supervisor) => supervisor.upgrade(launch).await.map_err(start)?,
            None => {
                let supervisor = Supervisor::start(launch, self.supervision)
                    .await
                    .map_err(start)?;
                self.avss.insert(
                    avs,
                    AvsEntry {
                        performer: Some(PerformerHandle::Supervised(supervisor)),
                        signing,
                    },
                );
            }
        }
        let brought = entry.is_none() || self.was_brought(&avs);
        if let (true, Some(new_avss)) = (brought, &self.new_avss) {
            let previous = self
                .deployed
                .lock()
                .ok()
                .and_then(|d| d.get(&avs).map(|d| d.performer_id.clone()));
            let record = PerformerRecord {
                performer_id: performer_id.clone(),
                avs_address: format!("{avs:#x}"),
                runtime: RuntimeKind::Docker,
                artifact: image.clone(),
                instance_id: None,
                port: None,
                status: "in-service".into(),
                deployed_at: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_secs(),
                env,
            };
            let stored = new_avss.records.put_performer(&record).and_then(|()| {
                match previous.filter(|p| *p != performer_id) {
                    Some(previous) => new_avss.records.remove_performer(&previous).map(drop),
                    None => Ok(()),
                }
            });
            if let Err(error) = stored {
                warn!(target: "ponos::executor", %avs, %error, "recording the deploy");
                return Err(Status::internal(
                    "the performer runs, but the executor's store failed to record it; deploy again",
                ));
            }
            if let Ok(mut all) = self.brought.lock() {
                all.insert(avs);
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
            if self.was_brought(&avs) {
                // Not in the config: the executor stops serving it, also after a restart.
                self.avss.remove(&avs);
                if let Some(new_avss) = &self.new_avss
                    && let Err(error) = new_avss.records.remove_performer(&request.performer_id)
                {
                    warn!(target: "ponos::executor", %avs, %error, "forgetting the deploy");
                }
                if let Ok(mut all) = self.brought.lock() {
                    all.remove(&avs);
                }
            } else {
                self.avss.insert(
                    avs,
                    AvsEntry {
                        performer: None,
                        signing: entry.signing.clone(),
                    },
                );
            }
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
