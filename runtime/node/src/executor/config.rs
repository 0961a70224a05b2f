//! The executor's configuration file (TOML). `docs/executor.example.toml` documents every key.
//! Secrets never live in the file: keystore passwords come from environment variables.

use std::{collections::BTreeMap, net::SocketAddr, path::PathBuf};

use alloy_primitives::Address;
use eyre::{WrapErr, bail, eyre};
use serde::Deserialize;

pub use crate::config::{AuthMode, KeystoreConfig, LogConfig, redact};
#[cfg(test)]
use crate::telemetry::LogFormat;

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecutorConfig {
    /// Who this executor is.
    pub operator: OperatorConfig,
    /// Where it listens.
    #[serde(default)]
    pub server: ServerConfig,
    /// Where it keeps state.
    #[serde(default)]
    pub store: StoreConfig,
    /// Request limits.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// Who may call the management service, and what it may do.
    #[serde(default)]
    pub management: ManagementConfig,
    /// Logs.
    #[serde(default)]
    pub log: LogConfig,
    /// Where aggregator keys and operator-set membership are read. Without it, the executor
    /// trusts the `aggregator_ecdsa_address` and `operator_set_ids` of each `[[avs]]`.
    pub l1: Option<L1Config>,
    /// The AVSs it serves.
    #[serde(default, rename = "avs")]
    pub avss: Vec<AvsConfig>,
}

/// The operator.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorConfig {
    /// The operator's address (tasks must be addressed to it).
    pub address: Address,
    /// The address of the key allowed to call the management service.
    pub management_address: Address,
    /// The BN254 signing key, for AVSs whose executor set is BN254.
    pub bn254: Option<KeystoreConfig>,
    /// The ECDSA signing key, for AVSs whose executor set is ECDSA.
    pub ecdsa: Option<KeystoreConfig>,
}

/// The L1 chain the executor reads.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct L1Config {
    /// An L1 JSON-RPC endpoint (http or https).
    pub rpc_url: String,
    /// EigenLayer's AllocationManager (or the sandbox's).
    pub allocation_manager: Address,
    /// EigenLayer's KeyRegistrar (or the sandbox's).
    pub key_registrar: Address,
}

impl std::fmt::Debug for L1Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("L1Config")
            .field("rpc_url", &redact(&self.rpc_url))
            .field("allocation_manager", &self.allocation_manager)
            .field("key_registrar", &self.key_registrar)
            .finish()
    }
}

/// Listen addresses.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// The task service (`ExecutorService`) and gRPC health.
    pub grpc_addr: SocketAddr,
    /// The management service.
    pub management_addr: SocketAddr,
    /// `/metrics`, `/healthz`, `/readyz`.
    pub http_addr: SocketAddr,
    /// A certificate (PEM, with its chain) for the task service: it then speaks TLS, and the
    /// operator registers its socket as `https://host:port`.
    #[serde(default)]
    pub tls_cert_file: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[serde(default)]
    pub tls_key_file: Option<PathBuf>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            grpc_addr: ([0, 0, 0, 0], 9090).into(),
            management_addr: ([127, 0, 0, 1], 9091).into(),
            http_addr: ([127, 0, 0, 1], 9095).into(),
            tls_cert_file: None,
            tls_key_file: None,
        }
    }
}

impl ServerConfig {
    /// The task service's TLS identity, when configured.
    pub fn tls_identity(&self) -> Result<Option<tonic::transport::Identity>, String> {
        match (&self.tls_cert_file, &self.tls_key_file) {
            (None, None) => Ok(None),
            (Some(cert), Some(key)) => {
                let read = |path: &PathBuf| {
                    std::fs::read(path).map_err(|e| format!("server: {}: {e}", path.display()))
                };
                Ok(Some(tonic::transport::Identity::from_pem(
                    read(cert)?,
                    read(key)?,
                )))
            }
            _ => Err(
                "server: tls_cert_file and tls_key_file go together; set both, or neither for plaintext"
                    .into(),
            ),
        }
    }
}

/// `[management]`: the management service (`ExecutorManagementService`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManagementConfig {
    /// `"ponos"` (default), `"hourglass"` or `"none"` (loopback only).
    #[serde(default)]
    pub auth: AuthMode,
    /// Whether `DeployArtifact` may bring an AVS this file does not list: the executor then
    /// serves it with a Docker performer, reading its aggregator and operator sets from
    /// `[l1]`, and serves it again after a restart. Default: no.
    #[serde(default)]
    pub allow_deploy_new_avs: bool,
    /// The curve of such AVSs' executor sets; default: the curve of the one operator key
    /// configured.
    pub new_avs_curve: Option<Curve>,
    /// For ECDSA: the ECDSA certificate verifier of such AVSs' task chain.
    pub new_avs_ecdsa_verifier: Option<Address>,
    /// For ECDSA: the verifier's release version.
    #[serde(default = "default_verifier_version")]
    pub new_avs_ecdsa_verifier_version: String,
}

impl ManagementConfig {
    /// The curve AVSs brought by a deploy are served with, or why none can be chosen.
    pub fn new_avs_curve(&self, operator: &OperatorConfig) -> eyre::Result<Curve> {
        match (
            self.new_avs_curve,
            operator.bn254.is_some(),
            operator.ecdsa.is_some(),
        ) {
            (Some(curve), _, _) => Ok(curve),
            (None, true, false) => Ok(Curve::Bn254),
            (None, false, true) => Ok(Curve::Ecdsa),
            (None, true, true) => bail!(
                "[management] allow_deploy_new_avs: both operator keys are configured; set new_avs_curve = \"bn254\" or \"ecdsa\""
            ),
            (None, false, false) => bail!(
                "[management] allow_deploy_new_avs needs an operator key: add [operator.bn254] or [operator.ecdsa]"
            ),
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
    /// This instance's name among the executors sharing the database (its performers' records
    /// are kept under it); the host name by default.
    #[serde(default)]
    pub instance: Option<String>,
    /// `[store.tls]`: TLS to the database (PostgreSQL only).
    #[serde(default)]
    pub tls: crate::config::StoreTls,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            path: "ponos-executor.redb".into(),
            url: None,
            password_env: None,
            pool_size: None,
            instance: None,
            tls: crate::config::StoreTls::default(),
        }
    }
}

/// Limits.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// The largest task payload accepted.
    pub max_payload_bytes: usize,
    /// How long processed task ids are remembered; at least the longest task SLA.
    pub replay_window_secs: u64,
    /// The deadline of a task whose request carries none.
    pub default_deadline_secs: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_payload_bytes: 1 << 20,
            replay_window_secs: 86_400,
            default_deadline_secs: 120,
        }
    }
}

/// The curve of an AVS's executor operator set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Curve {
    /// BN254 (BLS).
    Bn254,
    /// ECDSA.
    Ecdsa,
}

/// One AVS.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AvsConfig {
    /// The AVS address.
    pub address: Address,
    /// The curve of its executor operator set.
    pub curve: Curve,
    /// Without `[l1]`: the executor operator sets this operator belongs to.
    #[serde(default)]
    pub operator_set_ids: Vec<u32>,
    /// Without `[l1]`: the aggregator's ECDSA signing-key address.
    pub aggregator_ecdsa_address: Option<Address>,
    /// For ECDSA: the ECDSA certificate verifier of the chain its tasks live on.
    pub ecdsa_verifier: Option<Address>,
    /// For ECDSA: the verifier's release version.
    #[serde(default = "default_verifier_version")]
    pub ecdsa_verifier_version: String,
    /// Its performer.
    pub performer: PerformerConfig,
}

pub(crate) fn default_verifier_version() -> String {
    "1.8.1".into()
}

/// How an AVS's performer runs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, tag = "runtime", rename_all = "lowercase")]
pub enum PerformerConfig {
    /// A Docker container: bridge networking with its port published on loopback (default), or
    /// host networking.
    Docker {
        /// The image reference.
        image: String,
        /// `"bridge"` (default): the performer listens on `container_port` inside its container,
        /// published on a free `127.0.0.1` port. `"host"`: it listens on
        /// `127.0.0.1:$PERFORMER_PORT` of the host.
        #[serde(default)]
        network: Network,
        /// With bridge networking, the port the performer listens on inside its container;
        /// default: the one TCP port the image declares, else 8080.
        container_port: Option<u16>,
        /// Environment variables.
        #[serde(default)]
        env: BTreeMap<String, String>,
        /// Memory limit in MiB.
        memory_mib: Option<i64>,
        /// CPU limit.
        cpus: Option<f64>,
        /// GPUs to request: `"all"` or a count.
        gpus: Option<Gpus>,
        /// Credentials for pulling `image` from a private registry.
        registry: Option<RegistryConfig>,
        /// Server or one-off.
        #[serde(default)]
        mode: PerformerMode,
        /// How long the performer may take to answer its health check.
        #[serde(default = "default_start_timeout")]
        start_timeout_secs: u64,
    },
    /// A native process.
    Process {
        /// The binary.
        binary: PathBuf,
        /// Environment variables.
        #[serde(default)]
        env: BTreeMap<String, String>,
        /// Server or one-off.
        #[serde(default)]
        mode: PerformerMode,
        /// How long the performer may take to answer its health check.
        #[serde(default = "default_start_timeout")]
        start_timeout_secs: u64,
    },
}

fn default_start_timeout() -> u64 {
    60
}

impl PerformerConfig {
    /// Server or one-off.
    pub fn mode(&self) -> PerformerMode {
        match self {
            Self::Docker { mode, .. } | Self::Process { mode, .. } => *mode,
        }
    }

    /// How long the performer may take to become healthy.
    pub fn start_timeout(&self) -> std::time::Duration {
        match self {
            Self::Docker {
                start_timeout_secs, ..
            }
            | Self::Process {
                start_timeout_secs, ..
            } => std::time::Duration::from_secs(*start_timeout_secs),
        }
    }
}

/// How a Docker performer is networked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    /// Docker's bridge network, the container port published on loopback.
    #[default]
    Bridge,
    /// The host's network.
    Host,
}

/// How long a performer lives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PerformerMode {
    /// One long-running performer serves every task (health-checked, restarted, upgradable).
    #[default]
    Server,
    /// A fresh performer per task, removed when the task ends (batch jobs).
    OneOff,
}

/// A GPU request: `"all"` or a count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gpus {
    /// Every GPU of the host.
    All,
    /// This many.
    Count(u32),
}

impl<'de> Deserialize<'de> for Gpus {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Count(u32),
            Word(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Count(n) => Ok(Self::Count(n)),
            Raw::Word(word) if word == "all" => Ok(Self::All),
            Raw::Word(word) => Err(serde::de::Error::custom(format!(
                "gpus = {word:?}: use \"all\" or a number of GPUs"
            ))),
        }
    }
}

/// A private registry login; the password comes from the environment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryConfig {
    /// The registry, e.g. `ghcr.io`.
    pub server: String,
    /// The user name.
    pub username: String,
    /// The environment variable holding the password or token.
    pub password_env: String,
}

impl ExecutorConfig {
    /// Reads and checks the file at `path`: Ponos's TOML, or Hourglass's YAML when the name
    /// ends in `.yaml` or `.yml`.
    pub fn load(path: &std::path::Path) -> eyre::Result<Self> {
        let text = std::fs::read_to_string(path)
            .wrap_err_with(|| format!("reading {}", path.display()))?;
        let config = if crate::hourglass::is_yaml(path) {
            crate::hourglass::executor_config(&text)
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
        if self.management.allow_deploy_new_avs {
            if self.l1.is_none() {
                bail!(
                    "[management] allow_deploy_new_avs needs [l1]: the executor reads a new AVS's aggregator key and operator sets from the chain"
                );
            }
            let curve = self.management.new_avs_curve(&self.operator)?;
            match curve {
                Curve::Bn254 if self.operator.bn254.is_none() => bail!(
                    "[management] new_avs_curve = \"bn254\" but [operator.bn254] has no keystore"
                ),
                Curve::Ecdsa if self.operator.ecdsa.is_none() => bail!(
                    "[management] new_avs_curve = \"ecdsa\" but [operator.ecdsa] has no keystore"
                ),
                Curve::Ecdsa if self.management.new_avs_ecdsa_verifier.is_none() => bail!(
                    "[management] new AVSs use curve ecdsa: set new_avs_ecdsa_verifier to the ECDSA certificate verifier of their task chain"
                ),
                _ => {}
            }
        }
        for avs in &self.avss {
            if avs.operator_set_ids.is_empty() && self.l1.is_none() {
                bail!(
                    "[[avs]] {}: operator_set_ids is empty; list the executor sets this operator is in (or set [l1] to read them from the chain)",
                    avs.address
                );
            }
            match avs.curve {
                Curve::Bn254 if self.operator.bn254.is_none() => {
                    bail!(
                        "[[avs]] {} uses curve bn254 but [operator.bn254] has no keystore",
                        avs.address
                    )
                }
                Curve::Ecdsa if self.operator.ecdsa.is_none() => {
                    bail!(
                        "[[avs]] {} uses curve ecdsa but [operator.ecdsa] has no keystore",
                        avs.address
                    )
                }
                Curve::Ecdsa if avs.ecdsa_verifier.is_none() => bail!(
                    "[[avs]] {} uses curve ecdsa: set ecdsa_verifier to the ECDSA certificate verifier of its task chain",
                    avs.address
                ),
                _ => {}
            }
        }
        for avs in &self.avss {
            if let PerformerConfig::Docker {
                network: Network::Host,
                container_port: Some(port),
                ..
            } = avs.performer
            {
                bail!(
                    "[[avs]] {}: container_port = {port} applies to bridge networking; remove it, or drop network = \"host\"",
                    avs.address
                );
            }
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(dup) = self.avss.iter().find(|a| !seen.insert(a.address)) {
            bail!("[[avs]] {} appears twice", dup.address);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_parses() {
        let text = include_str!("../../../../docs/executor.example.toml");
        let config = ExecutorConfig::parse(text).unwrap();
        assert_eq!(config.avss.len(), 2);
        assert!(matches!(
            config.avss[0].performer,
            PerformerConfig::Docker { .. }
        ));
        assert!(matches!(
            config.avss[1].performer,
            PerformerConfig::Process { .. }
        ));
        assert_eq!(config.log.format, LogFormat::Text);
        let PerformerConfig::Docker {
            gpus,
            registry,
            mode,
            ..
        } = &config.avss[0].performer
        else {
            unreachable!()
        };
        assert_eq!(*gpus, Some(Gpus::Count(1)));
        assert_eq!(registry.as_ref().unwrap().server, "ghcr.io");
        assert_eq!(*mode, PerformerMode::Server);
        assert_eq!(config.avss[1].performer.mode(), PerformerMode::OneOff);
    }

    #[test]
    fn a_bad_gpu_request_is_named() {
        let base = include_str!("../../../../docs/executor.example.toml");
        let err = ExecutorConfig::parse(&base.replace("gpus = 1", "gpus = \"some\""))
            .unwrap_err()
            .to_string();
        assert!(err.contains("use \"all\" or a number"), "{err}");
        let err = ExecutorConfig::parse(&base.replace("mode = \"one-off\"", "mode = \"batch\""))
            .unwrap_err()
            .to_string();
        assert!(err.contains("batch"), "{err}");
    }

    #[test]
    fn management_auth_none_needs_a_loopback_address() {
        let base = include_str!("../../../../docs/executor.example.toml");
        let config = ExecutorConfig::parse(base).unwrap();
        assert_eq!(config.management.auth, AuthMode::Ponos);
        assert!(!config.management.allow_deploy_new_avs);
        let none = base.replace("auth = \"ponos\"", "auth = \"none\"");
        assert_eq!(
            ExecutorConfig::parse(&none).unwrap().management.auth,
            AuthMode::None
        );
        let exposed = none.replace(
            "management_addr = \"127.0.0.1:9091\"",
            "management_addr = \"0.0.0.0:9091\"",
        );
        let err = ExecutorConfig::parse(&exposed).unwrap_err().to_string();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("0.0.0.0:9091") && err.contains("loopback"),
            "{err}"
        );
        let hourglass = base.replace("auth = \"ponos\"", "auth = \"hourglass\"");
        assert_eq!(
            ExecutorConfig::parse(&hourglass.replace("127.0.0.1:9091", "0.0.0.0:9091"))
                .unwrap()
                .management
                .auth,
            AuthMode::Hourglass
        );
        let typo = base.replace("auth = \"ponos\"", "auth = \"open\"");
        assert!(
            ExecutorConfig::parse(&typo)
                .unwrap_err()
                .to_string()
                .contains("open")
        );
    }

    #[test]
    fn new_avss_need_l1_and_a_curve() {
        let base = include_str!("../../../../docs/executor.example.toml");
        let allow = base.replace(
            "allow_deploy_new_avs = false",
            "allow_deploy_new_avs = true",
        );
        let err = ExecutorConfig::parse(&allow).unwrap_err().to_string();
        assert!(err.contains("new_avs_curve"), "{err}");
        let bn254 = allow.replace(
            "allow_deploy_new_avs = true",
            "allow_deploy_new_avs = true\nnew_avs_curve = \"bn254\"",
        );
        let config = ExecutorConfig::parse(&bn254).unwrap();
        assert_eq!(
            config.management.new_avs_curve(&config.operator).unwrap(),
            Curve::Bn254
        );
        let ecdsa = bn254.replace("new_avs_curve = \"bn254\"", "new_avs_curve = \"ecdsa\"");
        let err = ExecutorConfig::parse(&ecdsa).unwrap_err().to_string();
        assert!(err.contains("new_avs_ecdsa_verifier"), "{err}");
    }

    #[test]
    fn rpc_urls_are_redacted() {
        assert_eq!(
            redact("https://eth-mainnet.example.com/v2/SECRETKEY"),
            "https://eth-mainnet.example.com/…"
        );
        assert_eq!(
            redact("https://user:pass@rpc.example.com"),
            "https://rpc.example.com/…"
        );
        assert_eq!(redact("http://127.0.0.1:8545"), "http://127.0.0.1:8545");
    }

    #[test]
    fn mistakes_are_named() {
        let base = include_str!("../../../../docs/executor.example.toml");
        let typo = base.replace("grpc_addr", "grpc_address");
        let err = ExecutorConfig::parse(&typo).unwrap_err().to_string();
        assert!(err.contains("grpc_address"), "{err}");
        let bad_address =
            base.replacen("0x5FbDB2315678afecb367f032d93F642f64180aa3", "0xnothex", 1);
        assert!(ExecutorConfig::parse(&bad_address).is_err());
        let no_key = base.replace("[operator.ecdsa]", "[unused]");
        assert!(ExecutorConfig::parse(&no_key).is_err());
    }
}
