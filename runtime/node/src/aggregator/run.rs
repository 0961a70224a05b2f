//! Wiring: keys, store, chains, the pipeline, the management service, HTTP endpoints, and an
//! orderly shutdown on SIGTERM or Ctrl-C. With a PostgreSQL store, any number of instances
//! share the database: one holds the lease and runs the pipeline, the others stand by warm.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use alloy::{
    network::EthereumWallet,
    providers::{DynProvider, Provider as _, ProviderBuilder},
    signers::local::PrivateKeySigner,
};
use alloy_primitives::B256;
use eyre::{WrapErr, eyre};
use ponos_aggregator::{
    Aggregator, AggregatorConfig, AggregatorHandle, ChainConfig, Leadership, TaskChain,
    management::{Management, Served},
    sender::SenderConfig,
    session::{AggregatorIdentity, AggregatorSigner, Identities},
    view::{L1, L1Contracts},
};
use ponos_crypto::challenge::{ManagementAuth, ManagementSigner};
use ponos_performer::health::HealthService;
use ponos_proto::{
    health::{health_check_response::ServingStatus, health_server::HealthServer},
    hourglass::aggregator_management_service_server::AggregatorManagementServiceServer,
};
use ponos_store::{
    AggregatorStore, MemoryAggregatorStore, RedbAggregatorStore,
    postgres::{Claim, Lease},
};
use tokio::sync::watch;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::Server;
use tracing::{info, warn};

use super::{AggregatorFileConfig, config::SigningCurve};
use crate::{
    config::{AuthMode, open_bn254_keystore, open_ecdsa_keystore, redact},
    telemetry::{self, L1_PROBE_INTERVAL, Metrics, Readiness},
};

/// What `/metrics` renders: this instance's role, and the pipeline's metrics while it runs one.
struct Rendered<S> {
    served: Served<S>,
    role: Arc<Role>,
}

impl<S: AggregatorStore> Metrics for Rendered<S> {
    fn render(&self) -> String {
        let mut out = self
            .served
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|handle| handle.render_metrics())
            .unwrap_or_default();
        self.role.render(&mut out);
        out
    }
}

/// This instance's part: active or standby, at which lease epoch.
#[derive(Debug, Default)]
struct Role {
    active: AtomicBool,
    epoch: AtomicU64,
    takeovers: AtomicU64,
}

impl Role {
    fn render(&self, out: &mut String) {
        for (name, kind, help, value) in [
            (
                "ponos_aggregator_active",
                "gauge",
                "1 while this instance is the active aggregator (a standby shows 0).",
                u64::from(self.active.load(Ordering::SeqCst)),
            ),
            (
                "ponos_aggregator_lease_epoch",
                "gauge",
                "The lease epoch this instance last held or saw held (0 without standbys).",
                self.epoch.load(Ordering::SeqCst),
            ),
            (
                "ponos_aggregator_takeovers_total",
                "counter",
                "Times this instance took the lease and became active.",
                self.takeovers.load(Ordering::SeqCst),
            ),
        ] {
            ponos_metrics::header(out, name, kind, help);
            ponos_metrics::sample(out, name, "", value);
        }
    }
}

/// Runs the aggregator until SIGTERM or Ctrl-C.
pub async fn run(config: AggregatorFileConfig) -> eyre::Result<()> {
    if let Some(url) = &config.store.url {
        let pg = crate::config::postgres_store(
            url,
            config.store.password_env.as_deref(),
            config.store.pool_size,
            config.aggregator.address,
            None,
            &config.store.tls,
        )?;
        let holder = match &config.store.instance {
            Some(name) => name.clone(),
            None => format!("{}-{}", pg.instance, std::process::id()),
        };
        let store = ponos_store::postgres::PgAggregatorStore::open(&pg)?;
        let lease = Lease::open(
            &pg,
            holder,
            Duration::from_millis(config.store.lease_ttl_ms),
        )?;
        let fenced = Box::new(move |epoch| store.fenced(epoch));
        serve(config, Backing::Shared { lease, fenced }).await
    } else if config.store.path == ":memory:" {
        serve(
            config,
            Backing::Alone(Arc::new(MemoryAggregatorStore::default())),
        )
        .await
    } else {
        let path = std::path::Path::new(&config.store.path);
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .wrap_err_with(|| format!("creating {}", parent.display()))?;
        }
        let store = Arc::new(RedbAggregatorStore::open(path)?);
        serve(config, Backing::Alone(store)).await
    }
}

/// Where the state lives: a store of this instance's own, or a database shared with standbys
/// under a lease (with the store fenced at each epoch taken).
enum Backing<S> {
    Alone(Arc<S>),
    Shared {
        lease: Lease,
        fenced: Box<dyn Fn(u64) -> S + Send + Sync>,
    },
}

fn connect(url: &str, wallet: Option<&EthereumWallet>, what: &str) -> eyre::Result<DynProvider> {
    let parsed = url
        .parse()
        .map_err(|e| eyre!("{what} rpc_url {}: {e}", redact(url)))?;
    Ok(match wallet {
        Some(wallet) => ProviderBuilder::new()
            .wallet(wallet.clone())
            .connect_http(parsed)
            .erased(),
        None => ProviderBuilder::new().connect_http(parsed).erased(),
    })
}

/// Everything a pipeline starts from, loaded and checked once: keys opened, the L1 and every
/// chain reached. A standby holds it, so taking over costs only the store's open tasks.
struct Warm {
    config: AggregatorFileConfig,
    identities: Identities,
    own_signer: ManagementSigner,
    signer: PrivateKeySigner,
    wallet: EthereumWallet,
    l1_provider: DynProvider,
    /// The chains connected at start-up, for the first pipeline (later ones connect anew).
    connected: std::sync::Mutex<Option<Vec<TaskChain>>>,
}

impl Warm {
    async fn load(config: AggregatorFileConfig) -> eyre::Result<Self> {
        let signing = open_signer(
            config.aggregator.signing_curve,
            &config.aggregator.signing_key,
        )?;
        let transaction = match (&config.aggregator.transaction_key, &signing) {
            (Some(ks), _) => open_ecdsa_keystore(ks)?,
            (None, AggregatorSigner::Ecdsa(key)) => key.clone(),
            (None, AggregatorSigner::Bn254(_)) => {
                return Err(eyre!(
                    "[aggregator] signing_curve = \"bn254\": set [aggregator.transaction_key], the ECDSA key that sends submitResult"
                ));
            }
        };
        let mut per_avs = std::collections::HashMap::new();
        for avs in &config.avss {
            if avs.signing_key.is_none() && avs.aggregator_address.is_none() {
                continue;
            }
            let key = match &avs.signing_key {
                Some(ks) => open_signer(avs.signing_curve, ks)?,
                None => signing.clone(),
            };
            per_avs.insert(
                avs.address,
                AggregatorIdentity {
                    address: avs.aggregator_address.unwrap_or(config.aggregator.address),
                    key,
                },
            );
        }
        // Hourglass's aggregator accepts management calls signed by its own signing key.
        let own_signer = match &signing {
            AggregatorSigner::Ecdsa(key) => ManagementSigner::Ecdsa(key.address()),
            AggregatorSigner::Bn254(key) => ManagementSigner::Bn254(key.public_key()),
        };
        let signer = PrivateKeySigner::from_bytes(&B256::from(*transaction.to_bytes()))
            .map_err(|e| eyre!("the transaction key is unusable: {e}"))?;
        let wallet = EthereumWallet::from(signer.clone());

        let l1 = &config.l1;
        let l1_provider = connect(&l1.rpc_url, None, "[l1]")?;
        let actual = l1_provider
            .get_chain_id()
            .await
            .wrap_err_with(|| format!("reaching the L1 at {}", redact(&l1.rpc_url)))?;
        if actual != l1.chain_id {
            return Err(eyre!(
                "[l1] rpc_url serves chain {actual}, not chain_id {}",
                l1.chain_id
            ));
        }
        let identities = Identities::new(
            AggregatorIdentity {
                address: config.aggregator.address,
                key: signing,
            },
            per_avs,
        );
        let warm = Self {
            config,
            identities,
            own_signer,
            signer,
            wallet,
            l1_provider,
            connected: std::sync::Mutex::default(),
        };
        // Every chain is reached now, so a standby that could not act fails at its start.
        let chains = warm.chains().await?;
        for chain in &chains {
            info!(target: "ponos::aggregator", chain = chain.id(), "reached");
        }
        *warm.connected.lock().unwrap_or_else(|e| e.into_inner()) = Some(chains);
        Ok(warm)
    }

    /// The watched chains, connected.
    async fn chains(&self) -> eyre::Result<Vec<TaskChain>> {
        let mut chains = Vec::new();
        for chain in &self.config.chains {
            let what = format!("[[chain]] {}", chain.chain_id);
            let provider = connect(&chain.rpc_url, Some(&self.wallet), &what)?;
            let watch = ChainConfig {
                confirmations: chain.confirmations,
                poll_interval: Duration::from_millis(chain.poll_interval_ms),
                ws_url: chain.ws_url.clone(),
                start_block: chain.start_block,
                max_block_range: chain.max_block_range,
                reorg_window: chain.reorg_window,
                development: chain.development,
                ..ChainConfig::new(chain.chain_id, chain.task_mailbox)
            };
            let connected = TaskChain::connect(watch, provider)
                .await
                .wrap_err_with(|| format!("connecting {what} at {}", redact(&chain.rpc_url)))?;
            chains.push(connected);
        }
        Ok(chains)
    }

    /// A pipeline's configuration, acting under `leadership` when it has standbys.
    async fn pipeline(
        &self,
        leadership: Option<Arc<Leadership>>,
    ) -> eyre::Result<AggregatorConfig> {
        let config = &self.config;
        let l1 = &config.l1;
        let first = self
            .connected
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let chains = match first {
            Some(chains) => chains,
            None => self.chains().await?,
        };
        for chain in &config.chains {
            info!(target: "ponos::aggregator", chain = chain.chain_id, mailbox = %chain.task_mailbox, rpc = %redact(&chain.rpc_url), "watching");
        }
        Ok(AggregatorConfig {
            l1: L1 {
                chain_id: l1.chain_id,
                provider: self.l1_provider.clone(),
                contracts: L1Contracts {
                    allocation_manager: l1.allocation_manager,
                    key_registrar: l1.key_registrar,
                    bn254_table_calculator: l1.bn254_table_calculator,
                    ecdsa_table_calculator: l1.ecdsa_table_calculator,
                },
            },
            chains,
            identities: self.identities.clone(),
            tx_signer: self.signer.clone(),
            avss: config.avss.iter().map(|a| a.address).collect(),
            max_concurrent_tasks: config.limits.max_concurrent_tasks,
            max_result_bytes: config.limits.max_result_bytes,
            sender: SenderConfig {
                poll_interval: Duration::from_millis(config.sender.poll_interval_ms.max(10)),
                replace_after: Duration::from_secs(config.sender.replace_after_secs),
                fee_bump_percent: u128::from(config.sender.fee_bump_percent),
                gas_margin_percent: config.sender.gas_margin_percent,
                stamp_later_blocks: false,
            },
            submission_margin: Duration::from_secs(config.limits.submission_margin_secs),
            executor_tls: config.executor_tls.load()?,
            leadership,
        })
    }
}

async fn serve<S: AggregatorStore>(
    config: AggregatorFileConfig,
    backing: Backing<S>,
) -> eyre::Result<()> {
    let ready = Arc::new(Readiness::default());
    let management_listener =
        telemetry::bind(config.server.management_addr, "the management service").await?;
    let http = telemetry::bind(config.server.http_addr, "metrics and health").await?;
    let warm = Warm::load(config).await?;
    let config = &warm.config;
    let tx_sender = warm.signer.address();

    let served: Served<S> = Arc::default();
    let role = Arc::new(Role::default());
    let critical = crate::critical::Critical::default();
    critical.spawn(
        "the metrics and health server",
        telemetry::serve_http(
            http,
            Arc::new(Rendered {
                served: served.clone(),
                role: role.clone(),
            }),
            ready.clone(),
        ),
    );

    let auth = match config.management.auth {
        AuthMode::Ponos => ManagementAuth::Ponos {
            admin: config.aggregator.management_address,
        },
        AuthMode::Hourglass => ManagementAuth::Hourglass {
            signers: vec![
                ManagementSigner::Ecdsa(config.aggregator.management_address),
                warm.own_signer.clone(),
            ],
        },
        AuthMode::None => ManagementAuth::None,
    };
    let mut chain_ids: Vec<u64> = config.chains.iter().map(|c| c.chain_id).collect();
    chain_ids.sort_unstable();
    let management = Management::new(config.aggregator.address, auth, served.clone(), chain_ids);
    let (health_status, health) = watch::channel(ServingStatus::Serving);
    let (stop, mut stopped) = watch::channel(false);
    let stopping = stop.subscribe();
    let server = Server::builder()
        .add_service(HealthServer::new(HealthService::new(
            health,
            vec!["eigenlayer.hourglass.v1.AggregatorManagementService"],
        )))
        .add_service(AggregatorManagementServiceServer::new(management))
        .serve_with_incoming_shutdown(TcpListenerStream::new(management_listener), async move {
            let _ = stopped.wait_for(|s| *s).await;
        });
    let server_ended = critical.spawn_server("the management server", server, stopping);

    let notes = served.clone();
    ready.set_notes(move || {
        notes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|handle| handle.unserved())
            .unwrap_or_default()
            .into_iter()
            .map(|(avs, reason)| format!("not serving AVS {avs}: {reason}"))
            .collect()
    });
    ready.watch_l1(warm.l1_provider.clone(), L1_PROBE_INTERVAL, &critical);
    info!(target: "ponos::aggregator", aggregator = %config.aggregator.address, sender = %tx_sender, "started");

    let context = Context {
        warm: &warm,
        served: &served,
        role: &role,
        ready: &ready,
        critical: &critical,
    };
    let outcome = match backing {
        Backing::Alone(store) => alone(context, store).await,
        Backing::Shared { lease, fenced } => {
            let renew = Duration::from_millis(config.store.lease_renew_ms);
            lead(context, Arc::new(lease), renew, fenced).await
        }
    };

    ready.set_started(false);
    let _ = health_status.send(ServingStatus::NotServing);
    let _ = stop.send(true);
    let server = server_ended.outcome().await;
    outcome?;
    server?;
    info!(target: "ponos::aggregator", "stopped");
    Ok(())
}

/// What running a pipeline needs of the process around it.
#[derive(Clone, Copy)]
struct Context<'a, S> {
    warm: &'a Warm,
    served: &'a Served<S>,
    role: &'a Arc<Role>,
    ready: &'a Arc<Readiness>,
    /// The binary's critical tasks: one stopping stops the binary.
    critical: &'a crate::critical::Critical,
}

impl<S: AggregatorStore> Context<'_, S> {
    /// Starts the pipeline on `store` and shows it as served.
    async fn start(
        &self,
        store: Arc<S>,
        leadership: Option<Arc<Leadership>>,
    ) -> eyre::Result<Arc<AggregatorHandle<S>>> {
        let pipeline = self.warm.pipeline(leadership).await?;
        let handle = Arc::new(Aggregator::start(pipeline, store).await?);
        *self.served.write().unwrap_or_else(|e| e.into_inner()) = Some(handle.clone());
        self.role.active.store(true, Ordering::SeqCst);
        self.ready.set_standby(None);
        self.ready.set_started(true);
        info!(target: "ponos::aggregator", avss = handle.avss().len(), "ready");
        Ok(handle)
    }

    /// No pipeline is served any more.
    fn unserve(&self) {
        self.served
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        self.role.active.store(false, Ordering::SeqCst);
    }
}

/// Runs the one pipeline until SIGTERM or Ctrl-C (or a critical task stops).
async fn alone<S: AggregatorStore>(context: Context<'_, S>, store: Arc<S>) -> eyre::Result<()> {
    let handle = context.start(store, None).await?;
    let stop = context.critical.until_stop().await;
    info!(target: "ponos::aggregator", "shutting down: letting running tasks finish");
    context.ready.set_started(false);
    handle.shutdown(SHUTDOWN_GRACE).await;
    context.unserve();
    stop
}

/// How long an orderly stop lets running tasks finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The active-passive loop, until SIGTERM or Ctrl-C: stand by until the lease is free, take
/// it, run the pipeline on the store fenced at the new epoch while renewing, and go back to
/// standing by the moment the lease is lost (taken over, or not renewed in time).
async fn lead<S: AggregatorStore>(
    context: Context<'_, S>,
    lease: Arc<Lease>,
    renew: Duration,
    fenced: Box<dyn Fn(u64) -> S + Send + Sync>,
) -> eyre::Result<()> {
    let mut shutdown = std::pin::pin!(context.critical.until_stop());
    loop {
        let taken = tokio::select! {
            stop = &mut shutdown => return stop,
            taken = stand_by(&context, &lease, renew) => taken,
        };
        let Taken {
            epoch,
            previous,
            at,
        } = taken;
        match &previous {
            Some(previous) => {
                warn!(target: "ponos::aggregator", from = %previous, to = %lease.holder(), epoch, "took over the lease: active");
            }
            None => {
                info!(target: "ponos::aggregator", holder = %lease.holder(), epoch, "took the lease: active");
            }
        }
        context.role.epoch.store(epoch, Ordering::SeqCst);
        context.role.takeovers.fetch_add(1, Ordering::SeqCst);
        let leadership = Arc::new(Leadership::new(epoch, held_until(at, lease.ttl())));
        let started = tokio::select! {
            started = context.start(Arc::new(fenced(epoch)), Some(leadership.clone())) => started,
            lost = hold(&lease, &leadership, renew) => Err(eyre!("lost the lease ({lost})")),
        };
        let handle = match started {
            Ok(handle) => handle,
            Err(error) => {
                // A lease lost while starting, or a store or node away: stand by and try again
                // (the config, keys and chains were checked at start-up).
                leadership.revoke();
                context.unserve();
                let _ = release(&lease, epoch).await;
                warn!(target: "ponos::aggregator", holder = %lease.holder(), epoch, error = %format!("{error:#}"), "could not start the pipeline: standing by");
                tokio::select! {
                    stop = &mut shutdown => return stop,
                    () = tokio::time::sleep(renew) => continue,
                }
            }
        };
        let lost = tokio::select! {
            stop = &mut shutdown => Err(stop),
            lost = hold(&lease, &leadership, renew) => Ok(lost),
        };
        let reason = match lost {
            Ok(reason) => reason,
            Err(stop) => {
                info!(target: "ponos::aggregator", "shutting down: letting running tasks finish");
                context.ready.set_started(false);
                // Still renewing while tasks finish; a lease lost meanwhile stops them at once.
                tokio::select! {
                    () = handle.shutdown(SHUTDOWN_GRACE) => {}
                    _ = hold(&lease, &leadership, renew) => handle.abort(),
                }
                leadership.revoke();
                context.unserve();
                release(&lease, epoch).await?;
                info!(target: "ponos::aggregator", holder = %lease.holder(), epoch, "released the lease");
                return stop;
            }
        };
        // Nothing more is sent or written from here: the sender checks the lease before every
        // broadcast and the store refuses the old epoch.
        leadership.revoke();
        context.unserve();
        handle.abort();
        warn!(target: "ponos::aggregator", holder = %lease.holder(), epoch, %reason, "lost the lease: standing by");
        // Held here but no longer certainly (renewals late): free it, so whichever instance
        // reaches the database first takes it at a new epoch without waiting out the ttl. A
        // lease already taken over is not touched.
        let _ = release(&lease, epoch).await;
    }
}

/// A lease just taken.
struct Taken {
    epoch: u64,
    previous: Option<String>,
    /// When the taking began: the lease is held for its ttl from no earlier than this.
    at: Instant,
}

/// Until when a lease taken or renewed by a call begun `at` is certainly held: its ttl, less a
/// margin for the way to the database and for the last send's own way to the node.
fn held_until(at: Instant, ttl: Duration) -> Instant {
    at + certain_hold(ttl)
}

/// How long a lease of `ttl` is certainly held after its taking or renewal began.
fn certain_hold(ttl: Duration) -> Duration {
    ttl.mul_f64(0.8)
}

/// Tries to take the lease every `renew` (and right when the holder's expires) until it is
/// taken; `/readyz` and the metrics show who is active meanwhile.
async fn stand_by<S>(context: &Context<'_, S>, lease: &Arc<Lease>, renew: Duration) -> Taken {
    let mut shown: Option<(String, u64)> = None;
    let mut failing = false;
    loop {
        let at = Instant::now();
        let attempt = lease.clone();
        let claim = tokio::task::spawn_blocking(move || attempt.try_acquire())
            .await
            .map_err(|e| e.to_string())
            .and_then(|claim| claim.map_err(|e| e.to_string()));
        let wait = match claim {
            Ok(Claim::Won { epoch, previous }) => {
                return Taken {
                    epoch,
                    previous,
                    at,
                };
            }
            Ok(Claim::Held {
                holder,
                epoch,
                expires_in,
            }) => {
                failing = false;
                context.role.epoch.store(epoch, Ordering::SeqCst);
                context.ready.set_standby(Some(format!(
                    "{holder} is the active aggregator (lease epoch {epoch})"
                )));
                if shown.as_ref() != Some(&(holder.clone(), epoch)) {
                    info!(target: "ponos::aggregator", active = %holder, epoch, "standing by");
                    shown = Some((holder, epoch));
                }
                // Right after the holder's lease would expire, or at the next interval.
                expires_in.min(renew) + Duration::from_millis(5)
            }
            Err(error) => {
                context
                    .ready
                    .set_standby(Some(format!("the lease cannot be read: {error}")));
                if !failing {
                    warn!(target: "ponos::aggregator", %error, "reading the lease: standing by");
                    failing = true;
                }
                renew
            }
        };
        tokio::time::sleep(wait).await;
    }
}

/// Renews the lease every `renew` for as long as it is held; returns why it was lost: taken
/// over by another instance, or not renewed before this instance's hold ran out.
async fn hold(lease: &Arc<Lease>, leadership: &Leadership, renew: Duration) -> String {
    type Renewal = tokio::task::JoinHandle<Result<bool, ponos_store::StoreError>>;
    let mut running: Option<(Instant, Renewal)> = None;
    let mut failing = false;
    let mut tick = tokio::time::interval(renew);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let (at, renewal) = running.get_or_insert_with(|| {
            let (lease, epoch) = (lease.clone(), leadership.epoch());
            (
                Instant::now(),
                tokio::task::spawn_blocking(move || lease.renew(epoch)),
            )
        });
        // A renewal may take up to one interval; a slower one is awaited at the next tick.
        if let Ok(done) = tokio::time::timeout(renew, renewal).await {
            let at = *at;
            running = None;
            match done.map_err(|e| e.to_string()) {
                Ok(Ok(true)) => {
                    leadership.confirm(held_until(at, lease.ttl()));
                    if failing {
                        info!(target: "ponos::aggregator", epoch = leadership.epoch(), "the lease is renewed again");
                        failing = false;
                    }
                }
                Ok(Ok(false)) => return "another instance took it over".into(),
                Ok(Err(error)) => {
                    if !failing {
                        warn!(target: "ponos::aggregator", %error, "renewing the lease");
                        failing = true;
                    }
                }
                Err(error) => warn!(target: "ponos::aggregator", %error, "renewing the lease"),
            }
        }
        if !leadership.is_held() {
            return format!("not renewed within {:?}", certain_hold(lease.ttl()));
        }
    }
}

/// Gives the lease up on an orderly stop, so a standby takes over at once.
async fn release(lease: &Arc<Lease>, epoch: u64) -> eyre::Result<()> {
    let lease = lease.clone();
    tokio::task::spawn_blocking(move || lease.release(epoch))
        .await
        .map_err(|e| eyre!("releasing the lease: {e}"))?
        .wrap_err("releasing the lease")
}

/// Opens an aggregator signing key of `curve`.
fn open_signer(
    curve: SigningCurve,
    keystore: &crate::config::KeystoreConfig,
) -> eyre::Result<AggregatorSigner> {
    Ok(match curve {
        SigningCurve::Ecdsa => AggregatorSigner::Ecdsa(open_ecdsa_keystore(keystore)?),
        SigningCurve::Bn254 => AggregatorSigner::Bn254(open_bn254_keystore(keystore)?),
    })
}
