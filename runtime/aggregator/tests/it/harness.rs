//! A real two-chain network for the aggregator's tests: anvil for L1 (31337) and L2 (31338),
//! the contract stack on both, one AVS set up with ponos-devnet, and executors served over
//! gRPC on loopback with in-process performers.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use alloy::{
    network::EthereumWallet,
    primitives::{Address, B256, Bytes, U256},
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::types::Filter,
    signers::local::PrivateKeySigner,
    sol_types::SolEvent,
};
use alloy_node_bindings::{Anvil, AnvilInstance};
use ponos_aggregator::{
    AggregatorConfig, ChainConfig, TaskChain,
    sender::SenderConfig,
    session::AggregatorIdentity,
    view::{L1, L1Contracts},
};
use ponos_chain::{
    contracts::{TaskMailbox, task_mailbox},
    sandbox::{StackAddresses, StackConfig, deploy_stack},
};
use ponos_crypto::{bn254, ecdsa};
use ponos_devnet::{AvsSpec, Chain, Curve, EXECUTOR_SET, OperatorKey, OperatorSpec, provision_avs};
use ponos_executor::{
    in_process::InProcessPerformer,
    keys::{OnchainView, SigningKey},
    performer::PerformerClient,
    service::{AvsEntry, AvsRegistry, Executor, Limits, PerformerHandle, ResultSigning},
};
use ponos_performer::{Performer, PerformerError, Task};
use ponos_proto::hourglass::executor_service_server::ExecutorServiceServer;
use ponos_store::MemoryStore;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;

/// How an operator's executor behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Behaviour {
    /// Answers correctly.
    Honest,
    /// Not running: its socket refuses connections.
    Offline,
    /// Answers with a different result.
    Wrong,
    /// Accepts the connection and never answers.
    Silent,
}

/// Squares a decimal payload after an adjustable delay; `wrong` adds one.
#[derive(Clone)]
struct Squarer {
    wrong: bool,
    delay_ms: Arc<AtomicU64>,
}

impl Performer for Squarer {
    async fn handle_task(&self, task: Task) -> Result<Vec<u8>, PerformerError> {
        let delay = self.delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        let n: u128 = String::from_utf8_lossy(&task.payload)
            .parse()
            .map_err(|_| PerformerError::InvalidTask("a decimal number expected".into()))?;
        let square = n * n + u128::from(self.wrong);
        Ok(square.to_string().into_bytes())
    }
}

/// One anvil chain with the stack.
pub(crate) struct TestChain {
    _anvil: AnvilInstance,
    pub(crate) chain: Chain,
}

impl TestChain {
    pub(crate) fn id(&self) -> u64 {
        self.chain.chain_id
    }

    pub(crate) fn provider(&self) -> &DynProvider {
        &self.chain.provider
    }

    pub(crate) fn stack(&self) -> &StackAddresses {
        &self.chain.stack
    }
}

/// The whole network.
pub(crate) struct Net {
    pub(crate) l1: TestChain,
    pub(crate) l2: TestChain,
    pub(crate) avs: Address,
    pub(crate) aggregator: Address,
    pub(crate) aggregator_key: ecdsa::SecretKey,
    pub(crate) creator: Address,
    /// Milliseconds every performer waits before answering.
    pub(crate) delay_ms: Arc<AtomicU64>,
    _servers: Vec<tokio::task::JoinHandle<()>>,
    _performers: Vec<InProcessPerformer>,
}

async fn spawn_chain(chain_id: u64) -> (TestChain, Vec<PrivateKeySigner>) {
    let anvil = Anvil::new()
        .chain_id(chain_id)
        .try_spawn()
        .expect("anvil starts (run script/setup)");
    let signers: Vec<PrivateKeySigner> = anvil.keys().iter().map(|k| k.clone().into()).collect();
    let mut wallet = EthereumWallet::new(signers[0].clone());
    for signer in &signers[1..] {
        wallet.register_signer(signer.clone());
    }
    let provider = ProviderBuilder::new()
        .wallet(wallet)
        .connect_http(anvil.endpoint_url())
        .erased();
    let deployer = signers[0].address();
    let stack = deploy_stack(&provider, &StackConfig::new(deployer))
        .await
        .expect("stack deploys");
    (
        TestChain {
            _anvil: anvil,
            chain: Chain {
                chain_id,
                provider,
                stack,
            },
        },
        signers,
    )
}

/// Builds the network: BN254 or ECDSA executor set with one operator per behaviour.
pub(crate) async fn network(curve: Curve, behaviours: &[Behaviour]) -> Net {
    let (l1, signers) = spawn_chain(31337).await;
    let (l2, _) = spawn_chain(31338).await;
    assert_eq!(
        l1.stack(),
        l2.stack(),
        "the stack lands at the same addresses on both chains"
    );
    let accounts: Vec<Address> = signers.iter().map(PrivateKeySigner::address).collect();
    let (admin, avs, aggregator, creator) = (accounts[0], accounts[1], accounts[2], accounts[9]);
    let aggregator_key = ecdsa::SecretKey::from_bytes(&[0xa6; 32]).unwrap();

    let delay_ms = Arc::new(AtomicU64::new(0));
    let mut servers = Vec::new();
    let mut performers = Vec::new();
    let mut specs = Vec::new();
    let mut executors = Vec::new();
    for (i, behaviour) in behaviours.iter().enumerate() {
        let address = accounts[3 + i];
        let key = match curve {
            Curve::Bn254 => OperatorKey::Bn254(
                bn254::SecretKey::from_seed(format!("operator {i}").as_bytes()).unwrap(),
            ),
            Curve::Ecdsa => {
                OperatorKey::Ecdsa(ecdsa::SecretKey::from_bytes(&[0x30 + i as u8; 32]).unwrap())
            }
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let socket = listener.local_addr().unwrap().to_string();
        specs.push(OperatorSpec {
            address,
            key: key.clone(),
            socket,
            weight: U256::from(100),
        });
        executors.push((address, key, listener, *behaviour));
    }
    let spec = AvsSpec {
        avs,
        admin,
        aggregator,
        aggregator_key: aggregator_key.clone(),
        curve,
        operators: specs,
        task_sla: 60,
        threshold_bps: 6_000,
        task_hooks: vec![],
    };
    provision_avs(&l1.chain, std::slice::from_ref(&l2.chain), &spec)
        .await
        .expect("the AVS is set up");

    for (address, key, listener, behaviour) in executors {
        match behaviour {
            Behaviour::Offline => drop(listener),
            Behaviour::Silent => {
                // Accept connections and hold them without a word.
                servers.push(tokio::spawn(async move {
                    let mut held = Vec::new();
                    while let Ok((stream, _)) = listener.accept().await {
                        held.push(stream);
                    }
                }));
            }
            Behaviour::Honest | Behaviour::Wrong => {
                let performer = InProcessPerformer::start(Squarer {
                    wrong: behaviour == Behaviour::Wrong,
                    delay_ms: delay_ms.clone(),
                })
                .await
                .unwrap();
                let client = PerformerClient::connect(performer.port(), Duration::from_secs(10))
                    .await
                    .unwrap();
                let signing = match key {
                    OperatorKey::Bn254(key) => ResultSigning::Bn254(SigningKey::Bn254(key)),
                    OperatorKey::Ecdsa(key) => ResultSigning::Ecdsa {
                        key: SigningKey::Ecdsa(key),
                        verifier: l1.stack().ecdsa_certificate_verifier,
                        version: ponos_chain::sandbox::STACK_VERSION.into(),
                    },
                };
                let avss = AvsRegistry::default();
                avss.insert(
                    avs,
                    AvsEntry {
                        performer: Some(PerformerHandle::Direct(Box::new(client))),
                        signing: Arc::new(signing),
                    },
                );
                let view = OnchainView::new(
                    l1.provider().clone(),
                    l1.stack().allocation_manager,
                    l1.stack().key_registrar,
                );
                let executor = Executor::new(
                    address,
                    avss,
                    Arc::new(MemoryStore::default()),
                    Arc::new(view),
                    Limits::default(),
                );
                servers.push(tokio::spawn(async move {
                    let _ = tonic::transport::Server::builder()
                        .add_service(ExecutorServiceServer::new(executor))
                        .serve_with_incoming(TcpListenerStream::new(listener))
                        .await;
                }));
                performers.push(performer);
            }
        }
    }

    // From here on every block is one second after the last, so a result is never submitted
    // in a block that shares its task's timestamp.
    for chain in [&l1, &l2] {
        let _: () = chain
            .provider()
            .raw_request("anvil_setBlockTimestampInterval".into(), (1,))
            .await
            .unwrap();
    }

    Net {
        l1,
        l2,
        avs,
        aggregator,
        aggregator_key,
        creator,
        delay_ms,
        _servers: servers,
        _performers: performers,
    }
}

impl Net {
    /// The aggregator's configuration for this network.
    pub(crate) async fn aggregator_config(&self) -> AggregatorConfig {
        let mut chains = Vec::new();
        for chain in [&self.l1, &self.l2] {
            let config = ChainConfig {
                poll_interval: Duration::from_millis(50),
                start_block: Some(0),
                ..ChainConfig::new(chain.id(), chain.stack().task_mailbox)
            };
            chains.push(
                TaskChain::connect(config, chain.provider().clone())
                    .await
                    .expect("chain connects"),
            );
        }
        AggregatorConfig {
            l1: L1 {
                chain_id: self.l1.id(),
                provider: self.l1.provider().clone(),
                contracts: L1Contracts {
                    allocation_manager: self.l1.stack().allocation_manager,
                    key_registrar: self.l1.stack().key_registrar,
                    bn254_table_calculator: self.l1.stack().bn254_table_calculator,
                    ecdsa_table_calculator: self.l1.stack().ecdsa_table_calculator,
                },
            },
            chains,
            identity: AggregatorIdentity {
                address: self.aggregator,
                key: self.aggregator_key.clone(),
            },
            tx_sender: self.aggregator,
            avss: vec![self.avs],
            max_concurrent_tasks: 256,
            max_result_bytes: 1 << 20,
            sender: SenderConfig {
                poll_interval: Duration::from_millis(50),
                ..SenderConfig::default()
            },
            submission_margin: Duration::from_secs(5),
        }
    }

    /// Creates a task on `chain` and returns its hash.
    pub(crate) async fn create_task(&self, chain: &TestChain, payload: &str) -> B256 {
        let mailbox = TaskMailbox::new(chain.stack().task_mailbox, chain.provider());
        let params = task_mailbox::ITaskMailboxTypes::TaskParams {
            refundCollector: self.creator,
            executorOperatorSet: task_mailbox::OperatorSet {
                avs: self.avs,
                id: EXECUTOR_SET,
            },
            payload: Bytes::from(payload.as_bytes().to_vec()),
        };
        let receipt = mailbox
            .createTask(params)
            .from(self.creator)
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        assert!(receipt.status(), "createTask succeeds");
        receipt
            .inner
            .logs()
            .iter()
            .find_map(|log| log.log_decode::<TaskMailbox::TaskCreated>().ok())
            .expect("a TaskCreated event")
            .inner
            .data
            .taskHash
    }

    /// Waits for `TaskVerified` of `task` on `chain`; returns (certificate, result) of every
    /// such event (a task is verified once, so one).
    pub(crate) async fn verified(
        &self,
        chain: &TestChain,
        task: B256,
        within: Duration,
    ) -> Vec<(Bytes, Bytes)> {
        let mailbox = TaskMailbox::new(chain.stack().task_mailbox, chain.provider());
        let until = tokio::time::Instant::now() + within;
        loop {
            let status = mailbox.getTaskStatus(task).call().await.unwrap();
            if status == 2 {
                break;
            }
            assert!(
                tokio::time::Instant::now() < until,
                "task {task} on chain {} was not verified within {within:?} (status {status})",
                chain.id()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.verified_events(chain, task).await
    }

    /// Every `TaskVerified` event of `task` on `chain`.
    pub(crate) async fn verified_events(
        &self,
        chain: &TestChain,
        task: B256,
    ) -> Vec<(Bytes, Bytes)> {
        let filter = Filter::new()
            .address(chain.stack().task_mailbox)
            .event_signature(TaskMailbox::TaskVerified::SIGNATURE_HASH)
            .topic2(task)
            .from_block(0);
        chain
            .provider()
            .get_logs(&filter)
            .await
            .unwrap()
            .iter()
            .map(|log| {
                let event = log
                    .log_decode::<TaskMailbox::TaskVerified>()
                    .unwrap()
                    .inner
                    .data;
                (event.executorCert, event.result)
            })
            .collect()
    }
}
