//! Wiring: keys, store, performers, the task and management services, HTTP endpoints, and an
//! orderly shutdown on SIGTERM or Ctrl-C.

use std::{sync::Arc, time::Duration};

use alloy::providers::{Provider as _, ProviderBuilder};
use eyre::{WrapErr, eyre};
use ponos_crypto::challenge::{ManagementAuth, ManagementSigner};
use ponos_executor::{
    docker::{self, ContainerNetwork, ContainerSpec, RegistryAuth},
    keys::{AggregatorKey, ChainView, OnchainView, SigningKey, StaticChainView},
    management::{Management, NewAvss, restore_new_avss},
    service::{AvsEntry, AvsRegistry, Executor, Limits, PerformerHandle, ResultSigning},
    supervisor::{Launch, Supervisor, SupervisorConfig},
};
use ponos_performer::health::HealthService;
use ponos_proto::{
    health::{health_check_response::ServingStatus, health_server::HealthServer},
    hourglass::{
        TaskResult, TaskSubmission,
        executor_management_service_server::ExecutorManagementServiceServer,
        executor_service_server::{ExecutorService, ExecutorServiceServer},
    },
};
use ponos_store::{ExecutorStore, MemoryStore, RedbStore};
use tokio::sync::watch;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{
    Request, Response, Status,
    transport::{Server, ServerTlsConfig},
};
use tracing::info;

use super::{
    ExecutorConfig,
    config::{AuthMode, Curve, Gpus, Network, PerformerConfig, PerformerMode},
    metrics::ExecutorMetrics,
};
use crate::{
    config::{open_bn254_keystore, open_ecdsa_keystore},
    telemetry::{self, L1_PROBE_INTERVAL, Readiness},
};

/// Counts what the task service does.
struct Counted<S> {
    inner: S,
    metrics: Arc<ExecutorMetrics>,
}

#[tonic::async_trait]
impl<S: ExecutorService> ExecutorService for Counted<S> {
    async fn submit_task(
        &self,
        request: Request<TaskSubmission>,
    ) -> Result<Response<TaskResult>, Status> {
        self.metrics.tasks_received.inc();
        let avs = request.get_ref().avs_address.clone();
        let started = std::time::Instant::now();
        let result = self.inner.submit_task(request).await;
        match &result {
            Ok(_) => self.metrics.tasks_completed.inc(),
            Err(_) => self.metrics.tasks_refused.inc(),
        }
        self.metrics.record(&avs, result.is_ok(), started.elapsed());
        result
    }
}

/// The operator's signing keys, each opened (decrypted) once, when first needed: a keystore
/// no AVS uses is never opened.
struct OperatorKeys<'a> {
    config: &'a ExecutorConfig,
    bn254: Option<ponos_crypto::bn254::SecretKey>,
    ecdsa: Option<ponos_crypto::ecdsa::SecretKey>,
}

impl<'a> OperatorKeys<'a> {
    const fn new(config: &'a ExecutorConfig) -> Self {
        Self {
            config,
            bn254: None,
            ecdsa: None,
        }
    }

    /// The key of `curve`.
    fn get(&mut self, curve: Curve) -> eyre::Result<SigningKey> {
        let operator = &self.config.operator;
        Ok(match curve {
            Curve::Bn254 => SigningKey::Bn254(match &self.bn254 {
                Some(key) => key.clone(),
                None => {
                    let ks = operator
                        .bn254
                        .as_ref()
                        .ok_or_else(|| eyre!("no [operator.bn254] keystore"))?;
                    let key = open_bn254_keystore(ks)?;
                    self.bn254 = Some(key.clone());
                    key
                }
            }),
            Curve::Ecdsa => SigningKey::Ecdsa(match &self.ecdsa {
                Some(key) => key.clone(),
                None => {
                    let ks = operator
                        .ecdsa
                        .as_ref()
                        .ok_or_else(|| eyre!("no [operator.ecdsa] keystore"))?;
                    let key = open_ecdsa_keystore(ks)?;
                    self.ecdsa = Some(key.clone());
                    key
                }
            }),
        })
    }
}

/// How results are signed for an AVS whose executor set uses `curve`.
fn result_signing(
    keys: &mut OperatorKeys<'_>,
    curve: Curve,
    ecdsa_verifier: Option<alloy_primitives::Address>,
    ecdsa_verifier_version: &str,
) -> eyre::Result<ResultSigning> {
    let key = keys.get(curve)?;
    Ok(match curve {
        Curve::Bn254 => ResultSigning::Bn254(key),
        Curve::Ecdsa => ResultSigning::Ecdsa {
            key,
            verifier: ecdsa_verifier.unwrap_or_default(),
            version: ecdsa_verifier_version.to_string(),
        },
    })
}

/// Who may call the management service: `[management] auth`. Under `"hourglass"`, the
/// management key and the operator's own signing keys (Hourglass's servers accept their own
/// signing key).
fn management_auth(
    config: &ExecutorConfig,
    keys: &mut OperatorKeys<'_>,
) -> eyre::Result<ManagementAuth> {
    Ok(match config.management.auth {
        AuthMode::Ponos => ManagementAuth::Ponos {
            admin: config.operator.management_address,
        },
        AuthMode::None => ManagementAuth::None,
        AuthMode::Hourglass => {
            let mut signers = vec![ManagementSigner::Ecdsa(config.operator.management_address)];
            if config.operator.ecdsa.is_some()
                && let SigningKey::Ecdsa(key) = keys.get(Curve::Ecdsa)?
            {
                signers.push(ManagementSigner::Ecdsa(key.address()));
            }
            if config.operator.bn254.is_some()
                && let SigningKey::Bn254(key) = keys.get(Curve::Bn254)?
            {
                signers.push(ManagementSigner::Bn254(key.public_key()));
            }
            ManagementAuth::Hourglass { signers }
        }
    })
}

/// How to start the performer `config` describes for `avs`.
fn launch(
    config: &PerformerConfig,
    avs: alloy_primitives::Address,
    docker: Option<&docker::Docker>,
) -> eyre::Result<Launch> {
    let env = |env: &std::collections::BTreeMap<String, String>| {
        env.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    };
    Ok(match config {
        PerformerConfig::Docker {
            image,
            network,
            container_port,
            env: vars,
            memory_mib,
            cpus,
            gpus,
            registry,
            ..
        } => {
            let registry_auth = match registry {
                Some(registry) => Some(RegistryAuth {
                    server: registry.server.clone(),
                    username: registry.username.clone(),
                    password: std::env::var(&registry.password_env).map_err(|_| {
                        eyre!(
                            "{} is not set: it holds the password for registry {}",
                            registry.password_env,
                            registry.server
                        )
                    })?,
                }),
                None => None,
            };
            Launch::Docker {
                docker: docker
                    .cloned()
                    .ok_or_else(|| eyre!("no Docker connection"))?,
                spec: Box::new(ContainerSpec {
                    env: env(vars),
                    memory_bytes: memory_mib.map(|m| m << 20),
                    cpus: *cpus,
                    gpus: gpus.map(|g| match g {
                        Gpus::All => None,
                        Gpus::Count(n) => Some(n),
                    }),
                    registry_auth,
                    performer_id: format!("performer-{avs:#x}"),
                    network: match network {
                        Network::Bridge => ContainerNetwork::Bridge {
                            container_port: *container_port,
                        },
                        Network::Host => ContainerNetwork::Host,
                    },
                    ..ContainerSpec::new(image.clone())
                }),
            }
        }
        PerformerConfig::Process {
            binary, env: vars, ..
        } => Launch::Process {
            binary: binary.clone(),
            env: env(vars),
        },
    })
}

/// Runs the executor until SIGTERM or Ctrl-C.
pub async fn run(config: ExecutorConfig) -> eyre::Result<()> {
    let store_path = config.store.path.clone();
    if let Some(url) = &config.store.url {
        let pg = crate::config::postgres_store(
            url,
            config.store.password_env.as_deref(),
            config.store.pool_size,
            config.operator.address,
            config.store.instance.as_deref(),
            &config.store.tls,
        )?;
        let store = ponos_store::postgres::PgExecutorStore::open(&pg)?;
        with_chain(config, Arc::new(store)).await
    } else if store_path == ":memory:" {
        with_chain(config, Arc::new(MemoryStore::default())).await
    } else {
        if let Some(parent) = std::path::Path::new(&store_path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent)
                .wrap_err_with(|| format!("creating {}", parent.display()))?;
        }
        with_chain(config, Arc::new(RedbStore::open(&store_path)?)).await
    }
}

/// Picks the chain view: on-chain reads with `[l1]`, else what the config says.
async fn with_chain<S: ExecutorStore>(config: ExecutorConfig, store: Arc<S>) -> eyre::Result<()> {
    match &config.l1 {
        Some(l1) => {
            let url = l1
                .rpc_url
                .parse()
                .map_err(|e| eyre!("[l1] rpc_url {}: {e}", super::config::redact(&l1.rpc_url)))?;
            let provider = ProviderBuilder::new().connect_http(url).erased();
            let view = OnchainView::new(provider.clone(), l1.allocation_manager, l1.key_registrar);
            serve(config, store, Arc::new(view), Some(provider)).await
        }
        None => {
            let mut view = StaticChainView::default();
            for avs in &config.avss {
                if let Some(aggregator) = avs.aggregator_ecdsa_address {
                    view = view.with_aggregator(avs.address, AggregatorKey::Ecdsa(aggregator));
                }
                for id in &avs.operator_set_ids {
                    view = view.with_member(avs.address, *id, config.operator.address);
                }
            }
            serve(config, store, Arc::new(view), None).await
        }
    }
}

async fn serve<S: ExecutorStore, C: ChainView>(
    config: ExecutorConfig,
    store: Arc<S>,
    chain: Arc<C>,
    l1: Option<alloy::providers::DynProvider>,
) -> eyre::Result<()> {
    let ready = Arc::new(Readiness::default());
    let metrics = Arc::new(ExecutorMetrics::default());
    // Bind everything first, so a busy port fails fast.
    let grpc = telemetry::bind(config.server.grpc_addr, "the task service").await?;
    let management_listener =
        telemetry::bind(config.server.management_addr, "the management service").await?;
    let http = telemetry::bind(config.server.http_addr, "metrics and health").await?;
    let critical = crate::critical::Critical::default();
    critical.spawn(
        "the metrics and health server",
        telemetry::serve_http(http, metrics.clone(), ready.clone()),
    );

    let needs_docker = config.management.allow_deploy_new_avs
        || config
            .avss
            .iter()
            .any(|a| matches!(a.performer, PerformerConfig::Docker { .. }));
    let docker = if needs_docker {
        Some(docker::connect().await?)
    } else {
        None
    };

    let mut keys = OperatorKeys::new(&config);
    let (avss, supervisors) = start_performers(&config, &mut keys, docker.as_ref()).await?;

    let limits = Limits {
        max_payload: config.limits.max_payload_bytes,
        replay_window: Duration::from_secs(config.limits.replay_window_secs),
        default_deadline: Duration::from_secs(config.limits.default_deadline_secs),
    };
    let executor = Executor::new(
        config.operator.address,
        avss.clone(),
        store.clone(),
        chain,
        limits,
    );
    let management = management_service(&config, &mut keys, &avss, docker, store.clone()).await?;

    let (health_status, health) = watch::channel(ServingStatus::Serving);
    let (stop, stopped) = watch::channel(false);
    let wait_stop = |mut stopped: watch::Receiver<bool>| async move {
        let _ = stopped.wait_for(|s| *s).await;
    };
    let mut task_server = Server::builder();
    if let Some(identity) = config.server.tls_identity().map_err(|e| eyre!(e))? {
        task_server = task_server
            .tls_config(ServerTlsConfig::new().identity(identity))
            .wrap_err("server: the TLS certificate or key is not usable")?;
    }
    let task_server = task_server
        .add_service(HealthServer::new(HealthService::new(
            health,
            vec!["eigenlayer.hourglass.v1.ExecutorService"],
        )))
        .add_service(ExecutorServiceServer::new(Counted {
            inner: executor,
            metrics,
        }))
        .serve_with_incoming_shutdown(TcpListenerStream::new(grpc), wait_stop(stopped.clone()));
    let management_server = Server::builder()
        .add_service(ExecutorManagementServiceServer::new(management))
        .serve_with_incoming_shutdown(
            TcpListenerStream::new(management_listener),
            wait_stop(stopped),
        );
    let served = critical.spawn_server(
        "the gRPC servers",
        async move { tokio::try_join!(task_server, management_server).map(|_| ()) },
        stop.subscribe(),
    );

    critical.spawn("pruning expired task ids", prune_forever(store.clone()));

    // Watched once everything started: a start-up failure is one line, not a probe's too.
    if let Some(l1) = l1 {
        ready.watch_l1(l1, L1_PROBE_INTERVAL, &critical);
    }
    ready.set_started(true);
    info!(target: "ponos::executor", operator = %config.operator.address, grpc = %config.server.grpc_addr, "ready");
    let stop_reason = critical.until_stop().await;

    info!(target: "ponos::executor", "shutting down: finishing tasks in flight");
    ready.set_started(false);
    let _ = health_status.send(ServingStatus::NotServing);
    let _ = stop.send(true);
    // Servers that already stopped (the reason for stopping) answer at once.
    let served = served.outcome().await;
    for supervisor in supervisors {
        supervisor.shutdown().await;
    }
    stop_reason?;
    served?;
    info!(target: "ponos::executor", "stopped");
    Ok(())
}

/// Forgets expired task ids once a minute, for as long as the process runs. The store call may
/// block (a disk, a database away): it runs off the async threads.
async fn prune_forever<S: ExecutorStore>(store: Arc<S>) {
    loop {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let pruning = store.clone();
        match tokio::task::spawn_blocking(move || pruning.prune_processed_tasks(now)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => info!(target: "ponos::executor", pruned = n, "forgot expired task ids"),
            Ok(Err(error)) => tracing::warn!(target: "ponos::executor", %error, "pruning task ids"),
            Err(join) => std::panic::resume_unwind(join.into_panic()),
        }
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
}

/// Starts the performer of every AVS in the config (supervised servers; one-off performers are
/// started per task) and registers each AVS with its result signing.
async fn start_performers(
    config: &ExecutorConfig,
    keys: &mut OperatorKeys<'_>,
    docker: Option<&docker::Docker>,
) -> eyre::Result<(AvsRegistry, Vec<Supervisor>)> {
    let avss = AvsRegistry::default();
    let mut supervisors = Vec::new();
    for avs in &config.avss {
        let signing = result_signing(
            keys,
            avs.curve,
            avs.ecdsa_verifier,
            &avs.ecdsa_verifier_version,
        )?;
        let launch = launch(&avs.performer, avs.address, docker)?;
        let performer = match avs.performer.mode() {
            PerformerMode::Server => {
                info!(target: "ponos::executor", avs = %avs.address, "starting the performer");
                let supervisor = Supervisor::start(
                    launch,
                    SupervisorConfig {
                        start_timeout: avs.performer.start_timeout(),
                        ..SupervisorConfig::default()
                    },
                )
                .await
                .wrap_err_with(|| format!("starting the performer of AVS {}", avs.address))?;
                supervisors.push(supervisor.clone());
                PerformerHandle::Supervised(supervisor)
            }
            PerformerMode::OneOff => PerformerHandle::OneOff {
                launch,
                start_timeout: avs.performer.start_timeout(),
            },
        };
        avss.insert(
            avs.address,
            AvsEntry {
                performer: Some(performer),
                signing: Arc::new(signing),
            },
        );
    }
    Ok((avss, supervisors))
}

/// The management service: authenticated as the config says, and able to deploy new AVSs'
/// performers (restoring those deployed before a restart) when the config allows it.
async fn management_service<S: ExecutorStore>(
    config: &ExecutorConfig,
    keys: &mut OperatorKeys<'_>,
    avss: &AvsRegistry,
    docker: Option<docker::Docker>,
    store: Arc<S>,
) -> eyre::Result<Management> {
    let mut management = Management::new(
        config.operator.address,
        management_auth(config, keys)?,
        avss.clone(),
        docker.clone(),
        SupervisorConfig::default(),
    );
    if config.management.allow_deploy_new_avs
        && let Some(docker) = &docker
    {
        let curve = config.management.new_avs_curve(&config.operator)?;
        let signing = Arc::new(result_signing(
            keys,
            curve,
            config.management.new_avs_ecdsa_verifier,
            &config.management.new_avs_ecdsa_verifier_version,
        )?);
        let restored = restore_new_avss(
            avss,
            store.as_ref(),
            &signing,
            docker,
            SupervisorConfig::default(),
        )
        .await
        .wrap_err("reading the deployed performers from the store")?;
        for (avs, record) in &restored {
            management.remember(*avs, record);
        }
        management = management.with_new_avss(NewAvss {
            signing,
            records: store.clone(),
        });
    }
    Ok(management)
}
