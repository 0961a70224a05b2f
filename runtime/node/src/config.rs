//! Configuration pieces every Ponos binary shares: keystores, logs, RPC URL redaction.

use std::path::PathBuf;

use serde::Deserialize;

use crate::telemetry::LogFormat;

/// A keystore file and where its password comes from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeystoreConfig {
    /// The keystore (EIP-2335 for BN254, Web3 v3 for ECDSA).
    pub keystore: PathBuf,
    /// The environment variable holding its password.
    pub password_env: String,
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

/// Reads a keystore's password from the environment variable the config names.
pub fn keystore_password(config: &KeystoreConfig) -> eyre::Result<String> {
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
    let text = std::fs::read_to_string(&config.keystore)
        .wrap_err_with(|| format!("reading keystore {}", config.keystore.display()))?;
    let keystore: ponos_crypto::keystore::Web3Keystore = serde_json::from_str(&text)
        .wrap_err_with(|| format!("{} is not a Web3 (v3) keystore", config.keystore.display()))?;
    keystore
        .decrypt(&keystore_password(config)?)
        .wrap_err_with(|| format!("opening {}", config.keystore.display()))
}
