//! TLS to the database, with rustls. When TLS is used, the server's certificate chain and its
//! name are always verified (what libpq calls `verify-full`): an encrypted connection to a
//! server nobody checked protects against nothing but a passive listener. Whether TLS is used
//! is the URL's `sslmode`: `disable`, `prefer` (the default: when the server offers it) or
//! `require`.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use rustls::{
    ClientConfig, RootCertStore,
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
};
use tokio_postgres_rustls::MakeRustlsConnect;

/// What TLS to the database trusts and presents.
#[derive(Clone, Debug, Default)]
pub struct PgTls {
    /// PEM certificates of the authorities that may sign the server's certificate (a private
    /// CA, or a managed database's bundle). The system's roots when absent.
    pub ca_file: Option<PathBuf>,
    /// A PEM client certificate chain, for a server that authenticates clients by certificate
    /// (`hostssl … cert` in `pg_hba.conf`).
    pub cert_file: Option<PathBuf>,
    /// The client certificate's PEM private key, readable by its owner only (0600).
    pub key_file: Option<PathBuf>,
}

impl PgTls {
    /// The connector: the roots read, the client certificate and key loaded. One line naming
    /// the file and what is wrong with it otherwise.
    pub(super) fn connector(&self) -> Result<MakeRustlsConnect, String> {
        let roots = match &self.ca_file {
            Some(path) => roots_from(path)?,
            None => system_roots(),
        };
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .with_root_certificates(roots);
        let config = match (&self.cert_file, &self.key_file) {
            (None, None) => builder.with_no_client_auth(),
            (Some(cert), Some(key)) => builder
                .with_client_auth_cert(chain(cert)?, private_key(key)?)
                .map_err(|e| {
                    format!(
                        "{} and {} are not a certificate and its key: {e}",
                        cert.display(),
                        key.display()
                    )
                })?,
            (Some(cert), None) => {
                return Err(format!(
                    "the client certificate {} needs its private key: set key_file too",
                    cert.display()
                ));
            }
            (None, Some(key)) => {
                return Err(format!(
                    "the private key {} needs its client certificate: set cert_file too",
                    key.display()
                ));
            }
        };
        Ok(MakeRustlsConnect::new(config))
    }
}

/// The roots in a PEM file: at least one certificate, each one valid.
fn roots_from(path: &Path) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    for cert in chain(path)? {
        roots
            .add(cert)
            .map_err(|e| format!("{}: not a CA certificate: {e}", path.display()))?;
    }
    Ok(roots)
}

/// The system's roots. None found is not an error here: a connection without TLS needs none,
/// and one with TLS fails naming the untrusted certificate.
fn system_roots() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    roots
}

/// The certificates in a PEM file, in order; at least one.
fn chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = read(path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: not PEM certificates: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{}: no certificate in it (expected PEM `BEGIN CERTIFICATE` blocks)",
            path.display()
        ));
    }
    Ok(certs)
}

/// A PEM private key, refused when others may read it (as libpq does).
fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(format!(
                "{}: the private key may be read by others (mode {:o}): chmod 600 it",
                path.display(),
                mode & 0o777
            ));
        }
    }
    PrivateKeyDer::from_pem_slice(&read(path)?).map_err(|e| {
        format!(
            "{}: not a PEM private key (PKCS#8, PKCS#1 or SEC1): {e}",
            path.display()
        )
    })
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// A hint for a TLS failure `reason` (the one-line text of a connection error), when it has one.
pub(super) fn hint(reason: &str) -> Option<&'static str> {
    if reason.contains("invalid peer certificate") {
        Some(
            "the database's certificate is not signed by an authority this store trusts, or \
             not issued for the host in the URL: give the authority that signed it as the \
             store's TLS ca_file",
        )
    } else if reason.contains("server does not support TLS") {
        Some(
            "the URL says sslmode=require: turn on ssl in the server, or use sslmode=disable on a private network",
        )
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use std::{os::unix::fs::PermissionsExt as _, path::PathBuf};

    use super::PgTls;
    use crate::{
        StoreError,
        postgres::{
            PgConfig, Pool,
            testing::{ClientAuth, TestCluster, TestPki},
        },
    };

    /// Writes `text` to `name` in `dir` with `mode`.
    fn file(dir: &tempfile::TempDir, name: &str, text: &str, mode: u32) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    fn config(cluster: &TestCluster, query: &str, tls: PgTls) -> PgConfig {
        let mut config = PgConfig::new(format!("{}{query}", cluster.url()), "0xtls");
        config.pool_size = 1;
        config.tls = tls;
        config
    }

    /// Opens a pool and asks the server whether this connection is encrypted.
    fn encrypted(config: &PgConfig) -> Result<bool, StoreError> {
        Pool::open(config)?.run("probe", |tx| {
            tx.query_one(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )
            .map(|row| row.get(0))
        })
    }

    fn refusal(config: &PgConfig) -> String {
        match Pool::open(config) {
            Ok(_) => panic!("the connection was accepted"),
            Err(error) => {
                let message = error.to_string();
                assert_eq!(message.lines().count(), 1, "{message}");
                message
            }
        }
    }

    #[test]
    fn tls_verified_against_the_authority_connects_encrypted_and_an_untrusted_server_is_refused() {
        let pki = TestPki::new().unwrap();
        let cluster = TestCluster::start_tls(&pki, ClientAuth::Trust).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let trusted = PgTls {
            ca_file: Some(file(&dir, "ca.pem", &pki.ca_pem, 0o644)),
            ..PgTls::default()
        };

        // With the authority, `require` and the default (`prefer`) are both encrypted.
        assert!(encrypted(&config(&cluster, "?sslmode=require", trusted.clone())).unwrap());
        assert!(encrypted(&config(&cluster, "", trusted.clone())).unwrap());

        // Without TLS the server refuses (its pg_hba.conf takes TLS only).
        let plaintext = refusal(&config(&cluster, "?sslmode=disable", trusted));
        assert!(plaintext.contains("no encryption"), "{plaintext}");

        // The system's roots do not know the test authority; another authority is no better.
        let system = refusal(&config(&cluster, "?sslmode=require", PgTls::default()));
        let other = TestPki::new().unwrap();
        let wrong = refusal(&config(
            &cluster,
            "?sslmode=require",
            PgTls {
                ca_file: Some(file(&dir, "other.pem", &other.ca_pem, 0o644)),
                ..PgTls::default()
            },
        ));
        for message in [system, wrong] {
            assert!(
                message.contains("error performing TLS handshake: invalid peer certificate")
                    && message
                        .contains("give the authority that signed it as the store's TLS ca_file"),
                "{message}"
            );
        }
    }

    #[test]
    fn a_server_that_authenticates_clients_by_certificate_takes_ours_and_refuses_none() {
        let pki = TestPki::new().unwrap();
        let cluster = TestCluster::start_tls(&pki, ClientAuth::Certificate).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ca_file = Some(file(&dir, "ca.pem", &pki.ca_pem, 0o644));
        let with_certificate = PgTls {
            ca_file: ca_file.clone(),
            cert_file: Some(file(&dir, "client.crt", &pki.client_cert_pem, 0o644)),
            key_file: Some(file(&dir, "client.key", &pki.client_key_pem, 0o600)),
        };
        assert!(
            encrypted(&config(
                &cluster,
                "?sslmode=require",
                with_certificate.clone()
            ))
            .unwrap()
        );

        let without = refusal(&config(
            &cluster,
            "?sslmode=require",
            PgTls {
                ca_file,
                ..PgTls::default()
            },
        ));
        assert!(without.contains("certificate"), "{without}");

        // A key others may read is refused before any connection, as libpq does.
        let loose = PgTls {
            key_file: Some(file(&dir, "loose.key", &pki.client_key_pem, 0o644)),
            ..with_certificate
        };
        let message = refusal(&config(&cluster, "?sslmode=require", loose));
        assert!(
            message.contains(
                "loose.key: the private key may be read by others (mode 644): chmod 600 it"
            ),
            "{message}"
        );
    }

    #[test]
    fn tls_settings_that_cannot_work_are_one_line_naming_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let pki = TestPki::new().unwrap();
        let cases = [
            (
                "?sslmode=verify-full",
                PgTls::default(),
                "sslmode: use disable, prefer or require",
            ),
            (
                "",
                PgTls {
                    ca_file: Some(dir.path().join("missing.pem")),
                    ..PgTls::default()
                },
                "missing.pem: No such file",
            ),
            (
                "",
                PgTls {
                    ca_file: Some(file(&dir, "key-not-ca.pem", &pki.server_key_pem, 0o600)),
                    ..PgTls::default()
                },
                "key-not-ca.pem: no certificate in it",
            ),
            (
                "",
                PgTls {
                    cert_file: Some(file(&dir, "client.crt", &pki.client_cert_pem, 0o644)),
                    ..PgTls::default()
                },
                "needs its private key: set key_file too",
            ),
            (
                "",
                PgTls {
                    key_file: Some(file(&dir, "client.key", &pki.client_key_pem, 0o600)),
                    ..PgTls::default()
                },
                "needs its client certificate: set cert_file too",
            ),
        ];
        for (query, tls, expected) in cases {
            // Checked before any connection: no server is needed, and none is at this port.
            let mut config =
                PgConfig::new(format!("postgres://ponos@127.0.0.1:1/x{query}"), "0xtls");
            config.tls = tls;
            let message = match Pool::open(&config) {
                Ok(_) => panic!("{query} {:?} was accepted", config.tls),
                Err(error) => error.to_string(),
            };
            assert!(message.contains(expected), "{message}");
            assert_eq!(message.lines().count(), 1, "{message}");
        }
    }
}
