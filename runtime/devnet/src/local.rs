//! Local chains and executors: anvil with the stack deployed, and executors served over gRPC
//! on loopback with in-process performers. Tests, benchmarks and the devnet build on these.

use std::{sync::Arc, time::Duration};

use alloy::{
    network::{Ethereum, EthereumWallet},
    primitives::{Address, B256, Bytes},
    providers::{
        DynProvider, Provider, ProviderBuilder, SendableTx,
        fillers::{FillerControlFlow, TxFiller},
    },
    rpc::types::{Filter, TransactionRequest},
    signers::local::PrivateKeySigner,
    sol_types::SolEvent,
    transports::TransportResult,
};
use alloy_node_bindings::{Anvil, AnvilInstance};
use ponos_chain::{
    contracts::{TaskMailbox, task_mailbox},
    sandbox::{STACK_VERSION, StackConfig, deploy_stack},
};
use ponos_executor::{
    in_process::InProcessPerformer,
    keys::{ChainView, OnchainView, SigningKey},
    performer::PerformerClient,
    service::{AvsEntry, AvsRegistry, Executor, Limits, PerformerHandle, ResultSigning},
};
use ponos_performer::Performer;
use ponos_proto::hourglass::executor_service_server::ExecutorServiceServer;
use ponos_store::MemoryStore;
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::{Identity, ServerTlsConfig};

use crate::{Chain, EXECUTOR_SET, OperatorKey, ProvisionError};

/// How to start a local chain.
#[derive(Debug, Clone, Default)]
pub struct ChainOptions {
    /// The chain id.
    pub chain_id: u64,
    /// The port; a free one when `None`.
    pub port: Option<u16>,
    /// Fork this JSON-RPC endpoint's chain (its latest block) instead of starting empty.
    pub fork_url: Option<String>,
    /// Funded accounts beyond the 32 every chain has (one per operator past 24).
    pub extra_accounts: usize,
    /// The states of past blocks anvil keeps for reads at those blocks; all of them when
    /// `None`. anvil keeps each block's state as a full copy, so a long-running chain whose
    /// storage grows with every task needs a bound: a devnet keeps a few, because the only
    /// past block it reads is the operator tables' reference block, and it reads that once,
    /// as it starts.
    pub state_history: Option<usize>,
    /// The blocks whose transactions, receipts and logs anvil keeps (older blocks keep their
    /// headers only); all of them when `None`.
    pub kept_blocks: Option<usize>,
}

/// The past states a [`LocalChain`] keeps unless told otherwise: in effect all of them.
const ALL_STATES: usize = 1_000_000;

impl ChainOptions {
    /// A fresh chain with `chain_id` on a free port.
    pub fn new(chain_id: u64) -> Self {
        Self {
            chain_id,
            ..Self::default()
        }
    }
}

/// Gas for transactions on a local anvil: a fixed limit and fee cap instead of an
/// `eth_estimateGas` and an `eth_feeHistory` per transaction. A call that reverts is mined and
/// reverts in its receipt instead of failing its estimate.
#[derive(Debug, Clone, Copy)]
struct DevGas;

impl DevGas {
    /// Below EIP-7825's per-transaction cap (2^24) and anvil's block gas limit.
    const LIMIT: u64 = 16_000_000;
    /// anvil's base fee starts at 1 gwei and falls while blocks are nearly empty.
    const MAX_FEE: u128 = 10_000_000_000;
    const PRIORITY_FEE: u128 = 1_000_000_000;
}

impl TxFiller<Ethereum> for DevGas {
    type Fillable = ();

    fn status(&self, tx: &TransactionRequest) -> FillerControlFlow {
        if tx.gas.is_some() && (tx.gas_price.is_some() || tx.max_fee_per_gas.is_some()) {
            FillerControlFlow::Finished
        } else {
            FillerControlFlow::Ready
        }
    }

    fn fill_sync(&self, tx: &mut SendableTx<Ethereum>) {
        if let Some(tx) = tx.as_mut_builder() {
            tx.gas.get_or_insert(Self::LIMIT);
            if tx.gas_price.is_none() && tx.max_fee_per_gas.is_none() {
                tx.max_fee_per_gas = Some(Self::MAX_FEE);
                tx.max_priority_fee_per_gas = Some(Self::PRIORITY_FEE);
            }
        }
    }

    async fn prepare<P: Provider<Ethereum>>(
        &self,
        _: &P,
        _: &TransactionRequest,
    ) -> TransportResult<Self::Fillable> {
        Ok(())
    }

    async fn fill(
        &self,
        _: Self::Fillable,
        mut tx: SendableTx<Ethereum>,
    ) -> TransportResult<SendableTx<Ethereum>> {
        self.fill_sync(&mut tx);
        Ok(tx)
    }
}

/// An anvil chain with the stack deployed. Dropping it stops anvil.
#[derive(Debug)]
pub struct LocalChain {
    _anvil: AnvilInstance,
    /// The chain, its provider (whose wallet holds every anvil account) and the stack.
    pub chain: Chain,
    /// anvil's funded accounts.
    pub accounts: Vec<Address>,
    /// Their private keys (anvil's well-known development keys).
    pub keys: Vec<B256>,
    /// The endpoint URL.
    pub endpoint: String,
    /// The WebSocket endpoint URL.
    pub ws_endpoint: String,
}

impl LocalChain {
    /// Starts anvil with `chain_id` on a free port and deploys the stack from its first account.
    pub async fn start(chain_id: u64) -> Result<Self, ProvisionError> {
        Self::start_with(&ChainOptions::new(chain_id)).await
    }

    /// Starts anvil as `options` say and deploys the stack from its first account.
    pub async fn start_with(options: &ChainOptions) -> Result<Self, ProvisionError> {
        let chain_id = options.chain_id;
        // 32 funded accounts (roles, operators, task creators); history in memory, never on
        // disk (anvil otherwise writes old states under ~/.foundry).
        let accounts = (32 + options.extra_accounts).to_string();
        let history = options
            .state_history
            .unwrap_or(ALL_STATES)
            .max(1)
            .to_string();
        // anvil's allocator (jemalloc) hands freed pages back at once rather than after its
        // 10 s decay: every block frees a whole state copy, and a devnet's resident size
        // should be what it holds.
        let mut anvil = Anvil::new()
            .chain_id(chain_id)
            .args(["--accounts", &accounts, "--prune-history", &history])
            .env("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0");
        if let Some(blocks) = options.kept_blocks {
            anvil = anvil.args(["--transaction-block-keeper".to_string(), blocks.to_string()]);
        }
        if let Some(port) = options.port {
            if let Err(e) = std::net::TcpListener::bind(("127.0.0.1", port)) {
                return Err(ProvisionError::Spec(format!(
                    "port {port} for chain {chain_id} is taken ({e}); choose another port, or \
                     leave the port out for a free one"
                )));
            }
            anvil = anvil.port(port);
        }
        if let Some(url) = &options.fork_url {
            anvil = anvil.fork(url.clone());
        }
        // Spawning waits for anvil to say it listens: off the async threads, so that chains
        // started together start in parallel.
        let spawned = tokio::task::spawn_blocking(move || anvil.try_spawn())
            .await
            .map_err(|e| ProvisionError::step("starting anvil", e))?;
        let anvil = spawned.map_err(|e| {
            let what = match &options.fork_url {
                Some(url) => format!("starting anvil forked from {url} (does it answer?)"),
                None => "starting anvil (run script/setup to install it)".into(),
            };
            ProvisionError::step(what, e)
        })?;
        let signers: Vec<PrivateKeySigner> =
            anvil.keys().iter().map(|k| k.clone().into()).collect();
        let mut wallet = EthereumWallet::new(signers[0].clone());
        for signer in &signers[1..] {
            wallet.register_signer(signer.clone());
        }
        // Nonces counted here and fixed gas: one JSON-RPC call per transaction sent instead of
        // four (nonce, gas estimate, fee history, send).
        let provider = ProviderBuilder::new()
            .disable_recommended_fillers()
            .with_chain_id(chain_id)
            .with_cached_nonce_management()
            .filler(DevGas)
            .wallet(wallet)
            .connect_http(anvil.endpoint_url())
            .erased();
        let accounts: Vec<Address> = signers.iter().map(PrivateKeySigner::address).collect();
        let keys: Vec<B256> = signers.iter().map(PrivateKeySigner::to_bytes).collect();
        let stack = deploy_stack(&provider, &StackConfig::new(accounts[0]))
            .await
            .map_err(|e| ProvisionError::step("deploying the stack", e))?;
        Ok(Self {
            endpoint: anvil.endpoint(),
            ws_endpoint: anvil.ws_endpoint(),
            _anvil: anvil,
            chain: Chain {
                chain_id,
                provider,
                stack,
            },
            accounts,
            keys,
        })
    }

    /// The chain id.
    pub fn id(&self) -> u64 {
        self.chain.chain_id
    }

    /// The anvil process's id.
    pub fn pid(&self) -> u32 {
        self._anvil.child().id()
    }

    /// The provider.
    pub fn provider(&self) -> &DynProvider {
        &self.chain.provider
    }
}

impl std::ops::Deref for LocalChain {
    type Target = Chain;

    fn deref(&self) -> &Chain {
        &self.chain
    }
}

/// Tasks on a chain with the stack: what task creators and tests do.
impl Chain {
    /// Creates a task for `avs`'s executor set from `creator`; returns its hash.
    pub async fn create_task(
        &self,
        creator: Address,
        avs: Address,
        payload: Bytes,
    ) -> Result<B256, ProvisionError> {
        let mailbox = TaskMailbox::new(self.stack.task_mailbox, &self.provider);
        let params = task_mailbox::ITaskMailboxTypes::TaskParams {
            refundCollector: creator,
            executorOperatorSet: task_mailbox::OperatorSet {
                avs,
                id: EXECUTOR_SET,
            },
            payload,
        };
        let step = "creating a task";
        let receipt = mailbox
            .createTask(params)
            .from(creator)
            .send()
            .await
            .map_err(|e| ProvisionError::step(step, e))?;
        let receipt = ponos_chain::receipt::receipt_of(receipt)
            .await
            .map_err(|e| ProvisionError::step(step, e))?;
        if !receipt.status() {
            return Err(ProvisionError::Reverted {
                step: step.into(),
                tx: receipt.transaction_hash,
            });
        }
        receipt
            .inner
            .logs()
            .iter()
            .find_map(|log| log.log_decode::<TaskMailbox::TaskCreated>().ok())
            .map(|log| log.inner.data.taskHash)
            .ok_or_else(|| ProvisionError::step(step, "no TaskCreated event in the receipt"))
    }

    /// Every `TaskVerified` of `task`: its certificate and result.
    pub async fn verified_events(&self, task: B256) -> Result<Vec<(Bytes, Bytes)>, ProvisionError> {
        let filter = Filter::new()
            .address(self.stack.task_mailbox)
            .event_signature(TaskMailbox::TaskVerified::SIGNATURE_HASH)
            .topic2(task)
            .from_block(0);
        let logs = self
            .provider
            .get_logs(&filter)
            .await
            .map_err(|e| ProvisionError::step("reading TaskVerified events", e))?;
        Ok(logs
            .iter()
            .filter_map(|log| log.log_decode::<TaskMailbox::TaskVerified>().ok())
            .map(|log| (log.inner.data.executorCert, log.inner.data.result))
            .collect())
    }

    /// Waits until `task` is verified (polling every `poll`), then returns the certificate and
    /// result the mailbox stored for it (what its `TaskVerified` carried).
    ///
    /// A read that fails is asked again a few times before it counts: an anvil that keeps few
    /// past states can fail a read of its latest block when blocks are mined while the read
    /// runs. While it mines, anvil may also answer one read from the state after the block's
    /// transactions and the next from the state before: the result is read until it agrees.
    pub async fn wait_verified(
        &self,
        task: B256,
        within: Duration,
        poll: Duration,
    ) -> Result<(Bytes, Bytes), ProvisionError> {
        let mailbox = TaskMailbox::new(self.stack.task_mailbox, &self.provider);
        let until = tokio::time::Instant::now() + within;
        let mut failures = 0;
        loop {
            let read = match mailbox.getTaskStatus(task).call().await {
                // While anvil mines, a read of the latest block may see the state after the
                // block's transactions and the next one the state before them.
                Ok(2) => match mailbox.getTaskInfo(task).call().await {
                    Ok(info) if info.status == 2 => return Ok((info.executorCert, info.result)),
                    Ok(info) => Ok(info.status),
                    Err(e) => Err(("reading the verified task", e)),
                },
                Ok(status) => Ok(status),
                Err(e) => Err(("reading the task status", e)),
            };
            match read {
                Ok(status) => {
                    failures = 0;
                    if tokio::time::Instant::now() >= until {
                        return Err(ProvisionError::step(
                            format!("waiting for task {task} on chain {}", self.chain_id),
                            format!("not verified within {within:?} (status {status})"),
                        ));
                    }
                }
                Err((step, e)) if failures >= READ_ATTEMPTS => {
                    return Err(ProvisionError::step(step, e));
                }
                Err(_) => failures += 1,
            }
            tokio::time::sleep(poll).await;
        }
    }
}

/// Reads of a dev chain asked again before their error counts.
const READ_ATTEMPTS: u32 = 3;

/// An executor served on loopback with an in-process performer. Dropping it stops both.
#[derive(Debug)]
pub struct LocalExecutor {
    server: JoinHandle<()>,
    in_process: Vec<InProcessPerformer>,
    /// What it reads from L1, shared with the service (and its cache).
    view: OnchainView<DynProvider>,
    /// The AVSs it serves (the first is the one [`load_reference`](Self::load_reference) reads).
    avss: Vec<Address>,
    operator: Address,
    /// The socket it serves on.
    pub socket: String,
}

impl Drop for LocalExecutor {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl LocalExecutor {
    /// Serves an executor for `operator` (signing with `key`) of `avs` on `listener`, running
    /// tasks in `performer`, reading aggregator keys and membership from `l1`. ECDSA results
    /// are signed for the verifier at `ecdsa_verifier`.
    pub async fn start<P: Performer>(
        listener: TcpListener,
        l1: &Chain,
        avs: Address,
        operator: Address,
        key: OperatorKey,
        performer: P,
    ) -> Result<Self, ProvisionError> {
        Self::start_tls(listener, l1, avs, operator, key, performer, None).await
    }

    /// Like [`start`](Self::start), serving gRPC over TLS with `tls` (a certificate and its
    /// key, PEM) when given; operators then register `https://` sockets.
    pub async fn start_tls<P: Performer>(
        listener: TcpListener,
        l1: &Chain,
        avs: Address,
        operator: Address,
        key: OperatorKey,
        performer: P,
        tls: Option<Identity>,
    ) -> Result<Self, ProvisionError> {
        let performer = InProcessPerformer::start(performer)
            .await
            .map_err(|e| ProvisionError::step("starting an in-process performer", e))?;
        let client = PerformerClient::connect(performer.port(), Duration::from_secs(10))
            .await
            .map_err(|e| ProvisionError::step("connecting to the performer", e))?;
        let mut executor = Self::spawn(
            listener,
            l1,
            operator,
            vec![(avs, key, PerformerHandle::Direct(Box::new(client)))],
            tls,
        )?;
        executor.in_process = vec![performer];
        Ok(executor)
    }

    /// Like [`start`](Self::start), with a performer the caller runs (a supervised container
    /// or process).
    pub fn serve(
        listener: TcpListener,
        l1: &Chain,
        avs: Address,
        operator: Address,
        key: OperatorKey,
        performer: PerformerHandle,
    ) -> Result<Self, ProvisionError> {
        Self::spawn(listener, l1, operator, vec![(avs, key, performer)], None)
    }

    /// Serves one executor for `operator` of several AVSs on `listener`, each AVS with its own
    /// in-process instance of `performer`: each entry is an AVS and the operator's key for its
    /// executor set.
    pub async fn start_many<P: Performer + Clone>(
        listener: TcpListener,
        l1: &Chain,
        operator: Address,
        avss: Vec<(Address, OperatorKey)>,
        performer: P,
    ) -> Result<Self, ProvisionError> {
        let mut performers = Vec::new();
        let mut entries = Vec::new();
        for (avs, key) in avss {
            let started = InProcessPerformer::start(performer.clone())
                .await
                .map_err(|e| ProvisionError::step("starting an in-process performer", e))?;
            let client = PerformerClient::connect(started.port(), Duration::from_secs(10))
                .await
                .map_err(|e| ProvisionError::step("connecting to the performer", e))?;
            entries.push((avs, key, PerformerHandle::Direct(Box::new(client))));
            performers.push(started);
        }
        let mut executor = Self::spawn(listener, l1, operator, entries, None)?;
        executor.in_process = performers;
        Ok(executor)
    }

    /// Serves one executor for `operator` of several AVSs on `listener`: each entry is an AVS,
    /// the operator's key for its executor set and the performer its tasks run in.
    pub fn serve_many(
        listener: TcpListener,
        l1: &Chain,
        operator: Address,
        avss: Vec<(Address, OperatorKey, PerformerHandle)>,
    ) -> Result<Self, ProvisionError> {
        Self::spawn(listener, l1, operator, avss, None)
    }

    fn spawn(
        listener: TcpListener,
        l1: &Chain,
        operator: Address,
        entries: Vec<(Address, OperatorKey, PerformerHandle)>,
        tls: Option<Identity>,
    ) -> Result<Self, ProvisionError> {
        let mut builder = tonic::transport::Server::builder();
        if let Some(identity) = tls {
            builder = builder
                .tls_config(ServerTlsConfig::new().identity(identity))
                .map_err(|e| ProvisionError::step("configuring the executor's TLS", e))?;
        }
        let socket = listener
            .local_addr()
            .map_err(|e| ProvisionError::step("reading the executor's address", e))?
            .to_string();
        let avss = AvsRegistry::default();
        let mut served = Vec::new();
        for (avs, key, performer) in entries {
            let signing = match key {
                OperatorKey::Bn254(key) => ResultSigning::Bn254(SigningKey::Bn254(key)),
                OperatorKey::Ecdsa(key) => ResultSigning::Ecdsa {
                    key: SigningKey::Ecdsa(key),
                    verifier: l1.stack.ecdsa_certificate_verifier,
                    version: STACK_VERSION.into(),
                },
            };
            avss.insert(
                avs,
                AvsEntry {
                    performer: Some(performer),
                    signing: Arc::new(signing),
                },
            );
            served.push(avs);
        }
        let view = OnchainView::new(
            l1.provider.clone(),
            l1.stack.allocation_manager,
            l1.stack.key_registrar,
        );
        let executor = Executor::new(
            operator,
            avss,
            Arc::new(MemoryStore::default()),
            Arc::new(view.clone()),
            Limits::default(),
        );
        let server = tokio::spawn(async move {
            let _ = builder
                .add_service(ExecutorServiceServer::new(executor))
                .serve_with_incoming(TcpListenerStream::new(listener))
                .await;
        });
        Ok(Self {
            server,
            in_process: Vec::new(),
            view,
            avss: served,
            operator,
            socket,
        })
    }

    /// Reads (and keeps) what tasks pinned at L1 block `reference_block` are checked against:
    /// `aggregator`'s key and this operator's membership in `set`, as the first such task
    /// would. A devnet does it as it starts, while L1 still holds that block's state.
    pub async fn load_reference(
        &self,
        aggregator: Address,
        set: u32,
        reference_block: u64,
    ) -> Result<(), ProvisionError> {
        let avs = self.avss.first().copied().unwrap_or_default();
        self.load_reference_of(avs, aggregator, set, reference_block)
            .await
    }

    /// [`load_reference`](Self::load_reference) for the tasks of `avs`.
    pub async fn load_reference_of(
        &self,
        avs: Address,
        aggregator: Address,
        set: u32,
        reference_block: u64,
    ) -> Result<(), ProvisionError> {
        let step = "reading the aggregator key and operator set at the reference block";
        self.view
            .aggregator_key(avs, aggregator, reference_block)
            .await
            .map_err(|e| ProvisionError::step(step, e))?;
        self.view
            .is_member(avs, set, self.operator, reference_block)
            .await
            .map_err(|e| ProvisionError::step(step, e))?;
        Ok(())
    }
}
