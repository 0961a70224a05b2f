//! The `ponos-executor` binary, run as an operator runs it: real config file, real keystores,
//! a real performer process, real gRPC and HTTP on loopback, SIGTERM to stop. The aggregator
//! binary's test is in `aggregator.rs`.

mod aggregator;
mod hardening;
mod hgctl;
mod hourglass_yaml;

use std::{
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use alloy_primitives::{Address, Bytes, keccak256};
use ponos_crypto::{
    bn254, digest, ecdsa,
    keystore::{Eip2335Keystore, Kdf, Web3Keystore},
};
use ponos_proto::{
    health::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    },
    hourglass::{TaskSubmission, executor_service_client::ExecutorServiceClient},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tonic::transport::Channel;

const AVS: Address = Address::repeat_byte(0xa5);
const OPERATOR: Address = Address::repeat_byte(0x0b);

fn port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await.ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    Some((status, body))
}

/// Writes `key` as an EIP-2335 keystore at `path` (a fast KDF: tests only).
pub(crate) fn write_bn254_keystore(path: &Path, key: &bn254::SecretKey, password: &str) {
    let keystore = Eip2335Keystore::encrypt_bn254(
        key,
        password,
        &Kdf::Pbkdf2 { c: 1000 },
        &mut rand::thread_rng(),
    )
    .unwrap();
    std::fs::write(path, serde_json::to_string(&keystore).unwrap()).unwrap();
}

/// Writes `key` as a Web3 (v3) keystore at `path` (a fast KDF: tests only).
pub(crate) fn write_ecdsa_keystore(path: &Path, key: &ecdsa::SecretKey, password: &str) {
    let keystore = Web3Keystore::encrypt(
        key,
        password,
        &Kdf::Pbkdf2 { c: 1000 },
        &mut rand::thread_rng(),
    )
    .unwrap();
    std::fs::write(path, serde_json::to_string(&keystore).unwrap()).unwrap();
}

/// A binary under test, killed when the test ends however it ends (a failed assertion must
/// not leave it running).
pub(crate) struct Reaped(pub(crate) std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl std::ops::Deref for Reaped {
    type Target = std::process::Child;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Reaped {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

/// Waits until `child` answers 200 on `/readyz` at `http`, failing if it exits or `within`
/// passes first.
pub(crate) async fn wait_ready(child: &mut std::process::Child, http: u16, within: Duration) {
    let start = Instant::now();
    loop {
        if let Some((200, _)) = http_get(http, "/readyz").await {
            return;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the binary exited during start-up"
        );
        assert!(start.elapsed() < within, "not ready within {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sends SIGTERM to `child` and waits (at most `within`) for it to exit.
pub(crate) async fn stop_with_sigterm(
    child: &mut std::process::Child,
    within: Duration,
) -> std::process::ExitStatus {
    Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            start.elapsed() < within,
            "no orderly exit within {within:?} of SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn square_binary() -> std::path::PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    ponos_executor::docker::build_static_binary(
        &workspace,
        "square-performer",
        &workspace.join("target/performer"),
    )
    .await
    .expect("the example performer builds")
}

#[tokio::test(flavor = "multi_thread")]
async fn executor_binary_serves_signed_tasks_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let bls = bn254::SecretKey::from_seed(b"binary test operator").unwrap();
    write_bn254_keystore(&dir.path().join("bn254.json"), &bls, "bls-pw");
    let ec = ecdsa::SecretKey::from_bytes(&[0x0e; 32]).unwrap();
    write_ecdsa_keystore(&dir.path().join("ecdsa.json"), &ec, "ec-pw");
    let aggregator = ecdsa::SecretKey::from_bytes(&[0xa1; 32]).unwrap();

    let (grpc, management, http) = (port(), port(), port());
    let config = format!(
        r#"
[operator]
address = "{OPERATOR}"
management_address = "{management_key}"
[operator.bn254]
keystore = "{dir}/bn254.json"
password_env = "TEST_BN254_PASSWORD"
[operator.ecdsa]
keystore = "{dir}/ecdsa.json"
password_env = "TEST_ECDSA_PASSWORD"
[server]
grpc_addr = "127.0.0.1:{grpc}"
management_addr = "127.0.0.1:{management}"
http_addr = "127.0.0.1:{http}"
[store]
path = "{dir}/data/executor.redb"
[[avs]]
address = "{AVS}"
curve = "bn254"
operator_set_ids = [1]
aggregator_ecdsa_address = "{aggregator_address}"
[avs.performer]
runtime = "process"
binary = "{binary}"
"#,
        management_key = Address::repeat_byte(0xad),
        dir = dir.path().display(),
        aggregator_address = aggregator.address(),
        binary = square_binary().await.display(),
    );
    let config_path = dir.path().join("executor.toml");
    std::fs::write(&config_path, config).unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_ponos-executor"))
        .arg("--config")
        .arg(&config_path)
        .env("TEST_BN254_PASSWORD", "bls-pw")
        .env("TEST_ECDSA_PASSWORD", "ec-pw")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();

    // Ready within a bound, checked the way an orchestrator would: /readyz.
    wait_ready(&mut child, http, Duration::from_secs(60)).await;
    assert_eq!(http_get(http, "/healthz").await.unwrap().0, 200);

    let channel = Channel::from_shared(format!("http://127.0.0.1:{grpc}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let status = HealthClient::new(channel.clone())
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .status;
    assert_eq!(status, ServingStatus::Serving as i32);

    let task = keccak256("binary task");
    let message = digest::task_submission_message(task, AVS, OPERATOR, 1, 1_700_000_000, 7, b"11");
    let submission = TaskSubmission {
        task_id: task.to_string(),
        aggregator_address: aggregator.address().to_string(),
        avs_address: AVS.to_string(),
        payload: b"11".to_vec(),
        signature: aggregator.sign(keccak256(message)).unwrap().to_vec(),
        operator_set_id: 1,
        reference_timestamp: 1_700_000_000,
        executor_address: OPERATOR.to_string(),
        task_block_number: 7,
        version: 1,
    };
    let mut client = ExecutorServiceClient::new(channel);
    let result = client
        .submit_task(submission.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(result.output, b"121");
    let message_hash = digest::message_hash(task, &Bytes::from(result.output.clone()));
    let signature = bn254::Signature::from_bytes(&result.result_signature).unwrap();
    assert!(signature.verify(
        digest::bn254_certificate_digest(1_700_000_000, message_hash),
        &bls.public_key()
    ));
    let retry = client
        .submit_task(submission.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(retry, result, "a retry gets the same answer");
    // Another payload under the spent task id is refused.
    let mut other = submission;
    other.payload = b"12".to_vec();
    let message = digest::task_submission_message(task, AVS, OPERATOR, 1, 1_700_000_000, 7, b"12");
    other.signature = aggregator.sign(keccak256(message)).unwrap().to_vec();
    let refused = client.submit_task(other).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::AlreadyExists, "{refused:?}");

    let (_, metrics) = http_get(http, "/metrics").await.unwrap();
    let avs = format!("{AVS:#x}");
    for (series, expected) in [
        ("ponos_executor_tasks_completed_total".to_string(), 2.0),
        ("ponos_executor_tasks_refused_total".to_string(), 1.0),
        (
            format!("ponos_executor_avs_tasks_total{{avs=\"{avs}\",outcome=\"completed\"}}"),
            2.0,
        ),
        (
            format!("ponos_executor_avs_tasks_total{{avs=\"{avs}\",outcome=\"refused\"}}"),
            1.0,
        ),
        (
            format!("ponos_executor_task_duration_seconds_count{{avs=\"{avs}\"}}"),
            2.0,
        ),
    ] {
        assert_eq!(
            ponos_metrics::value(&metrics, &series),
            Some(expected),
            "{series} in {metrics}"
        );
    }

    let exit = stop_with_sigterm(&mut child, Duration::from_secs(30)).await;
    assert!(exit.success(), "clean exit on SIGTERM: {exit}");
}

#[test]
fn check_names_what_is_wrong_in_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    let example = include_str!("../../../../docs/executor.example.toml");
    std::fs::write(&path, example).unwrap();
    let ok = Command::new(env!("CARGO_BIN_EXE_ponos-executor"))
        .arg("--config")
        .arg(&path)
        .arg("--check")
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    std::fs::write(
        &path,
        example.replace("curve = \"ecdsa\"", "curve = \"ed25519\""),
    )
    .unwrap();
    let bad = Command::new(env!("CARGO_BIN_EXE_ponos-executor"))
        .arg("--config")
        .arg(&path)
        .arg("--check")
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("ed25519") && stderr.contains("bad.toml"),
        "{stderr}"
    );
}
