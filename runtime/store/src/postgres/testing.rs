//! A throwaway PostgreSQL cluster for tests: `initdb` and `pg_ctl` from the machine's
//! PostgreSQL (Debian's `postgresql` package, which `script/setup` installs), in a temporary
//! directory, on a free loopback port, run as the `postgres` user when the test runs as root
//! (initdb refuses root). Never a system service. Stopped when dropped.

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
        cluster.pg_ctl("start")?;
        Ok(cluster)
    }

    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://ponos@127.0.0.1:{}/postgres", self.port)
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
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c max_connections=200{fast}",
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
