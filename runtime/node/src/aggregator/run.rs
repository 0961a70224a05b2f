//! Wiring: keys, store, chains, the pipeline, the management service, HTTP endpoints, and an
//! orderly shutdown on SIGTERM or Ctrl-C.

use std::{sync::Arc, time::Duration};

use alloy::{
    network::EthereumWallet,
    providers::{DynProvider, Provider as _, ProviderBuilder},
    signers::local::PrivateKeySigner,
};
use alloy_primitives::B256;
use eyre::{WrapErr, eyre};
use ponos_aggregator::{
    Aggregator, AggregatorConfig, AggregatorHandle, ChainConfig, TaskChain,
    management::Management,
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
use ponos_store::{AggregatorStore, MemoryAggregatorStore, RedbAggregatorStore};
use tokio::sync::watch;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::Server;
use tracing::info;

use super::{AggregatorFileConfig, config::SigningCurve};
use crate::{
    config::{AuthMode, open_bn254_keystore, open_ecdsa_keystore, redact},
    telemetry::{self, L1_PROBE_INTERVAL, Metrics, Readiness},
};

/// Renders the aggregator's metrics for `/metrics`.
struct Rendered<S>(Arc<AggregatorHandle<S>>);

impl<S: AggregatorStore> Metrics for Rendered<S> {
    fn render(&self) -> String {
        self.0.render_metrics()
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
        )?;
        let store = ponos_store::postgres::PgAggregatorStore::open(&pg)?;
        serve(config, Arc::new(store)).await
    } else if config.store.path == ":memory:" {
        serve(config, Arc::new(MemoryAggregatorStore::default())).await
    } else {
        let path = std::path::Path::new(&config.store.path);
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .wrap_err_with(|| format!("creating {}", parent.display()))?;
        }
        serve(config.clone(), Arc::new(RedbAggregatorStore::open(path)?)).await
    }
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

async fn serve<S: AggregatorStore>(
    config: AggregatorFileConfig,
    store: Arc<S>,
) -> eyre::Result<()> {
    let ready = Arc::new(Readiness::default());
    let management_listener =
        telemetry::bind(config.server.management_addr, "the management service").await?;
    let http = telemetry::bind(config.server.http_addr, "metrics and health").await?;

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
    let tx_sender = signer.address();
    let wallet = EthereumWallet::from(signer.clone());

    let l1 = &config.l1;
    let l1_provider = connect(&l1.rpc_url, None, "[l1]")?;
    let l1_provider_probe = l1_provider.clone();
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
    let mut chains = Vec::new();
    for chain in &config.chains {
        let what = format!("[[chain]] {}", chain.chain_id);
        let provider = connect(&chain.rpc_url, Some(&wallet), &what)?;
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
        info!(target: "ponos::aggregator", chain = chain.chain_id, mailbox = %chain.task_mailbox, rpc = %redact(&chain.rpc_url), "watching");
        chains.push(connected);
    }

    let aggregator_config = AggregatorConfig {
        l1: L1 {
            chain_id: l1.chain_id,
            provider: l1_provider,
            contracts: L1Contracts {
                allocation_manager: l1.allocation_manager,
                key_registrar: l1.key_registrar,
                bn254_table_calculator: l1.bn254_table_calculator,
                ecdsa_table_calculator: l1.ecdsa_table_calculator,
            },
        },
        chains,
        identities: Identities::new(
            AggregatorIdentity {
                address: config.aggregator.address,
                key: signing,
            },
            per_avs,
        ),
        tx_signer: signer,
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
    };
    let handle = Arc::new(Aggregator::start(aggregator_config, store).await?);
    tokio::spawn(telemetry::serve_http(
        http,
        Arc::new(Rendered(handle.clone())),
        ready.clone(),
    ));

    let auth = match config.management.auth {
        AuthMode::Ponos => ManagementAuth::Ponos {
            admin: config.aggregator.management_address,
        },
        AuthMode::Hourglass => ManagementAuth::Hourglass {
            signers: vec![
                ManagementSigner::Ecdsa(config.aggregator.management_address),
                own_signer,
            ],
        },
        AuthMode::None => ManagementAuth::None,
    };
    let management = Management::new(
        config.aggregator.address,
        auth,
        handle.clone(),
        handle.chain_ids(),
    );
    let (health_status, health) = watch::channel(ServingStatus::Serving);
    let (stop, mut stopped) = watch::channel(false);
    let server = Server::builder()
        .add_service(HealthServer::new(HealthService::new(
            health,
            vec!["eigenlayer.hourglass.v1.AggregatorManagementService"],
        )))
        .add_service(AggregatorManagementServiceServer::new(management))
        .serve_with_incoming_shutdown(TcpListenerStream::new(management_listener), async move {
            let _ = stopped.wait_for(|s| *s).await;
        });
    let server = tokio::spawn(server);

    let served = handle.clone();
    ready.set_notes(move || {
        served
            .unserved()
            .into_iter()
            .map(|(avs, reason)| format!("not serving AVS {avs}: {reason}"))
            .collect()
    });
    ready.watch_l1(l1_provider_probe, L1_PROBE_INTERVAL);
    ready.set_started(true);
    info!(target: "ponos::aggregator", aggregator = %config.aggregator.address, sender = %tx_sender, avss = handle.avss().len(), "ready");
    crate::shutdown_signal().await;

    info!(target: "ponos::aggregator", "shutting down: letting running tasks finish");
    ready.set_started(false);
    let _ = health_status.send(ServingStatus::NotServing);
    let _ = stop.send(true);
    handle.shutdown(Duration::from_secs(10)).await;
    server.await.map_err(|e| eyre!("server task: {e}"))??;
    info!(target: "ponos::aggregator", "stopped");
    Ok(())
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
