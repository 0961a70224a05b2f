//! `SubmitTask` over real gRPC: genuine tasks run and come back signed; anything else is refused
//! with a clear status and never reaches the performer.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use ponos_crypto::{bn254, digest, ecdsa};
use ponos_executor::{
    in_process::InProcessPerformer,
    keys::{AggregatorKey, SigningKey, StaticChainView},
    performer::PerformerClient,
    service::{AvsEntry, AvsRegistry, Executor, Limits, PerformerHandle, ResultSigning},
};
use ponos_performer::{Performer, PerformerError, Task};
use ponos_proto::hourglass::{
    TaskSubmission, executor_service_client::ExecutorServiceClient,
    executor_service_server::ExecutorServiceServer,
};
use ponos_store::{ExecutorStore, MemoryStore, RedbStore};
use tokio::{net::TcpListener, sync::oneshot};
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{Code, transport::Channel};

const BN_AVS: Address = Address::repeat_byte(0xb1);
const EC_AVS: Address = Address::repeat_byte(0xe1);
/// An AVS whose aggregator signs with a BN254 key, as a Hourglass aggregator may.
const HG_AVS: Address = Address::repeat_byte(0x4a);
const HG_AGGREGATOR: Address = Address::repeat_byte(0x4b);
const OPERATOR: Address = Address::repeat_byte(0x0b);
const VERIFIER: Address = Address::repeat_byte(0x7e);

/// Doubles each byte of the payload and counts the tasks it ran.
#[derive(Clone, Default)]
struct Doubler {
    runs: Arc<AtomicUsize>,
}

impl Performer for Doubler {
    async fn handle_task(&self, task: Task) -> Result<Vec<u8>, PerformerError> {
        let run = self.runs.fetch_add(1, Ordering::SeqCst);
        if task.payload == b"flaky" && run == 0 {
            return Err(PerformerError::Failed("the first run fails".into()));
        }
        Ok(task.payload.iter().map(|b| b.wrapping_mul(2)).collect())
    }
}

fn aggregator() -> ecdsa::SecretKey {
    ecdsa::SecretKey::from_bytes(&[0xa1; 32]).unwrap()
}
fn bn254_aggregator() -> bn254::SecretKey {
    bn254::SecretKey::from_seed(b"hourglass aggregator bn254").unwrap()
}
fn operator_bn254() -> bn254::SecretKey {
    bn254::SecretKey::from_seed(b"operator bn254").unwrap()
}
fn operator_ecdsa() -> ecdsa::SecretKey {
    ecdsa::SecretKey::from_bytes(&[0x0e; 32]).unwrap()
}

struct Running {
    client: ExecutorServiceClient<Channel>,
    runs: Arc<AtomicUsize>,
    stop: oneshot::Sender<()>,
    server: tokio::task::JoinHandle<()>,
    _performer: InProcessPerformer,
}

async fn start<S: ExecutorStore>(store: S) -> Running {
    let doubler = Doubler::default();
    let runs = doubler.runs.clone();
    let performer = InProcessPerformer::start(doubler).await.unwrap();
    let client = PerformerClient::connect(performer.port(), Duration::from_secs(10))
        .await
        .unwrap();
    let chain = StaticChainView::default()
        .with_aggregator(BN_AVS, AggregatorKey::Ecdsa(aggregator().address()))
        .with_aggregator(EC_AVS, AggregatorKey::Ecdsa(aggregator().address()))
        .with_aggregator(
            HG_AVS,
            AggregatorKey::Bn254(bn254_aggregator().public_key()),
        )
        .with_member(HG_AVS, 1, OPERATOR)
        .with_member(BN_AVS, 1, OPERATOR)
        .with_member(EC_AVS, 1, OPERATOR);
    let limits = Limits {
        max_payload: 1 << 20,
        ..Limits::default()
    };
    let avss = AvsRegistry::default();
    avss.insert(
        BN_AVS,
        AvsEntry {
            performer: Some(PerformerHandle::Direct(Box::new(client.clone()))),
            signing: Arc::new(ResultSigning::Bn254(SigningKey::Bn254(operator_bn254()))),
        },
    );
    avss.insert(
        HG_AVS,
        AvsEntry {
            performer: Some(PerformerHandle::Direct(Box::new(client.clone()))),
            signing: Arc::new(ResultSigning::Bn254(SigningKey::Bn254(operator_bn254()))),
        },
    );
    avss.insert(
        EC_AVS,
        AvsEntry {
            performer: Some(PerformerHandle::Direct(Box::new(client))),
            signing: Arc::new(ResultSigning::Ecdsa {
                key: SigningKey::Ecdsa(operator_ecdsa()),
                verifier: VERIFIER,
                version: "1.8.1".into(),
            }),
        },
    );

    let executor = Executor::new(OPERATOR, avss, Arc::new(store), Arc::new(chain), limits);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(ExecutorServiceServer::new(executor))
            .serve_with_incoming_shutdown(TcpListenerStream::new(listener), async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    Running {
        client: ExecutorServiceClient::new(channel),
        runs,
        stop,
        server,
        _performer: performer,
    }
}

/// A submission for `avs` signed by the aggregator key.
fn submission(avs: Address, task: B256, payload: &[u8]) -> TaskSubmission {
    let message =
        digest::task_submission_message(task, avs, OPERATOR, 1, 1_700_000_000, 42, payload);
    TaskSubmission {
        task_id: task.to_string(),
        aggregator_address: aggregator().address().to_string(),
        avs_address: avs.to_string(),
        payload: payload.to_vec(),
        signature: aggregator().sign(keccak256(message)).unwrap().to_vec(),
        operator_set_id: 1,
        reference_timestamp: 1_700_000_000,
        executor_address: OPERATOR.to_string(),
        task_block_number: 42,
        version: 1,
    }
}

fn word(value: u64) -> [u8; 32] {
    U256::from(value).to_be_bytes()
}

fn padded(address: Address) -> [u8; 32] {
    let mut word = [0u8; 32];
    word[12..].copy_from_slice(address.as_slice());
    word
}

/// A submission as Hourglass's aggregator builds it, laid out by hand from its wire format:
/// `SignMessage` over the 224 bytes taskId ‖ pad32(avs) ‖ pad32(executor) ‖
/// pad32(operatorSetId) ‖ pad32(referenceTimestamp) ‖ pad32(taskBlockNumber) ‖
/// keccak256(payload), i.e. keccak256 and then (BN254) RFC 9380 hash to G1 or (ECDSA) a
/// 65-byte secp256k1 signature.
fn hourglass_submission(avs: Address, task: B256, payload: &[u8]) -> TaskSubmission {
    let message = [
        task.0,
        padded(avs),
        padded(OPERATOR),
        word(1),
        word(1_700_000_000),
        word(42),
        keccak256(payload).0,
    ]
    .concat();
    let digest = keccak256(&message);
    let (aggregator_address, signature) = if avs == HG_AVS {
        let signature = bn254_aggregator().sign_auth(digest);
        (HG_AGGREGATOR, signature.to_bytes().to_vec())
    } else {
        let signature = aggregator().sign(digest).unwrap();
        (aggregator().address(), signature.to_vec())
    };
    TaskSubmission {
        task_id: task.to_string(),
        aggregator_address: aggregator_address.to_string(),
        avs_address: format!("{avs:#x}"),
        payload: payload.to_vec(),
        signature,
        operator_set_id: 1,
        reference_timestamp: 1_700_000_000,
        executor_address: OPERATOR.to_string(),
        task_block_number: 42,
        version: 1,
    }
}

/// Submissions signed as Hourglass's aggregator signs them, with a BN254 or an ECDSA key, are
/// answered; the answer's signatures verify under Hourglass's rules (certificate hash for the
/// result, RFC 9380 for the auth signature). A BN254 submission signed with the certificate
/// hash instead is refused.
#[tokio::test(flavor = "multi_thread")]
async fn submissions_signed_as_hourglass_signs_them_are_answered() {
    let mut running = start(MemoryStore::default()).await;
    for (avs, name) in [(HG_AVS, "bn254 aggregator"), (BN_AVS, "ecdsa aggregator")] {
        let task = keccak256(name);
        let result = running
            .client
            .submit_task(hourglass_submission(avs, task, &[4, 5]))
            .await
            .unwrap_or_else(|status| panic!("{name}: {status:?}"))
            .into_inner();
        assert_eq!(result.output, [8, 10], "{name}");
        let key = operator_bn254().public_key();
        let message_hash = digest::message_hash(task, &Bytes::from(result.output.clone()));
        let signature = bn254::Signature::from_bytes(&result.result_signature).unwrap();
        assert!(signature.verify(
            digest::bn254_certificate_digest(1_700_000_000, message_hash),
            &key
        ));
        let auth = [
            task.0,
            padded(avs),
            padded(OPERATOR),
            word(1),
            keccak256(&result.result_signature).0,
        ]
        .concat();
        let auth_signature = bn254::Signature::from_bytes(&result.auth_signature).unwrap();
        assert!(auth_signature.verify_auth(keccak256(auth), &key), "{name}");
    }

    let task = keccak256("bn254 aggregator, certificate hash");
    let mut misheard = hourglass_submission(HG_AVS, task, &[1]);
    let message =
        digest::task_submission_message(task, HG_AVS, OPERATOR, 1, 1_700_000_000, 42, &[1]);
    misheard.signature = bn254_aggregator()
        .sign(keccak256(message))
        .to_bytes()
        .to_vec();
    let status = running.client.submit_task(misheard).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert!(status.message().contains("does not verify"), "{status:?}");
    let _ = running.stop.send(());
}

#[tokio::test(flavor = "multi_thread")]
async fn signed_results_verify_against_the_operator_keys() {
    let mut running = start(MemoryStore::default()).await;

    let task = keccak256("bn254 task");
    let result = running
        .client
        .submit_task(submission(BN_AVS, task, &[1, 2, 3]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(result.output, [2, 4, 6]);
    assert_eq!(result.task_id, task.to_string());
    let message_hash = digest::message_hash(task, &Bytes::from(result.output.clone()));
    let signature = bn254::Signature::from_bytes(&result.result_signature).unwrap();
    let key = operator_bn254().public_key();
    assert!(signature.verify(
        digest::bn254_certificate_digest(1_700_000_000, message_hash),
        &key
    ));
    let auth = digest::result_auth_message(task, BN_AVS, OPERATOR, 1, &result.result_signature);
    // The auth signature uses Hourglass's RFC 9380 hash to G1, not the certificate one.
    let auth_signature = bn254::Signature::from_bytes(&result.auth_signature).unwrap();
    assert!(auth_signature.verify_auth(keccak256(auth), &key));
    assert!(!auth_signature.verify(keccak256(auth), &key));

    let task = keccak256("ecdsa task");
    let result = running
        .client
        .submit_task(submission(EC_AVS, task, &[5]))
        .await
        .unwrap()
        .into_inner();
    let message_hash = digest::message_hash(task, &Bytes::from(result.output.clone()));
    let certificate_digest =
        digest::ecdsa_certificate_digest(VERIFIER, "1.8.1", 1_700_000_000, message_hash);
    assert_eq!(
        ecdsa::recover(certificate_digest, &result.result_signature).unwrap(),
        operator_ecdsa().address()
    );
    let auth = digest::result_auth_message(task, EC_AVS, OPERATOR, 1, &result.result_signature);
    assert_eq!(
        ecdsa::recover(keccak256(auth), &result.auth_signature).unwrap(),
        operator_ecdsa().address()
    );
    assert_eq!(running.runs.load(Ordering::SeqCst), 2);
    let _ = running.stop.send(());
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_are_refused_before_the_performer() {
    let mut running = start(MemoryStore::default()).await;
    let task = keccak256("bad");

    let mut forged = submission(BN_AVS, task, b"x");
    forged.signature = ecdsa::SecretKey::from_bytes(&[0x66; 32])
        .unwrap()
        .sign(B256::ZERO)
        .unwrap()
        .to_vec();
    let mut other_operator = submission(BN_AVS, task, b"x");
    other_operator.executor_address = Address::repeat_byte(0x99).to_string();
    let mut malformed = submission(BN_AVS, task, b"x");
    malformed.task_id = "0x1234".into();
    let oversized = submission(BN_AVS, task, &vec![7u8; (1 << 20) + 1]);
    let mut tampered = submission(BN_AVS, task, b"x");
    tampered.payload = b"y".to_vec();
    let unknown_avs = submission(Address::repeat_byte(0x55), task, b"x");

    for (request, code, needle) in [
        (forged, Code::Unauthenticated, "aggregator key"),
        (other_operator, Code::PermissionDenied, "addressed to"),
        (malformed, Code::InvalidArgument, "64 hex digits"),
        (
            oversized,
            Code::InvalidArgument,
            "exceeds the 1048576-byte limit",
        ),
        (tampered, Code::Unauthenticated, "aggregator key"),
        (unknown_avs, Code::NotFound, "no performer"),
    ] {
        let status = running.client.submit_task(request).await.unwrap_err();
        assert_eq!(status.code(), code, "{}", status.message());
        assert!(status.message().contains(needle), "{}", status.message());
    }
    assert_eq!(
        running.runs.load(Ordering::SeqCst),
        0,
        "nothing reached the performer"
    );
    let _ = running.stop.send(());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retried_task_gets_the_same_answer_also_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("executor.redb");
    let task = keccak256("once");

    let mut running = start(RedbStore::open(&path).unwrap()).await;
    let first = running
        .client
        .submit_task(submission(BN_AVS, task, b"a"))
        .await
        .unwrap()
        .into_inner();
    let retry = running
        .client
        .submit_task(submission(BN_AVS, task, b"a"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(retry, first, "a retry gets the stored answer");
    assert_eq!(
        running.runs.load(Ordering::SeqCst),
        1,
        "the performer ran once"
    );
    let _ = running.stop.send(());
    running.server.await.unwrap();

    let mut restarted = start(RedbStore::open(&path).unwrap()).await;
    let retry = restarted
        .client
        .submit_task(submission(BN_AVS, task, b"a"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        prost::Message::encode_to_vec(&retry),
        prost::Message::encode_to_vec(&first),
        "the same bytes after a restart"
    );
    assert_eq!(restarted.runs.load(Ordering::SeqCst), 0, "and no new run");

    // Another request under the spent id is refused, whatever differs.
    let mut other_reference = submission(BN_AVS, task, b"a");
    other_reference.reference_timestamp += 1;
    let mut other_set = submission(BN_AVS, task, b"a");
    other_set.operator_set_id = 2;
    for (request, what) in [
        (submission(BN_AVS, task, b"b"), "payload"),
        (resign(other_reference), "reference timestamp"),
        (resign(other_set), "operator set"),
    ] {
        let status = restarted.client.submit_task(request).await.unwrap_err();
        assert!(
            matches!(status.code(), Code::AlreadyExists | Code::PermissionDenied),
            "{what}: {status:?}"
        );
    }
    let status = restarted
        .client
        .submit_task(submission(BN_AVS, task, b"b"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    assert!(
        status.message().contains("other content"),
        "{}",
        status.message()
    );
    assert_eq!(restarted.runs.load(Ordering::SeqCst), 0);
    let _ = restarted.stop.send(());
}

/// Signs `request` again after a field changed.
fn resign(mut request: TaskSubmission) -> TaskSubmission {
    let message = digest::task_submission_message(
        request.task_id.parse().unwrap(),
        request.avs_address.parse().unwrap(),
        OPERATOR,
        request.operator_set_id,
        request.reference_timestamp,
        request.task_block_number,
        &request.payload,
    );
    request.signature = aggregator().sign(keccak256(message)).unwrap().to_vec();
    request
}

#[tokio::test(flavor = "multi_thread")]
async fn a_task_that_produced_no_result_may_be_asked_again() {
    let mut running = start(MemoryStore::default()).await;
    let task = keccak256("flaky");
    let failed = running
        .client
        .submit_task(submission(BN_AVS, task, b"flaky"))
        .await
        .unwrap_err();
    assert_eq!(failed.code(), Code::Internal, "{}", failed.message());
    // No signed result left the executor: the aggregator's retry runs the task.
    let result = running
        .client
        .submit_task(submission(BN_AVS, task, b"flaky"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        result.output,
        b"flaky"
            .iter()
            .map(|b| b.wrapping_mul(2))
            .collect::<Vec<_>>()
    );
    // Once a result has left, a retry gets it back without a new run.
    let replay = running
        .client
        .submit_task(submission(BN_AVS, task, b"flaky"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(replay, result);
    assert_eq!(running.runs.load(Ordering::SeqCst), 2);
    let _ = running.stop.send(());
}
