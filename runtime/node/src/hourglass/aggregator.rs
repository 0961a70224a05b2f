//! Hourglass's aggregator YAML (`aggregatorConfig.go`) as an [`AggregatorFileConfig`].

use alloy_primitives::Address;
use eyre::{bail, eyre};
use serde::Deserialize;

use super::{
    AuthenticationYaml, Contracts, OperatorYaml, OverrideContractsYaml, StorageYaml,
    is_development_chain, parse,
};
use crate::aggregator::config::{
    AggregatorFileConfig, AvsFileConfig, ChainFileConfig, ExecutorTlsConfig, IdentityConfig,
    L1FileConfig, LimitsConfig, ManagementConfig, SenderFileConfig, ServerConfig, SigningCurve,
    StoreConfig,
};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AggregatorYaml {
    #[serde(default)]
    debug: bool,
    #[serde(default)]
    tls_enabled: bool,
    management_server_grpc_port: u16,
    operator: OperatorYaml,
    l1_chain_id: u64,
    chains: Vec<ChainYaml>,
    #[serde(default)]
    avss: Vec<AvsYaml>,
    contracts: Option<serde_json::Value>,
    #[serde(default)]
    override_contracts: OverrideContractsYaml,
    #[serde(default)]
    storage: StorageYaml,
    #[serde(default)]
    authentication: AuthenticationYaml,
    // In Hourglass's own examples but read by nothing there; accepted as written.
    #[serde(rename = "network")]
    _network: Option<serde::de::IgnoredAny>,
    #[serde(rename = "responseTimeout")]
    _response_timeout: Option<serde::de::IgnoredAny>,
    #[serde(rename = "avsRegistrarAddress")]
    _avs_registrar_address: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ChainYaml {
    name: Option<String>,
    version: Option<String>,
    chain_id: u64,
    rpc_url: String,
    poll_interval_seconds: Option<u64>,
}

impl std::fmt::Debug for ChainYaml {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainYaml")
            .field("name", &self.name)
            .field("version", &self.version)
            .field("chain_id", &self.chain_id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AvsYaml {
    address: Address,
    #[serde(default)]
    chain_ids: Vec<u64>,
}

/// Reads Hourglass's aggregator YAML as a Ponos aggregator configuration, or names the first
/// key Ponos cannot honour.
pub fn aggregator_config(text: &str) -> eyre::Result<AggregatorFileConfig> {
    let yaml: AggregatorYaml = parse(text)?;
    if yaml.tls_enabled {
        bail!(
            "tlsEnabled: Ponos dials an executor over TLS when its registered socket is https://host:port (system roots plus [executor_tls] ca_file in a Ponos TOML config); remove the key"
        );
    }
    let contracts = Contracts::new(yaml.contracts.as_ref(), &yaml.override_contracts)?;
    let l1_chain = yaml
        .chains
        .iter()
        .find(|c| c.chain_id == yaml.l1_chain_id)
        .ok_or_else(|| {
            eyre!(
                "l1ChainId {} is not one of chains[]; list the L1 there too",
                yaml.l1_chain_id
            )
        })?;
    let l1 = L1FileConfig {
        chain_id: yaml.l1_chain_id,
        rpc_url: l1_chain.rpc_url.clone(),
        allocation_manager: contracts.find("AllocationManager", yaml.l1_chain_id)?,
        key_registrar: contracts.find("KeyRegistrar", yaml.l1_chain_id)?,
        bn254_table_calculator: contracts.find("BN254TableCalculator", yaml.l1_chain_id)?,
        ecdsa_table_calculator: contracts.find("ECDSATableCalculator", yaml.l1_chain_id)?,
    };
    let mut chains = Vec::new();
    for chain in &yaml.chains {
        chains.push(ChainFileConfig {
            chain_id: chain.chain_id,
            rpc_url: chain.rpc_url.clone(),
            task_mailbox: contracts.find("TaskMailbox", chain.chain_id)?,
            confirmations: 0,
            poll_interval_ms: chain.poll_interval_seconds.map_or(1_000, |s| s * 1_000),
            ws_url: None,
            start_block: None,
            max_block_range: 2_000,
            reorg_window: 64,
            development: is_development_chain(chain.chain_id),
        });
    }
    let mut avss = Vec::new();
    for (i, avs) in yaml.avss.iter().enumerate() {
        if let Some(chain) = avs
            .chain_ids
            .iter()
            .find(|id| !yaml.chains.iter().any(|c| c.chain_id == **id))
        {
            bail!("avss[{i}].chainIds: chain {chain} is not one of chains[]");
        }
        avss.push(AvsFileConfig {
            address: avs.address,
            aggregator_address: None,
            signing_key: None,
            signing_curve: SigningCurve::Ecdsa,
        });
    }

    let operator = &yaml.operator;
    let transaction_key = operator
        .operator_private_key
        .as_ref()
        .map(|k| k.key("operator.operatorPrivateKey"))
        .transpose()?;
    let (signing_key, signing_curve) = match (
        &operator.signing_keys.ecdsa,
        &operator.signing_keys.bls,
    ) {
        (Some(ecdsa), None) => (
            ecdsa.key("operator.signingKeys.ecdsa")?,
            SigningCurve::Ecdsa,
        ),
        (None, Some(bls)) => (
            bls.keystore("operator.signingKeys.bls")?,
            SigningCurve::Bn254,
        ),
        (Some(_), Some(_)) => bail!(
            "operator.signingKeys has both ecdsa and bls: keep the key registered for the aggregator operator set"
        ),
        (None, None) => bail!("operator.signingKeys: give the key that signs tasks, ecdsa or bls"),
    };
    // hgctl signs management calls with the aggregator's own keys; the management address is
    // the ECDSA one (the BN254 signing key is accepted beside it).
    let management_address = match (signing_curve, &transaction_key) {
        (SigningCurve::Ecdsa, _) => crate::config::open_ecdsa_keystore(&signing_key)?.address(),
        (SigningCurve::Bn254, Some(key)) => crate::config::open_ecdsa_keystore(key)?.address(),
        (SigningCurve::Bn254, None) => bail!(
            "operator.operatorPrivateKey is missing: with a bls signing key it sends submitResult"
        ),
    };

    let config = AggregatorFileConfig {
        aggregator: IdentityConfig {
            address: operator.address,
            management_address,
            signing_key,
            signing_curve,
            transaction_key,
        },
        server: ServerConfig {
            management_addr: yaml
                .authentication
                .management_addr(yaml.management_server_grpc_port),
            ..ServerConfig::default()
        },
        store: StoreConfig {
            path: yaml.storage.store_path("ponos-aggregator.redb")?,
            ..StoreConfig::default()
        },
        limits: LimitsConfig::default(),
        management: ManagementConfig {
            auth: yaml.authentication.mode(),
        },
        sender: SenderFileConfig::default(),
        log: crate::config::LogConfig {
            level: if yaml.debug { "debug" } else { "info" }.into(),
            ..Default::default()
        },
        l1,
        chains,
        avss,
        executor_tls: ExecutorTlsConfig::default(),
    };
    config.check()?;
    Ok(config)
}
