//! The aggregator's configuration file (TOML). `docs/aggregator.example.toml` documents every
//! key. Secrets never live in the file: keystore passwords come from environment variables.

use std::{collections::HashSet, net::SocketAddr};

use alloy_primitives::Address;
use eyre::{WrapErr, bail, eyre};
use serde::Deserialize;

use crate::config::{AuthMode, KeystoreConfig, LogConfig, redact};

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregatorFileConfig {
    /// Who the aggregator is.
    pub aggregator: IdentityConfig,
    /// Where it listens.
    #[serde(default)]
    pub server: ServerConfig,
    /// Where it keeps state.
    #[serde(default)]
    pub store: StoreConfig,
    /// Limits.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// Who may call the management service.
    #[serde(default)]
    pub management: ManagementConfig,
    /// Transactions.
    #[serde(default)]
    pub sender: SenderFileConfig,
    /// Logs.
    #[serde(default)]
    pub log: LogConfig,
    /// The L1, where operator sets are read.
    pub l1: L1FileConfig,
    /// The chains whose mailboxes are watched.
    #[serde(rename = "chain")]
    pub chains: Vec<ChainFileConfig>,
    /// The AVSs served from the start.
    #[serde(default, rename = "avs")]
    pub avss: Vec<AvsFileConfig>,
    /// How executors registered with `https://` sockets are checked.
    #[serde(default)]
    pub executor_tls: ExecutorTlsConfig,
}

/// `[executor_tls]`: executors behind TLS.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecutorTlsConfig {
    /// CA certificates (PEM) executors' certificates may chain to, beside the system's roots.
    pub ca_file: Option<std::path::PathBuf>,
}

impl ExecutorTlsConfig {
    /// What the aggregator checks executors with.
    pub fn load(&self) -> eyre::Result<ponos_aggregator::pool::ExecutorTls> {
        let ca_pem = match &self.ca_file {
            Some(path) => Some(
                std::fs::read(path)
                    .map_err(|e| eyre::eyre!("executor_tls.ca_file {}: {e}", path.display()))?,
            ),
            None => None,
        };
        Ok(ponos_aggregator::pool::ExecutorTls { ca_pem })
    }
}

/// The aggregator's identity and keys.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityConfig {
    /// The aggregator's operator address (a member of each AVS's aggregator set).
    pub address: Address,
    /// The address of the key allowed to call the management service.
    pub management_address: Address,
    /// The key registered for the aggregator set: signs every task sent to executors. A Web3
    /// keystore (ECDSA), or an EIP-2335 keystore with `signing_curve = "bn254"`.
    pub signing_key: KeystoreConfig,
    /// The curve of the aggregator set's key: `"ecdsa"` (default) or `"bn254"` (then
    /// `transaction_key` is required: BN254 keys cannot send transactions).
    #[serde(default)]
    pub signing_curve: SigningCurve,
    /// The key that sends `submitResult` on every chain; the signing key when absent.
    pub transaction_key: Option<KeystoreConfig>,
}

/// `[management]`: the management service (`AggregatorManagementService`).
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManagementConfig {
    /// `"ponos"` (default), `"hourglass"` or `"none"` (loopback only).
    #[serde(default)]
    pub auth: AuthMode,
}

/// The curve of the aggregator's signing key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SigningCurve {
    /// ECDSA (secp256k1).
    #[default]
    Ecdsa,
    /// BN254; task signatures use the RFC 9380 hash to G1, as Hourglass's.
    Bn254,
}

/// Listen addresses.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// `AggregatorManagementService`.
    pub management_addr: SocketAddr,
    /// `/metrics`, `/healthz`, `/readyz`.
    pub http_addr: SocketAddr,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            management_addr: ([127, 0, 0, 1], 9010).into(),
            http_addr: ([127, 0, 0, 1], 9096).into(),
        }
    }
}

/// The store.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// The redb file; `:memory:` keeps state in memory only. Not used when `url` is set.
    pub path: String,
    /// A PostgreSQL database instead (`postgres://user@host:port/db`): state shared between
    /// machines. The password comes from `password_env`.
    #[serde(default)]
    pub url: Option<String>,
    /// The environment variable holding the database password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// Connections to the database.
    #[serde(default)]
    pub pool_size: Option<usize>,
    /// This instance's name in the lease (PostgreSQL only): what the logs and `/readyz` of
    /// the others call it. The machine's name and the process id when absent.
    #[serde(default)]
    pub instance: Option<String>,
    /// `[store.tls]`: TLS to the database (PostgreSQL only).
    #[serde(default)]
    pub tls: crate::config::StoreTls,
    /// How often the active instance renews its lease, and a standby tries to take it
    /// (PostgreSQL only).
    pub lease_renew_ms: u64,
    /// How long a lease lasts unless renewed: a standby takes over this long after the active
    /// instance stopped renewing (PostgreSQL only). At least twice `lease_renew_ms`.
    pub lease_ttl_ms: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            path: "ponos-aggregator.redb".into(),
            url: None,
            password_env: None,
            pool_size: None,
            instance: None,
            tls: crate::config::StoreTls::default(),
            lease_renew_ms: 1_000,
            lease_ttl_ms: 5_000,
        }
    }
}

/// Limits.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Tasks run at once, at most.
    pub max_concurrent_tasks: usize,
    /// Results larger than this are refused.
    pub max_result_bytes: usize,
    /// Seconds kept for landing the certificate before a task's deadline.
    pub submission_margin_secs: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_concurrent_tasks: 256,
            max_result_bytes: 1_572_864,
            submission_margin_secs: 10,
        }
    }
}

/// Transactions.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SenderFileConfig {
    /// How often receipts are polled, in milliseconds.
    pub poll_interval_ms: u64,
    /// Seconds a transaction may stay unmined before it is replaced at higher fees.
    pub replace_after_secs: u64,
    /// How much each replacement raises the fees, in percent (at least 10).
    pub fee_bump_percent: u64,
    /// Extra gas over the estimate, in percent.
    pub gas_margin_percent: u64,
}

impl Default for SenderFileConfig {
    fn default() -> Self {
        Self {
            poll_interval_ms: 500,
            replace_after_secs: 30,
            fee_bump_percent: 20,
            gas_margin_percent: 20,
        }
    }
}

/// The L1.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct L1FileConfig {
    /// Its chain id.
    pub chain_id: u64,
    /// A JSON-RPC endpoint.
    pub rpc_url: String,
    /// EigenLayer's AllocationManager (or the sandbox's).
    pub allocation_manager: Address,
    /// EigenLayer's KeyRegistrar (or the sandbox's).
    pub key_registrar: Address,
    /// The table calculator of BN254 executor sets.
    pub bn254_table_calculator: Address,
    /// The table calculator of ECDSA executor sets.
    pub ecdsa_table_calculator: Address,
}

impl std::fmt::Debug for L1FileConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("L1FileConfig")
            .field("chain_id", &self.chain_id)
            .field("rpc_url", &redact(&self.rpc_url))
            .finish_non_exhaustive()
    }
}

/// One watched chain.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainFileConfig {
    /// Its chain id.
    pub chain_id: u64,
    /// A JSON-RPC endpoint.
    pub rpc_url: String,
    /// The TaskMailbox (proxy) address.
    pub task_mailbox: Address,
    /// Blocks below the head before a task is acted on.
    #[serde(default)]
    pub confirmations: u64,
    /// How often the head is polled, in milliseconds.
    #[serde(default = "default_poll_ms")]
    pub poll_interval_ms: u64,
    /// A WebSocket endpoint: new heads wake the watcher at once (polling stays as a fallback).
    pub ws_url: Option<String>,
    /// The first block to scan when the store has no position yet; the head when absent.
    pub start_block: Option<u64>,
    /// The widest `eth_getLogs` range.
    #[serde(default = "default_range")]
    pub max_block_range: u64,
    /// Recent blocks remembered to detect reorgs.
    #[serde(default = "default_window")]
    pub reorg_window: u64,
    /// anvil only: stamp blocks so results never share their task's timestamp.
    #[serde(default)]
    pub development: bool,
}

impl std::fmt::Debug for ChainFileConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainFileConfig")
            .field("chain_id", &self.chain_id)
            .field("rpc_url", &redact(&self.rpc_url))
            .field("task_mailbox", &self.task_mailbox)
            .finish_non_exhaustive()
    }
}

fn default_poll_ms() -> u64 {
    1_000
}
fn default_range() -> u64 {
    2_000
}
fn default_window() -> u64 {
    64
}

/// One AVS.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AvsFileConfig {
    /// The AVS address.
    pub address: Address,
    /// This AVS's own aggregator operator address; `[aggregator] address` when absent.
    #[serde(default)]
    pub aggregator_address: Option<Address>,
    /// The key registered for this AVS's aggregator set, when it is not `[aggregator.signing_key]`
    /// (the KeyRegistrar keeps keys unique: one key cannot serve two AVSs' aggregator sets).
    #[serde(default)]
    pub signing_key: Option<KeystoreConfig>,
    /// The curve of `signing_key`.
    #[serde(default)]
    pub signing_curve: SigningCurve,
}

impl AggregatorFileConfig {
    /// Reads and checks the file at `path`: Ponos's TOML, or Hourglass's YAML when the name
    /// ends in `.yaml` or `.yml`.
    pub fn load(path: &std::path::Path) -> eyre::Result<Self> {
        let text = std::fs::read_to_string(path)
            .wrap_err_with(|| format!("reading {}", path.display()))?;
        let config = if crate::hourglass::is_yaml(path) {
            crate::hourglass::aggregator_config(&text)
        } else {
            Self::parse(&text)
        };
        config.wrap_err_with(|| format!("in {}", path.display()))
    }

    /// Parses and checks a configuration.
    pub fn parse(text: &str) -> eyre::Result<Self> {
        let config: Self = toml::from_str(text).map_err(|e| eyre!("{}", e.to_string().trim()))?;
        config.check()?;
        Ok(config)
    }

    pub(crate) fn check(&self) -> eyre::Result<()> {
        self.management
            .auth
            .check_address(self.server.management_addr, "server.management_addr")?;
        if self.aggregator.signing_curve == SigningCurve::Bn254
            && self.aggregator.transaction_key.is_none()
        {
            bail!(
                "[aggregator] signing_curve = \"bn254\": set [aggregator.transaction_key], the ECDSA key that sends submitResult"
            );
        }
        if self.chains.is_empty() {
            bail!("no [[chain]]: list at least one chain whose TaskMailbox to watch");
        }
        let mut seen = HashSet::new();
        for chain in &self.chains {
            if !seen.insert(chain.chain_id) {
                bail!("[[chain]] {} appears twice", chain.chain_id);
            }
            if chain.poll_interval_ms == 0 {
                bail!(
                    "[[chain]] {}: poll_interval_ms must be above 0",
                    chain.chain_id
                );
            }
        }
        if self.sender.fee_bump_percent < 10 {
            bail!(
                "[sender] fee_bump_percent = {}: nodes refuse replacements below 10",
                self.sender.fee_bump_percent
            );
        }
        let mut avss = HashSet::new();
        if let Some(dup) = self.avss.iter().find(|a| !avss.insert(a.address)) {
            bail!("[[avs]] {} appears twice", dup.address);
        }
        if self.store.lease_renew_ms < 50 {
            bail!(
                "[store] lease_renew_ms = {}: renew at most every 50 ms",
                self.store.lease_renew_ms
            );
        }
        if self.store.lease_ttl_ms < 2 * self.store.lease_renew_ms {
            bail!(
                "[store] lease_ttl_ms = {} is under twice lease_renew_ms ({}): one late renewal would hand the lease over",
                self.store.lease_ttl_ms,
                self.store.lease_renew_ms
            );
        }
        if self.limits.max_concurrent_tasks == 0 {
            bail!("[limits] max_concurrent_tasks must be above 0");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_parses() {
        let text = include_str!("../../../../docs/aggregator.example.toml");
        let config = AggregatorFileConfig::parse(text).unwrap();
        assert_eq!(config.chains.len(), 2);
        assert_eq!(config.avss.len(), 2);
        assert!(config.aggregator.transaction_key.is_some());
        assert!(config.avss[0].signing_key.is_none());
        assert!(
            config.avss[1].signing_key.is_some() && config.avss[1].aggregator_address.is_some()
        );
    }

    #[test]
    fn mistakes_are_named() {
        let base = include_str!("../../../../docs/aggregator.example.toml");
        let err = AggregatorFileConfig::parse(&base.replace("task_mailbox", "mailbox"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("mailbox"), "{err}");
        let err =
            AggregatorFileConfig::parse(&base.replace("chain_id = 31338", "chain_id = 31337"))
                .unwrap_err()
                .to_string();
        assert!(err.contains("appears twice"), "{err}");
        let err = AggregatorFileConfig::parse(
            &base.replace("fee_bump_percent = 20", "fee_bump_percent = 5"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("below 10"), "{err}");
    }

    #[test]
    fn the_documented_postgres_store_with_tls_parses_and_a_misspelt_tls_key_is_named() {
        let base = include_str!("../../../../docs/aggregator.example.toml");
        let postgres = base.replace("# url = ", "url = ").replace(
            "# tls = { ca_file = \"certs/db-ca.pem\" }",
            "tls = { ca_file = \"certs/db-ca.pem\" }",
        );
        let config = AggregatorFileConfig::parse(&postgres).unwrap();
        assert_eq!(
            config.store.url.as_deref(),
            Some("postgres://ponos@db.internal:5432/ponos")
        );
        assert_eq!(
            config.store.tls.ca_file.as_deref(),
            Some(std::path::Path::new("certs/db-ca.pem"))
        );
        let err = AggregatorFileConfig::parse(&postgres.replace("{ ca_file", "{ cafile"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("cafile"), "{err}");
    }
}
