//! Hourglass's executor YAML (`executorConfig.go`) as an [`ExecutorConfig`].

use std::collections::BTreeMap;

use alloy_primitives::Address;
use eyre::{bail, eyre};
use serde::Deserialize;

use super::{
    AuthenticationYaml, Contracts, OperatorYaml, OverrideContractsYaml, StorageYaml, parse,
};
use crate::executor::config::{
    Curve, ExecutorConfig, L1Config, LimitsConfig, ManagementConfig, Network, OperatorConfig,
    PerformerConfig, PerformerMode, ServerConfig, StoreConfig, default_verifier_version,
};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ExecutorYaml {
    #[serde(default)]
    debug: bool,
    #[serde(default = "default_grpc_port")]
    grpc_port: u16,
    #[serde(default)]
    management_server_grpc_port: u16,
    performer_network_name: Option<String>,
    operator: OperatorYaml,
    l1_chain: L1ChainYaml,
    #[serde(default)]
    avs_performers: Vec<AvsPerformerYaml>,
    kubernetes: Option<serde::de::IgnoredAny>,
    contracts: Option<serde_json::Value>,
    #[serde(default)]
    override_contracts: OverrideContractsYaml,
    #[serde(default)]
    storage: StorageYaml,
    #[serde(default, alias = "authConfig")]
    authentication: AuthenticationYaml,
}

fn default_grpc_port() -> u16 {
    9090
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct L1ChainYaml {
    rpc_url: String,
    chain_id: u64,
}

impl std::fmt::Debug for L1ChainYaml {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("L1ChainYaml")
            .field("chain_id", &self.chain_id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AvsPerformerYaml {
    image: Option<ImageYaml>,
    #[serde(default = "default_process_type")]
    process_type: String,
    avs_address: Address,
    #[serde(default)]
    envs: Vec<EnvYaml>,
    deployment_mode: Option<String>,
    kubernetes: Option<serde::de::IgnoredAny>,
}

fn default_process_type() -> String {
    "server".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImageYaml {
    repository: String,
    tag: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EnvYaml {
    name: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    value_from_env: String,
    kubernetes_env: Option<serde::de::IgnoredAny>,
}

/// Reads Hourglass's executor YAML as a Ponos executor configuration, or names the first key
/// Ponos cannot honour.
pub fn executor_config(text: &str) -> eyre::Result<ExecutorConfig> {
    let yaml: ExecutorYaml = parse(text)?;
    if let Some(network) = &yaml.performer_network_name {
        bail!(
            "performerNetworkName {network:?}: Ponos publishes each performer's port on 127.0.0.1 instead of joining a Docker network; remove the key"
        );
    }
    if yaml.kubernetes.is_some() {
        bail!(
            "kubernetes: Ponos runs performers in Docker or as processes, not on Kubernetes; remove the section"
        );
    }
    if yaml.management_server_grpc_port == 0 || yaml.management_server_grpc_port == yaml.grpc_port {
        bail!(
            "managementServerGrpcPort: Ponos serves management on a port of its own; set managementServerGrpcPort (hgctl's templates use 9091)"
        );
    }
    let contracts = Contracts::new(yaml.contracts.as_ref(), &yaml.override_contracts)?;
    let chain = yaml.l1_chain.chain_id;
    let l1 = L1Config {
        rpc_url: yaml.l1_chain.rpc_url.clone(),
        allocation_manager: contracts.find("AllocationManager", chain)?,
        key_registrar: contracts.find("KeyRegistrar", chain)?,
    };

    let operator = &yaml.operator;
    let bn254 = operator
        .signing_keys
        .bls
        .as_ref()
        .map(|k| k.keystore("operator.signingKeys.bls"))
        .transpose()?;
    let ecdsa = operator
        .signing_keys
        .ecdsa
        .as_ref()
        .map(|k| k.key("operator.signingKeys.ecdsa"))
        .transpose()?;
    // hgctl signs management calls with the operator key; Hourglass also accepts the signing key.
    let management_address = match &operator.operator_private_key {
        Some(key) => {
            let key = crate::config::open_ecdsa_keystore(&key.key("operator.operatorPrivateKey")?)?;
            key.address()
        }
        None => operator.address,
    };
    let curve = match (bn254.is_some(), ecdsa.is_some()) {
        (true, false) => Curve::Bn254,
        (false, true) => Curve::Ecdsa,
        (true, true) => bail!(
            "operator.signingKeys has both bls and ecdsa: Ponos serves each AVS with one curve; keep the key of your operator sets' curve"
        ),
        (false, false) => bail!("operator.signingKeys: give bls or ecdsa"),
    };
    let ecdsa_verifier = match curve {
        Curve::Ecdsa => Some(contracts.find("ECDSACertificateVerifier", chain)?),
        Curve::Bn254 => None,
    };

    let mut avss = Vec::new();
    for (i, performer) in yaml.avs_performers.iter().enumerate() {
        let at = format!("avsPerformers[{i}]");
        if performer.process_type != "server" {
            bail!(
                "{at}.processType {:?}: Hourglass runs only \"server\" performers, and so does this file; use server",
                performer.process_type
            );
        }
        match performer.deployment_mode.as_deref() {
            None | Some("docker") => {}
            Some(other) => {
                bail!("{at}.deploymentMode {other:?}: Ponos runs performers in Docker; use docker")
            }
        }
        if performer.kubernetes.is_some() {
            bail!("{at}.kubernetes: Ponos does not run performers on Kubernetes; remove it");
        }
        let Some(image) = &performer.image else {
            // Hourglass waits for a DeployArtifact (hgctl) to bring this AVS's performer.
            continue;
        };
        let mut env = BTreeMap::new();
        for (j, var) in performer.envs.iter().enumerate() {
            if var.kubernetes_env.is_some() {
                bail!(
                    "{at}.envs[{j}].kubernetesEnv: Kubernetes secrets are not available to Docker performers; use value or valueFromEnv"
                );
            }
            let value = if var.value_from_env.is_empty() {
                var.value.clone()
            } else {
                std::env::var(&var.value_from_env).map_err(|_| {
                    eyre!(
                        "{at}.envs[{j}]: {} (valueFromEnv of {}) is not set",
                        var.value_from_env,
                        var.name
                    )
                })?
            };
            env.insert(var.name.clone(), value);
        }
        avss.push(crate::executor::config::AvsConfig {
            address: performer.avs_address,
            curve,
            operator_set_ids: Vec::new(),
            aggregator_ecdsa_address: None,
            ecdsa_verifier,
            ecdsa_verifier_version: default_verifier_version(),
            performer: PerformerConfig::Docker {
                image: format!("{}:{}", image.repository, image.tag),
                network: Network::Bridge,
                container_port: None,
                env,
                memory_mib: None,
                cpus: None,
                gpus: None,
                registry: None,
                mode: PerformerMode::Server,
                start_timeout_secs: 60,
            },
        });
    }

    let config = ExecutorConfig {
        operator: OperatorConfig {
            address: operator.address,
            management_address,
            bn254,
            ecdsa,
        },
        server: ServerConfig {
            grpc_addr: ([0, 0, 0, 0], yaml.grpc_port).into(),
            management_addr: yaml
                .authentication
                .management_addr(yaml.management_server_grpc_port),
            ..ServerConfig::default()
        },
        store: StoreConfig {
            path: yaml.storage.store_path("ponos-executor.redb")?,
            ..StoreConfig::default()
        },
        limits: LimitsConfig::default(),
        management: ManagementConfig {
            auth: yaml.authentication.mode(),
            // Hourglass's DeployArtifact brings any AVS; so does this file's executor.
            allow_deploy_new_avs: true,
            new_avs_curve: Some(curve),
            new_avs_ecdsa_verifier: ecdsa_verifier,
            new_avs_ecdsa_verifier_version: default_verifier_version(),
        },
        log: crate::config::LogConfig {
            level: if yaml.debug { "debug" } else { "info" }.into(),
            ..Default::default()
        },
        l1: Some(l1),
        avss,
    };
    config.check()?;
    Ok(config)
}
