//! A throwaway PostgreSQL cluster for tests: `initdb` and `pg_ctl` from the machine's
//! PostgreSQL (Debian's `postgresql` package, which `script/setup` installs), in a temporary
//! directory, on a free loopback port, run as the `postgres` user when the test runs as root
//! (initdb refuses root). Never a system service. Stopped when dropped. [`TestCluster::start_tls`]
//! starts one that accepts TLS connections only, with certificates from a [`TestPki`].

use std::{
    path::{Path, PathBuf},
    process::Command,
};

/// A running throwaway cluster.
#[derive(Debug)]
pub struct TestCluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
    durable: bool,
    tls: bool,
}

/// Certificates for a cluster speaking TLS: an authority, the server's certificate for
/// `127.0.0.1` and a client certificate for the `ponos` user, all signed by it (PEM).
#[derive(Debug, Clone)]
pub struct TestPki {
    /// The authority's certificate: what a client trusts.
    pub ca_pem: String,
    /// The server's certificate, for `127.0.0.1`.
    pub server_cert_pem: String,
    /// Its key.
    pub server_key_pem: String,
    /// A client certificate whose common name is `ponos`, the cluster's superuser.
    pub client_cert_pem: String,
    /// Its key.
    pub client_key_pem: String,
}

impl TestPki {
    /// A fresh authority and the certificates it signs.
    pub fn new() -> Result<Self, ClusterError> {
        use rcgen::{
            BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair,
            KeyUsagePurpose,
        };
        let failed = |e: rcgen::Error| ClusterError(format!("making test certificates: {e}"));
        let mut ca = CertificateParams::new(Vec::new()).map_err(failed)?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        ca.distinguished_name
            .push(DnType::CommonName, "Ponos test authority");
        let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().map_err(failed)?)
            .map_err(failed)?;
        let leaf =
            |names: Vec<String>, common_name: &str| -> Result<(String, String), ClusterError> {
                let key = KeyPair::generate().map_err(failed)?;
                let mut params = CertificateParams::new(names).map_err(failed)?;
                params
                    .distinguished_name
                    .push(DnType::CommonName, common_name);
                let cert = params.signed_by(&key, &ca).map_err(failed)?;
                Ok((cert.pem(), key.serialize_pem()))
            };
        let (server_cert_pem, server_key_pem) = leaf(vec!["127.0.0.1".into()], "127.0.0.1")?;
        let (client_cert_pem, client_key_pem) = leaf(Vec::new(), "ponos")?;
        Ok(Self {
            ca_pem: ca.pem(),
            server_cert_pem,
            server_key_pem,
            client_cert_pem,
            client_key_pem,
        })
    }
}

/// How a TLS cluster authenticates its clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// Any client that connected over TLS.
    Trust,
    /// Clients presenting a certificate signed by the authority, its common name the user's.
    Certificate,
}

/// Why a cluster did not start.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ClusterError(String);

impl TestCluster {
    /// Creates and starts a cluster; its superuser is `ponos`, trusted on loopback. Commits are
    /// not flushed to disk (tests want speed, not durability).
    pub fn start() -> Result<Self, ClusterError> {
        Self::start_with(false)
    }

    /// Like [`start`](Self::start), flushing every commit to disk as a production server does
    /// when `durable` (what benchmarks compare with redb, which flushes too).
    pub fn start_with(durable: bool) -> Result<Self, ClusterError> {
        Self::start_inner(durable, None)
    }

    /// A cluster that accepts TLS connections only (a plaintext one is refused by
    /// `pg_hba.conf`), serving `pki`'s server certificate and authenticating clients by `auth`.
    pub fn start_tls(pki: &TestPki, auth: ClientAuth) -> Result<Self, ClusterError> {
        Self::start_inner(false, Some((pki, auth)))
    }

    fn start_inner(
        durable: bool,
        tls: Option<(&TestPki, ClientAuth)>,
    ) -> Result<Self, ClusterError> {
        let bin = bin_dir()?;
        let as_postgres = is_root();
        let dir = std::env::temp_dir().join(format!(
            "ponos-pg-{}-{:x}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir)
            .map_err(|e| ClusterError(format!("{}: {e}", dir.display())))?;
        let port = free_port()?;
        let cluster = Self {
            bin,
            dir,
            port,
            as_postgres,
            durable,
            tls: tls.is_some(),
        };
        if as_postgres {
            cluster.run(
                "chown",
                &[
                    "-R",
                    "postgres:postgres",
                    &cluster.dir.display().to_string(),
                ],
                false,
            )?;
        }
        let data = cluster.data().display().to_string();
        cluster.run(
            &cluster.tool("initdb"),
            &[
                "-D",
                &data,
                "-A",
                "trust",
                "-U",
                "ponos",
                "--no-sync",
                "-E",
                "UTF8",
            ],
            true,
        )?;
        if let Some((pki, auth)) = tls {
            cluster.serve_tls(pki, auth)?;
        }
        cluster.pg_ctl("start")?;
        Ok(cluster)
    }

    /// Writes the server's certificate, key and the authority into the data directory and a
    /// `pg_hba.conf` that refuses plaintext connections over TCP.
    fn serve_tls(&self, pki: &TestPki, auth: ClientAuth) -> Result<(), ClusterError> {
        use std::os::unix::fs::PermissionsExt as _;
        let method = match auth {
            ClientAuth::Trust => "trust",
            ClientAuth::Certificate => "cert",
        };
        let files = [
            ("server.crt", pki.server_cert_pem.as_str()),
            ("server.key", pki.server_key_pem.as_str()),
            ("root.crt", pki.ca_pem.as_str()),
            (
                "pg_hba.conf",
                &format!(
                    "local all all trust\n\
                     hostssl all all 127.0.0.1/32 {method}\n\
                     hostnossl all all 127.0.0.1/32 reject\n"
                ),
            ),
        ];
        for (name, text) in files {
            let path = self.data().join(name);
            std::fs::write(&path, text)
                .and_then(|()| {
                    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                })
                .map_err(|e| ClusterError(format!("{}: {e}", path.display())))?;
            if self.as_postgres {
                self.run(
                    "chown",
                    &["postgres:postgres", &path.display().to_string()],
                    false,
                )?;
            }
        }
        Ok(())
    }

    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://ponos@127.0.0.1:{}/postgres", self.port)
    }

    /// A connection string over its Unix socket, which trusts local connections even when TCP
    /// takes TLS only: what a test inspecting the database uses.
    pub fn socket_url(&self) -> String {
        format!(
            "host={} port={} user=ponos dbname=postgres",
            self.dir.display(),
            self.port
        )
    }

    /// Its port.
    pub const fn port(&self) -> u16 {
        self.port
    }

    /// Stops it and starts it again (`pg_ctl restart`, fast shutdown: connections are cut).
    pub fn restart(&self) -> Result<(), ClusterError> {
        self.pg_ctl("restart")
    }

    /// Stops it (fast shutdown); [`resume`](Self::resume) starts it again.
    pub fn stop(&self) -> Result<(), ClusterError> {
        let data = self.data().display().to_string();
        self.run(
            &self.tool("pg_ctl"),
            &["-D", &data, "-m", "fast", "-w", "stop"],
            true,
        )
    }

    /// Starts it again after [`stop`](Self::stop).
    pub fn resume(&self) -> Result<(), ClusterError> {
        self.pg_ctl("start")
    }

    fn pg_ctl(&self, action: &str) -> Result<(), ClusterError> {
        let data = self.data().display().to_string();
        let log = self.dir.join("postgres.log").display().to_string();
        let fast = if self.durable {
            ""
        } else {
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        };
        let tls = if self.tls {
            " -c ssl=on -c ssl_ca_file=root.crt"
        } else {
            ""
        };
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c max_connections=200{fast}{tls}",
            self.port,
            self.dir.display()
        );
        self.run(
            &self.tool("pg_ctl"),
            &[
                "-D", &data, "-l", &log, "-o", &options, "-m", "fast", "-w", action,
            ],
            true,
        )
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn tool(&self, name: &str) -> String {
        self.bin.join(name).display().to_string()
    }

    fn run(&self, program: &str, args: &[&str], as_postgres: bool) -> Result<(), ClusterError> {
        let mut command = if as_postgres && self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--", program]);
            command
        } else {
            Command::new(program)
        };
        let output = command
            .args(args)
            .current_dir(&self.dir)
            .output()
            .map_err(|e| ClusterError(format!("{program}: {e}")))?;
        if output.status.success() {
            return Ok(());
        }
        let log = std::fs::read_to_string(self.dir.join("postgres.log")).unwrap_or_default();
        Err(ClusterError(format!(
            "{program} {}: {}{}\n{log}",
            args.join(" "),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )))
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        let data = self.data().display().to_string();
        let _ = self.run(
            &self.tool("pg_ctl"),
            &["-D", &data, "-m", "immediate", "stop"],
            true,
        );
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Where the PostgreSQL server binaries are: `pg_config --bindir`, else the newest Debian
/// version directory.
fn bin_dir() -> Result<PathBuf, ClusterError> {
    let missing = || {
        ClusterError(
            "no PostgreSQL server here (initdb, pg_ctl): run script/setup, which installs \
             Debian's postgresql package"
                .into(),
        )
    };
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dirs| dirs.flatten().map(|d| d.path().join("bin")).collect())
        .unwrap_or_default();
    candidates.sort();
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output()
        && output.status.success()
    {
        candidates.push(PathBuf::from(
            String::from_utf8_lossy(&output.stdout).trim(),
        ));
    }
    candidates
        .into_iter()
        .rev()
        .find(|dir| has(dir, "initdb") && has(dir, "pg_ctl") && has(dir, "postgres"))
        .ok_or_else(missing)
}

fn has(dir: &Path, tool: &str) -> bool {
    dir.join(tool).is_file()
}

/// Whether this process runs as root (its effective uid, from `/proc/self/status`).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

fn free_port() -> Result<u16, ClusterError> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| ClusterError(format!("no free loopback port: {e}")))
}
