//! `ExecutorManagementService` over real gRPC with real Docker: only the operator's management
//! key may deploy, list and remove performers, one signed token per call.

use std::{sync::Arc, time::Duration};

use alloy_primitives::Address;
use ponos_crypto::{bn254, challenge::ManagementAuth, ecdsa};
use ponos_executor::{
    keys::SigningKey,
    management::{Management, sign_call},
    service::{AvsEntry, AvsRegistry, ResultSigning},
    supervisor::SupervisorConfig,
};
use ponos_proto::hourglass::{
    DeployArtifactRequest, GetChallengeTokenRequest, ListPerformersRequest, RemovePerformerRequest,
    executor_management_service_client::ExecutorManagementServiceClient,
    executor_management_service_server::ExecutorManagementServiceServer,
};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{Code, transport::Channel};

use crate::docker::{IMAGE, image};

const OPERATOR: Address = Address::repeat_byte(0x0b);
const AVS: Address = Address::repeat_byte(0xa5);

fn admin() -> ecdsa::SecretKey {
    ecdsa::SecretKey::from_bytes(&[0xad; 32]).unwrap()
}

async fn token(client: &mut ExecutorManagementServiceClient<Channel>) -> String {
    let request = GetChallengeTokenRequest {
        operator_address: OPERATOR.to_string(),
    };
    client
        .get_challenge_token(request)
        .await
        .unwrap()
        .into_inner()
        .challenge_token
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_list_upgrade_remove_with_signed_tokens() {
    let docker = image().await;
    let avss = AvsRegistry::default();
    let signing = ResultSigning::Bn254(SigningKey::Bn254(
        bn254::SecretKey::from_seed(b"op").unwrap(),
    ));
    avss.insert(
        AVS,
        AvsEntry {
            performer: None,
            signing: Arc::new(signing),
        },
    );
    let supervision = SupervisorConfig {
        health_interval: Duration::from_millis(500),
        ..Default::default()
    };
    let management = Management::new(
        OPERATOR,
        ManagementAuth::Ponos {
            admin: admin().address(),
        },
        avss.clone(),
        Some(docker),
        supervision,
    );

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(ExecutorManagementServiceServer::new(management))
            .serve_with_incoming(TcpListenerStream::new(listener)),
    );
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = ExecutorManagementServiceClient::new(channel);

    let avs = AVS.to_string();
    let deploy = |auth| DeployArtifactRequest {
        avs_address: avs.clone(),
        registry_url: IMAGE.into(),
        auth,
        ..Default::default()
    };

    // No signature, a stranger's signature, a reused token: refused, nothing deployed.
    let refused = client.deploy_artifact(deploy(None)).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    let stranger = ecdsa::SecretKey::from_bytes(&[0x51; 32]).unwrap();
    let t = token(&mut client).await;
    let fields: [&[u8]; 3] = [avs.as_bytes(), b"", IMAGE.as_bytes()];
    let refused = client
        .deploy_artifact(deploy(Some(sign_call(
            &stranger,
            &t,
            "DeployArtifact",
            &fields,
        ))))
        .await
        .unwrap_err();
    assert_eq!(
        refused.code(),
        Code::PermissionDenied,
        "{}",
        refused.message()
    );
    let refused = client
        .deploy_artifact(deploy(Some(sign_call(
            &admin(),
            &t,
            "DeployArtifact",
            &fields,
        ))))
        .await
        .unwrap_err();
    assert_eq!(
        refused.code(),
        Code::Unauthenticated,
        "a token works once: {}",
        refused.message()
    );
    assert!(avss.get(&AVS).unwrap().performer.is_none());

    // A signature for another method does not carry over.
    let t = token(&mut client).await;
    let wrong_method = sign_call(&admin(), &t, "ListPerformers", &fields);
    let refused = client
        .deploy_artifact(deploy(Some(wrong_method)))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);

    // The admin deploys.
    let t = token(&mut client).await;
    let response = client
        .deploy_artifact(deploy(Some(sign_call(
            &admin(),
            &t,
            "DeployArtifact",
            &fields,
        ))))
        .await
        .unwrap()
        .into_inner();
    assert!(response.success, "{}", response.message);
    let id = response.deployment_id;

    let t = token(&mut client).await;
    let list = ListPerformersRequest {
        avs_address: String::new(),
        auth: Some(sign_call(&admin(), &t, "ListPerformers", &[b""])),
    };
    let performers = client
        .list_performers(list)
        .await
        .unwrap()
        .into_inner()
        .performers;
    assert_eq!(performers.len(), 1);
    assert_eq!(performers[0].performer_id, id);
    assert_eq!(performers[0].artifact_registry, IMAGE);

    // Deploying again upgrades in place.
    let t = token(&mut client).await;
    let response = client
        .deploy_artifact(deploy(Some(sign_call(
            &admin(),
            &t,
            "DeployArtifact",
            &fields,
        ))))
        .await
        .unwrap()
        .into_inner();
    assert!(response.success);

    let t = token(&mut client).await;
    let remove = RemovePerformerRequest {
        performer_id: id.clone(),
        auth: Some(sign_call(&admin(), &t, "RemovePerformer", &[id.as_bytes()])),
    };
    assert!(
        client
            .remove_performer(remove)
            .await
            .unwrap()
            .into_inner()
            .success
    );
    assert!(avss.get(&AVS).unwrap().performer.is_none(), "removed");

    let other = GetChallengeTokenRequest {
        operator_address: Address::repeat_byte(9).to_string(),
    };
    assert_eq!(
        client.get_challenge_token(other).await.unwrap_err().code(),
        Code::PermissionDenied
    );
}
