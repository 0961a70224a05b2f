//! The sandbox's registrations: operators and the aggregator join the new AVS's operator sets,
//! the stack owner sets the executors' weights and pushes their table. Each transaction is
//! journaled under its own name (`sandbox-operators/key/0x…`), and each is first checked on
//! chain, so a rerun after a partial failure never repeats a registration.
//!
//! The stack may be this deploy's own or one deployed earlier (`--stack`); its owner's calls
//! are sent with the owner's key when the deploy holds it, and otherwise printed, in order, as
//! the exact transactions the owner must send. Likewise an existing aggregator's registration.

use std::path::{Path, PathBuf};

use alloy::{
    network::TransactionBuilder as _,
    primitives::{Address, B256, Bytes, U256},
    providers::Provider,
    rpc::types::TransactionRequest,
    sol_types::SolValue as _,
};
use ponos_chain::{
    contracts::{
        AllocationManager, BN254TableCalculator, KeyRegistrar, OperatorTableUpdater,
        allocation_manager, retype,
    },
    sandbox::STACK_VERSION,
};
use ponos_crypto::{bn254, digest::KeyRegistrarDomain, ecdsa, types};
use ponos_devnet::{
    AGGREGATOR_SET, Curve, EXECUTOR_SET, OperatorKey, key_registration, table_pushes, weights_call,
};
use serde::{Deserialize, Serialize};

use super::{DeployError, DeploySpec, Deployer, SANDBOX_OPERATOR_FUNDS, Step};

/// A sandbox operator, with its secrets (sandbox networks only; the file is private to its
/// owner).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SandboxOperator {
    /// The operator's account.
    pub address: Address,
    /// The account's private key.
    pub account_key: B256,
    /// The operator's signing key for the executor set (BN254 or ECDSA scalar).
    pub signing_key: B256,
    /// Where its executor listens.
    pub socket: String,
}

impl SandboxOperator {
    /// The operator's signing key for `curve`.
    pub fn key(&self, curve: Curve) -> Result<OperatorKey, String> {
        let bytes = self.signing_key.as_slice();
        Ok(match curve {
            Curve::Bn254 => {
                OperatorKey::Bn254(bn254::SecretKey::from_bytes(bytes).map_err(|e| e.to_string())?)
            }
            Curve::Ecdsa => {
                OperatorKey::Ecdsa(ecdsa::SecretKey::from_bytes(bytes).map_err(|e| e.to_string())?)
            }
        })
    }
}

/// `deployments/<network>.<what>.json` in `project`.
fn deployments_file(project: &Path, network: &str, what: &str) -> PathBuf {
    project
        .join("deployments")
        .join(format!("{}.{what}.json", network.to_ascii_lowercase()))
}

/// Reads the JSON file at `path`; `Ok(None)` when there is none.
fn load_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Writes `value` as JSON at `path`, readable by its owner only (it holds keys).
fn save_private_json(path: &Path, value: &impl Serialize) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).expect("plain data serialises");
    let dir = path.parent().unwrap_or(Path::new("."));
    crate::private::create_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    crate::private::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))
}

/// The sandbox operators of a deploy (`deployments/<network>.operators.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SandboxOperators {
    /// The operators, one per socket.
    pub operators: Vec<SandboxOperator>,
}

impl SandboxOperators {
    /// The file's path for `network` in `project`.
    pub fn path(project: &Path, network: &str) -> PathBuf {
        deployments_file(project, network, "operators")
    }

    /// Reads the file; `Ok(None)` when there is none.
    pub fn load(path: &Path) -> Result<Option<Self>, String> {
        load_json(path)
    }

    pub(super) fn generate(curve: Curve, sockets: &[String]) -> Self {
        let mut rng = rand::rngs::OsRng;
        let operators = sockets
            .iter()
            .map(|socket| {
                let account = ecdsa::SecretKey::random(&mut rng);
                let signing_key = match curve {
                    Curve::Bn254 => B256::from(*bn254::SecretKey::random(&mut rng).to_bytes()),
                    Curve::Ecdsa => B256::from(*ecdsa::SecretKey::random(&mut rng).to_bytes()),
                };
                SandboxOperator {
                    address: account.address(),
                    account_key: B256::from(*account.to_bytes()),
                    signing_key,
                    socket: socket.clone(),
                }
            })
            .collect();
        Self { operators }
    }

    pub(super) fn save(&self, path: &Path) -> Result<(), String> {
        save_private_json(path, self)
    }
}

/// The aggregator a sandbox deploy registers for the new AVS's aggregator set: the deployer
/// by default (its own key registered), or an existing aggregator (`--aggregator`) with a key
/// of its own for this AVS, kept in `deployments/<network>.aggregator.json` (readable by you
/// only): the KeyRegistrar keeps keys unique, so the key it holds for another AVS cannot serve.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SandboxAggregator {
    /// The aggregator's operator address.
    pub address: Address,
    /// The ECDSA key registered for this AVS's aggregator set (`[[avs]] signing_key` of the
    /// aggregator's config).
    pub signing_key: B256,
}

impl SandboxAggregator {
    /// The file's path for `network` in `project`.
    pub fn path(project: &Path, network: &str) -> PathBuf {
        deployments_file(project, network, "aggregator")
    }

    /// Reads the file; `Ok(None)` when there is none.
    pub fn load(path: &Path) -> Result<Option<Self>, String> {
        load_json(path)
    }

    /// The aggregator of `address` for a deploy: the one the file at `path` holds (a resumed
    /// deploy), else one with `signing_key` (or a new random key), saved there first.
    pub fn open_or_create(
        path: &Path,
        address: Address,
        signing_key: Option<B256>,
    ) -> Result<Self, String> {
        if let Some(existing) = Self::load(path)? {
            if existing.address != address
                || signing_key.is_some_and(|key| key != existing.signing_key)
            {
                return Err(format!(
                    "{} holds the aggregator {} and its key for this AVS; --aggregator (or \
                     AGGREGATOR_SIGNING_KEY) says otherwise. Pass the same to resume, or move \
                     the file away to start over",
                    path.display(),
                    existing.address
                ));
            }
            return Ok(existing);
        }
        let signing_key = signing_key.unwrap_or_else(|| {
            B256::from(*ecdsa::SecretKey::random(&mut rand::rngs::OsRng).to_bytes())
        });
        ecdsa::SecretKey::from_bytes(signing_key.as_slice())
            .map_err(|e| format!("AGGREGATOR_SIGNING_KEY: {e}"))?;
        let aggregator = Self {
            address,
            signing_key,
        };
        save_private_json(path, &aggregator)?;
        Ok(aggregator)
    }

    fn key(&self) -> ecdsa::SecretKey {
        ecdsa::SecretKey::from_bytes(self.signing_key.as_slice())
            .expect("checked when the aggregator was opened")
    }
}

/// One transaction of a multi-transaction step.
struct Part {
    /// Its journal name (`<step>/<what>`).
    name: String,
    /// What it does, for people.
    what: String,
    /// The account that must send it.
    from: Address,
    /// The call.
    tx: TransactionRequest,
}

/// Transactions this deploy cannot send (it lacks the sender's key): shown, in order, for
/// their senders to send.
#[derive(Default)]
struct Printed(Vec<Part>);

impl Printed {
    fn into_waiting(self, after: &str) -> Result<(), DeployError> {
        if self.0.is_empty() {
            return Ok(());
        }
        let mut message = String::from(
            "waiting for transactions this deploy holds no key for. Their senders send them in \
             this order (or set STACK_OWNER_KEY / AGGREGATOR_KEY and run again); then run the \
             same `ponos deploy` again",
        );
        message.push_str(after);
        message.push(':');
        for part in self.0 {
            let to = part
                .tx
                .to
                .and_then(|to| to.to().copied())
                .unwrap_or_default();
            let data = part.tx.input.input().cloned().unwrap_or_default();
            message.push_str(&format!(
                "\n  # {} (from {})\n  cast send {to} {data} --rpc-url \"$PONOS_RPC_URL\" --private-key <key of {}>",
                part.what, part.from, part.from
            ));
        }
        Err(DeployError::Waiting(message))
    }
}

impl Deployer {
    /// Sends `part` when this deploy holds its sender's key and the journal has not done it;
    /// otherwise adds it to `printed`.
    async fn part(&mut self, part: Part, printed: &mut Printed) -> Result<(), DeployError> {
        if self.journal.is_done(&part.name) {
            return Ok(());
        }
        if !self.holds_key(part.from) {
            printed.0.push(part);
            return Ok(());
        }
        let tx = part.tx.with_from(part.from);
        self.send(&part.name, tx).await
    }

    /// Records `name` as done without a transaction of this deploy (the chain shows it done),
    /// unless the journal has it already.
    fn part_done(&mut self, name: &str) -> Result<(), DeployError> {
        if self.journal.is_done(name) {
            return Ok(());
        }
        self.record_done(name, None)
    }

    /// Funds the sandbox operators, registers each one's key and joins it to the executor
    /// set, registers the aggregator in the aggregator set, and has the stack owner set the
    /// executors' weights: one journaled transaction at a time.
    pub(super) async fn sandbox_operators(&mut self, spec: &DeploySpec) -> Result<(), DeployError> {
        let step = Step::SandboxOperators;
        let fail = |reason: String| DeployError::Step {
            step: step.name().into(),
            reason,
        };
        let operators = self
            .operators
            .clone()
            .ok_or_else(|| fail("no sandbox operators".into()))?;
        let aggregator = self.aggregator.clone();
        let chain = self.sandbox_chain()?;
        let stack = chain.stack;
        let avs = self.deployer;
        let provider = self.provider.clone();
        let manager = AllocationManager::new(stack.allocation_manager, &provider);
        let registry = KeyRegistrar::new(stack.key_registrar, &provider);
        let domain = KeyRegistrarDomain {
            chain_id: self.chain_id,
            key_registrar: stack.key_registrar,
            version: STACK_VERSION,
        };
        let name = |what: &str| format!("{}/{what}", step.name());
        let mut printed = Printed::default();

        for operator in &operators.operators {
            let part = name(&format!("fund/{}", operator.address));
            let balance = provider
                .get_balance(operator.address)
                .await
                .map_err(|e| fail(e.to_string()))?;
            if balance >= U256::from(SANDBOX_OPERATOR_FUNDS / 2) {
                self.part_done(&part)?;
                continue;
            }
            let tx = TransactionRequest::default()
                .with_to(operator.address)
                .with_value(U256::from(SANDBOX_OPERATOR_FUNDS));
            let what = format!("fund operator {}", operator.address);
            self.part(
                Part {
                    name: part,
                    what,
                    from: avs,
                    tx,
                },
                &mut printed,
            )
            .await?;
        }

        // The aggregator: its ECDSA key in set 0.
        let aggregator_set = types::OperatorSet {
            avs,
            id: AGGREGATOR_SET,
        };
        let executor_set = types::OperatorSet {
            avs,
            id: EXECUTOR_SET,
        };
        let join =
            |id: u32, socket: &str| allocation_manager::IAllocationManagerTypes::RegisterParams {
                avs,
                operatorSetIds: vec![id],
                data: Bytes::from(socket.to_string().abi_encode()),
            };
        let mut joins = vec![(
            aggregator.address,
            OperatorKey::Ecdsa(aggregator.key()),
            aggregator_set.clone(),
            String::new(),
            ("aggregator".to_string(), "the aggregator".to_string()),
        )];
        for operator in &operators.operators {
            joins.push((
                operator.address,
                operator.key(spec.curve).map_err(fail)?,
                executor_set.clone(),
                operator.socket.clone(),
                (
                    operator.address.to_string(),
                    format!("operator {}", operator.address),
                ),
            ));
        }
        for (address, key, set, socket, (label, who)) in joins {
            let key_part = name(&format!("key/{label}"));
            let registered = registry
                .isRegistered(retype(&set), address)
                .call()
                .await
                .map_err(|e| fail(format!("reading the key registration of {address}: {e}")))?;
            if registered {
                self.part_done(&key_part)?;
            } else {
                let (key_data, proof) = key_registration(&domain, address, &set, &key)
                    .map_err(|e| fail(e.to_string()))?;
                let tx = registry
                    .registerKey(address, retype(&set), key_data, proof)
                    .into_transaction_request();
                let what = format!("register the key of {who} for operator set {}", set.id);
                self.part(
                    Part {
                        name: key_part,
                        what,
                        from: address,
                        tx,
                    },
                    &mut printed,
                )
                .await?;
            }
            let join_part = name(&format!("join/{label}"));
            let member = manager
                .isMemberOfOperatorSet(address, retype(&set))
                .call()
                .await
                .map_err(|e| fail(format!("reading the membership of {address}: {e}")))?;
            if member {
                self.part_done(&join_part)?;
            } else {
                let tx = manager
                    .registerForOperatorSets(address, join(set.id, &socket))
                    .into_transaction_request();
                let what = format!("register {who} in operator set {}", set.id);
                self.part(
                    Part {
                        name: join_part,
                        what,
                        from: address,
                        tx,
                    },
                    &mut printed,
                )
                .await?;
            }
        }

        // The stack owner: the executors' weights, once their keys are registered.
        let weights_part = name("weights");
        let weights: Vec<(Address, U256)> = operators
            .operators
            .iter()
            .map(|o| (o.address, U256::from(1_000)))
            .collect();
        if !self.journal.is_done(&weights_part) {
            if self.weights_set(spec.curve, &weights).await.map_err(fail)? {
                self.part_done(&weights_part)?;
            } else {
                let owner = self.calculator_owner(spec.curve).await.map_err(fail)?;
                self.check_owner_key(owner).map_err(fail)?;
                let tx = weights_call(&stack, spec.curve, avs, &weights);
                let what = "set the executor set's weights, as the stack owner".to_string();
                self.part(
                    Part {
                        name: weights_part,
                        what,
                        from: owner,
                        tx,
                    },
                    &mut printed,
                )
                .await?;
            }
        }
        printed.into_waiting(" (the executor set's table is pushed after)")?;
        self.done(step, None)
    }

    /// Has the stack owner push the executor set's operator table to the chain's verifier.
    pub(super) async fn sandbox_tables(&mut self, spec: &DeploySpec) -> Result<(), DeployError> {
        let step = Step::SandboxTables;
        let fail = |reason: String| DeployError::Step {
            step: step.name().into(),
            reason,
        };
        let part = format!("{}/push", step.name());
        let chain = self.sandbox_chain()?;
        let (_, task) = self.contracts(spec)?;
        // Zero until the set's table is pushed.
        if self.table_owner(spec, &task).await.map_err(fail)? != Address::ZERO {
            self.part_done(&part)?;
            return self.done(step, None);
        }
        let owner = OperatorTableUpdater::new(chain.stack.operator_table_updater, &chain.provider)
            .owner()
            .call()
            .await
            .map_err(|e| fail(format!("reading the table updater's owner: {e}")))?;
        self.check_owner_key(owner).map_err(fail)?;
        let (_, pushes) = table_pushes(&chain, &[&chain], self.deployer, spec.curve)
            .await
            .map_err(|e| fail(e.to_string()))?;
        let mut printed = Printed::default();
        for tx in pushes {
            let what = "push the executor set's operator table, as the stack owner".to_string();
            self.part(
                Part {
                    name: part.clone(),
                    what,
                    from: owner,
                    tx,
                },
                &mut printed,
            )
            .await?;
        }
        printed.into_waiting("")?;
        self.done(step, None)
    }

    /// Refuses a `STACK_OWNER_KEY` that is not the key of the stack's `owner`.
    fn check_owner_key(&self, owner: Address) -> Result<(), String> {
        match self.stack_owner {
            Some(key) if key != owner => Err(format!(
                "STACK_OWNER_KEY is the key of {key}, but the stack's owner is {owner}"
            )),
            _ => Ok(()),
        }
    }

    async fn weights_set(&self, curve: Curve, weights: &[(Address, U256)]) -> Result<bool, String> {
        let stack = self.sandbox_stack()?;
        let set = types::OperatorSet {
            avs: self.deployer,
            id: EXECUTOR_SET,
        };
        for (operator, _) in weights {
            let set_weights = match curve {
                Curve::Bn254 => {
                    BN254TableCalculator::new(stack.bn254_table_calculator, &self.provider)
                        .getOperatorWeights(retype(&set), *operator)
                        .call()
                        .await
                }
                Curve::Ecdsa => {
                    ponos_chain::contracts::ECDSATableCalculator::new(
                        stack.ecdsa_table_calculator,
                        &self.provider,
                    )
                    .getOperatorWeights(retype(&set), *operator)
                    .call()
                    .await
                }
            }
            .map_err(|e| format!("reading the weights of {operator}: {e}"))?;
            if set_weights.is_empty() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    async fn calculator_owner(&self, curve: Curve) -> Result<Address, String> {
        let stack = self.sandbox_stack()?;
        match curve {
            Curve::Bn254 => {
                BN254TableCalculator::new(stack.bn254_table_calculator, &self.provider)
                    .owner()
                    .call()
                    .await
            }
            Curve::Ecdsa => {
                ponos_chain::contracts::ECDSATableCalculator::new(
                    stack.ecdsa_table_calculator,
                    &self.provider,
                )
                .owner()
                .call()
                .await
            }
        }
        .map_err(|e| format!("reading the table calculator's owner: {e}"))
    }
}
