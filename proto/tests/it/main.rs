//! Field numbers and service paths on the wire equal Hourglass': a performer or aggregator built
//! for Hourglass must read our messages unchanged.

use ponos_proto::{hourglass, performer};
use prost::Message;

/// The (field number, wire type) of each top-level field in an encoded message, in order.
fn fields(bytes: &[u8]) -> Vec<(u32, u8)> {
    fn varint(bytes: &[u8], at: &mut usize) -> u64 {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = bytes[*at];
            *at += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                break;
            }
        }
        value
    }
    let (mut at, mut out) = (0, Vec::new());
    while at < bytes.len() {
        let key = varint(bytes, &mut at);
        let wire = (key & 7) as u8;
        out.push(((key >> 3) as u32, wire));
        match wire {
            0 => drop(varint(bytes, &mut at)),
            2 => at += varint(bytes, &mut at) as usize,
            other => panic!("unexpected wire type {other}"),
        }
    }
    out
}

#[test]
fn task_submission_field_numbers() {
    let message = hourglass::TaskSubmission {
        task_id: "0x01".into(),
        aggregator_address: "a".into(),
        avs_address: "b".into(),
        payload: vec![1],
        signature: vec![2],
        operator_set_id: 3,
        reference_timestamp: 4,
        executor_address: "c".into(),
        task_block_number: 5,
        version: 1,
    };
    assert_eq!(
        fields(&message.encode_to_vec()),
        [
            (1, 2),
            (2, 2),
            (3, 2),
            (4, 2),
            (5, 2),
            (6, 0),
            (7, 0),
            (8, 2),
            (9, 0),
            (10, 0)
        ]
    );
}

#[test]
fn task_result_field_numbers() {
    let message = hourglass::TaskResult {
        task_id: "0x01".into(),
        operator_address: "a".into(),
        output: vec![1],
        result_signature: vec![2],
        avs_address: "b".into(),
        operator_set_id: 3,
        auth_signature: vec![4],
        version: 1,
    };
    assert_eq!(
        fields(&message.encode_to_vec()),
        [
            (1, 2),
            (2, 2),
            (3, 2),
            (4, 2),
            (5, 2),
            (6, 0),
            (7, 2),
            (8, 0)
        ]
    );
}

#[test]
fn performer_messages_field_numbers() {
    let request = performer::TaskRequest {
        task_id: b"0x01".to_vec(),
        payload: vec![1],
    };
    assert_eq!(fields(&request.encode_to_vec()), [(1, 2), (2, 2)]);
    let response = performer::TaskResponse {
        task_id: b"0x01".to_vec(),
        result: vec![1],
    };
    assert_eq!(fields(&response.encode_to_vec()), [(1, 2), (2, 2)]);
}

#[test]
fn management_messages_field_numbers() {
    let deploy = hourglass::DeployArtifactRequest {
        avs_address: "a".into(),
        digest: "b".into(),
        registry_url: "c".into(),
        env: vec![hourglass::PerformerEnv {
            name: "N".into(),
            ..Default::default()
        }],
        kubernetes: Some(hourglass::KubernetesConfig {
            service_account_name: "s".into(),
        }),
        auth: Some(ponos_proto::common::AuthSignature {
            challenge_token: "t".into(),
            signature: vec![1],
        }),
    };
    assert_eq!(
        fields(&deploy.encode_to_vec()),
        [(1, 2), (2, 2), (3, 2), (4, 2), (5, 2), (6, 2)]
    );
    let performer = hourglass::Performer {
        performer_id: "1".into(),
        avs_address: "2".into(),
        status: "3".into(),
        artifact_registry: "4".into(),
        artifact_digest: "5".into(),
        resource_healthy: true,
        application_healthy: true,
        last_health_check: "8".into(),
        container_id: "9".into(),
        artifact_tag: "10".into(),
    };
    let numbers: Vec<u32> = fields(&performer.encode_to_vec())
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(numbers, (1..=10).collect::<Vec<_>>());
}

#[test]
fn service_paths() {
    use ponos_proto::{
        health::health_server::HealthServer,
        hourglass::{
            aggregator_management_service_server::AggregatorManagementServiceServer,
            executor_management_service_server::ExecutorManagementServiceServer,
            executor_service_server::ExecutorServiceServer,
        },
        performer::performer_service_server::PerformerServiceServer,
    };
    use tonic::server::NamedService;

    fn name<T: NamedService>() -> &'static str {
        T::NAME
    }
    // NamedService is implemented for every T the server wraps; the unit type stands in.
    assert_eq!(
        name::<ExecutorServiceServer<()>>(),
        "eigenlayer.hourglass.v1.ExecutorService"
    );
    assert_eq!(
        name::<ExecutorManagementServiceServer<()>>(),
        "eigenlayer.hourglass.v1.ExecutorManagementService"
    );
    assert_eq!(
        name::<AggregatorManagementServiceServer<()>>(),
        "eigenlayer.hourglass.v1.AggregatorManagementService"
    );
    assert_eq!(
        name::<PerformerServiceServer<()>>(),
        "eigenlayer.hourglass.v1.performer.PerformerService"
    );
    assert_eq!(name::<HealthServer<()>>(), "grpc.health.v1.Health");
}
