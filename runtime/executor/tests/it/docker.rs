//! Performer containers on a real Docker daemon.

use std::time::Duration;

use ponos_executor::{
    ExecutorError,
    docker::{self, ContainerNetwork, ContainerSpec},
    performer::PerformerClient,
};

use crate::square_binary;

pub(crate) const IMAGE: &str = "ponos-test/square-performer:latest";

/// The example performer's image, built once.
pub(crate) async fn image() -> bollard::Docker {
    static BUILT: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    crate::image(&BUILT, square_binary().await, IMAGE).await
}

/// Four performers that all listen on port 8080 of their own container (as Hourglass's stock
/// performers do) run side by side, each published on its own loopback port, and each is told
/// its port in both `GRPC_PORT` and `PERFORMER_PORT`.
#[tokio::test(flavor = "multi_thread")]
async fn performers_on_one_fixed_container_port_run_side_by_side() {
    let docker = crate::fixed_port_image().await;
    let mut containers = Vec::new();
    for _ in 0..4 {
        containers.push(
            docker::start(&docker, ContainerSpec::new(crate::FIXED_PORT_IMAGE))
                .await
                .unwrap(),
        );
    }
    let mut ports: Vec<u16> = containers.iter().map(|c| c.port()).collect();
    ports.dedup();
    assert_eq!(ports.len(), 4, "one host port each");
    for (i, container) in containers.iter().enumerate() {
        let mut client = PerformerClient::connect(container.port(), Duration::from_secs(30))
            .await
            .unwrap();
        let result = client
            .execute(
                "0xabc",
                (i + 2).to_string().into_bytes(),
                Duration::from_secs(10),
            )
            .await
            .unwrap();
        assert_eq!(result, ((i + 2) * (i + 2)).to_string().into_bytes());
        let env = docker
            .inspect_container(
                container.id(),
                None::<bollard::query_parameters::InspectContainerOptions>,
            )
            .await
            .unwrap()
            .config
            .and_then(|c| c.env)
            .unwrap_or_default();
        for expected in ["GRPC_PORT=8080", "PERFORMER_PORT=8080"] {
            assert!(env.iter().any(|e| e == expected), "{expected} in {env:?}");
        }
    }
    for container in containers {
        container.remove(&docker).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn built_image_serves_tasks_over_host_networking() {
    let docker = image().await;
    let spec = ContainerSpec {
        network: ContainerNetwork::Host,
        ..ContainerSpec::new(IMAGE)
    };
    let container = docker::start(&docker, spec).await.unwrap();
    let mut client = PerformerClient::connect(container.port(), Duration::from_secs(30))
        .await
        .unwrap();

    let result = client
        .execute("0xabc", b"12".to_vec(), Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(result, b"144");
    let refused = client
        .execute("0xabc", b"twelve".to_vec(), Duration::from_secs(10))
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            ExecutorError::Task {
                code: "refused the task",
                ..
            }
        ),
        "{refused}"
    );

    assert_eq!(container.state(&docker).await.unwrap(), (true, false));
    container.kill(&docker).await.unwrap();
    let (running, _) = container.state(&docker).await.unwrap();
    assert!(!running, "killed");
    assert!(
        client.check(Duration::from_secs(1)).await.is_err(),
        "no health answer once killed"
    );
    container.remove(&docker).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_executor_runs_signed_tasks_on_docker_performers() {
    use std::sync::Arc;

    use alloy_primitives::{Address, Bytes, keccak256};
    use ponos_crypto::{bn254, digest, ecdsa};
    use ponos_executor::{
        keys::{AggregatorKey, SigningKey, StaticChainView},
        service::{AvsEntry, AvsRegistry, Executor, Limits, PerformerHandle, ResultSigning},
        supervisor::{Launch, Supervisor, SupervisorConfig},
    };
    use ponos_store::MemoryStore;

    let docker = image().await;
    let (bn_avs, ec_avs, operator) = (
        Address::repeat_byte(1),
        Address::repeat_byte(2),
        Address::repeat_byte(3),
    );
    let aggregator = ecdsa::SecretKey::from_bytes(&[0xa1; 32]).unwrap();
    let bls = bn254::SecretKey::from_seed(b"docker operator").unwrap();
    let ec = ecdsa::SecretKey::from_bytes(&[0x0e; 32]).unwrap();
    let launch = Launch::Docker {
        docker,
        spec: Box::new(ContainerSpec::new(IMAGE)),
    };
    let supervisor = Supervisor::start(launch.clone(), SupervisorConfig::default())
        .await
        .unwrap();

    let avss = AvsRegistry::default();
    avss.insert(
        bn_avs,
        AvsEntry {
            performer: Some(PerformerHandle::Supervised(supervisor.clone())),
            signing: Arc::new(ResultSigning::Bn254(SigningKey::Bn254(bls.clone()))),
        },
    );
    // The ECDSA AVS runs its performer one-off: a fresh container per task.
    avss.insert(
        ec_avs,
        AvsEntry {
            performer: Some(PerformerHandle::OneOff {
                launch,
                start_timeout: Duration::from_secs(30),
            }),
            signing: Arc::new(ResultSigning::Ecdsa {
                key: SigningKey::Ecdsa(ec.clone()),
                verifier: Address::repeat_byte(9),
                version: "1.8.1".into(),
            }),
        },
    );
    let chain = StaticChainView::default()
        .with_aggregator(bn_avs, AggregatorKey::Ecdsa(aggregator.address()))
        .with_aggregator(ec_avs, AggregatorKey::Ecdsa(aggregator.address()))
        .with_member(bn_avs, 1, operator)
        .with_member(ec_avs, 1, operator);
    let executor = Executor::new(
        operator,
        avss,
        Arc::new(MemoryStore::default()),
        Arc::new(chain),
        Limits::default(),
    );

    for avs in [bn_avs, ec_avs] {
        let task = keccak256(avs);
        let message = digest::task_submission_message(task, avs, operator, 1, 77, 5, b"7");
        let submission = ponos_proto::hourglass::TaskSubmission {
            task_id: task.to_string(),
            aggregator_address: aggregator.address().to_string(),
            avs_address: avs.to_string(),
            payload: b"7".to_vec(),
            signature: aggregator.sign(keccak256(message)).unwrap().to_vec(),
            operator_set_id: 1,
            reference_timestamp: 77,
            executor_address: operator.to_string(),
            task_block_number: 5,
            version: 1,
        };
        let result = executor
            .submit(submission, Duration::from_secs(30))
            .await
            .unwrap();
        assert_eq!(result.output, b"49");
        let message_hash = digest::message_hash(task, &Bytes::from(result.output.clone()));
        if avs == bn_avs {
            let signature = bn254::Signature::from_bytes(&result.result_signature).unwrap();
            assert!(signature.verify(
                digest::bn254_certificate_digest(77, message_hash),
                &bls.public_key()
            ));
        } else {
            let certificate = digest::ecdsa_certificate_digest(
                Address::repeat_byte(9),
                "1.8.1",
                77,
                message_hash,
            );
            assert_eq!(
                ecdsa::recover(certificate, &result.result_signature).unwrap(),
                ec.address()
            );
        }
    }
    supervisor.shutdown().await;
}
