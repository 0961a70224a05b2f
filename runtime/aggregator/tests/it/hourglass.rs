//! An executor that answers the way Hourglass's executor does, written from its wire format
//! rather than with Ponos's executor: the result signature over EigenLayer's BN254 certificate
//! digest (try-and-increment), and the auth signature as crypto-libs `SignMessage` makes it,
//! over the 160 bytes `taskId ‖ pad32(avs) ‖ pad32(operator) ‖ pad32(operatorSetId) ‖
//! keccak256(resultSignature)`, hashed with keccak256 and then to G1 with RFC 9380.

use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use ponos_crypto::digest;
use ponos_devnet::OperatorKey;
use ponos_proto::hourglass::{
    TaskResult, TaskSubmission,
    executor_service_server::{ExecutorService, ExecutorServiceServer},
};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{Request, Response, Status};

pub(crate) struct HourglassExecutor {
    pub(crate) operator: Address,
    pub(crate) key: OperatorKey,
    /// Hash the auth message with the certificate hash instead (what Hourglass would refuse).
    pub(crate) certificate_hash_auth: bool,
}

impl HourglassExecutor {
    pub(crate) async fn serve(self, listener: TcpListener) {
        let _ = tonic::transport::Server::builder()
            .add_service(ExecutorServiceServer::new(self))
            .serve_with_incoming(TcpListenerStream::new(listener))
            .await;
    }
}

fn pad32(bytes: &[u8]) -> [u8; 32] {
    let mut word = [0u8; 32];
    word[32 - bytes.len()..].copy_from_slice(bytes);
    word
}

#[tonic::async_trait]
impl ExecutorService for HourglassExecutor {
    async fn submit_task(
        &self,
        request: Request<TaskSubmission>,
    ) -> Result<Response<TaskResult>, Status> {
        let submission = request.into_inner();
        let OperatorKey::Bn254(key) = &self.key else {
            return Err(Status::unimplemented("this test executor signs with BN254"));
        };
        let task: B256 = submission
            .task_id
            .parse()
            .map_err(|_| Status::invalid_argument("task_id"))?;
        let avs: Address = submission
            .avs_address
            .parse()
            .map_err(|_| Status::invalid_argument("avs_address"))?;
        let n: u128 = String::from_utf8_lossy(&submission.payload)
            .parse()
            .map_err(|_| Status::invalid_argument("a decimal number expected"))?;
        let output = (n * n).to_string().into_bytes();

        let message_hash = digest::message_hash(task, &Bytes::from(output.clone()));
        let certificate_digest =
            digest::bn254_certificate_digest(submission.reference_timestamp, message_hash);
        let result_signature = key.sign(certificate_digest).to_bytes().to_vec();

        let mut auth = Vec::with_capacity(160);
        auth.extend_from_slice(task.as_slice());
        auth.extend_from_slice(&pad32(avs.as_slice()));
        auth.extend_from_slice(&pad32(self.operator.as_slice()));
        auth.extend_from_slice(&U256::from(submission.operator_set_id).to_be_bytes::<32>());
        auth.extend_from_slice(keccak256(&result_signature).as_slice());
        let auth_digest = keccak256(&auth);
        let auth_signature = if self.certificate_hash_auth {
            key.sign(auth_digest)
        } else {
            key.sign_auth(auth_digest)
        };
        Ok(Response::new(TaskResult {
            task_id: submission.task_id,
            operator_address: self.operator.to_string(),
            output,
            result_signature,
            avs_address: submission.avs_address,
            operator_set_id: submission.operator_set_id,
            auth_signature: auth_signature.to_bytes().to_vec(),
            version: submission.version,
        }))
    }
}
