//! `ExecutorService.SubmitTask`: the checks a task must pass before it reaches a performer, the
//! run under the task's own deadline, and the signatures on its result.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use alloy_primitives::{Address, B256, Bytes, keccak256};
use ponos_crypto::digest;
use ponos_proto::hourglass::{
    TaskResult, TaskSubmission, executor_service_server::ExecutorService,
};
use ponos_store::{ExecutorStore, SpentTask};
use prost::Message as _;
use tonic::{Request, Response, Status};
use tracing::{info, instrument, warn};

use crate::{
    ExecutorError,
    keys::{ChainView, SigningKey, ViewError},
    performer::PerformerClient,
    supervisor::{Launch, Supervisor, run_one_off},
};

/// The only message version Hourglass and Ponos speak.
pub const MESSAGE_VERSION: u32 = 1;

/// How the result of an AVS's tasks is signed: the curve of its executor operator set.
#[derive(Debug)]
pub enum ResultSigning {
    /// BN254: over the BN254 certificate digest.
    Bn254(SigningKey),
    /// ECDSA: over the EIP-712 certificate digest of the ECDSA verifier on the task's chain.
    Ecdsa {
        /// The operator's ECDSA key.
        key: SigningKey,
        /// The ECDSA certificate verifier (its address is in the digest's domain).
        verifier: Address,
        /// The verifier's release version (its first character is the domain version).
        version: String,
    },
}

/// Where an AVS's tasks run.
#[derive(Debug, Clone)]
pub enum PerformerHandle {
    /// A performer someone else keeps alive (in-process, or external).
    Direct(Box<PerformerClient>),
    /// A container or process this executor starts, watches and restarts.
    Supervised(Supervisor),
    /// A fresh container or process per task, removed afterwards (batch-job AVSs).
    OneOff {
        /// How to start it.
        launch: Launch,
        /// How long it may take to become healthy.
        start_timeout: Duration,
    },
}

impl PerformerHandle {
    async fn execute(
        &self,
        task_id: &str,
        payload: Vec<u8>,
        deadline: Duration,
    ) -> Result<Vec<u8>, ExecutorError> {
        match self {
            Self::Direct(client) => client.clone().execute(task_id, payload, deadline).await,
            Self::Supervised(supervisor) => supervisor.execute(task_id, payload, deadline).await,
            Self::OneOff {
                launch,
                start_timeout,
            } => run_one_off(launch, *start_timeout, task_id, payload, deadline).await,
        }
    }
}

/// One AVS this executor serves.
#[derive(Debug)]
pub struct AvsEntry {
    /// Its performer, once one is deployed.
    pub performer: Option<PerformerHandle>,
    /// How its results are signed.
    pub signing: Arc<ResultSigning>,
}

/// The AVSs an executor serves, shared by the task and management services.
#[derive(Debug, Clone, Default)]
pub struct AvsRegistry {
    entries: Arc<std::sync::RwLock<HashMap<Address, Arc<AvsEntry>>>>,
}

impl AvsRegistry {
    /// Serves `avs` with `entry`, replacing what served it before.
    pub fn insert(&self, avs: Address, entry: AvsEntry) {
        if let Ok(mut entries) = self.entries.write() {
            entries.insert(avs, Arc::new(entry));
        }
    }

    /// The entry of `avs`.
    pub fn get(&self, avs: &Address) -> Option<Arc<AvsEntry>> {
        self.entries.read().ok()?.get(avs).cloned()
    }

    /// Stops serving `avs`; returns its entry.
    pub fn remove(&self, avs: &Address) -> Option<Arc<AvsEntry>> {
        self.entries.write().ok()?.remove(avs)
    }

    /// Every AVS served, with its entry.
    pub fn all(&self) -> Vec<(Address, Arc<AvsEntry>)> {
        self.entries
            .read()
            .map(|e| e.iter().map(|(a, e)| (*a, e.clone())).collect())
            .unwrap_or_default()
    }
}

/// Limits and defaults of the service.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The largest payload accepted, in bytes.
    pub max_payload: usize,
    /// How long processed task ids are kept to refuse replays; at least the longest task SLA.
    pub replay_window: Duration,
    /// The deadline of a task whose request carries no gRPC deadline.
    pub default_deadline: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_payload: 1 << 20,
            replay_window: Duration::from_secs(86_400),
            default_deadline: Duration::from_secs(120),
        }
    }
}

/// The executor's task service.
#[derive(Debug)]
pub struct Executor<S, C> {
    operator: Address,
    avss: AvsRegistry,
    store: Arc<S>,
    chain: Arc<C>,
    limits: Limits,
}

impl<S: ExecutorStore, C: ChainView> Executor<S, C> {
    /// An executor for `operator`, serving the AVSs in `avss`.
    pub fn new(
        operator: Address,
        avss: AvsRegistry,
        store: Arc<S>,
        chain: Arc<C>,
        limits: Limits,
    ) -> Self {
        Self {
            operator,
            avss,
            store,
            chain,
            limits,
        }
    }

    /// Checks a submission, runs it and signs the result.
    #[instrument(skip_all, fields(task = %submission.task_id))]
    pub async fn submit(
        &self,
        submission: TaskSubmission,
        deadline: Duration,
    ) -> Result<TaskResult, Status> {
        let task = self.check_shape(&submission)?;
        let Some(entry) = self.avss.get(&task.avs) else {
            return Err(Status::not_found(format!(
                "this executor runs no performer for AVS {}",
                task.avs
            )));
        };

        let key = self
            .chain
            .aggregator_key(task.avs, task.aggregator, submission.task_block_number)
            .await
            .map_err(|e| view_status(&e, "the aggregator key"))?;
        let message = digest::task_submission_message(
            task.id,
            task.avs,
            self.operator,
            submission.operator_set_id,
            submission.reference_timestamp,
            submission.task_block_number,
            &submission.payload,
        );
        if !key.verifies(&message, &submission.signature) {
            return Err(Status::unauthenticated(format!(
                "the task signature does not verify against the aggregator key registered for AVS {}",
                task.avs
            )));
        }
        let member = self
            .chain
            .is_member(
                task.avs,
                submission.operator_set_id,
                self.operator,
                submission.task_block_number,
            )
            .await
            .map_err(|e| view_status(&e, "operator set membership"))?;
        if !member {
            return Err(Status::permission_denied(format!(
                "operator {} is not in operator set {} of AVS {}",
                self.operator, submission.operator_set_id, task.avs
            )));
        }

        // A task id is answered once: a retry of the same request (the aggregator restarted,
        // or lost the answer on the way) gets the stored response back, and the performer
        // does not run again.
        let fingerprint = request_fingerprint(&task, &submission);
        let keep_until = unix_now() + self.limits.replay_window.as_secs();
        match self.store.claim_task(task.id.0, fingerprint, keep_until) {
            Ok(None) => {}
            Ok(Some(spent)) => return self.replay(&submission, &fingerprint, spent),
            Err(error) => {
                warn!(target: "ponos::executor", %error, "claiming the task id");
                return Err(Status::internal("the executor's store failed; ask again"));
            }
        }
        // Until a signed result is stored, the claim is released if the run ends another way
        // (the caller went away, the performer failed), so the aggregator can ask once more.
        let reservation = Reservation {
            store: self.store.as_ref(),
            task_id: task.id.0,
            spent: false,
        };

        let Some(performer) = &entry.performer else {
            return Err(Status::unavailable(format!(
                "no performer is deployed for AVS {}",
                task.avs
            )));
        };
        let output = performer
            .execute(&submission.task_id, submission.payload, deadline)
            .await
            .map_err(|error| performer_status(&error))?;

        let message_hash = digest::message_hash(task.id, &Bytes::from(output.clone()));
        let (key, certificate_digest) = match entry.signing.as_ref() {
            ResultSigning::Bn254(key) => (
                key,
                digest::bn254_certificate_digest(submission.reference_timestamp, message_hash),
            ),
            ResultSigning::Ecdsa {
                key,
                verifier,
                version,
            } => (
                key,
                digest::ecdsa_certificate_digest(
                    *verifier,
                    version,
                    submission.reference_timestamp,
                    message_hash,
                ),
            ),
        };
        let result_signature = key.sign(certificate_digest);
        let auth = digest::result_auth_message(
            task.id,
            task.avs,
            self.operator,
            submission.operator_set_id,
            &result_signature,
        );
        let auth_signature = key.sign_auth(keccak256(auth));
        let result = TaskResult {
            task_id: submission.task_id,
            operator_address: self.operator.to_string(),
            output,
            result_signature,
            avs_address: submission.avs_address,
            operator_set_id: submission.operator_set_id,
            auth_signature,
            version: MESSAGE_VERSION,
        };
        if let Err(error) = self.store.answer_task(task.id.0, &result.encode_to_vec()) {
            warn!(target: "ponos::executor", %error, "storing the signed result");
            return Err(Status::internal("the executor's store failed; ask again"));
        }
        reservation.spend();
        info!(target: "ponos::executor", avs = %task.avs, bytes = result.output.len(), "task done");
        Ok(result)
    }

    /// The answer to a request under a task id that is already spent.
    fn replay(
        &self,
        submission: &TaskSubmission,
        fingerprint: &[u8; 32],
        spent: SpentTask,
    ) -> Result<TaskResult, Status> {
        if spent.fingerprint() != fingerprint {
            return Err(Status::already_exists(format!(
                "task {} was already answered for a request with other content (payload, reference timestamp or operator set)",
                submission.task_id
            )));
        }
        match spent {
            SpentTask::Running { .. } => Err(Status::unavailable(format!(
                "task {} is running for an earlier request; ask again shortly",
                submission.task_id
            ))),
            SpentTask::Answered { response, .. } => {
                let result = TaskResult::decode(response.as_slice()).map_err(|error| {
                    warn!(target: "ponos::executor", %error, "a stored result does not decode");
                    Status::internal("the executor's store failed; ask again")
                })?;
                info!(target: "ponos::executor", task = %submission.task_id, "retry answered from the store");
                Ok(result)
            }
        }
    }

    /// The checks that need nothing but the request.
    fn check_shape(&self, submission: &TaskSubmission) -> Result<CheckedTask, Status> {
        if submission.version != MESSAGE_VERSION {
            return Err(Status::invalid_argument(format!(
                "message version {} is not supported (expected {MESSAGE_VERSION})",
                submission.version
            )));
        }
        let id = parse_task_id(&submission.task_id)?;
        let avs = parse_address("avs_address", &submission.avs_address)?;
        let aggregator = parse_address("aggregator_address", &submission.aggregator_address)?;
        let executor = parse_address("executor_address", &submission.executor_address)?;
        if executor != self.operator {
            return Err(Status::permission_denied(format!(
                "the task is addressed to {executor}; this executor is operator {}",
                self.operator
            )));
        }
        if submission.payload.len() > self.limits.max_payload {
            return Err(Status::invalid_argument(format!(
                "the payload of {} bytes exceeds the {}-byte limit",
                submission.payload.len(),
                self.limits.max_payload
            )));
        }
        if submission.signature.is_empty() {
            return Err(Status::invalid_argument(
                "the task carries no aggregator signature",
            ));
        }
        // 65 bytes for an ECDSA aggregator key, 64 for BN254: anything else cannot verify, and
        // is refused before a single node read.
        if !matches!(submission.signature.len(), 64 | 65) {
            return Err(Status::invalid_argument(format!(
                "the aggregator signature is {} bytes; expected 65 (ECDSA) or 64 (BN254)",
                submission.signature.len()
            )));
        }
        if submission.reference_timestamp == 0 {
            return Err(Status::invalid_argument(
                "reference_timestamp must not be 0",
            ));
        }
        Ok(CheckedTask {
            id,
            avs,
            aggregator,
        })
    }
}

/// A task id recorded as processed, released on drop unless its result was returned.
struct Reservation<'a, S: ExecutorStore> {
    store: &'a S,
    task_id: [u8; 32],
    spent: bool,
}

impl<S: ExecutorStore> Reservation<'_, S> {
    fn spend(mut self) {
        self.spent = true;
    }
}

impl<S: ExecutorStore> Drop for Reservation<'_, S> {
    fn drop(&mut self) {
        if !self.spent
            && let Err(error) = self.store.release_task(self.task_id)
        {
            tracing::warn!(target: "ponos::executor", %error, "releasing an unfinished task id");
        }
    }
}

struct CheckedTask {
    id: B256,
    avs: Address,
    aggregator: Address,
}

/// What makes two requests under one task id the same request: the AVS, the operator set, the
/// reference timestamp and the payload. (Who relays it, and the signature over it, may differ
/// between a first try and a retry.)
fn request_fingerprint(task: &CheckedTask, submission: &TaskSubmission) -> [u8; 32] {
    let mut content = Vec::with_capacity(28 + submission.payload.len());
    content.extend_from_slice(task.avs.as_slice());
    content.extend_from_slice(&submission.operator_set_id.to_be_bytes());
    content.extend_from_slice(&submission.reference_timestamp.to_be_bytes());
    content.extend_from_slice(&submission.payload);
    keccak256(content).0
}

fn parse_task_id(value: &str) -> Result<B256, Status> {
    let hex = value.strip_prefix("0x").filter(|h| h.len() == 64);
    hex.and_then(|h| h.parse::<B256>().ok()).ok_or_else(|| {
        Status::invalid_argument(format!(
            "task_id {value:?} is not 0x followed by 64 hex digits"
        ))
    })
}

fn parse_address(field: &str, value: &str) -> Result<Address, Status> {
    let valid = value.len() == 42 && value.starts_with("0x");
    valid.then(|| value.parse().ok()).flatten().ok_or_else(|| {
        Status::invalid_argument(format!(
            "{field} {value:?} is not 0x followed by 40 hex digits"
        ))
    })
}

/// The status for a failed chain read: what the contracts say is the caller's to know; what
/// the node said stays in the executor's log.
fn view_status(error: &ViewError, what: &str) -> Status {
    match error {
        ViewError::Refused(reason) => {
            Status::permission_denied(format!("reading {what}: {reason}"))
        }
        ViewError::Node { .. } => {
            warn!(target: "ponos::executor", %error, "reading L1");
            Status::unavailable(format!(
                "the executor cannot read {what} from L1 now; ask again"
            ))
        }
    }
}

fn performer_status(error: &ExecutorError) -> Status {
    match error {
        ExecutorError::DeadlineExceeded(_) => Status::deadline_exceeded(error.to_string()),
        ExecutorError::Task {
            code: "refused the task",
            ..
        } => Status::invalid_argument(error.to_string()),
        ExecutorError::Unreachable { .. } => Status::unavailable(error.to_string()),
        ExecutorError::OutOfMemory { .. } => Status::resource_exhausted(error.to_string()),
        _ => Status::internal(error.to_string()),
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// The deadline a gRPC caller set (`grpc-timeout`), if any.
fn grpc_deadline<T>(request: &Request<T>) -> Option<Duration> {
    let value = request.metadata().get("grpc-timeout")?.to_str().ok()?;
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount * 3600),
        "M" => Duration::from_secs(amount * 60),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

#[tonic::async_trait]
impl<S: ExecutorStore, C: ChainView> ExecutorService for Executor<S, C> {
    async fn submit_task(
        &self,
        request: Request<TaskSubmission>,
    ) -> Result<Response<TaskResult>, Status> {
        let deadline = grpc_deadline(&request).unwrap_or(self.limits.default_deadline);
        match self.submit(request.into_inner(), deadline).await {
            Ok(result) => Ok(Response::new(result)),
            Err(status) => {
                warn!(target: "ponos::executor", code = ?status.code(), message = status.message(), "task refused");
                Err(status)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_parse() {
        let mut request = Request::new(());
        assert_eq!(grpc_deadline(&request), None);
        for (header, expected) in [
            ("30S", Duration::from_secs(30)),
            ("1500m", Duration::from_millis(1500)),
        ] {
            request
                .metadata_mut()
                .insert("grpc-timeout", header.parse().unwrap());
            assert_eq!(grpc_deadline(&request), Some(expected));
        }
        request
            .metadata_mut()
            .insert("grpc-timeout", "x".parse().unwrap());
        assert_eq!(grpc_deadline(&request), None);
    }

    #[test]
    fn task_ids_and_addresses_are_strict() {
        assert!(parse_task_id(&format!("0x{}", "ab".repeat(32))).is_ok());
        assert!(parse_task_id(&"ab".repeat(32)).is_err());
        assert!(parse_task_id("0x1234").is_err());
        assert!(parse_address("avs_address", "0x00000000000000000000000000000000000000aa").is_ok());
        let err = parse_address("avs_address", "0xzz").unwrap_err();
        assert!(err.message().contains("avs_address"));
    }
}
