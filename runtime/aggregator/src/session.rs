//! One task's session: ask every operator of the set at once, check each answer on its own
//! (identity, size, result signature, auth signature), group the answers by result and weigh
//! them by stake; as soon as one result holds the threshold, build its certificate. Operators
//! that do not answer are asked again with backoff until collection must end; those that never
//! answer end up as non-signers.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use alloy::{
    primitives::{Address, B256, Bytes, U256, keccak256},
    providers::DynProvider,
    sol_types::SolValue,
};
use ponos_chain::contracts::TaskAVSRegistrar;
use ponos_crypto::{
    bn254::{self, G2Affine},
    certificate::{
        BPS_DENOMINATOR, build_bn254_certificate, build_ecdsa_certificate, meets_threshold,
    },
    digest, ecdsa,
};
use ponos_proto::hourglass::{
    TaskResult, TaskSubmission, executor_service_client::ExecutorServiceClient,
};
use ponos_store::{OperatorAnswer, TaskRecord};
use tokio::{
    sync::{broadcast, mpsc},
    task::JoinSet,
};
use tracing::{debug, warn};

pub use crate::identity::{AggregatorIdentity, AggregatorSigner, Identities};
use crate::{
    AggregatorError,
    metrics::AggregatorMetrics,
    pool::ExecutorPool,
    retry::{self, Backoff},
    updates::TaskUpdate,
    view::{Operator, OperatorKey, OperatorSetView},
};

/// The task message version.
pub const MESSAGE_VERSION: u32 = 1;

/// What a session needs besides the task.
#[derive(Debug, Clone)]
pub struct SessionContext {
    /// Who the aggregator is, towards each AVS.
    pub identities: Arc<Identities>,
    /// Executor connections.
    pub pool: Arc<ExecutorPool>,
    /// Results larger than this are refused.
    pub max_result_bytes: usize,
    /// Metrics.
    pub metrics: Arc<AggregatorMetrics>,
    /// Reads operators' current sockets on L1 (for executors that moved).
    pub l1: DynProvider,
    /// Where operator failures and stalled tasks are announced.
    pub updates: broadcast::Sender<TaskUpdate>,
}

/// An operator's socket as L1's registrar has it now; `None` when it cannot be read.
async fn current_socket(l1: &DynProvider, registrar: Address, operator: Address) -> Option<String> {
    TaskAVSRegistrar::new(registrar, l1)
        .getOperatorSocket(operator)
        .call()
        .await
        .ok()
}

/// A certificate ready for `submitResult`.
#[derive(Debug, Clone)]
pub struct Certified {
    /// `executorCert`.
    pub certificate: Bytes,
    /// The result it certifies.
    pub result: Bytes,
    /// Operators whose signatures it carries.
    pub signers: usize,
    /// Operators it lists as non-signers (BN254) or leaves out (ECDSA).
    pub non_signers: usize,
}

/// One operator's screened answer. ECDSA answers are fully checked when screened; BN254
/// signatures are checked together, once a result has gathered enough weight.
struct Answer {
    operator: usize,
    address: Address,
    output: Vec<u8>,
    message_hash: B256,
    signature: Vec<u8>,
    bn254: Option<Bn254Check>,
}

/// The two BN254 signatures of an answer, still to be verified.
#[derive(Clone)]
struct Bn254Check {
    items: [(bn254::Signature, bn254::Signed, G2Affine); 2],
}

#[derive(Default)]
struct Group {
    output: Vec<u8>,
    answers: Vec<Answer>,
}

impl Group {
    fn weight(&self, view: &OperatorSetView) -> Vec<U256> {
        let mut weight = vec![U256::ZERO; view.total_weights.len()];
        for answer in &self.answers {
            for (total, own) in weight
                .iter_mut()
                .zip(&view.operators[answer.operator].weights)
            {
                *total += *own;
            }
        }
        weight
    }

    /// Verifies the BN254 signatures not yet verified, all in one check; when that fails,
    /// answer by answer, dropping the bad ones. Returns the operators dropped.
    async fn confirm(&mut self) -> Vec<Address> {
        let pending: Vec<Bn254Check> = self
            .answers
            .iter()
            .filter_map(|a| a.bn254.clone())
            .collect();
        if pending.is_empty() {
            return Vec::new();
        }
        let all_good = tokio::task::spawn_blocking(move || {
            let items: Vec<_> = pending.iter().flat_map(|c| c.items).collect();
            bn254::verify_many(&items)
        })
        .await
        .unwrap_or(false);
        let mut dropped = Vec::new();
        if !all_good {
            let mut kept = Vec::new();
            for answer in std::mem::take(&mut self.answers) {
                let good = match &answer.bn254 {
                    Some(check) => bn254::verify_many(&check.items),
                    None => true,
                };
                if good {
                    kept.push(answer);
                } else {
                    dropped.push(answer.address);
                }
            }
            self.answers = kept;
        }
        for answer in &mut self.answers {
            answer.bn254 = None;
        }
        dropped
    }
}

/// How often answers gathered while a session waits are written to the store.
const PERSIST_EVERY: Duration = Duration::from_millis(500);

/// Runs `task` on the operators of `view` until a result meets the threshold or `deadline`.
///
/// Operators in `task.answers` (checked before a restart) are not asked again. An operator
/// that does not answer usably is asked again with backoff until `deadline`; the threshold is
/// missed only then, or once every operator has answered and no result holds the weight.
/// While the session waits, new answers are handed to `persist` at most every
/// [`PERSIST_EVERY`] (a session that completes at once writes nothing extra).
pub async fn run(
    ctx: &SessionContext,
    task: &TaskRecord,
    view: &OperatorSetView,
    deadline: Instant,
    persist: &mut (dyn FnMut(&[OperatorAnswer]) + Send),
) -> Result<Certified, AggregatorError> {
    let mut groups: HashMap<B256, Group> = HashMap::new();
    let mut kept: Vec<OperatorAnswer> = Vec::new();
    let mut answered = 0;
    let mut reasons: Vec<(Address, String)> = Vec::new();
    for stored in &task.answers {
        let Some(operator) = view.operators.iter().find(|o| o.address == stored.operator) else {
            continue;
        };
        let result = TaskResult {
            task_id: task.task_hash.to_string(),
            operator_address: stored.operator.to_string(),
            output: stored.output.to_vec(),
            result_signature: stored.result_signature.to_vec(),
            avs_address: task.avs.to_string(),
            operator_set_id: view.set,
            auth_signature: stored.auth_signature.to_vec(),
            version: MESSAGE_VERSION,
        };
        if let Ok(answer) = check(
            result,
            operator,
            task.task_hash,
            view.avs,
            view.set,
            view.reference_timestamp,
            &view.ecdsa_domain,
            ctx.max_result_bytes,
        ) {
            answered += 1;
            kept.push(stored.clone());
            add(&mut groups, answer);
        }
    }
    if let Some(certified) = settle(task, view, &mut groups, &mut answered).await? {
        return Ok(certified);
    }

    let mut requests = JoinSet::new();
    let mut asked = answered;
    let mut fate = Fate::new(view);
    for stored in &kept {
        fate.answered(stored.operator);
    }
    let (failures, mut failed) = mpsc::unbounded_channel();
    for operator in &view.operators {
        if kept.iter().any(|a| a.operator == operator.address) {
            continue;
        }
        if operator.socket.is_empty() {
            warn!(target: "ponos::aggregator", operator = %operator.address, "operator registered no socket; counted as a non-signer");
            fate.failed(
                ctx,
                task.task_hash,
                operator.address,
                "registered no socket".into(),
                true,
            );
            continue;
        }
        let client = match ctx.pool.client(&operator.socket) {
            Ok(client) => client,
            Err(reason) => {
                warn!(target: "ponos::aggregator", operator = %operator.address, %reason, "cannot reach operator");
                fate.failed(
                    ctx,
                    task.task_hash,
                    operator.address,
                    reason.to_string(),
                    true,
                );
                continue;
            }
        };
        asked += 1;
        let ask = Ask {
            submission: submission(
                ctx.identities.for_avs(&task.avs),
                task,
                view,
                operator.address,
            ),
            operator: operator.clone(),
            task_hash: task.task_hash,
            avs: view.avs,
            set: view.set,
            reference_timestamp: view.reference_timestamp,
            ecdsa_domain: view.ecdsa_domain.clone(),
            max_result_bytes: ctx.max_result_bytes,
            registrar: view.registrar,
            deadline,
            failures: failures.clone(),
        };
        requests.spawn(ask.run(client, ctx.clone()));
    }
    drop(failures);
    fate.check(ctx, task.task_hash, &groups);

    let mut unsaved = false;
    let mut flush =
        tokio::time::interval_at((Instant::now() + PERSIST_EVERY).into(), PERSIST_EVERY);
    loop {
        let next = tokio::select! {
            next = requests.join_next() => next,
            Some((operator, reason, settled)) = failed.recv() => {
                fate.failed(ctx, task.task_hash, operator, reason, settled);
                fate.check(ctx, task.task_hash, &groups);
                continue;
            }
            _ = flush.tick() => {
                if unsaved {
                    persist(&kept);
                    unsaved = false;
                }
                continue;
            }
        };
        let (operator, answer) = match next {
            None => break,
            Some(Err(join)) => {
                warn!(target: "ponos::aggregator", error = %join, "an operator request task failed");
                continue;
            }
            Some(Ok(next)) => next,
        };
        let (answer, raw) = match answer {
            Ok(answer) => answer,
            Err(reason) => {
                debug!(target: "ponos::aggregator", task = %task.task_hash, %operator, %reason, "no usable answer");
                fate.failed(ctx, task.task_hash, operator, reason.clone(), true);
                fate.check(ctx, task.task_hash, &groups);
                reasons.push((operator, reason));
                continue;
            }
        };
        answered += 1;
        fate.answered(operator);
        kept.push(raw);
        unsaved = true;
        add(&mut groups, answer);
        if let Some(certified) = settle(task, view, &mut groups, &mut answered).await? {
            requests.abort_all();
            return Ok(certified);
        }
    }
    if unsaved {
        persist(&kept);
    }

    let best = groups
        .values()
        .map(|g| share_bps(&g.weight(view), &view.total_weights))
        .max()
        .unwrap_or(0);
    Err(AggregatorError::ThresholdNotMet {
        task: task.task_hash,
        answered,
        operators: asked,
        best_bps: best,
        threshold_bps: view.threshold_bps,
        reasons: reasons
            .iter()
            .map(|(operator, reason)| format!("{operator}: {reason}"))
            .collect::<Vec<_>>()
            .join("; "),
    })
}

/// Where an operator stands in a running session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    /// Asked, and may still answer.
    Open,
    /// Its answer is in.
    Answered,
    /// Settled against the task for now (see [`retry::settles`]).
    Settled,
}

/// What is known of a task's fate while its session runs: who answered, who is settled against
/// it and why, and whether any result can still reach the threshold.
struct Fate<'a> {
    view: &'a OperatorSetView,
    standing: Vec<Standing>,
    reasons: Vec<(Address, String)>,
    stalled: bool,
}

impl<'a> Fate<'a> {
    fn new(view: &'a OperatorSetView) -> Self {
        Self {
            view,
            standing: vec![Standing::Open; view.operators.len()],
            reasons: Vec::new(),
            stalled: false,
        }
    }

    /// Where `operator` stands, when it is in the set.
    fn standing(&mut self, operator: Address) -> Option<&mut Standing> {
        let index = self
            .view
            .operators
            .iter()
            .position(|o| o.address == operator)?;
        self.standing.get_mut(index)
    }

    fn answered(&mut self, operator: Address) {
        if let Some(standing) = self.standing(operator) {
            *standing = Standing::Answered;
        }
    }

    /// Notes a failed attempt and announces it when the operator says something new.
    fn failed(
        &mut self,
        ctx: &SessionContext,
        task: B256,
        operator: Address,
        reason: String,
        settled: bool,
    ) {
        if settled
            && let Some(standing) = self.standing(operator)
            && *standing == Standing::Open
        {
            *standing = Standing::Settled;
        }
        match self.reasons.iter_mut().find(|(o, _)| *o == operator) {
            Some((_, known)) if *known == reason => return,
            Some((_, known)) => known.clone_from(&reason),
            None => self.reasons.push((operator, reason.clone())),
        }
        let _ = ctx.updates.send(TaskUpdate::OperatorFailed {
            task,
            operator,
            reason,
            settled,
        });
    }

    /// Announces, once, that no result can reach the threshold with the operators still open.
    fn check(&mut self, ctx: &SessionContext, task: B256, groups: &HashMap<B256, Group>) {
        if self.stalled || !stalled(self.view, &self.standing, groups) {
            return;
        }
        self.stalled = true;
        let reasons: Vec<String> = self
            .reasons
            .iter()
            .map(|(operator, reason)| format!("{operator}: {reason}"))
            .collect();
        warn!(target: "ponos::aggregator", task = %task, reasons = %reasons.join("; "), "no result can reach the threshold now; asking again until the deadline");
        let _ = ctx.updates.send(TaskUpdate::Stalled { task, reasons });
    }
}

/// Whether no result can reach the threshold: neither a result already given nor a new one can
/// gather enough weight from its answers plus every operator still open.
fn stalled(view: &OperatorSetView, standing: &[Standing], groups: &HashMap<B256, Group>) -> bool {
    let mut open = vec![U256::ZERO; view.total_weights.len()];
    for (operator, _) in view
        .operators
        .iter()
        .zip(standing)
        .filter(|(_, s)| **s == Standing::Open)
    {
        for (total, own) in open.iter_mut().zip(&operator.weights) {
            *total += *own;
        }
    }
    let reachable = |weight: &[U256]| {
        let with_open: Vec<U256> = weight.iter().zip(&open).map(|(w, o)| *w + *o).collect();
        meets_threshold(&with_open, &view.total_weights, view.threshold_bps)
    };
    !reachable(&vec![U256::ZERO; open.len()])
        && !groups.values().any(|group| reachable(&group.weight(view)))
}

/// Files `answer` with the others for the same result.
fn add(groups: &mut HashMap<B256, Group>, answer: Answer) {
    groups
        .entry(answer.message_hash)
        .or_insert_with(|| Group {
            output: answer.output.clone(),
            ..Group::default()
        })
        .answers
        .push(answer);
}

/// The certificate, when a result holds the threshold once its BN254 signatures are verified.
async fn settle(
    task: &TaskRecord,
    view: &OperatorSetView,
    groups: &mut HashMap<B256, Group>,
    answered: &mut usize,
) -> Result<Option<Certified>, AggregatorError> {
    for (message_hash, group) in groups.iter_mut() {
        if !meets_threshold(&group.weight(view), &view.total_weights, view.threshold_bps) {
            continue;
        }
        for operator in group.confirm().await {
            *answered -= 1;
            warn!(target: "ponos::aggregator", task = %task.task_hash, %operator, "signature does not verify against the operator's key; answer dropped");
        }
        if meets_threshold(&group.weight(view), &view.total_weights, view.threshold_bps) {
            return certify(task, view, *message_hash, group).map(Some);
        }
    }
    Ok(None)
}

/// Asking one operator, again and again until it answers or collection ends.
struct Ask {
    submission: TaskSubmission,
    operator: Operator,
    task_hash: B256,
    avs: Address,
    set: u32,
    reference_timestamp: u32,
    ecdsa_domain: (Address, String),
    max_result_bytes: usize,
    registrar: Address,
    deadline: Instant,
    /// Failed attempts, as they happen: `(operator, reason, settled)`.
    failures: mpsc::UnboundedSender<(Address, String, bool)>,
}

/// An operator's checked answer with what it sent, or why there is none.
type Asked = (Address, Result<(Answer, OperatorAnswer), String>);

impl Ask {
    async fn run(
        self,
        mut client: ExecutorServiceClient<tonic::transport::Channel>,
        ctx: SessionContext,
    ) -> Asked {
        let address = self.operator.address;
        let mut socket = self.operator.socket.clone();
        let mut attempt = 0;
        loop {
            let started = Instant::now();
            let mut request = tonic::Request::new(self.submission.clone());
            request.set_timeout(
                self.deadline
                    .saturating_duration_since(started)
                    .max(Duration::from_millis(1)),
            );
            let status = match client.clone().submit_task(request).await {
                Ok(response) => {
                    let result = response.into_inner();
                    let raw = OperatorAnswer {
                        operator: address,
                        output: result.output.clone().into(),
                        result_signature: result.result_signature.clone().into(),
                        auth_signature: result.auth_signature.clone().into(),
                    };
                    let checked = check(
                        result,
                        &self.operator,
                        self.task_hash,
                        self.avs,
                        self.set,
                        self.reference_timestamp,
                        &self.ecdsa_domain,
                        self.max_result_bytes,
                    );
                    ctx.metrics
                        .operator_answer(address, started.elapsed(), checked.is_ok());
                    // A checked answer is final: asking again brings the same answer back.
                    return (address, checked.map(|answer| (answer, raw)));
                }
                Err(status) => status,
            };
            ctx.metrics
                .operator_answer(address, started.elapsed(), false);
            let reason = status_reason(&status);
            // Unreachable: the operator may have moved since the view was read (its new socket
            // is on L1 before the view is refreshed); ask at the socket L1 has now.
            if status.code() == tonic::Code::Unavailable
                && let Some(moved) = current_socket(&ctx.l1, self.registrar, address).await
                && moved != socket
                && let Ok(moved_client) = ctx.pool.client(&moved)
            {
                debug!(target: "ponos::aggregator", task = %self.task_hash, operator = %address, socket = %moved, "operator moved; asking at its new socket");
                socket = moved;
                client = moved_client;
                continue;
            }
            let wait = match retry::after_status(status.code()) {
                retry::Retry::Soon => Backoff::OPERATOR.jittered(attempt),
                retry::Retry::AtCap => Backoff::OPERATOR.max,
            };
            attempt += 1;
            if Instant::now() + wait >= self.deadline {
                return (address, Err(reason));
            }
            let _ = self
                .failures
                .send((address, reason.clone(), retry::settles(status.code())));
            debug!(target: "ponos::aggregator", task = %self.task_hash, operator = %address, %reason, retry_in = ?wait, "asking again");
            ctx.metrics.operator_retries.inc();
            tokio::time::sleep(wait).await;
        }
    }
}

/// An executor's status on one line: its code and message, and for a transport failure the
/// causes the message alone hides (a refused connection, an untrusted certificate).
fn status_reason(status: &tonic::Status) -> String {
    let mut reason = format!("{:?}: {}", status.code(), status.message());
    let mut source = std::error::Error::source(status);
    while let Some(cause) = source {
        let line = cause.to_string();
        if !reason.contains(&line) {
            reason = format!("{reason}: {line}");
        }
        source = cause.source();
    }
    reason
}

/// The first stake type's share, in basis points.
fn share_bps(weight: &[U256], total: &[U256]) -> u64 {
    match (weight.first(), total.first()) {
        (Some(w), Some(t)) if !t.is_zero() => {
            (*w * U256::from(BPS_DENOMINATOR) / *t).saturating_to()
        }
        _ => 0,
    }
}

/// The signed submission of `task` for `executor`.
pub fn submission(
    identity: &AggregatorIdentity,
    task: &TaskRecord,
    view: &OperatorSetView,
    executor: Address,
) -> TaskSubmission {
    let message = digest::task_submission_message(
        task.task_hash,
        task.avs,
        executor,
        task.operator_set_id,
        task.reference_timestamp,
        view.l1_block,
        &task.payload,
    );
    let signature = identity.key.sign(keccak256(message));
    TaskSubmission {
        task_id: task.task_hash.to_string(),
        aggregator_address: identity.address.to_string(),
        avs_address: task.avs.to_string().to_lowercase(),
        payload: task.payload.to_vec(),
        signature,
        operator_set_id: task.operator_set_id,
        reference_timestamp: task.reference_timestamp,
        executor_address: executor.to_string(),
        task_block_number: view.l1_block,
        version: MESSAGE_VERSION,
    }
}

/// Checks one answer: it comes from `operator`, is about this task, fits the size limit, and
/// both its signatures verify against the operator's registered key.
#[allow(
    clippy::too_many_arguments,
    reason = "the facts one answer is checked against"
)]
fn check(
    result: TaskResult,
    operator: &Operator,
    task_hash: B256,
    avs: Address,
    set: u32,
    reference_timestamp: u32,
    ecdsa_domain: &(Address, String),
    max_result_bytes: usize,
) -> Result<Answer, String> {
    let from: Address = result.operator_address.parse().map_err(|_| {
        format!(
            "operator_address {:?} is not an address",
            result.operator_address
        )
    })?;
    if from != operator.address {
        return Err(format!(
            "answer names operator {from}, expected {}",
            operator.address
        ));
    }
    let id: B256 = result
        .task_id
        .parse()
        .map_err(|_| format!("task_id {:?} is not a task hash", result.task_id))?;
    if id != task_hash {
        return Err(format!("answer is for task {id}"));
    }
    if result.operator_set_id != set {
        return Err(format!(
            "answer is for operator set {}",
            result.operator_set_id
        ));
    }
    if result.output.len() > max_result_bytes {
        return Err(format!(
            "result of {} bytes exceeds the {max_result_bytes}-byte limit",
            result.output.len()
        ));
    }
    let message_hash = digest::message_hash(task_hash, &Bytes::from(result.output.clone()));
    let auth = keccak256(digest::result_auth_message(
        task_hash,
        avs,
        operator.address,
        set,
        &result.result_signature,
    ));
    let mut bn254_check = None;
    match &operator.key {
        OperatorKey::Bn254(key) => {
            let digest = digest::bn254_certificate_digest(reference_timestamp, message_hash);
            let signature = bn254::Signature::from_bytes(&result.result_signature)
                .map_err(|e| format!("result signature: {e}"))?;
            let auth_signature = bn254::Signature::from_bytes(&result.auth_signature)
                .map_err(|e| format!("auth signature: {e}"))?;
            bn254_check = Some(Bn254Check {
                items: [
                    (signature, bn254::Signed::Certificate(digest), key.g2),
                    (auth_signature, bn254::Signed::Auth(auth), key.g2),
                ],
            });
        }
        OperatorKey::Ecdsa(key) => {
            let (verifier, version) = ecdsa_domain;
            let digest = digest::ecdsa_certificate_digest(
                *verifier,
                version,
                reference_timestamp,
                message_hash,
            );
            let signer = ecdsa::recover(digest, &result.result_signature)
                .map_err(|e| format!("result signature: {e}"))?;
            if signer != *key {
                return Err(format!(
                    "result signed by {signer}, not the operator's key {key}"
                ));
            }
            let signer = ecdsa::recover(auth, &result.auth_signature)
                .map_err(|e| format!("auth signature: {e}"))?;
            if signer != *key {
                return Err(format!(
                    "auth signed by {signer}, not the operator's key {key}"
                ));
            }
        }
    }
    Ok(Answer {
        operator: operator.index,
        address: operator.address,
        output: result.output,
        message_hash,
        signature: result.result_signature,
        bn254: bn254_check,
    })
}

/// The certificate of the winning group.
fn certify(
    task: &TaskRecord,
    view: &OperatorSetView,
    message_hash: B256,
    group: &Group,
) -> Result<Certified, AggregatorError> {
    let failed = |reason: String| AggregatorError::Certificate {
        task: task.task_hash,
        reason,
    };
    let certificate: Bytes = match &view.bn254_table {
        Some(table) => {
            let signatures = group
                .answers
                .iter()
                .map(|a| {
                    bn254::Signature::from_bytes(&a.signature)
                        .map(|s| (a.operator, s))
                        .map_err(|e| failed(e.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            build_bn254_certificate(table, view.reference_timestamp, message_hash, &signatures)
                .map_err(|e| failed(e.to_string()))?
                .encode()
        }
        None => {
            let signatures = group
                .answers
                .iter()
                .map(|a| {
                    let key = match &view.operators[a.operator].key {
                        OperatorKey::Ecdsa(key) => *key,
                        OperatorKey::Bn254(_) => unreachable!("an ECDSA set"),
                    };
                    <[u8; 65]>::try_from(a.signature.as_slice())
                        .map(|s| (key, s))
                        .map_err(|_| failed(format!("signature of {} bytes", a.signature.len())))
                })
                .collect::<Result<Vec<_>, _>>()?;
            build_ecdsa_certificate(view.reference_timestamp, message_hash, &signatures)
                .map_err(|e| failed(e.to_string()))?
                .abi_encode()
                .into()
        }
    };
    Ok(Certified {
        certificate,
        result: group.output.clone().into(),
        signers: group.answers.len(),
        non_signers: view.operators.len() - group.answers.len(),
    })
}

#[cfg(test)]
mod tests {
    use alloy::primitives::Bytes;
    use ponos_crypto::{digest, ecdsa};
    use ponos_store::TaskStatus;

    use super::*;
    use crate::view::Curve;
    use ponos_crypto::types::ECDSACertificate;

    fn task() -> TaskRecord {
        TaskRecord {
            task_hash: keccak256("task"),
            chain_id: 31337,
            mailbox: Address::repeat_byte(0x01),
            avs: Address::repeat_byte(0xa5),
            operator_set_id: 1,
            reference_timestamp: 1_700_000_000,
            payload: Bytes::from_static(b"7"),
            block_number: 10,
            block_hash: B256::ZERO,
            block_timestamp: 1_700_000_001,
            deadline: 1_700_000_120,
            status: TaskStatus::Pending,
            seen_at_ms: 0,
            updated_at_ms: 0,
            tx_hash: None,
            error: None,
            certificate: None,
            result: None,
            answers: Vec::new(),
            submissions: Vec::new(),
        }
    }

    fn view() -> OperatorSetView {
        OperatorSetView {
            avs: Address::repeat_byte(0xa5),
            set: 1,
            reference_timestamp: 1_700_000_000,
            l1_block: 42,
            curve: Curve::Bn254,
            threshold_bps: 6_000,
            operators: Vec::new(),
            total_weights: Vec::new(),
            bn254_table: None,
            ecdsa_domain: (Address::ZERO, String::new()),
            registrar: Address::ZERO,
        }
    }

    /// An ECDSA set of operators with these weights (one stake type), 60% to certify.
    fn ecdsa_view(weights: &[u64]) -> (OperatorSetView, Vec<ecdsa::SecretKey>) {
        let keys: Vec<_> = (0..weights.len())
            .map(|i| ecdsa::SecretKey::from_bytes(&[i as u8 + 1; 32]).unwrap())
            .collect();
        let operators = keys
            .iter()
            .zip(weights)
            .enumerate()
            .map(|(index, (key, weight))| Operator {
                index,
                address: key.address(),
                socket: format!("127.0.0.1:{}", 9000 + index),
                key: OperatorKey::Ecdsa(key.address()),
                weights: vec![U256::from(*weight)],
            })
            .collect();
        let view = OperatorSetView {
            curve: Curve::Ecdsa,
            operators,
            total_weights: vec![U256::from(weights.iter().sum::<u64>())],
            ..view()
        };
        (view, keys)
    }

    /// Operator `operator`'s answer `output`, signed over its message hash.
    fn answer(keys: &[ecdsa::SecretKey], operator: usize, output: &[u8]) -> Answer {
        let message_hash = keccak256(output);
        Answer {
            operator,
            address: keys[operator].address(),
            output: output.to_vec(),
            message_hash,
            signature: keys[operator].sign(message_hash).unwrap().to_vec(),
            bn254: None,
        }
    }

    #[tokio::test]
    async fn answers_are_grouped_by_result_and_the_first_to_hold_the_threshold_is_certified() {
        let (view, keys) = ecdsa_view(&[1, 1, 1, 1, 1]);
        let mut groups = HashMap::new();
        let mut answered = 0;
        // 2 of 5 say 49, 2 say 50: 40% each, no certificate.
        for (operator, output) in [(0, b"49"), (1, b"50"), (2, b"49"), (3, b"50")] {
            add(&mut groups, answer(&keys, operator, output));
            answered += 1;
            let settled = settle(&task(), &view, &mut groups, &mut answered).await;
            assert!(settled.unwrap().is_none(), "after operator {operator}");
        }
        assert_eq!(groups.len(), 2);
        // The fifth says 50: 60% for 50, which is certified with its three signers only.
        add(&mut groups, answer(&keys, 4, b"50"));
        let certified = settle(&task(), &view, &mut groups, &mut answered)
            .await
            .unwrap()
            .expect("60% reached");
        assert_eq!(certified.result.as_ref(), b"50");
        assert_eq!((certified.signers, certified.non_signers), (3, 2));
        let certificate = ECDSACertificate::abi_decode(&certified.certificate).unwrap();
        assert_eq!(certificate.messageHash, keccak256(b"50"));
        // Each signature once, in ascending order of the signer's address, none of the 49s.
        let mut signers: Vec<Address> = certificate
            .sig
            .chunks(65)
            .map(|sig| ecdsa::recover(certificate.messageHash, sig).unwrap())
            .collect();
        let mut expected: Vec<Address> = [1, 3, 4].iter().map(|&i| keys[i].address()).collect();
        expected.sort();
        assert_eq!(signers, expected);
        signers.dedup();
        assert_eq!(signers.len(), 3);
    }

    #[tokio::test]
    async fn the_threshold_counts_stake_not_heads() {
        let (view, keys) = ecdsa_view(&[70, 10, 10, 10]);
        let mut answered = 0;
        // Three small operators agree (30%): not enough.
        let mut groups = HashMap::new();
        for operator in 1..4 {
            add(&mut groups, answer(&keys, operator, b"x"));
        }
        assert!(
            settle(&task(), &view, &mut groups, &mut answered)
                .await
                .unwrap()
                .is_none()
        );
        // The large one alone (70%) is.
        let mut groups = HashMap::new();
        add(&mut groups, answer(&keys, 0, b"y"));
        let certified = settle(&task(), &view, &mut groups, &mut answered)
            .await
            .unwrap()
            .expect("70% reached");
        assert_eq!((certified.signers, certified.non_signers), (1, 3));
        assert_eq!(share_bps(&[U256::from(70)], &view.total_weights), 7_000);
        assert_eq!(share_bps(&[U256::from(1)], &[U256::ZERO]), 0);
    }

    #[test]
    fn a_task_stalls_only_when_no_result_can_still_reach_the_threshold() {
        let (view, keys) = ecdsa_view(&[1, 1, 1, 1, 1]);
        let mut groups = HashMap::new();
        let mut standing = vec![Standing::Open; 5];
        assert!(!stalled(&view, &standing, &groups));
        // Two settled against it: the other three (60%) can still agree.
        standing[0] = Standing::Settled;
        standing[1] = Standing::Settled;
        assert!(!stalled(&view, &standing, &groups));
        // Two disagree among the three: neither result can reach 60%.
        add(&mut groups, answer(&keys, 2, b"a"));
        add(&mut groups, answer(&keys, 3, b"b"));
        standing[2] = Standing::Answered;
        standing[3] = Standing::Answered;
        assert!(stalled(&view, &standing, &groups));
        // Had the first two only been slow (still open), "a" could still win.
        standing[0] = Standing::Open;
        assert!(!stalled(&view, &standing, &groups));
    }

    /// The executor checks `signature` over keccak256 of the 224-byte submission message, with
    /// the key registered for the aggregator set: BN254 keys sign with the RFC 9380 hash, as
    /// Hourglass's aggregator does, ECDSA keys as before.
    #[test]
    fn submissions_are_signed_with_the_aggregator_sets_curve() {
        let executor = Address::repeat_byte(0x0b);
        let message = digest::task_submission_message(
            task().task_hash,
            task().avs,
            executor,
            1,
            1_700_000_000,
            42,
            b"7",
        );
        let signed = keccak256(message);

        let bls = bn254::SecretKey::from_seed(b"bn254 aggregator").unwrap();
        let identity = AggregatorIdentity {
            address: Address::repeat_byte(0xa6),
            key: AggregatorSigner::Bn254(bls.clone()),
        };
        let sent = submission(&identity, &task(), &view(), executor);
        assert_eq!(sent.task_block_number, 42);
        let signature = bn254::Signature::from_bytes(&sent.signature).unwrap();
        assert!(signature.verify_auth(signed, &bls.public_key()));
        assert!(!signature.verify(signed, &bls.public_key()));

        let key = ecdsa::SecretKey::from_bytes(&[0xa6; 32]).unwrap();
        let identity = AggregatorIdentity {
            address: Address::repeat_byte(0xa6),
            key: AggregatorSigner::Ecdsa(key.clone()),
        };
        let sent = submission(&identity, &task(), &view(), executor);
        assert_eq!(
            ecdsa::recover(signed, &sent.signature).unwrap(),
            key.address()
        );
    }
}
