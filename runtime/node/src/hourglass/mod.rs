//! Hourglass's executor and aggregator YAML files, read as Ponos configurations: an operator
//! switching from Hourglass passes the same file to `ponos-executor --config executor.yaml` or
//! `ponos-aggregator --config aggregator.yaml`. Every key Hourglass documents is read; one that
//! Ponos cannot honour (Kubernetes performers, remote signers, a named performer network, ...)
//! is refused in one line that names it. `docs/migrating-from-hourglass.md` maps each key.

mod aggregator;
mod executor;

use std::path::{Path, PathBuf};

use alloy_primitives::Address;
use eyre::{bail, eyre};
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::config::{AuthMode, InlineKey, KeystoreConfig};

pub use aggregator::aggregator_config;
pub use executor::executor_config;

/// Whether `path` names a YAML file (`.yaml` or `.yml`): read as Hourglass's format.
pub fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

/// Parses Hourglass YAML into `T`; errors name the key and its line.
fn parse<T: for<'de> Deserialize<'de>>(text: &str) -> eyre::Result<T> {
    serde_saphyr::from_str(text).map_err(|e| {
        let message = e.to_string();
        eyre!(
            "{}",
            message.lines().next().unwrap_or("not valid YAML").trim()
        )
    })
}

/// `operator:` of both files.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct OperatorYaml {
    address: Address,
    operator_private_key: Option<EcdsaKeyYaml>,
    #[serde(default)]
    signing_keys: SigningKeysYaml,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SigningKeysYaml {
    bls: Option<BlsKeyYaml>,
    ecdsa: Option<EcdsaKeyYaml>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BlsKeyYaml {
    keystore: Option<String>,
    keystore_file: Option<PathBuf>,
    #[serde(default)]
    password: String,
}

impl std::fmt::Debug for BlsKeyYaml {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlsKeyYaml")
            .field("keystore_file", &self.keystore_file)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EcdsaKeyYaml {
    private_key: Option<String>,
    #[serde(default, alias = "useRemoteSigner")]
    remote_signer: bool,
    remote_signer_config: Option<serde::de::IgnoredAny>,
}

impl std::fmt::Debug for EcdsaKeyYaml {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EcdsaKeyYaml")
            .field("remote_signer", &self.remote_signer)
            .finish_non_exhaustive()
    }
}

impl BlsKeyYaml {
    fn keystore(&self, at: &str) -> eyre::Result<KeystoreConfig> {
        let password = Zeroizing::new(self.password.clone());
        match (&self.keystore, &self.keystore_file) {
            (Some(json), None) => Ok(KeystoreConfig::inline(
                at,
                InlineKey::Keystore {
                    json: json.clone(),
                    password,
                },
            )),
            (None, Some(file)) => Ok(KeystoreConfig::inline(
                file.clone(),
                InlineKey::KeystoreFile { password },
            )),
            (Some(_), Some(_)) => bail!("{at}: give keystore or keystoreFile, not both"),
            (None, None) => bail!("{at}: give keystore (the JSON) or keystoreFile"),
        }
    }
}

impl EcdsaKeyYaml {
    fn key(&self, at: &str) -> eyre::Result<KeystoreConfig> {
        if self.remote_signer || self.remote_signer_config.is_some() {
            bail!(
                "{at}.remoteSigner: Ponos does not sign through Web3Signer yet; give privateKey, or a Web3 keystore in a Ponos TOML config"
            );
        }
        let key = self
            .private_key
            .as_ref()
            .ok_or_else(|| eyre!("{at}: privateKey is missing"))?;
        Ok(KeystoreConfig::inline(
            at,
            InlineKey::PrivateKey(Zeroizing::new(key.trim_start_matches("0x").to_string())),
        ))
    }
}

/// `storage:` of both files.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StorageYaml {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    badger: Option<BadgerYaml>,
}

/// Badger's settings: its directory holds the Ponos store; the tuning knobs have no Ponos
/// meaning and are accepted as written.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BadgerYaml {
    dir: Option<PathBuf>,
    #[serde(default)]
    in_memory: bool,
    #[serde(rename = "valueLogFileSize")]
    _value_log_file_size: Option<serde::de::IgnoredAny>,
    #[serde(rename = "numVersionsToKeep")]
    _num_versions_to_keep: Option<serde::de::IgnoredAny>,
    #[serde(rename = "numLevelZeroTables")]
    _num_level_zero_tables: Option<serde::de::IgnoredAny>,
    #[serde(rename = "numLevelZeroTablesStall")]
    _num_level_zero_tables_stall: Option<serde::de::IgnoredAny>,
    #[serde(rename = "valueLogMaxEntries")]
    _value_log_max_entries: Option<serde::de::IgnoredAny>,
}

impl StorageYaml {
    /// The Ponos store path: `:memory:`, or a redb file named `file` in Badger's directory.
    fn store_path(&self, file: &str) -> eyre::Result<String> {
        match self.kind.as_deref() {
            None | Some("memory") => Ok(":memory:".into()),
            Some("badger") => {
                let badger = self
                    .badger
                    .as_ref()
                    .ok_or_else(|| eyre!("storage.type is badger but storage.badger is missing"))?;
                if badger.in_memory {
                    return Ok(":memory:".into());
                }
                let dir = badger
                    .dir
                    .as_ref()
                    .ok_or_else(|| eyre!("storage.badger.dir is missing"))?;
                Ok(dir.join(file).display().to_string())
            }
            Some(other) => bail!("storage.type {other:?}: use memory or badger"),
        }
    }
}

/// `authentication:` of both files.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthenticationYaml {
    #[serde(default, alias = "isEnabled")]
    enabled: bool,
}

impl AuthenticationYaml {
    /// Hourglass's challenge tokens when enabled; otherwise none (loopback only).
    fn mode(&self) -> AuthMode {
        if self.enabled {
            AuthMode::Hourglass
        } else {
            AuthMode::None
        }
    }

    /// Where the management service listens on `port`: every interface when calls are
    /// authenticated (as Hourglass listens), loopback when they are not.
    fn management_addr(&self, port: u16) -> std::net::SocketAddr {
        if self.enabled {
            ([0, 0, 0, 0], port).into()
        } else {
            ([127, 0, 0, 1], port).into()
        }
    }
}

/// One contract of Hourglass's contract registry (`contracts:`, `overrideContracts:`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContractYaml {
    name: String,
    address: Address,
    #[serde(default)]
    chain_id: Option<u64>,
}

/// `overrideContracts:`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct OverrideContractsYaml {
    task_mailbox: Option<OverrideYaml>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct OverrideYaml {
    contract: serde_json::Value,
    #[serde(default)]
    chain_ids: Vec<u64>,
}

/// Where each contract is: the file's `contracts` and `overrideContracts`, then Ponos's address
/// book of EigenLayer deployments.
#[derive(Debug, Default)]
struct Contracts {
    listed: Vec<ContractYaml>,
    mailbox_overrides: Vec<(Address, Vec<u64>)>,
}

/// Contracts as JSON: a list, or a string holding one (Hourglass embeds raw JSON).
fn contracts_from(value: &serde_json::Value, at: &str) -> eyre::Result<Vec<ContractYaml>> {
    let value = match value {
        serde_json::Value::String(text) => {
            serde_json::from_str(text).map_err(|e| eyre!("{at}: not a JSON contract list: {e}"))?
        }
        other => other.clone(),
    };
    let list = match value {
        serde_json::Value::Array(list) => list,
        serde_json::Value::Object(_) => vec![value],
        _ => bail!("{at}: expected a list of contracts with name, address and chainId"),
    };
    list.into_iter()
        .map(|c| {
            serde_json::from_value(c)
                .map_err(|e| eyre!("{at}: a contract needs name, address and chainId ({e})"))
        })
        .collect()
}

impl Contracts {
    fn new(
        contracts: Option<&serde_json::Value>,
        overrides: &OverrideContractsYaml,
    ) -> eyre::Result<Self> {
        let listed = match contracts {
            Some(value) => contracts_from(value, "contracts")?,
            None => Vec::new(),
        };
        let mut mailbox_overrides = Vec::new();
        if let Some(mailbox) = &overrides.task_mailbox {
            for contract in contracts_from(&mailbox.contract, "overrideContracts.taskMailbox")? {
                mailbox_overrides.push((contract.address, mailbox.chain_ids.clone()));
            }
        }
        Ok(Self {
            listed,
            mailbox_overrides,
        })
    }

    /// The contract `name` on `chain_id`, or why it is unknown.
    fn find(&self, name: &str, chain_id: u64) -> eyre::Result<Address> {
        if name == "TaskMailbox"
            && let Some((address, _)) = self
                .mailbox_overrides
                .iter()
                .find(|(_, chains)| chains.is_empty() || chains.contains(&chain_id))
        {
            return Ok(*address);
        }
        if let Some(contract) = self.listed.iter().find(|c| {
            c.name.eq_ignore_ascii_case(name) && c.chain_id.is_none_or(|id| id == chain_id)
        }) {
            return Ok(contract.address);
        }
        if let Some(network) = ponos_chain::book::NETWORKS
            .iter()
            .find(|n| n.chain_id == chain_id)
            && let Some((_, address)) = network.contracts().into_iter().find(|(n, _)| *n == name)
        {
            return Ok(address);
        }
        bail!(
            "no {name} for chain {chain_id}: Ponos's address book does not list that chain; add {{name: {name}, address: ..., chainId: {chain_id}}} to contracts"
        )
    }
}

/// Chains whose ids local devnets use (anvil's 31337 and the L2 beside it): their blocks are
/// stamped so a result never shares its task's timestamp.
fn is_development_chain(chain_id: u64) -> bool {
    matches!(chain_id, 31337 | 31338)
}

#[cfg(test)]
mod tests;
