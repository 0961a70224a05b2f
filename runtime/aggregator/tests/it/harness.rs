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

use alloy::primitives::{Address, B256, Bytes, U256};
use ponos_aggregator::{
    AggregatorConfig, ChainConfig, TaskChain,
    sender::SenderConfig,
    session::{AggregatorIdentity, AggregatorSigner},
    view::{L1, L1Contracts},
};
use ponos_crypto::{bn254, ecdsa};
use ponos_devnet::{
    AvsSpec, Curve, LocalChain, LocalExecutor, OperatorKey, OperatorSpec, provision_avs,
};
use ponos_performer::{Performer, PerformerError, Task};
use tokio::net::TcpListener;

// Beside this file; the pipeline benchmark includes the harness by path.
#[path = "hourglass.rs"]
mod hourglass;

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
    /// Answers correctly but signs with a key other than the one it registered.
    ForgedKey,
    /// Answers correctly over TLS; its socket is registered as `https://localhost:port`.
    Tls,
    /// Answers correctly, built and signed the way Hourglass's executor does it
    /// (`hourglass.rs`), not by Ponos's executor.
    Hourglass,
    /// Like `Hourglass`, but hashes its BN254 auth signature with the certificate hash
    /// (try-and-increment) instead of RFC 9380.
    CertificateHashAuth,
}

/// Squares a decimal payload after an adjustable delay; `wrong` adds one.
#[derive(Clone)]
pub(crate) struct Squarer {
    pub(crate) wrong: bool,
    pub(crate) delay_ms: Arc<AtomicU64>,
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

/// The whole network.
pub(crate) struct Net {
    pub(crate) l1: LocalChain,
    pub(crate) l2: LocalChain,
    pub(crate) avs: Address,
    pub(crate) aggregator: Address,
    pub(crate) aggregator_key: ecdsa::SecretKey,
    pub(crate) creator: Address,
    /// Milliseconds every performer waits before answering.
    pub(crate) delay_ms: Arc<AtomicU64>,
    /// The self-signed certificate (PEM) of the TLS executors, when there are any.
    pub(crate) tls_ca: Option<Vec<u8>>,
    /// The AVS's registrar on L1.
    pub(crate) registrar: Address,
    /// Each operator's account and key, in order.
    pub(crate) operators: Vec<(Address, OperatorKey)>,
    /// Each operator's executor, when it runs one.
    executors: Vec<Option<LocalExecutor>>,
    _silent: Vec<tokio::task::JoinHandle<()>>,
}

/// Builds the network: a BN254 or ECDSA executor set with one operator per behaviour, and a
/// 60% threshold.
pub(crate) async fn network(curve: Curve, behaviours: &[Behaviour]) -> Net {
    network_with_threshold(curve, behaviours, 6_000).await
}

/// [`network`] with another threshold, in basis points.
pub(crate) async fn network_with_threshold(
    curve: Curve,
    behaviours: &[Behaviour],
    threshold_bps: u16,
) -> Net {
    // `RUST_LOG=ponos=debug cargo test ...` shows what the aggregator did.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let l1 = LocalChain::start(31337).await.expect("L1 starts");
    let l2 = LocalChain::start(31338).await.expect("L2 starts");
    assert_eq!(
        l1.chain.stack, l2.chain.stack,
        "the stack lands at the same addresses on both chains"
    );
    let accounts = l1.accounts.clone();
    let (admin, avs, aggregator, creator) = (accounts[0], accounts[1], accounts[2], accounts[9]);
    let aggregator_key = ecdsa::SecretKey::from_bytes(&[0xa6; 32]).unwrap();

    // One self-signed certificate for "localhost" serves every TLS executor.
    let tls = behaviours.contains(&Behaviour::Tls).then(|| {
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        (certified.cert.pem(), certified.signing_key.serialize_pem())
    });
    let mut specs = Vec::new();
    let mut pending = Vec::new();
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
        let port = listener.local_addr().unwrap().port();
        let socket = if *behaviour == Behaviour::Tls {
            format!("https://localhost:{port}")
        } else {
            format!("127.0.0.1:{port}")
        };
        specs.push(OperatorSpec {
            address,
            key: key.clone(),
            socket,
            weight: U256::from(100),
        });
        pending.push((address, key, listener, *behaviour));
    }
    let spec = AvsSpec {
        avs,
        admin,
        aggregator,
        aggregator_key: aggregator_key.clone(),
        curve,
        operators: specs,
        task_sla: 120,
        threshold_bps,
        registrar_code: None,
        task_hook_code: None,
    };
    let provisioned = provision_avs(&l1.chain, std::slice::from_ref(&l2.chain), &spec)
        .await
        .expect("the AVS is set up");
    let operators = pending
        .iter()
        .map(|(address, key, _, _)| (*address, key.clone()))
        .collect();

    let delay_ms = Arc::new(AtomicU64::new(0));
    let mut executors = Vec::new();
    let mut silent = Vec::new();
    for (address, key, listener, behaviour) in pending {
        match behaviour {
            Behaviour::Offline => {
                drop(listener);
                executors.push(None);
            }
            Behaviour::Silent => {
                // Accept connections and hold them without a word.
                silent.push(tokio::spawn(async move {
                    let mut held = Vec::new();
                    while let Ok((stream, _)) = listener.accept().await {
                        held.push(stream);
                    }
                }));
                executors.push(None);
            }
            Behaviour::Tls => {
                let (cert, key_pem) = tls.clone().expect("made above");
                let performer = Squarer {
                    wrong: false,
                    delay_ms: delay_ms.clone(),
                };
                executors.push(Some(
                    LocalExecutor::start_tls(
                        listener,
                        &l1.chain,
                        avs,
                        address,
                        key,
                        performer,
                        Some(tonic::transport::Identity::from_pem(cert, key_pem)),
                    )
                    .await
                    .unwrap(),
                ));
            }
            Behaviour::Hourglass | Behaviour::CertificateHashAuth => {
                let executor = hourglass::HourglassExecutor {
                    operator: address,
                    key,
                    certificate_hash_auth: behaviour == Behaviour::CertificateHashAuth,
                };
                silent.push(tokio::spawn(executor.serve(listener)));
                executors.push(None);
            }
            Behaviour::Honest | Behaviour::Wrong | Behaviour::ForgedKey => {
                let key = match (behaviour, key) {
                    (Behaviour::ForgedKey, OperatorKey::Bn254(_)) => OperatorKey::Bn254(
                        bn254::SecretKey::from_seed(b"not the registered key").unwrap(),
                    ),
                    (Behaviour::ForgedKey, OperatorKey::Ecdsa(_)) => {
                        OperatorKey::Ecdsa(ecdsa::SecretKey::from_bytes(&[0x99; 32]).unwrap())
                    }
                    (_, key) => key,
                };
                let performer = Squarer {
                    wrong: behaviour == Behaviour::Wrong,
                    delay_ms: delay_ms.clone(),
                };
                executors.push(Some(
                    LocalExecutor::start(listener, &l1.chain, avs, address, key, performer)
                        .await
                        .unwrap(),
                ));
            }
        }
    }

    Net {
        l1,
        l2,
        avs,
        aggregator,
        aggregator_key,
        creator,
        delay_ms,
        tls_ca: tls.map(|(cert, _)| cert.into_bytes()),
        registrar: provisioned.registrar,
        operators,
        executors,
        _silent: silent,
    }
}

impl Net {
    /// Stops operator `i`'s executor and starts it again on a new port, which the operator
    /// announces in the registrar on L1 (`updateSocket`); returns the new socket.
    pub(crate) async fn move_executor(&mut self, i: usize) -> String {
        drop(self.executors[i].take());
        let (address, key) = self.operators[i].clone();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let socket = listener.local_addr().unwrap().to_string();
        let performer = Squarer {
            wrong: false,
            delay_ms: self.delay_ms.clone(),
        };
        self.executors[i] = Some(
            LocalExecutor::start(listener, &self.l1.chain, self.avs, address, key, performer)
                .await
                .unwrap(),
        );
        let registrar =
            ponos_chain::contracts::TaskAVSRegistrar::new(self.registrar, self.l1.provider());
        let receipt = registrar
            .updateSocket(address, socket.clone())
            .from(address)
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        assert!(receipt.status());
        socket
    }

    /// The aggregator's configuration for this network.
    pub(crate) async fn aggregator_config(&self) -> AggregatorConfig {
        let providers = [self.l1.provider().clone(), self.l2.provider().clone()];
        self.aggregator_config_through(providers, Duration::from_millis(50))
            .await
    }

    /// The aggregator's configuration for this network, reaching L1 and L2 through `providers`
    /// and polling every `poll`.
    pub(crate) async fn aggregator_config_through(
        &self,
        providers: [alloy::providers::DynProvider; 2],
        poll: Duration,
    ) -> AggregatorConfig {
        let mut chains = Vec::new();
        for (chain, provider) in [&self.l1, &self.l2].into_iter().zip(&providers) {
            let config = ChainConfig {
                poll_interval: poll,
                start_block: Some(0),
                development: true,
                ..ChainConfig::new(chain.id(), chain.chain.stack.task_mailbox)
            };
            chains.push(
                TaskChain::connect(config, provider.clone())
                    .await
                    .expect("chain connects"),
            );
        }
        let stack = &self.l1.chain.stack;
        let [l1_provider, _] = providers;
        AggregatorConfig {
            l1: L1 {
                chain_id: self.l1.id(),
                provider: l1_provider,
                contracts: L1Contracts {
                    allocation_manager: stack.allocation_manager,
                    key_registrar: stack.key_registrar,
                    bn254_table_calculator: stack.bn254_table_calculator,
                    ecdsa_table_calculator: stack.ecdsa_table_calculator,
                },
            },
            chains,
            identities: AggregatorIdentity {
                address: self.aggregator,
                key: AggregatorSigner::Ecdsa(self.aggregator_key.clone()),
            }
            .into(),
            // The aggregator's anvil account sends its transactions.
            tx_signer: alloy::signers::local::PrivateKeySigner::from_bytes(&self.l1.keys[2])
                .unwrap(),
            avss: vec![self.avs],
            max_concurrent_tasks: 256,
            max_result_bytes: 1 << 20,
            sender: SenderConfig {
                poll_interval: poll,
                ..SenderConfig::default()
            },
            submission_margin: Duration::from_secs(5),
            executor_tls: ponos_aggregator::pool::ExecutorTls {
                ca_pem: self.tls_ca.clone(),
            },
            leadership: None,
        }
    }

    /// Creates a task on `chain` and returns its hash.
    pub(crate) async fn create_task(&self, chain: &LocalChain, payload: &str) -> B256 {
        chain
            .create_task(
                self.creator,
                self.avs,
                Bytes::from(payload.as_bytes().to_vec()),
            )
            .await
            .unwrap()
    }

    /// Waits for `task` on `chain` to be verified; returns its certificate and result.
    pub(crate) async fn verified(
        &self,
        chain: &LocalChain,
        task: B256,
        within: Duration,
    ) -> (Bytes, Bytes) {
        chain
            .wait_verified(task, within, Duration::from_millis(50))
            .await
            .unwrap()
    }
}
