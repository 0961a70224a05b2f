//! `ponos doctor`: checks the tools Ponos needs and prints how to fix what is missing.

use std::{
    env,
    path::{Path, PathBuf},
    time::Duration,
};

use bollard::Docker;
use clap::Args;
use serde::Serialize;
use tokio::process::Command;

/// The Foundry release Ponos is built and tested with.
pub(crate) const FOUNDRY_VERSION: &str = "1.7.1";
/// The Solidity compiler version used when no `foundry.toml` names one.
pub(crate) const DEFAULT_SOLC_VERSION: &str = "0.8.30";

/// Check the tools Ponos needs and print how to fix what is missing.
///
/// Checks that anvil, forge, cast, the Solidity compiler forge will use, and a Docker daemon
/// are ready, prints each version, and for each missing one the command that fixes it.
///
/// The exit code is 0 when everything is ready and 1 when something required is missing, so
/// `ponos doctor` can gate a CI job. `script/setup` in the Ponos checkout installs everything.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  ponos doctor\n  ponos doctor --json | jq '.checks[] | select(.ok | not)'\n  ponos doctor --root my-avs"
)]
pub(crate) struct DoctorArgs {
    /// Print one JSON document on stdout instead of a table.
    #[arg(long)]
    json: bool,

    /// Project directory whose foundry.toml names the Solidity version forge will use.
    #[arg(long, default_value = ".")]
    root: PathBuf,

    /// How long to wait for each tool and for the Docker daemon to answer, in seconds.
    #[arg(long, default_value_t = 5, value_name = "SECONDS")]
    timeout: u64,
}

/// The outcome of one check.
#[derive(Debug, Serialize)]
struct Check {
    /// What was checked.
    name: &'static str,
    /// Whether it is ready.
    ok: bool,
    /// The version it reported, when it answered.
    version: Option<String>,
    /// Where it was found, or what answered.
    location: Option<String>,
    /// What is wrong, when it is not ready.
    problem: Option<String>,
    /// The command that fixes the problem.
    fix: Option<String>,
}

impl Check {
    fn ready(name: &'static str, version: String, location: String) -> Self {
        Self {
            name,
            ok: true,
            version: Some(version),
            location: Some(location),
            problem: None,
            fix: None,
        }
    }

    fn missing(name: &'static str, problem: String, fix: String) -> Self {
        Self {
            name,
            ok: false,
            version: None,
            location: None,
            problem: Some(problem),
            fix: Some(fix),
        }
    }
}

#[derive(Debug, Serialize)]
struct Report {
    ok: bool,
    checks: Vec<Check>,
}

impl DoctorArgs {
    /// Runs every check, prints the report and returns the exit code.
    pub(crate) async fn run(self) -> eyre::Result<i32> {
        let timeout = Duration::from_secs(self.timeout);
        let (anvil, forge, cast, solc, docker) = tokio::join!(
            check_foundry_tool("anvil", timeout),
            check_foundry_tool("forge", timeout),
            check_foundry_tool("cast", timeout),
            check_solc(&self.root, timeout),
            check_docker(timeout),
        );
        let checks = vec![anvil, forge, cast, solc, docker];
        let report = Report {
            ok: checks.iter().all(|c| c.ok),
            checks,
        };

        if self.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            print_table(&report);
        }
        Ok(if report.ok { 0 } else { 1 })
    }
}

fn print_table(report: &Report) {
    for check in &report.checks {
        if check.ok {
            println!(
                "ok       {:<7} {:<16} {}",
                check.name,
                check.version.as_deref().unwrap_or("-"),
                check.location.as_deref().unwrap_or("")
            );
        } else {
            println!(
                "MISSING  {:<7} {}",
                check.name,
                check.problem.as_deref().unwrap_or("")
            );
            if let Some(fix) = &check.fix {
                println!("         fix: {fix}");
            }
        }
    }
    if report.ok {
        println!("ready: every tool Ponos needs is here");
    } else {
        println!(
            "not ready: run the fixes above, or script/setup in the Ponos checkout for all of them"
        );
    }
}

/// Checks one Foundry binary on `PATH` and its version.
async fn check_foundry_tool(name: &'static str, timeout: Duration) -> Check {
    let arch = if cfg!(target_arch = "aarch64") {
        "arm64"
    } else {
        "amd64"
    };
    let fix = format!(
        "npm install -g @foundry-rs/{name}-linux-{arch}@{FOUNDRY_VERSION}  (online: foundryup --install v{FOUNDRY_VERSION})"
    );
    let Some(path) = find_on_path(name) else {
        return Check::missing(name, format!("`{name}` is not on PATH"), fix);
    };
    let output = match run_version(&path, timeout).await {
        Ok(output) => output,
        Err(problem) => return Check::missing(name, problem, fix),
    };
    let Some(version) = parse_foundry_version(&output) else {
        return Check::missing(
            name,
            format!(
                "could not read a version from `{} --version`",
                path.display()
            ),
            fix,
        );
    };
    if !is_at_least(&version, (1, 7)) {
        return Check::missing(name, format!("version {version} is older than 1.7"), fix);
    }
    Check::ready(name, version, path.display().to_string())
}

/// Checks the Solidity compiler forge will use for the project at `root`.
async fn check_solc(root: &Path, timeout: Duration) -> Check {
    const NAME: &str = "solc";
    const FIX: &str =
        "script/setup  (installs an offline solc for forge; online, `forge build` downloads it)";

    // FOUNDRY_SOLC names the binary outright and wins over foundry.toml.
    let (path, note) = if let Some(path) = env::var_os("FOUNDRY_SOLC").map(PathBuf::from) {
        (path, "FOUNDRY_SOLC")
    } else {
        let wanted = match solc_version_for(root) {
            Ok(version) => version,
            Err(problem) => {
                return Check::missing(NAME, problem, "fix the foundry.toml named above".into());
            }
        };
        let installed = svm_dirs()
            .into_iter()
            .map(|dir| dir.join(&wanted).join(format!("solc-{wanted}")))
            .find(|p| p.is_file());
        match installed {
            Some(path) => (path, "forge uses it offline"),
            None => {
                let problem =
                    format!("solc {wanted} is not installed where forge looks for it (~/.svm)");
                return Check::missing(NAME, problem, FIX.into());
            }
        }
    };

    match run_version(&path, timeout)
        .await
        .map(|out| parse_solc_version(&out))
    {
        Ok(Some(version)) => Check::ready(NAME, version, format!("{} ({note})", path.display())),
        Ok(None) => Check::missing(
            NAME,
            format!("{} printed no version", path.display()),
            FIX.into(),
        ),
        Err(problem) => Check::missing(NAME, problem, FIX.into()),
    }
}

/// Checks that a Docker daemon answers, negotiating the API version.
async fn check_docker(timeout: Duration) -> Check {
    const NAME: &str = "docker";
    let socket = env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
    let fix = if find_on_path("dockerd").is_some() {
        "sudo sh -c 'dockerd > /var/log/dockerd.log 2>&1 &'  (or: sudo systemctl start docker)"
            .to_string()
    } else {
        "sudo apt-get install -y docker.io && sudo sh -c 'dockerd > /var/log/dockerd.log 2>&1 &'"
            .to_string()
    };
    let probe = async {
        let docker = Docker::connect_with_defaults().map_err(|e| e.to_string())?;
        let docker = docker
            .negotiate_version()
            .await
            .map_err(|e| e.to_string())?;
        docker.version().await.map_err(|e| e.to_string())
    };
    match tokio::time::timeout(timeout, probe).await {
        Ok(Ok(version)) => Check::ready(
            NAME,
            version.version.unwrap_or_else(|| "unknown".into()),
            format!("{socket} (API {})", version.api_version.unwrap_or_default()),
        ),
        Ok(Err(err)) => Check::missing(
            NAME,
            format!("no Docker daemon answered at {socket}: {err}"),
            fix,
        ),
        Err(_) => Check::missing(
            NAME,
            format!(
                "the Docker daemon at {socket} did not answer within {}s",
                timeout.as_secs()
            ),
            fix,
        ),
    }
}

/// Runs `path --version` and returns its stdout, or a sentence naming what went wrong.
async fn run_version(path: &Path, timeout: Duration) -> Result<String, String> {
    let run = Command::new(path)
        .arg("--version")
        .kill_on_drop(true)
        .output();
    match tokio::time::timeout(timeout, run).await {
        Ok(Ok(out)) if out.status.success() => {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        }
        Ok(Ok(out)) => Err(format!(
            "`{} --version` failed ({}): {}",
            path.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Ok(Err(err)) => Err(format!("could not run {}: {err}", path.display())),
        Err(_) => Err(format!(
            "`{} --version` did not answer within {}s",
            path.display(),
            timeout.as_secs()
        )),
    }
}

/// The directories where svm (and so forge) keeps installed compilers.
fn svm_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(home) = env::var_os("SVM_HOME") {
        dirs.push(PathBuf::from(home));
    }
    if let Some(home) = env::var_os("HOME").map(PathBuf::from) {
        dirs.push(home.join(".svm"));
        dirs.push(home.join(".local/share/svm"));
    }
    dirs
}

/// The Solidity version the nearest `foundry.toml` at or above `root` pins, or the default.
fn solc_version_for(root: &Path) -> Result<String, String> {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let Some(manifest) = root
        .ancestors()
        .map(|dir| dir.join("foundry.toml"))
        .find(|p| p.is_file())
    else {
        return Ok(DEFAULT_SOLC_VERSION.into());
    };
    let text = std::fs::read_to_string(&manifest)
        .map_err(|e| format!("reading {}: {e}", manifest.display()))?;
    Ok(parse_pinned_solc(&text).unwrap_or_else(|| DEFAULT_SOLC_VERSION.into()))
}

/// Finds `solc_version = "x.y.z"` (or `solc = "x.y.z"`) in a foundry.toml's text.
fn parse_pinned_solc(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        let key = key.trim();
        if key != "solc_version" && key != "solc" {
            return None;
        }
        let value = value
            .split('#')
            .next()?
            .trim()
            .trim_matches(|c| c == '"' || c == '\'');
        let is_version = !value.is_empty() && value.split('.').all(|p| p.parse::<u32>().is_ok());
        is_version.then(|| value.to_string())
    })
}

/// Reads `1.7.1` from `forge Version: 1.7.1-stable` or `forge 1.7.1 (abc 2026-05-08)`.
fn parse_foundry_version(output: &str) -> Option<String> {
    let line = output.lines().next()?;
    let token = line
        .split_whitespace()
        .find(|t| t.starts_with(|c: char| c.is_ascii_digit()))?;
    let version: String = token
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    (!version.is_empty()).then_some(version)
}

/// Reads `0.8.30` from solc's `Version: 0.8.30+commit.73712a01.Linux.g++`.
fn parse_solc_version(output: &str) -> Option<String> {
    let rest = output
        .lines()
        .find_map(|l| l.trim().strip_prefix("Version:"))?;
    let version: String = rest
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    (!version.is_empty()).then_some(version)
}

/// Whether `version` (`major.minor[.patch]`) is at least `min`.
fn is_at_least(version: &str, min: (u32, u32)) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    (major, minor) >= min
}

/// The first executable called `name` on `PATH`.
fn find_on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    env::split_paths(&env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_foundry_versions_old_and_new() {
        assert_eq!(
            parse_foundry_version("forge Version: 1.7.1\nCommit SHA: 4072e48\n").as_deref(),
            Some("1.7.1")
        );
        assert_eq!(
            parse_foundry_version("anvil 0.2.0 (5be158b 2024-06-01)").as_deref(),
            Some("0.2.0")
        );
        assert_eq!(parse_foundry_version("garbage"), None);
    }

    #[test]
    fn compares_versions_by_major_and_minor() {
        assert!(is_at_least("1.7.1", (1, 7)));
        assert!(is_at_least("2.0.0", (1, 7)));
        assert!(!is_at_least("1.6.9", (1, 7)));
        assert!(!is_at_least("0.2.0", (1, 7)));
    }

    #[test]
    fn reads_solc_versions() {
        let out = "solc, the solidity compiler commandline interface\nVersion: 0.8.30+commit.73712a01.Linux.g++\n";
        assert_eq!(parse_solc_version(out).as_deref(), Some("0.8.30"));
        assert_eq!(parse_solc_version("nothing"), None);
    }

    #[test]
    fn finds_the_pinned_compiler_in_foundry_toml() {
        let toml = "[profile.default]\nsrc = \"src\"\nsolc_version = \"0.8.27\" # pinned\n";
        assert_eq!(parse_pinned_solc(toml).as_deref(), Some("0.8.27"));
        assert_eq!(parse_pinned_solc("solc = \"/usr/bin/solc\"\n"), None);
        assert_eq!(parse_pinned_solc("[profile.default]\n"), None);
    }
}
