//! What the executor tells a performer through its environment: where to listen, the AVS's
//! contract addresses and the chains' RPC endpoints.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// A required environment variable is missing or malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvError {
    /// The variable is not set.
    #[error("environment variable {0} is not set")]
    Missing(String),
    /// The variable is set but its value is not of the expected form.
    #[error("environment variable {name}={value:?} is not {expected}")]
    Malformed {
        /// The variable.
        name: String,
        /// Its value.
        value: String,
        /// What it should look like.
        expected: &'static str,
    },
}

/// The port performers listen on when nothing else is said (Hourglass' convention).
pub const DEFAULT_PORT: u16 = 8080;

/// Where to listen: `PERFORMER_ADDR` (`host:port`), else `127.0.0.1:$PERFORMER_PORT` (the
/// executor runs containers with host networking on a loopback port), else `0.0.0.0:8080`.
pub fn listen_addr() -> Result<SocketAddr, EnvError> {
    listen_addr_with(|name| std::env::var(name).ok())
}

fn listen_addr_with(var: impl Fn(&str) -> Option<String>) -> Result<SocketAddr, EnvError> {
    if let Some(value) = var("PERFORMER_ADDR") {
        return value.parse().map_err(|_| EnvError::Malformed {
            name: "PERFORMER_ADDR".into(),
            value,
            expected: "a socket address such as 127.0.0.1:8080",
        });
    }
    if let Some(value) = var("PERFORMER_PORT") {
        let port = value.parse().map_err(|_| EnvError::Malformed {
            name: "PERFORMER_PORT".into(),
            value,
            expected: "a port number",
        })?;
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    Ok(SocketAddr::new(
        IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        DEFAULT_PORT,
    ))
}

/// A contract address the executor passes in, such as `TASK_MAILBOX` or `TASK_AVS_REGISTRAR`:
/// `0x` and 40 hex digits.
pub fn contract_address(name: &str) -> Result<String, EnvError> {
    contract_address_with(name, |name| std::env::var(name).ok())
}

fn contract_address_with(
    name: &str,
    var: impl Fn(&str) -> Option<String>,
) -> Result<String, EnvError> {
    let value = var(name).ok_or_else(|| EnvError::Missing(name.into()))?;
    let hex = value.strip_prefix("0x").unwrap_or("");
    if hex.len() != 40 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(EnvError::Malformed {
            name: name.into(),
            value,
            expected: "an address (0x and 40 hex digits)",
        });
    }
    Ok(value)
}

/// The RPC URL of a chain the executor passes in: `L1_RPC_URL`, `L2_RPC_URL`, ...
pub fn rpc_url(chain: &str) -> Result<String, EnvError> {
    let name = format!("{}_RPC_URL", chain.to_ascii_uppercase());
    let value = std::env::var(&name).map_err(|_| EnvError::Missing(name.clone()))?;
    if !(value.starts_with("http://") || value.starts_with("https://") || value.starts_with("ws")) {
        return Err(EnvError::Malformed {
            name,
            value,
            expected: "an http(s) or ws(s) URL",
        });
    }
    Ok(value)
}

/// The chain id of a chain the executor passes in: `L1_CHAIN_ID`, `L2_CHAIN_ID`, ...
pub fn chain_id(chain: &str) -> Result<u64, EnvError> {
    let name = format!("{}_CHAIN_ID", chain.to_ascii_uppercase());
    let value = std::env::var(&name).map_err(|_| EnvError::Missing(name.clone()))?;
    value.parse().map_err(|_| EnvError::Malformed {
        name,
        value,
        expected: "a chain id",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn listen_address_precedence() {
        assert_eq!(
            listen_addr_with(vars(&[])).unwrap(),
            "0.0.0.0:8080".parse().unwrap()
        );
        assert_eq!(
            listen_addr_with(vars(&[("PERFORMER_PORT", "9500")])).unwrap(),
            "127.0.0.1:9500".parse().unwrap()
        );
        assert_eq!(
            listen_addr_with(vars(&[
                ("PERFORMER_ADDR", "127.0.0.2:7"),
                ("PERFORMER_PORT", "9500")
            ]))
            .unwrap(),
            "127.0.0.2:7".parse().unwrap()
        );
        let err = listen_addr_with(vars(&[("PERFORMER_PORT", "http")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"environment variable PERFORMER_PORT="http" is not a port number"#
        );
    }

    #[test]
    fn contract_addresses_are_checked() {
        let ok = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
        assert_eq!(
            contract_address_with("TASK_MAILBOX", vars(&[("TASK_MAILBOX", ok)])).unwrap(),
            ok
        );
        assert_eq!(
            contract_address_with("TASK_MAILBOX", vars(&[]))
                .unwrap_err()
                .to_string(),
            "environment variable TASK_MAILBOX is not set"
        );
        assert!(contract_address_with("TASK_MAILBOX", vars(&[("TASK_MAILBOX", "0x12")])).is_err());
    }
}
