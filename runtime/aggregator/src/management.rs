//! `AggregatorManagementService`: register and deregister AVSs at run time. Calls carry a
//! single-use challenge token signed as the aggregator's [`ManagementAuth`] says (by default,
//! by its management key over the method and the request; or as Hourglass's hgctl signs it; or
//! not at all).

use std::sync::Arc;

use alloy::primitives::Address;
use ponos_crypto::challenge::{ChallengeError, ChallengeTokens, ManagementAuth};
use ponos_proto::{
    common::AuthSignature,
    hourglass::{
        AggregatorGetChallengeTokenRequest, AggregatorGetChallengeTokenResponse,
        DeRegisterAvsRequest, DeRegisterAvsResponse, RegisterAvsRequest, RegisterAvsResponse,
        aggregator_management_service_server::AggregatorManagementService,
    },
};
use ponos_store::AggregatorStore;
use tonic::{Request, Response, Status};
use tracing::info;

use crate::AggregatorHandle;

/// The pipeline management calls act on: the running one, or none while this instance is a
/// standby (it shares its store with the active instance).
pub type Served<S> = Arc<std::sync::RwLock<Option<Arc<AggregatorHandle<S>>>>>;

/// The management service of an aggregator.
#[derive(Debug)]
pub struct Management<S> {
    aggregator: Address,
    tokens: ChallengeTokens,
    handle: Served<S>,
    chains: Vec<u64>,
}

impl<S: AggregatorStore> Management<S> {
    /// Management of the pipeline in `handle` for `aggregator`, accepting calls as `auth` says;
    /// `chains` are the chain ids the aggregator watches.
    pub fn new(
        aggregator: Address,
        auth: ManagementAuth,
        handle: Served<S>,
        chains: Vec<u64>,
    ) -> Self {
        Self {
            aggregator,
            tokens: ChallengeTokens::with_auth(auth),
            handle,
            chains,
        }
    }

    /// The running pipeline, or why there is none.
    fn active(&self) -> Result<Arc<AggregatorHandle<S>>, Status> {
        self.handle
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| {
                Status::unavailable(
                    "this aggregator is a standby: send management calls to the active instance",
                )
            })
    }

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

fn parse_avs(value: &str) -> Result<Address, Status> {
    value
        .parse()
        .map_err(|_| Status::invalid_argument(format!("avs_address {value:?} is not an address")))
}

/// The fields a `RegisterAvs` signature covers.
pub fn register_fields(request: &RegisterAvsRequest) -> Vec<Vec<u8>> {
    let chains: Vec<u8> = request
        .chain_ids
        .iter()
        .flat_map(|c| c.to_be_bytes())
        .collect();
    vec![request.avs_address.as_bytes().to_vec(), chains]
}

#[tonic::async_trait]
impl<S: AggregatorStore> AggregatorManagementService for Management<S> {
    async fn register_avs(
        &self,
        request: Request<RegisterAvsRequest>,
    ) -> Result<Response<RegisterAvsResponse>, Status> {
        let request = request.into_inner();
        let fields = register_fields(&request);
        let fields: Vec<&[u8]> = fields.iter().map(Vec::as_slice).collect();
        self.authenticate(request.auth.as_ref(), "RegisterAvs", &fields)?;
        let avs = parse_avs(&request.avs_address)?;
        if let Some(chain) = request
            .chain_ids
            .iter()
            .find(|c| !self.chains.contains(&u64::from(**c)))
        {
            return Err(Status::failed_precondition(format!(
                "chain {chain} is not configured on this aggregator (it watches {:?})",
                self.chains
            )));
        }
        let added = self.active()?.register_avs(avs).await.map_err(|reason| {
            Status::failed_precondition(format!("not serving AVS {avs}: {reason}"))
        })?;
        info!(target: "ponos::aggregator", %avs, added, "AVS registered");
        Ok(Response::new(RegisterAvsResponse { success: true }))
    }

    async fn de_register_avs(
        &self,
        request: Request<DeRegisterAvsRequest>,
    ) -> Result<Response<DeRegisterAvsResponse>, Status> {
        let request = request.into_inner();
        self.authenticate(
            request.auth.as_ref(),
            "DeRegisterAvs",
            &[request.avs_address.as_bytes()],
        )?;
        let avs = parse_avs(&request.avs_address)?;
        if !self.active()?.deregister_avs(avs) {
            return Err(Status::not_found(format!("AVS {avs} is not registered")));
        }
        info!(target: "ponos::aggregator", %avs, "AVS deregistered");
        Ok(Response::new(DeRegisterAvsResponse { success: true }))
    }

    async fn get_challenge_token(
        &self,
        request: Request<AggregatorGetChallengeTokenRequest>,
    ) -> Result<Response<AggregatorGetChallengeTokenResponse>, Status> {
        let asked: Address = request
            .into_inner()
            .aggregator_address
            .parse()
            .map_err(|_| Status::invalid_argument("aggregator_address is not an address"))?;
        if asked != self.aggregator {
            return Err(Status::permission_denied(format!(
                "this aggregator is {}",
                self.aggregator
            )));
        }
        let (challenge_token, expires_at) = self.tokens.issue();
        Ok(Response::new(AggregatorGetChallengeTokenResponse {
            challenge_token,
            expires_at,
        }))
    }
}
