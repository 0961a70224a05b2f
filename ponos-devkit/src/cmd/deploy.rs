//! `ponos deploy`: the project's contracts and the AVS's configuration on a network.

use std::path::PathBuf;

use alloy::primitives::{Address, B256};
use clap::Args;
use ponos_devkit::deploy::{
    DeployError, DeployKeys, DeploySpec, Deployer, ExistingStack, Journal, SandboxOperators, book,
    missing_eigenlayer, plan,
};

use ponos_devkit::project::load_project;

/// Deploy the AVS to Ethereum, Base, Sepolia, Base Sepolia, or a sandbox chain.
///
/// The deploy covers its contracts, operator sets and TaskMailbox configuration.
///
/// On Ethereum and Sepolia (where EigenLayer's core lives) this deploys the registrar and task
/// hook, creates operator sets 0 (aggregator) and 1 (executors), configures their curves,
/// reserves operator table generation and configures the TaskMailbox. On Base and Base Sepolia it
/// deploys the task hook and configures that chain's TaskMailbox (after EigenLayer has
/// transported the executor set's table there). The deploying account is the AVS.
///
/// With --sandbox, Ponos's own contract stack is deployed first and the deployer plays
/// EigenLayer's roles on it (table calculator owner, table transporter): for chains without
/// EigenLayer, private testnets and staging. One operator is registered per --operator-sockets
/// entry; their keys are written to deployments/<network>.operators.json (readable by you only).
///
/// A second AVS goes onto a stack that is already there with --stack (the first deploy's
/// journal), registering operators that exist (--operators FILE: address, account_key,
/// signing_key and socket of each, the signing key of this AVS's curve) and an aggregator that
/// exists (--aggregator ADDRESS: a new key of its own is registered for this AVS's aggregator
/// set and kept in deployments/<network>.aggregator.json). The stack owner's calls (operator
/// weights, table pushes) are sent with STACK_OWNER_KEY when set and printed as the exact
/// transactions to send when not; the aggregator's registration likewise with AGGREGATOR_KEY.
///
/// Every step is recorded in deployments/<network>.json as it is sent and as it lands, each
/// transaction of a multi-transaction step on its own: run the same command again to resume an
/// interrupted deploy; finished steps are skipped, and no registration is sent twice.
///
/// The key comes from PRIVATE_KEY (hex). Compile the contracts first (`ponos build`).
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  ponos deploy --network sepolia --rpc-url $SEPOLIA_RPC --dry-run\n  PRIVATE_KEY=0x... ponos deploy --network sepolia --rpc-url $SEPOLIA_RPC\n  PRIVATE_KEY=0x... ponos deploy --network base-sepolia --rpc-url $BASE_SEPOLIA_RPC\n  PRIVATE_KEY=0x... ponos deploy --network staging --sandbox --rpc-url http://10.0.0.5:8545 \\\n      --operator-sockets 10.0.0.6:9090,10.0.0.7:9090\n  # a second AVS on that stack, same operators and aggregator:\n  PRIVATE_KEY=0x... STACK_OWNER_KEY=0x... AGGREGATOR_KEY=0x... ponos deploy --network staging \\\n      --rpc-url http://10.0.0.5:8545 --stack ../first-avs/deployments/staging.json \\\n      --operators operators.json --aggregator 0x90F79bf6EB2c4f870365E785982E1f101E93b906"
)]
pub(crate) struct DeployArgs {
    /// The network: ethereum, base, sepolia, base-sepolia, or any name with --sandbox.
    #[arg(long)]
    network: String,
    /// The network's JSON-RPC endpoint.
    #[arg(long, env = "PONOS_RPC_URL")]
    rpc_url: Option<String>,
    /// Deploy Ponos's own contract stack first (chains without EigenLayer).
    #[arg(long)]
    sandbox: bool,
    /// Sandbox operators' sockets (host:port, comma-separated); one operator per socket.
    #[arg(long, value_delimiter = ',')]
    operator_sockets: Vec<String>,
    /// Deploy onto a sandbox stack that is already there: a deploy journal that holds it
    /// (deployments/<network>.json of the deploy that made it) or a JSON file of its
    /// addresses. Implies --sandbox.
    #[arg(long, value_name = "FILE")]
    stack: Option<PathBuf>,
    /// Register existing operators instead of new ones: a JSON file
    /// `{"operators": [{"address", "account_key", "signing_key", "socket"}]}` (the format of
    /// deployments/<network>.operators.json), the signing keys of this AVS's curve.
    #[arg(long, value_name = "FILE", conflicts_with = "operator_sockets")]
    operators: Option<PathBuf>,
    /// An existing aggregator's operator address instead of the deployer. It gets a key of its
    /// own for this AVS (AGGREGATOR_SIGNING_KEY, or a new one), sent from its account with
    /// AGGREGATOR_KEY or printed for it to send.
    #[arg(long, value_name = "ADDRESS")]
    aggregator: Option<Address>,
    /// Print the plan (and what the journal has done) without sending anything.
    #[arg(long)]
    dry_run: bool,
    /// The project directory (ponos.toml is looked for here and above).
    #[arg(long, default_value = ".")]
    root: PathBuf,
}

impl DeployArgs {
    pub(crate) async fn run(self) -> eyre::Result<i32> {
        match self.deploy().await {
            Ok(()) => Ok(0),
            Err(message) => {
                eprintln!("error: {message}");
                Ok(1)
            }
        }
    }

    async fn deploy(self) -> Result<(), String> {
        let (root, project) = load_project(&self.root)?;
        let network = self.network.to_ascii_lowercase();
        let book = book::lookup(&network);
        if book.is_none() && !self.sandbox && self.stack.is_none() {
            return Err(format!(
                "--network {}: not in the address book ({}); pass --sandbox to deploy Ponos's own \
                 stack on another chain",
                self.network,
                book::names()
            ));
        }
        let network = book.map_or(network, |n| n.name.to_string());
        let stack = self.stack.as_deref().map(ExistingStack::load).transpose()?;
        let sandbox = self.sandbox || stack.is_some();
        let curve = project.curve()?;
        let (task_hook, registrar) = project.compiled_contracts(&root)?;
        let spec = DeploySpec {
            network: network.clone(),
            book,
            sandbox,
            curve,
            task_sla: project.deploy.task_sla_secs,
            threshold_bps: project.deploy.threshold_bps,
            metadata_uri: project.deploy.metadata_uri.clone(),
            task_hook,
            registrar,
            table_calculator: project.deploy.table_calculator,
            operator_sockets: self.operator_sockets.clone(),
            stack,
            operators_file: self.operators.clone(),
            aggregator: self.aggregator,
        };
        let steps = plan(&spec)?;
        let journal_path = Journal::path(&root, &network);

        if self.dry_run {
            let journal = Journal::load(&journal_path)?;
            println!(
                "plan for {} on {network}{}:",
                project.project.name,
                if sandbox { " (sandbox)" } else { "" }
            );
            for (i, step) in steps.iter().enumerate() {
                let state = match &journal {
                    Some(j) if j.is_done(step.name()) => "done",
                    Some(j) if j.step(step.name()).is_some() => "sent, waiting",
                    _ => "to do",
                };
                println!(
                    "  {:>2}. [{state}] {} ({})",
                    i + 1,
                    step.describe(&spec),
                    step.name()
                );
            }
            println!("journal: {}", journal_path.display());
            return Ok(());
        }

        let rpc_url = self.rpc_url.clone().ok_or_else(|| {
            format!("--rpc-url (or PONOS_RPC_URL) is needed: the JSON-RPC endpoint of {network}")
        })?;
        let deployer_key = env_key("PRIVATE_KEY")?.ok_or_else(|| {
            "PRIVATE_KEY is not set: export the deploying account's key (hex); that account \
             becomes the AVS"
                .to_string()
        })?;
        let keys = DeployKeys {
            deployer: deployer_key,
            stack_owner: env_key("STACK_OWNER_KEY")?,
            aggregator: env_key("AGGREGATOR_KEY")?,
            aggregator_signing: env_key("AGGREGATOR_SIGNING_KEY")?,
        };

        let mut deployer = Deployer::connect(&rpc_url, &keys, &root, &spec)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(book) = book
            && !sandbox
            && let Some((name, address)) = missing_eigenlayer(deployer.provider(), book).await?
        {
            return Err(format!(
                "EigenLayer is not deployed on chain {} at the address book's addresses for {} \
                 ({name} {address} has no code). Check that --rpc-url points at {}; for a chain \
                 without EigenLayer pass --sandbox to deploy Ponos's own stack first",
                deployer.chain_id(),
                book.name,
                book.name
            ));
        }
        eprintln!(
            "deploying {} to {network} (chain {}) as {}{}",
            project.project.name,
            deployer.chain_id(),
            deployer.journal().deployer,
            if sandbox { ", sandbox" } else { "" }
        );
        let total = steps.len();
        let outcome = deployer
            .run(&spec, &steps, |i, step, state| {
                eprintln!("[{}/{total}] {}: {state}", i + 1, step.describe(&spec));
            })
            .await;
        let deployed = match outcome {
            Ok(deployed) => deployed,
            Err(error @ DeployError::Waiting(_)) => {
                return Err(format!("{error}\njournal: {}", journal_path.display()));
            }
            Err(error) => {
                return Err(format!(
                    "{error}\nwhat is done is kept in {}; run the same command again to resume",
                    journal_path.display()
                ));
            }
        };
        println!("deployed:");
        println!("  AVS:          {}", deployed.avs);
        if let Some(registrar) = deployed.registrar {
            println!("  registrar:    {registrar}");
        }
        println!("  task hook:    {}", deployed.task_hook);
        println!("  TaskMailbox:  {}", deployed.task_mailbox);
        if let Some(aggregator) = &deployed.aggregator {
            println!("  aggregator:   {}", aggregator.address);
            if let Some(file) = deployer.aggregator_file() {
                println!(
                    "  its key for this AVS: {} (set it as this AVS's [[avs]] signing_key in the \
                     aggregator's config; keep it private)",
                    file.display()
                );
            }
        }
        if let Some(stack) = deployed.stack {
            println!("  AllocationManager: {}", stack.allocation_manager);
            println!("  KeyRegistrar:      {}", stack.key_registrar);
            println!("  table updater:     {}", stack.operator_table_updater);
            println!(
                "  operators:    {} (their keys; keep them private)",
                self.operators
                    .clone()
                    .unwrap_or_else(|| SandboxOperators::path(&root, &network))
                    .display()
            );
        }
        println!("journal: {}", journal_path.display());
        Ok(())
    }
}

/// The 32-byte hex key in the environment variable `name`, when it is set.
fn env_key(name: &str) -> Result<Option<B256>, String> {
    match std::env::var(name) {
        Ok(value) => {
            value.trim().parse().map(Some).map_err(|_| {
                format!("{name} is not a 32-byte hex key (0x followed by 64 hex digits)")
            })
        }
        Err(_) => Ok(None),
    }
}
