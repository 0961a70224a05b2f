//! Configuration pieces every Ponos binary shares: keystores, logs, RPC URL redaction.

use std::path::PathBuf;

use serde::Deserialize;

use crate::telemetry::LogFormat;

/// A keystore file and where its password comes from.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeystoreConfig {
    /// The keystore (EIP-2335 for BN254, Web3 v3 for ECDSA).
    pub keystore: PathBuf,
    /// The environment variable holding its password.
    pub password_env: String,
    /// What a Hourglass config file holds instead of a file and a variable name (never read
    /// from a Ponos file): the key material itself.
    #[serde(skip)]
    pub inline: Option<InlineKey>,
}

/// Key material written into a Hourglass config file.
#[derive(Clone)]
pub enum InlineKey {
    /// A keystore's JSON and its password.
    Keystore {
        /// The keystore JSON.
        json: String,
        /// Its password.
        password: zeroize::Zeroizing<String>,
    },
    /// A keystore file and its password.
    KeystoreFile {
        /// Its password.
        password: zeroize::Zeroizing<String>,
    },
    /// A hex ECDSA private key.
    PrivateKey(zeroize::Zeroizing<String>),
}

impl KeystoreConfig {
    /// Key material given in a Hourglass file; `keystore` names where it came from in messages.
    pub fn inline(keystore: impl Into<PathBuf>, key: InlineKey) -> Self {
        Self {
            keystore: keystore.into(),
            password_env: String::new(),
            inline: Some(key),
        }
    }

    /// The keystore's JSON text.
    fn read(&self) -> eyre::Result<String> {
        use eyre::WrapErr as _;
        match &self.inline {
            Some(InlineKey::Keystore { json, .. }) => Ok(json.clone()),
            _ => std::fs::read_to_string(&self.keystore)
                .wrap_err_with(|| format!("reading keystore {}", self.keystore.display())),
        }
    }
}

impl std::fmt::Debug for KeystoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeystoreConfig")
            .field("keystore", &self.keystore)
            .field("password_env", &self.password_env)
            .field("inline", &self.inline.is_some())
            .finish()
    }
}

/// Logs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: LogFormat,
    /// A filter such as `info` or `ponos=debug,info`.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info".into(),
        }
    }
}

pub use ponos_chain::redact::url as redact;

/// How management calls are authenticated (`[management] auth`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// Every call signed by the management key over the method and the request.
    #[default]
    Ponos,
    /// Hourglass's challenge tokens, as hgctl signs them: the token alone, signed by the
    /// management key or the operator's own signing key.
    Hourglass,
    /// No authentication; only on a loopback management address.
    None,
}

impl AuthMode {
    /// Refuses `none` on a management address others can reach, in one line that says what to
    /// do.
    pub fn check_address(self, addr: std::net::SocketAddr, setting: &str) -> eyre::Result<()> {
        if self == Self::None && !addr.ip().is_loopback() {
            eyre::bail!(
                "[management] auth = \"none\" lets anyone who reaches {addr} manage this node; bind {setting} to a loopback address (127.0.0.1) or use auth = \"hourglass\" or \"ponos\""
            );
        }
        Ok(())
    }
}

/// Reads a keystore's password from the environment variable the config names (or the file,
/// for a Hourglass config).
pub fn keystore_password(config: &KeystoreConfig) -> eyre::Result<String> {
    if let Some(InlineKey::Keystore { password, .. } | InlineKey::KeystoreFile { password }) =
        &config.inline
    {
        return Ok(password.to_string());
    }
    std::env::var(&config.password_env).map_err(|_| {
        eyre::eyre!(
            "{} is not set: it holds the password of {}",
            config.password_env,
            config.keystore.display()
        )
    })
}

/// Opens a Web3 (v3) ECDSA keystore.
pub fn open_ecdsa_keystore(
    config: &KeystoreConfig,
) -> eyre::Result<ponos_crypto::ecdsa::SecretKey> {
    use eyre::WrapErr as _;
    if let Some(InlineKey::PrivateKey(hex)) = &config.inline {
        let bytes = alloy_primitives::hex::decode(hex.trim()).map_err(|_| {
            eyre::eyre!("{}: the private key is not hex", config.keystore.display())
        })?;
        return ponos_crypto::ecdsa::SecretKey::from_bytes(&bytes)
            .map_err(|e| eyre::eyre!("{}: {e}", config.keystore.display()));
    }
    let text = config.read()?;
    let keystore: ponos_crypto::keystore::Web3Keystore = serde_json::from_str(&text)
        .wrap_err_with(|| format!("{} is not a Web3 (v3) keystore", config.keystore.display()))?;
    keystore
        .decrypt(&keystore_password(config)?)
        .wrap_err_with(|| format!("opening {}", config.keystore.display()))
}

/// Opens an EIP-2335 BN254 keystore.
pub fn open_bn254_keystore(
    config: &KeystoreConfig,
) -> eyre::Result<ponos_crypto::bn254::SecretKey> {
    use eyre::WrapErr as _;
    if let Some(InlineKey::PrivateKey(_)) = &config.inline {
        eyre::bail!(
            "{}: a BN254 key must be an EIP-2335 keystore, not a raw private key",
            config.keystore.display()
        );
    }
    let text = config.read()?;
    let keystore: ponos_crypto::keystore::Eip2335Keystore = serde_json::from_str(&text)
        .wrap_err_with(|| format!("{} is not an EIP-2335 keystore", config.keystore.display()))?;
    keystore
        .decrypt_bn254(&keystore_password(config)?)
        .wrap_err_with(|| format!("opening {}", config.keystore.display()))
}

/// `[store.tls]`: what TLS to PostgreSQL trusts and presents. Whether TLS is used is the URL's
/// `sslmode` (`disable`, `prefer` — the default — or `require`); when it is, the server's
/// certificate and name are always verified.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreTls {
    /// PEM certificates of the authorities that may sign the database's certificate (a private
    /// CA, a managed database's bundle); the system's roots when absent.
    #[serde(default)]
    pub ca_file: Option<std::path::PathBuf>,
    /// A PEM client certificate, for a database that authenticates clients by certificate.
    #[serde(default)]
    pub cert_file: Option<std::path::PathBuf>,
    /// Its PEM private key (mode 0600).
    #[serde(default)]
    pub key_file: Option<std::path::PathBuf>,
}

/// The PostgreSQL store of `[store] url`, its rows under `namespace` (the operator's or the
/// aggregator's address).
pub fn postgres_store(
    url: &str,
    password_env: Option<&str>,
    pool_size: Option<usize>,
    namespace: alloy_primitives::Address,
    instance: Option<&str>,
    tls: &StoreTls,
) -> eyre::Result<ponos_store::postgres::PgConfig> {
    let password = match password_env {
        Some(name) => Some(std::env::var(name).map_err(|_| {
            eyre::eyre!("[store] password_env = \"{name}\": that variable is not set; export the database password in it")
        })?),
        None => None,
    };
    let mut config = ponos_store::postgres::PgConfig::new(url, format!("{namespace:#x}"));
    config.password = password;
    config.tls = ponos_store::postgres::PgTls {
        ca_file: tls.ca_file.clone(),
        cert_file: tls.cert_file.clone(),
        key_file: tls.key_file.clone(),
    };
    if let Some(size) = pool_size {
        eyre::ensure!(
            (1..=64).contains(&size),
            "[store] pool_size = {size}: use 1 to 64 connections"
        );
        config.pool_size = size;
    }
    config.instance = match instance {
        Some(name) => name.to_string(),
        None => host_name(),
    };
    Ok(config)
}

/// This machine's name (what tells the instances of a fleet apart by default).
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|name| name.trim().to_string())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "executor".into())
}
