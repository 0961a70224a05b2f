//! What the binaries let out: an API key in an RPC URL reaches no log line, metric or gRPC
//! status, through an L1 outage too; `/readyz` says not ready while the L1 cannot be read;
//! a wrong keystore password is one line, whatever `RUST_BACKTRACE` says.

use std::{
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use alloy::primitives::{Address, keccak256};
use ponos_crypto::{bn254, digest, ecdsa};
use ponos_devnet::LocalChain;
use ponos_proto::hourglass::{TaskSubmission, executor_service_client::ExecutorServiceClient};
use tonic::transport::Channel;

use crate::{
    Reaped, http_get, port, square_binary, stop_with_sigterm, wait_ready, write_bn254_keystore,
    write_ecdsa_keystore,
};

const SECRET: &str = "SECRETAPIKEY0123";

fn write_keystores(dir: &Path) -> ecdsa::SecretKey {
    let bls = bn254::SecretKey::from_seed(b"hardening operator").unwrap();
    write_bn254_keystore(&dir.join("bn254.json"), &bls, "pw");
    let aggregator = ecdsa::SecretKey::from_bytes(&[0xa7; 32]).unwrap();
    write_ecdsa_keystore(&dir.join("aggregator.json"), &aggregator, "pw");
    aggregator
}

fn executor_config(
    dir: &Path,
    rpc_url: &str,
    l1: &LocalChain,
    ports: [u16; 3],
    performer: &Path,
) -> String {
    let [grpc, management, http] = ports;
    format!(
        r#"
[operator]
address = "{operator}"
management_address = "{operator}"
[operator.bn254]
keystore = "{dir}/bn254.json"
password_env = "TEST_PASSWORD"
[server]
grpc_addr = "127.0.0.1:{grpc}"
management_addr = "127.0.0.1:{management}"
http_addr = "127.0.0.1:{http}"
[store]
path = ":memory:"
[l1]
rpc_url = "{rpc_url}"
allocation_manager = "{am}"
key_registrar = "{kr}"
[[avs]]
address = "{avs}"
curve = "bn254"
operator_set_ids = [1]
[avs.performer]
runtime = "process"
binary = "{performer}"
"#,
        performer = performer.display(),
        operator = Address::repeat_byte(0x0b),
        dir = dir.display(),
        am = l1.stack.allocation_manager,
        kr = l1.stack.key_registrar,
        avs = Address::repeat_byte(0xa5),
    )
}

fn aggregator_config(dir: &Path, rpc_url: &str, l1: &LocalChain, ports: [u16; 2]) -> String {
    let [management, http] = ports;
    let stack = &l1.stack;
    format!(
        r#"
[aggregator]
address = "{aggregator}"
management_address = "{aggregator}"
[aggregator.signing_key]
keystore = "{dir}/aggregator.json"
password_env = "TEST_PASSWORD"
[server]
management_addr = "127.0.0.1:{management}"
http_addr = "127.0.0.1:{http}"
[store]
path = ":memory:"
[l1]
chain_id = 31337
rpc_url = "{rpc_url}"
allocation_manager = "{am}"
key_registrar = "{kr}"
bn254_table_calculator = "{bn}"
ecdsa_table_calculator = "{ec}"
[[chain]]
chain_id = 31337
rpc_url = "{rpc_url}"
task_mailbox = "{mailbox}"
poll_interval_ms = 100
development = true
[[avs]]
address = "{avs}"
"#,
        aggregator = Address::repeat_byte(0xa6),
        dir = dir.display(),
        am = stack.allocation_manager,
        kr = stack.key_registrar,
        bn = stack.bn254_table_calculator,
        ec = stack.ecdsa_table_calculator,
        mailbox = stack.task_mailbox,
        avs = Address::repeat_byte(0xa5),
    )
}

/// Starts `binary` on `config` at debug level, its log in `log`.
fn spawn_logging(binary: &str, config: &Path, log: &Path) -> Reaped {
    Reaped(
        Command::new(binary)
            .arg("--config")
            .arg(config)
            .env("TEST_PASSWORD", "pw")
            .env("RUST_LOG", "debug")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap(),
    )
}

/// A well-formed task whose signature verifies under no registered key.
fn stranger_task(n: u8) -> TaskSubmission {
    let stranger = ecdsa::SecretKey::from_bytes(&[0x66; 32]).unwrap();
    let task = keccak256([n]);
    let (avs, operator) = (Address::repeat_byte(0xa5), Address::repeat_byte(0x0b));
    let message = digest::task_submission_message(task, avs, operator, 1, 1_700_000_000, 1, b"x");
    TaskSubmission {
        task_id: task.to_string(),
        aggregator_address: stranger.address().to_string(),
        avs_address: avs.to_string(),
        payload: b"x".to_vec(),
        signature: stranger.sign(keccak256(message)).unwrap().to_vec(),
        operator_set_id: 1,
        reference_timestamp: 1_700_000_000,
        executor_address: operator.to_string(),
        task_block_number: 1,
        version: 1,
    }
}

async fn wait_not_ready(http: u16, within: Duration) -> String {
    let start = Instant::now();
    loop {
        if let Some((503, body)) = http_get(http, "/readyz").await {
            return body;
        }
        assert!(start.elapsed() < within, "still ready after {within:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_api_key_in_an_rpc_url_reaches_no_log_metric_or_status_even_through_an_outage() {
    let l1 = LocalChain::start(31337).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_keystores(dir.path());
    let rpc_url = format!("{}/?key={SECRET}", l1.endpoint);

    let executor_ports = [port(), port(), port()];
    let config = dir.path().join("executor.toml");
    std::fs::write(
        &config,
        executor_config(
            dir.path(),
            &rpc_url,
            &l1,
            executor_ports,
            &square_binary().await,
        ),
    )
    .unwrap();
    let executor_log = dir.path().join("executor.log");
    let mut executor = spawn_logging(env!("CARGO_BIN_EXE_ponos-executor"), &config, &executor_log);

    let aggregator_ports = [port(), port()];
    let config = dir.path().join("aggregator.toml");
    std::fs::write(
        &config,
        aggregator_config(dir.path(), &rpc_url, &l1, aggregator_ports),
    )
    .unwrap();
    let aggregator_log = dir.path().join("aggregator.log");
    let mut aggregator = spawn_logging(
        env!("CARGO_BIN_EXE_ponos-aggregator"),
        &config,
        &aggregator_log,
    );
    wait_ready(&mut executor.0, executor_ports[2], Duration::from_secs(60)).await;
    wait_ready(
        &mut aggregator.0,
        aggregator_ports[1],
        Duration::from_secs(60),
    )
    .await;

    let channel = Channel::from_shared(format!("http://127.0.0.1:{}", executor_ports[0]))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = ExecutorServiceClient::new(channel);
    let mut statuses = vec![client.submit_task(stranger_task(1)).await.unwrap_err()];

    // The L1 goes away: both say so on /readyz, the executor answers without the node's words.
    drop(l1);
    for http in [executor_ports[2], aggregator_ports[1]] {
        let body = wait_not_ready(http, Duration::from_secs(20)).await;
        assert_eq!(body.lines().next(), Some("the L1 cannot be read"), "{body}");
    }
    let during = client.submit_task(stranger_task(2)).await.unwrap_err();
    assert_eq!(during.code(), tonic::Code::Unavailable, "{during:?}");
    assert!(during.message().contains("cannot read"), "{during:?}");
    statuses.push(during);
    for status in &statuses {
        assert!(!format!("{status:?}").contains(SECRET), "{status:?}");
        assert!(
            !status.message().contains("127.0.0.1"),
            "no node address: {status:?}"
        );
    }
    let mut exported = String::new();
    for http in [executor_ports[2], aggregator_ports[1]] {
        exported += &http_get(http, "/metrics").await.unwrap().1;
    }
    assert!(!exported.contains(SECRET));

    // Long enough in the outage for the aggregator's watcher to fail several reads.
    let until = Instant::now() + Duration::from_secs(20);
    while !std::fs::read_to_string(&aggregator_log)
        .unwrap()
        .contains("error sending request")
    {
        assert!(
            Instant::now() < until,
            "the aggregator logged no failed read"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop_with_sigterm(&mut executor.0, Duration::from_secs(20)).await;
    stop_with_sigterm(&mut aggregator.0, Duration::from_secs(20)).await;
    for log in [&executor_log, &aggregator_log] {
        let text = std::fs::read_to_string(log).unwrap();
        assert!(text.contains("the L1 cannot be read"), "{text}");
        assert!(!text.contains(SECRET), "{}: {text}", log.display());
        assert!(!text.contains('\u{1b}'), "no colour codes in a log file");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_keystore_password_is_one_line_whatever_rust_backtrace_says() {
    let l1 = LocalChain::start(31337).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_keystores(dir.path());
    let configs = [
        (
            env!("CARGO_BIN_EXE_ponos-executor"),
            executor_config(
                dir.path(),
                &l1.endpoint,
                &l1,
                [port(), port(), port()],
                &square_binary().await,
            ),
        ),
        (
            env!("CARGO_BIN_EXE_ponos-aggregator"),
            aggregator_config(dir.path(), &l1.endpoint, &l1, [port(), port()]),
        ),
    ];
    for (binary, config) in configs {
        let path = dir.path().join("binary.toml");
        std::fs::write(&path, config).unwrap();
        let out = Command::new(binary)
            .arg("--config")
            .arg(&path)
            .env("TEST_PASSWORD", "not the password")
            .env("RUST_BACKTRACE", "1")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{binary}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{binary}: one line: {stderr}");
        assert!(lines[0].starts_with("error: "), "{stderr}");
        assert!(lines[0].contains("password"), "{stderr}");
        assert!(lines[0].contains(".json"), "names the keystore: {stderr}");
    }
}
