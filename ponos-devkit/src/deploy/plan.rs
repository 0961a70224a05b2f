//! What a deploy does: the project's compiled contracts, the spec of a deploy, and its plan
//! of named steps.

use std::path::{Path, PathBuf};

use alloy::primitives::{Address, B256, Bytes};
use ponos_chain::sandbox::StackAddresses;
use ponos_crypto::types;
use ponos_devnet::{AGGREGATOR_SET, Curve, EXECUTOR_SET};

use super::{Journal, Network};

/// A compiled contract of the project.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// The contract's name.
    pub name: String,
    /// Its creation bytecode.
    pub bytecode: Bytes,
}

impl Artifact {
    /// Reads `name` from forge's output directory (`<out>/<name>.sol/<name>.json`).
    pub fn from_forge_out(out: &Path, name: &str) -> Result<Self, String> {
        let path = out.join(format!("{name}.sol")).join(format!("{name}.json"));
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "{}: {e}; compile the contracts first with `ponos build`",
                path.display()
            )
        })?;
        let json: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let object = json["bytecode"]["object"]
            .as_str()
            .ok_or_else(|| format!("{}: no bytecode.object", path.display()))?;
        let bytecode: Bytes = object
            .parse()
            .map_err(|e| format!("{}: bytecode.object: {e}", path.display()))?;
        if bytecode.is_empty() {
            return Err(format!(
                "{}: {name} has no creation code (is it abstract or an interface?)",
                path.display()
            ));
        }
        Ok(Self {
            name: name.to_string(),
            bytecode,
        })
    }
}

/// What to deploy, and where.
#[derive(Debug, Clone)]
pub struct DeploySpec {
    /// The network's name (the journal's file name).
    pub network: String,
    /// The address book's entry, when the network is in it.
    pub book: Option<&'static Network>,
    /// Deploy Ponos's own stack first and play EigenLayer's roles on it.
    pub sandbox: bool,
    /// The executor set's curve.
    pub curve: Curve,
    /// How long a task may take, in seconds.
    pub task_sla: u64,
    /// The share of stake a certificate needs, in basis points.
    pub threshold_bps: u16,
    /// The AVS's metadata URI.
    pub metadata_uri: String,
    /// The project's task hook.
    pub task_hook: Artifact,
    /// The project's registrar (a `TaskAVSRegistrarBase`), deployed where the AVS lives.
    pub registrar: Artifact,
    /// The operator table calculator for the executor set (EigenLayer L1s only).
    pub table_calculator: Option<Address>,
    /// Sandbox only: one operator is created and registered per socket.
    pub operator_sockets: Vec<String>,
    /// Sandbox only: a stack deployed earlier (`--stack`), used instead of a new one.
    pub stack: Option<ExistingStack>,
    /// Sandbox only: existing operators (`--operators FILE`), registered instead of new ones.
    pub operators_file: Option<PathBuf>,
    /// Sandbox only: an existing aggregator (`--aggregator`) instead of the deployer.
    pub aggregator: Option<Address>,
}

/// A sandbox stack deployed earlier: named by the journal of the deploy that made it, or by a
/// JSON file of its addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingStack {
    /// The file it was read from.
    pub source: PathBuf,
    /// Its addresses.
    pub addresses: StackAddresses,
}

impl ExistingStack {
    /// Reads `path`: a deploy journal that holds a stack, or the stack's addresses.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("--stack {}: {e}", path.display()))?;
        let addresses = match serde_json::from_str::<Journal>(&text) {
            Ok(journal) => journal.stack.ok_or_else(|| {
                format!(
                    "--stack {}: this deploy journal holds no stack (it was not a --sandbox \
                     deploy, or its stack step did not finish)",
                    path.display()
                )
            })?,
            Err(_) => serde_json::from_str::<StackAddresses>(&text).map_err(|e| {
                format!(
                    "--stack {}: neither a deploy journal nor a stack's addresses ({e})",
                    path.display()
                )
            })?,
        };
        Ok(Self {
            source: path.to_path_buf(),
            addresses,
        })
    }
}

/// The keys a deploy signs with, read from the environment. Shown nowhere.
#[derive(Clone, Default)]
pub struct DeployKeys {
    /// The deploying account, which becomes the AVS (`PRIVATE_KEY`).
    pub deployer: B256,
    /// A sandbox stack's owner, when it is another account (`STACK_OWNER_KEY`).
    pub stack_owner: Option<B256>,
    /// An existing aggregator's account (`AGGREGATOR_KEY`).
    pub aggregator: Option<B256>,
    /// The key to register for the new AVS's aggregator set (`AGGREGATOR_SIGNING_KEY`).
    pub aggregator_signing: Option<B256>,
}

impl std::fmt::Debug for DeployKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeployKeys").finish_non_exhaustive()
    }
}

impl DeploySpec {
    /// Whether this deploy sets up the AVS itself (operator sets, keys, registrar): on an L1 of
    /// the book, or in a sandbox. On an L2 only the task hook and the mailbox are configured.
    pub fn sets_up_avs(&self) -> bool {
        self.sandbox || self.book.is_some_and(|n| n.l1.is_some())
    }
}

/// One step of the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Ponos's stack (sandbox only; twelve transactions, journaled as one).
    Stack,
    /// The project's task hook.
    TaskHook,
    /// The project's registrar.
    Registrar,
    /// `AllocationManager.updateAVSMetadataURI`: announces the AVS.
    Metadata,
    /// `AllocationManager.setAVSRegistrar`.
    SetRegistrar,
    /// `AllocationManager.createOperatorSets` (0 aggregator, 1 executors).
    OperatorSets,
    /// `KeyRegistrar.configureOperatorSet` for the aggregator set (ECDSA).
    AggregatorCurve,
    /// `KeyRegistrar.configureOperatorSet` for the executor set.
    ExecutorCurve,
    /// `CrossChainRegistry.createGenerationReservation` for the executor set.
    GenerationReservation,
    /// Sandbox: operators funded, their keys and sockets registered, weights set.
    SandboxOperators,
    /// Sandbox: the executor set's table pushed to the verifiers.
    SandboxTables,
    /// `TaskMailbox.setExecutorOperatorSetTaskConfig`.
    MailboxConfig,
}

impl Step {
    /// The step's name in the journal.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Stack => "stack",
            Self::TaskHook => "task-hook",
            Self::Registrar => "registrar",
            Self::Metadata => "metadata",
            Self::SetRegistrar => "set-registrar",
            Self::OperatorSets => "operator-sets",
            Self::AggregatorCurve => "aggregator-curve",
            Self::ExecutorCurve => "executor-curve",
            Self::GenerationReservation => "generation-reservation",
            Self::SandboxOperators => "sandbox-operators",
            Self::SandboxTables => "sandbox-tables",
            Self::MailboxConfig => "mailbox-config",
        }
    }

    /// What the step does, for people.
    pub fn describe(self, spec: &DeploySpec) -> String {
        match self {
            Self::Stack => "deploy the Ponos contract stack (sandbox)".into(),
            Self::TaskHook => format!("deploy the task hook {}", spec.task_hook.name),
            Self::Registrar => format!("deploy the registrar {}", spec.registrar.name),
            Self::Metadata => "announce the AVS (AllocationManager.updateAVSMetadataURI)".into(),
            Self::SetRegistrar => "set the AVS's registrar (AllocationManager)".into(),
            Self::OperatorSets => format!(
                "create operator sets {AGGREGATOR_SET} (aggregator) and {EXECUTOR_SET} (executors)"
            ),
            Self::AggregatorCurve => "configure the aggregator set's curve: ECDSA".into(),
            Self::ExecutorCurve => format!(
                "configure the executor set's curve: {}",
                curve_name(spec.curve)
            ),
            Self::GenerationReservation => {
                "reserve operator table generation (CrossChainRegistry)".into()
            }
            Self::SandboxOperators => match &spec.operators_file {
                Some(file) => format!(
                    "register the operators of {} and the aggregator, set weights",
                    file.display()
                ),
                None => format!(
                    "register {} sandbox operator(s) and the aggregator, set weights",
                    spec.operator_sockets.len()
                ),
            },
            Self::SandboxTables => "push the executor set's operator table (sandbox)".into(),
            Self::MailboxConfig => format!(
                "configure the TaskMailbox: SLA {} s, threshold {} bps",
                spec.task_sla, spec.threshold_bps
            ),
        }
    }
}

/// The steps of `spec`, in order.
pub fn plan(spec: &DeploySpec) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    if spec.sandbox {
        match (spec.operator_sockets.is_empty(), &spec.operators_file) {
            (true, None) => {
                return Err(
                    "--sandbox needs operators: the sandbox plays EigenLayer's table transporter, \
                     and an operator table needs them. Pass --operator-sockets (one new operator \
                     per socket) or --operators FILE (existing ones)"
                        .into(),
                );
            }
            (false, Some(_)) => {
                return Err("--operator-sockets creates new operators, --operators names existing ones: pass one of them".into());
            }
            _ => {}
        }
        if spec.stack.is_none() {
            steps.push(Step::Stack);
        }
    } else if !spec.operator_sockets.is_empty()
        || spec.operators_file.is_some()
        || spec.aggregator.is_some()
    {
        return Err("--operator-sockets, --operators and --aggregator register sandbox operators; they need --sandbox (on a real network operators register themselves)".into());
    }
    steps.push(Step::TaskHook);
    if spec.sets_up_avs() {
        steps.extend([
            Step::Registrar,
            Step::Metadata,
            Step::SetRegistrar,
            Step::OperatorSets,
            Step::AggregatorCurve,
            Step::ExecutorCurve,
        ]);
        if spec.sandbox {
            steps.extend([Step::SandboxOperators, Step::SandboxTables]);
        } else {
            if spec.table_calculator.is_none() {
                return Err(format!(
                    "deploying the AVS on {} needs the executor set's operator table calculator: \
                     set `table_calculator = \"0x...\"` under [deploy] in ponos.toml \
                     (EigenLayer's {} table calculator on this network, or your own)",
                    spec.network,
                    curve_name(spec.curve)
                ));
            }
            steps.push(Step::GenerationReservation);
        }
    }
    steps.push(Step::MailboxConfig);
    Ok(steps)
}

pub(super) fn executor_set(avs: Address) -> types::OperatorSet {
    types::OperatorSet {
        avs,
        id: EXECUTOR_SET,
    }
}

pub(super) fn curve_name(curve: Curve) -> &'static str {
    match curve {
        Curve::Bn254 => "BN254",
        Curve::Ecdsa => "ECDSA",
    }
}
