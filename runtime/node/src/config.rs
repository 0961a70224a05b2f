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
