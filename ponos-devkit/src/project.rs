//! An AVS project as `ponos new` makes it: its `ponos.toml`, its compiled contracts, its
//! performer.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::devnet::AvsContracts;

/// A project's `ponos.toml`.
#[derive(Debug, Deserialize)]
pub struct ProjectFile {
    /// `[project]`.
    pub project: ProjectSection,
    /// `[performer]`.
    pub performer: PerformerSection,
    /// `[contracts]`.
    #[serde(default)]
    pub contracts: Option<ContractsSection>,
    /// `[devnet]`.
    #[serde(default)]
    pub devnet: DevnetSection,
    /// `[deploy]`.
    #[serde(default)]
    pub deploy: DeploySection,
}

/// `[devnet]`: what `ponos devnet up` runs for this project (its flags override each).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevnetSection {
    /// Operators in the executor set.
    #[serde(default = "default_executors")]
    pub executors: usize,
    /// Whether an L2 runs beside the L1.
    #[serde(default = "default_l2")]
    pub l2: bool,
    /// How long a task may take, in seconds.
    #[serde(default = "default_sla")]
    pub task_sla_secs: u64,
    /// The share of stake a certificate needs, in basis points.
    #[serde(default = "default_threshold")]
    pub threshold_bps: u16,
    /// `[[devnet.avs]]`: the AVSs the devnet runs on its one stack (one, the project's, when
    /// none are listed).
    #[serde(default)]
    pub avs: Vec<DevnetAvsEntry>,
}

impl Default for DevnetSection {
    fn default() -> Self {
        Self {
            executors: default_executors(),
            l2: default_l2(),
            task_sla_secs: default_sla(),
            threshold_bps: default_threshold(),
            avs: Vec::new(),
        }
    }
}

/// One `[[devnet.avs]]`: an AVS of the devnet, served by the same aggregator and executors as
/// the others.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevnetAvsEntry {
    /// Its executor set's curve, `bn254` or `ecdsa` [default: the project's].
    #[serde(default)]
    pub curve: Option<String>,
    /// Its performer: a binary (`--runtime process`) or an image (`--runtime docker`)
    /// [default: the project's].
    #[serde(default)]
    pub performer: Option<String>,
    /// Environment for its performers (`PONOS_AVS`, its address, is always set).
    #[serde(default)]
    pub env: std::collections::BTreeMap<String, String>,
}

impl DevnetAvsEntry {
    /// The AVS as the devnet takes it.
    pub fn to_devnet(&self) -> Result<crate::devnet::DevnetAvs, String> {
        let curve = match self.curve.as_deref() {
            None => None,
            Some("bn254") => Some(ponos_devnet::Curve::Bn254),
            Some("ecdsa") => Some(ponos_devnet::Curve::Ecdsa),
            Some(other) => {
                return Err(format!(
                    "ponos.toml: [[devnet.avs]] curve = \"{other}\": use \"bn254\" or \"ecdsa\""
                ));
            }
        };
        Ok(crate::devnet::DevnetAvs {
            curve,
            performer: self.performer.clone(),
            env: self.env.clone().into_iter().collect(),
        })
    }
}

const fn default_executors() -> usize {
    4
}

const fn default_l2() -> bool {
    true
}

/// `[project]`: the AVS's name and the executor set's curve.
#[derive(Debug, Deserialize)]
pub struct ProjectSection {
    /// The project's name.
    pub name: String,
    /// `bn254` or `ecdsa`.
    #[serde(default = "default_curve")]
    pub curve: String,
}

fn default_curve() -> String {
    "bn254".into()
}

/// `[contracts]`: the project's contracts `ponos deploy` deploys.
#[derive(Debug, Deserialize)]
pub struct ContractsSection {
    /// The task hook contract's name.
    pub task_hook: String,
    /// The registrar contract's name.
    pub registrar: String,
}

/// `[deploy]`: how `ponos deploy` configures the AVS.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploySection {
    /// The task SLA set in the TaskMailbox, in seconds.
    #[serde(default = "default_sla")]
    pub task_sla_secs: u64,
    /// The share of stake a certificate needs, in basis points.
    #[serde(default = "default_threshold")]
    pub threshold_bps: u16,
    /// The AVS's metadata URI.
    #[serde(default)]
    pub metadata_uri: String,
    /// The executor set's operator table calculator (EigenLayer L1s).
    #[serde(default)]
    pub table_calculator: Option<alloy::primitives::Address>,
}

impl Default for DeploySection {
    fn default() -> Self {
        Self {
            task_sla_secs: default_sla(),
            threshold_bps: default_threshold(),
            metadata_uri: String::new(),
            table_calculator: None,
        }
    }
}

const fn default_sla() -> u64 {
    120
}

const fn default_threshold() -> u16 {
    10_000
}

/// Where `ponos build` compiles the performer, under the project.
pub const PERFORMER_TARGET: &str = "target/performer";

impl ProjectFile {
    /// The static performer binary `ponos build` produces.
    pub fn performer_binary(&self, root: &Path) -> PathBuf {
        ponos_executor::docker::static_binary_path(
            &root.join(PERFORMER_TARGET),
            &self.performer.crate_name,
        )
    }

    /// The project's contracts, when `[contracts]` names them and forge has compiled them.
    pub fn compiled_contracts(
        &self,
        root: &Path,
    ) -> Result<(crate::deploy::Artifact, crate::deploy::Artifact), String> {
        let contracts = self.contracts.as_ref().ok_or_else(|| {
            "ponos.toml has no [contracts] section naming the contracts to deploy; add\n  \
             [contracts]\n  task_hook = \"MyTaskHook\"\n  registrar = \"MyRegistrar\""
                .to_string()
        })?;
        let out = root.join("contracts/out");
        Ok((
            crate::deploy::Artifact::from_forge_out(&out, &contracts.task_hook)?,
            crate::deploy::Artifact::from_forge_out(&out, &contracts.registrar)?,
        ))
    }

    /// The executor set's curve.
    pub fn curve(&self) -> Result<ponos_devnet::Curve, String> {
        match self.project.curve.as_str() {
            "bn254" => Ok(ponos_devnet::Curve::Bn254),
            "ecdsa" => Ok(ponos_devnet::Curve::Ecdsa),
            other => Err(format!(
                "ponos.toml: curve = \"{other}\" is not \"bn254\" or \"ecdsa\""
            )),
        }
    }
}

/// Finds the project from `start` and reads its `ponos.toml`.
pub fn load_project(start: &Path) -> Result<(PathBuf, ProjectFile), String> {
    let root = find_project(start).ok_or_else(|| {
        format!(
            "no ponos.toml in {} or above; create a project with `ponos new <name>`",
            start.display()
        )
    })?;
    let path = root.join("ponos.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let project = toml::from_str(&text)
        .map_err(|e| format!("{}: {}", path.display(), e.to_string().trim()))?;
    Ok((root, project))
}

/// `[performer]`: the crate `ponos build` compiles and the image it makes.
#[derive(Debug, Deserialize)]
pub struct PerformerSection {
    /// The performer crate.
    #[serde(rename = "crate")]
    pub crate_name: String,
    /// The image's tag.
    pub image: String,
}

/// The directory holding `ponos.toml`, from `start` upwards.
pub fn find_project(start: &Path) -> Option<PathBuf> {
    let start = start.canonicalize().ok()?;
    start
        .ancestors()
        .find(|dir| dir.join("ponos.toml").is_file())
        .map(Path::to_path_buf)
}

impl ProjectFile {
    /// The project's contracts for a devnet, when `[contracts]` names them and forge has
    /// compiled them.
    pub fn devnet_contracts(&self, root: &Path) -> Result<AvsContracts, String> {
        let (task_hook, registrar) = self.compiled_contracts(root)?;
        Ok(AvsContracts {
            registrar: registrar.bytecode,
            task_hook: task_hook.bytecode,
        })
    }
}
