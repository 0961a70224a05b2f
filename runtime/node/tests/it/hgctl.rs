//! hgctl's management calls, made as hgctl makes them, against the `ponos-executor` binary
//! under each `[management] auth`: Hourglass's challenge tokens and no authentication list,
//! deploy and remove performers (a deploy for an AVS the config does not list survives a
//! restart); Ponos's scheme refuses them; `"none"` on a public address does not start.

use std::{
    path::Path,
    process::{Command, Stdio},
    time::Duration,
};

use alloy::primitives::Address;
use ponos_crypto::{bn254, challenge::sign_hourglass_token, ecdsa};
use ponos_devnet::LocalChain;
use ponos_proto::{
    common::AuthSignature,
    hourglass::{
        DeployArtifactRequest, GetChallengeTokenRequest, ListPerformersRequest,
        RemovePerformerRequest,
        executor_management_service_client::ExecutorManagementServiceClient,
    },
};
use tonic::{Code, transport::Channel};

use crate::{
    Reaped, port, square_binary, stop_with_sigterm, wait_ready, write_bn254_keystore,
    write_ecdsa_keystore,
};

const OPERATOR: Address = Address::repeat_byte(0x0b);
const CONFIGURED: Address = Address::repeat_byte(0xa5);
const NEW_AVS: Address = Address::repeat_byte(0xbb);
const IMAGE: &str = "ponos-test/square-performer:hgctl";

fn operator_ecdsa() -> ecdsa::SecretKey {
    ecdsa::SecretKey::from_bytes(&[0x0e; 32]).unwrap()
}

fn write_keystores(dir: &Path) {
    let bls = bn254::SecretKey::from_seed(b"hgctl operator").unwrap();
    write_bn254_keystore(&dir.join("bn254.json"), &bls, "pw");
    write_ecdsa_keystore(&dir.join("ecdsa.json"), &operator_ecdsa(), "pw");
}

struct Node {
    child: Reaped,
    client: ExecutorManagementServiceClient<Channel>,
}

/// The executor binary with `[management] auth = auth`, its state in `dir`.
async fn start(dir: &Path, l1: &LocalChain, auth: &str, performer: &Path) -> Node {
    let (grpc, management, http) = (port(), port(), port());
    let config = format!(
        r#"
[operator]
address = "{OPERATOR}"
management_address = "{admin}"
[operator.bn254]
keystore = "{dir}/bn254.json"
password_env = "TEST_PASSWORD"
[operator.ecdsa]
keystore = "{dir}/ecdsa.json"
password_env = "TEST_PASSWORD"
[server]
grpc_addr = "127.0.0.1:{grpc}"
management_addr = "127.0.0.1:{management}"
http_addr = "127.0.0.1:{http}"
[store]
path = "{dir}/executor.redb"
[management]
auth = "{auth}"
allow_deploy_new_avs = true
new_avs_curve = "bn254"
[l1]
rpc_url = "{rpc}"
allocation_manager = "{am}"
key_registrar = "{kr}"
[[avs]]
address = "{CONFIGURED}"
curve = "bn254"
operator_set_ids = [1]
[avs.performer]
runtime = "process"
binary = "{performer}"
"#,
        admin = Address::repeat_byte(0xad),
        dir = dir.display(),
        rpc = l1.endpoint,
        am = l1.stack.allocation_manager,
        kr = l1.stack.key_registrar,
        performer = performer.display(),
    );
    let path = dir.join("executor.toml");
    std::fs::write(&path, config).unwrap();
    let mut child = Reaped(
        Command::new(env!("CARGO_BIN_EXE_ponos-executor"))
            .arg("--config")
            .arg(&path)
            .env("TEST_PASSWORD", "pw")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    wait_ready(&mut child, http, Duration::from_secs(60)).await;
    let channel = Channel::from_shared(format!("http://127.0.0.1:{management}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    Node {
        child,
        client: ExecutorManagementServiceClient::new(channel),
    }
}

impl Node {
    /// What hgctl sends with Hourglass's auth: a fresh token signed with the operator's key.
    async fn hourglass_auth(&mut self) -> Option<AuthSignature> {
        let token = self
            .client
            .get_challenge_token(GetChallengeTokenRequest {
                operator_address: OPERATOR.to_string(),
            })
            .await
            .unwrap()
            .into_inner()
            .challenge_token;
        Some(AuthSignature {
            signature: sign_hourglass_token(&operator_ecdsa(), &token),
            challenge_token: token,
        })
    }

    async fn list(&mut self, auth: Option<AuthSignature>) -> Result<Vec<String>, tonic::Status> {
        let listed = self
            .client
            .list_performers(ListPerformersRequest {
                avs_address: String::new(),
                auth,
            })
            .await?
            .into_inner();
        let mut avss: Vec<String> = listed
            .performers
            .into_iter()
            .map(|p| p.avs_address)
            .collect();
        avss.sort();
        Ok(avss)
    }

    async fn deploy(&mut self, auth: Option<AuthSignature>) -> Result<String, tonic::Status> {
        let deployed = self
            .client
            .deploy_artifact(DeployArtifactRequest {
                avs_address: format!("{NEW_AVS:#x}"),
                digest: String::new(),
                registry_url: IMAGE.into(),
                env: Vec::new(),
                kubernetes: None,
                auth,
            })
            .await?
            .into_inner();
        assert!(deployed.success, "{}", deployed.message);
        Ok(deployed.deployment_id)
    }

    async fn remove(
        &mut self,
        performer_id: &str,
        auth: Option<AuthSignature>,
    ) -> Result<(), tonic::Status> {
        let removed = self
            .client
            .remove_performer(RemovePerformerRequest {
                performer_id: performer_id.into(),
                auth,
            })
            .await?
            .into_inner();
        assert!(removed.success, "{}", removed.message);
        Ok(())
    }

    async fn stop(mut self) {
        let exit = stop_with_sigterm(&mut self.child, Duration::from_secs(30)).await;
        assert!(exit.success(), "clean exit: {exit}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn hgctl_manages_the_executor_under_hourglass_and_no_auth_and_is_refused_under_ponos() {
    let dir = tempfile::tempdir().unwrap();
    let l1 = LocalChain::start(31337).await.unwrap();
    let performer = square_binary().await;
    let docker = ponos_executor::docker::connect()
        .await
        .expect("a Docker daemon answers (run script/setup)");
    ponos_executor::docker::build_image(&docker, &performer, IMAGE)
        .await
        .expect("the image builds");
    let only = [format!("{CONFIGURED:#x}")];
    let both = [format!("{CONFIGURED:#x}"), format!("{NEW_AVS:#x}")];

    // Hourglass's challenge tokens: a token signed with the operator's own key.
    let hourglass = dir.path().join("hourglass");
    std::fs::create_dir_all(&hourglass).unwrap();
    write_keystores(&hourglass);
    let mut node = start(&hourglass, &l1, "hourglass", &performer).await;
    let refused = node.list(None).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");
    let auth = node.hourglass_auth().await;
    assert_eq!(node.list(auth).await.unwrap(), only);
    let auth = node.hourglass_auth().await;
    let performer_id = node.deploy(auth).await.unwrap();
    let auth = node.hourglass_auth().await;
    assert_eq!(node.list(auth).await.unwrap(), both);
    // The AVS the deploy brought is served again after a restart.
    node.stop().await;
    let mut node = start(&hourglass, &l1, "hourglass", &performer).await;
    let auth = node.hourglass_auth().await;
    assert_eq!(
        node.list(auth).await.unwrap(),
        both,
        "the deploy survives a restart"
    );
    let stranger = ecdsa::SecretKey::from_bytes(&[0x66; 32]).unwrap();
    let mut forged = node.hourglass_auth().await.unwrap();
    forged.signature = sign_hourglass_token(&stranger, &forged.challenge_token);
    let refused = node.list(Some(forged)).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    let auth = node.hourglass_auth().await;
    node.remove(&performer_id, auth).await.unwrap();
    let auth = node.hourglass_auth().await;
    assert_eq!(node.list(auth).await.unwrap(), only);
    node.stop().await;
    let mut node = start(&hourglass, &l1, "hourglass", &performer).await;
    let auth = node.hourglass_auth().await;
    assert_eq!(
        node.list(auth).await.unwrap(),
        only,
        "a removed deploy stays removed"
    );
    node.stop().await;

    // No authentication, on a loopback management address.
    let open = dir.path().join("none");
    std::fs::create_dir_all(&open).unwrap();
    write_keystores(&open);
    let mut node = start(&open, &l1, "none", &performer).await;
    assert_eq!(node.list(None).await.unwrap(), only);
    let performer_id = node.deploy(None).await.unwrap();
    assert_eq!(node.list(None).await.unwrap(), both);
    node.remove(&performer_id, None).await.unwrap();
    assert_eq!(node.list(None).await.unwrap(), only);
    node.stop().await;

    // Ponos's scheme: hgctl's calls are refused, with or without Hourglass's token.
    let ponos = dir.path().join("ponos");
    std::fs::create_dir_all(&ponos).unwrap();
    write_keystores(&ponos);
    let mut node = start(&ponos, &l1, "ponos", &performer).await;
    let refused = node.list(None).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");
    let auth = node.hourglass_auth().await;
    let refused = node.deploy(auth).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    node.stop().await;

    ponos_executor::docker::remove_by_id_prefix(&docker, &format!("performer-{NEW_AVS:#x}"))
        .await
        .unwrap();
}

#[test]
fn no_auth_on_a_public_management_address_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        r#"
[operator]
address = "{OPERATOR}"
management_address = "{OPERATOR}"
[server]
grpc_addr = "127.0.0.1:{grpc}"
management_addr = "0.0.0.0:{port}"
http_addr = "127.0.0.1:{http}"
[management]
auth = "none"
"#,
        port = port(),
        grpc = port(),
        http = port(),
    );
    let path = dir.path().join("executor.toml");
    std::fs::write(&path, config).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ponos-executor"))
        .arg("--config")
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains("auth = \"none\"") && lines[0].contains("loopback"),
        "{stderr}"
    );
}
