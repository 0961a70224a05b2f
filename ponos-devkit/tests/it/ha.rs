//! Active-passive aggregators: two `ponos-aggregator` processes with the same keys share one
//! PostgreSQL database; one holds the lease, the other stands by. Each reaches anvil through a
//! relay of its own that notes every transaction it sends, so what each instance sent is
//! known apart even though both sign with one key.
//!
//! 1. 100 tasks at 10/s; the active instance is SIGKILLed mid-burst. The standby must be
//!    active within the lease's expiry plus a second, and every task verify with exactly one
//!    mined `submitResult`.
//! 2. 100 more; the (new) active instance is SIGSTOPped mid-burst, the standby takes over, and
//!    the frozen one is SIGCONTed. It must send no transaction and make no store write after
//!    waking (the relay's record; the rows of its epoch by database time), stand by again,
//!    and every task verify once. Transactions are counted per sender nonce: each nonce the
//!    sender used carries exactly one mined transaction, and no more nonces were used than
//!    tasks submitted.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alloy::{
    consensus::{Transaction as _, TxEnvelope},
    eips::eip2718::Decodable2718 as _,
    primitives::{Address, B256},
    providers::Provider,
    signers::local::PrivateKeySigner,
};
use ponos_chain::contracts::{TaskMailbox, task_mailbox};
use ponos_store::postgres::testing::{ClientAuth, TestCluster, TestPki};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

use crate::faults::{
    AggregatorToml, Binary, ExecutorToml, LocalChain, PASSWORD, WITHIN, bn254_keystore,
    count_on_chain, deploy_sandbox, ecdsa_keystore, http_get, operator_ports, performer, port,
    project, runtime_binary, sample, tail, task_hashes,
};

/// How often the active instance renews its lease, and how long a lease lasts.
const RENEW_MS: u64 = 300;
const TTL_MS: u64 = 1_500;

/// A transaction an instance sent, as its relay passed it on.
#[derive(Debug, Clone)]
struct Sent {
    at: Instant,
    hash: B256,
    nonce: u64,
}

/// A JSON-RPC relay in front of anvil (HTTP/1.1, bytes passed on as they are) that notes each
/// `eth_sendRawTransaction` going through.
struct Relay {
    port: u16,
    sent: Arc<Mutex<Vec<Sent>>>,
}

impl Relay {
    async fn start(upstream: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let sent: Arc<Mutex<Vec<Sent>>> = Arc::default();
        let noted = sent.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let noted = noted.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
                        return;
                    };
                    let (mut from_client, to_client) = client.into_split();
                    let (mut from_server, mut to_server) = server.into_split();
                    let mut to_client = to_client;
                    tokio::spawn(async move {
                        let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
                    });
                    while let Some(request) = read_request(&mut from_client).await {
                        note(&request, &noted);
                        if to_server.write_all(&request).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Self { port, sent }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn sent(&self) -> Vec<Sent> {
        self.sent.lock().unwrap().clone()
    }
}

/// One HTTP/1.1 request (headers and a `Content-Length` body), or `None` at the end.
async fn read_request(stream: &mut tokio::net::tcp::OwnedReadHalf) -> Option<Vec<u8>> {
    let mut request = Vec::new();
    let mut byte = [0u8; 1];
    while !request.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        request.push(byte[0]);
    }
    let headers = String::from_utf8_lossy(&request).to_ascii_lowercase();
    let length: usize = headers
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .map_or(0, |value| value.trim().parse().unwrap_or(0));
    let start = request.len();
    request.resize(start + length, 0);
    stream.read_exact(&mut request[start..]).await.ok()?;
    Some(request)
}

/// Notes the raw transactions of an `eth_sendRawTransaction` request (single or batch).
fn note(request: &[u8], noted: &Mutex<Vec<Sent>>) {
    let Some(start) = request.windows(4).position(|w| w == b"\r\n\r\n") else {
        return;
    };
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(&request[start + 4..]) else {
        return;
    };
    let calls = match body {
        serde_json::Value::Array(calls) => calls,
        call => vec![call],
    };
    for call in calls {
        if call["method"] != "eth_sendRawTransaction" {
            continue;
        }
        let raw = call["params"][0].as_str().unwrap_or_default();
        let bytes = alloy::primitives::hex::decode(raw).unwrap();
        let tx = TxEnvelope::decode_2718(&mut bytes.as_slice()).unwrap();
        noted.lock().unwrap().push(Sent {
            at: Instant::now(),
            hash: *tx.tx_hash(),
            nonce: tx.nonce(),
        });
    }
}

/// Waits until the aggregator on `http` answers `/readyz` as `wanted`; how long it took.
async fn until_ready(http: u16, wanted: bool, what: &str) -> Duration {
    let started = Instant::now();
    loop {
        if let Some((status, _)) = http_get(http, "/readyz").await
            && (status == 200) == wanted
        {
            return started.elapsed();
        }
        assert!(started.elapsed() < WITHIN, "{what}: not within {WITHIN:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The database's clock now (unix seconds).
fn database_now(url: &str) -> f64 {
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    client
        .query_one("SELECT extract(epoch FROM now())::float8", &[])
        .unwrap()
        .get(0)
}

/// Rows the aggregator store holds as written at `epoch`: in all, and after `since` (unix
/// seconds, database time).
fn rows_of_epoch(url: &str, epoch: u64, since: f64) -> (i64, i64) {
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    let row = client
        .query_one(
            "SELECT count(*), count(*) FILTER (WHERE written_at > to_timestamp($2)) FROM (
                 SELECT written_at FROM aggregator_tasks WHERE epoch = $1
                 UNION ALL SELECT written_at FROM aggregator_blocks WHERE epoch = $1
             ) AS written",
            &[&i64::try_from(epoch).unwrap(), &since],
        )
        .unwrap();
    (row.get(0), row.get(1))
}

/// A sandbox AVS on a real anvil with two operators (one executor each, redb), a throwaway
/// PostgreSQL cluster, and what its aggregators need.
struct Sandbox {
    cluster: TestCluster,
    /// The authority the database's certificate is signed by.
    ca_file: std::path::PathBuf,
    anvil: alloy_node_bindings::AnvilInstance,
    dir: tempfile::TempDir,
    journal: ponos_devkit::deploy::Journal,
    stack: ponos_chain::sandbox::StackAddresses,
    keystore: std::path::PathBuf,
    provider: alloy::providers::DynProvider,
    creator: Address,
    sender: Address,
    /// Running until the sandbox is dropped.
    _executors: Vec<Binary>,
}

impl Sandbox {
    async fn start() -> Self {
        // The aggregators reach the database over TLS only, verified against a test authority.
        let pki = TestPki::new().unwrap();
        let cluster = {
            let pki = pki.clone();
            tokio::task::spawn_blocking(move || TestCluster::start_tls(&pki, ClientAuth::Trust))
                .await
                .unwrap()
                .expect("a throwaway PostgreSQL cluster starts (script/setup installs PostgreSQL)")
        };
        let project = project().await;
        let performer = performer().await;
        let LocalChain {
            anvil,
            url,
            deployer_key,
            creator,
            provider,
        } = LocalChain::start();

        let (executor_ports, sockets) = operator_ports(2);
        let (journal, stack, operators) = deploy_sandbox(
            project,
            &format!("ha{}", anvil.port()),
            &url,
            deployer_key,
            &sockets,
        );
        let dir = tempfile::tempdir().unwrap();
        let ca_file = dir.path().join("database-ca.pem");
        std::fs::write(&ca_file, &pki.ca_pem).unwrap();
        let mut executors: Vec<Binary> = Vec::new();
        for (i, (operator, ports)) in operators.iter().zip(&executor_ports).enumerate() {
            let name = format!("executor{i}");
            let keystore = bn254_keystore(dir.path(), &name, operator.signing_key.as_slice());
            let mut executor = ExecutorToml {
                address: operator.address,
                keystore: &keystore,
                password_env: "HA_PASSWORD",
                ports: *ports,
                store: format!("path = \"{}/{name}.redb\"", dir.path().display()),
                url: &url,
                stack: &stack,
                avs: journal.deployer,
                performer,
                performer_env: String::new(),
            }
            .binary(dir.path(), &name);
            executor.start().await;
            executors.push(executor);
        }
        // The aggregators' one key.
        let keystore = ecdsa_keystore(dir.path(), "aggregator", deployer_key.as_slice());
        let sender = PrivateKeySigner::from_bytes(&deployer_key)
            .unwrap()
            .address();
        Self {
            cluster,
            ca_file,
            anvil,
            dir,
            journal,
            stack,
            keystore,
            provider,
            creator,
            sender,
            _executors: executors,
        }
    }

    /// The `[store]` body of an aggregator instance `name` on the shared database.
    fn shared_store(&self, name: &str) -> String {
        format!(
            "url = \"{}?sslmode=require\"\ninstance = \"{name}\"\nlease_renew_ms = {RENEW_MS}\n\
             lease_ttl_ms = {TTL_MS}\ntls = {{ ca_file = \"{}\" }}",
            self.cluster.url(),
            self.ca_file.display()
        )
    }

    /// An aggregator (not started) named `name` with the `[store]` body `store`, reaching the
    /// chain at `rpc_url`.
    fn aggregator(&self, name: &str, store: String, rpc_url: &str) -> Binary {
        let (management, http) = (port(), port());
        let config = AggregatorToml {
            address: self.journal.deployer,
            keystore: &self.keystore,
            password_env: "HA_PASSWORD",
            management,
            http,
            dir: self.dir.path(),
            store: Some(store),
            url: rpc_url,
            stack: &self.stack,
        }
        .render(&format!(
            "[[avs]]\naddress = \"{}\"\n",
            self.journal.deployer
        ));
        let config_path = self.dir.path().join(format!("aggregator-{name}.toml"));
        std::fs::write(&config_path, config).unwrap();
        Binary {
            program: runtime_binary("ponos-aggregator"),
            config: config_path,
            env: vec![("HA_PASSWORD".into(), PASSWORD.into())],
            log: self.dir.path().join(format!("aggregator-{name}.log")),
            http,
            child: None,
        }
    }

    fn mailbox(&self) -> TaskMailbox::TaskMailboxInstance<alloy::providers::DynProvider> {
        TaskMailbox::new(self.stack.task_mailbox, self.provider.clone())
    }

    /// Creates `n` tasks, one every `every` (back to back when zero): each `createTask` is
    /// sent without waiting for the one before it to be looked up; their task hashes are read
    /// from the receipts afterwards.
    async fn burst(&self, tag: &str, n: usize, every: Duration) -> Vec<B256> {
        let mailbox = self.mailbox();
        let mut sent = Vec::new();
        let mut tick = tokio::time::interval(every.max(Duration::from_millis(1)));
        for i in 0..n {
            if !every.is_zero() {
                tick.tick().await;
            }
            let params = task_mailbox::ITaskMailboxTypes::TaskParams {
                refundCollector: self.creator,
                executorOperatorSet: task_mailbox::OperatorSet {
                    avs: self.journal.deployer,
                    id: 1,
                },
                payload: format!("{tag}-{i}").into_bytes().into(),
            };
            let pending = mailbox
                .createTask(params)
                .from(self.creator)
                .gas(1_000_000)
                .send()
                .await
                .unwrap();
            sent.push(*pending.tx_hash());
        }
        task_hashes(&self.provider, &sent).await
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_standby_aggregator_takes_over_a_killed_or_frozen_leader_which_is_fenced_out() {
    let sandbox = Sandbox::start().await;
    let db = sandbox.cluster.socket_url();
    let (provider, stack, sender) = (sandbox.provider.clone(), sandbox.stack, sandbox.sender);

    // Two aggregators, one key, one database, each through its own relay to anvil.
    let mut relays = Vec::new();
    let mut aggregators = Vec::new();
    for name in ["a", "b"] {
        let relay = Relay::start(sandbox.anvil.port()).await;
        aggregators.push(sandbox.aggregator(name, sandbox.shared_store(name), &relay.url()));
        relays.push(relay);
    }
    aggregators[0].start().await;
    aggregators[1].start_standby().await;
    let epoch_of = |metrics: &str| {
        sample(metrics, "ponos_aggregator_lease_epoch").expect("the epoch is exported") as u64
    };
    let a_metrics = aggregators[0].metrics().await;
    assert_eq!(sample(&a_metrics, "ponos_aggregator_active"), Some(1.0));
    let b_metrics = aggregators[1].metrics().await;
    assert_eq!(sample(&b_metrics, "ponos_aggregator_active"), Some(0.0));
    let first_epoch = epoch_of(&a_metrics);
    assert_eq!(
        epoch_of(&b_metrics),
        first_epoch,
        "the standby sees the epoch"
    );

    let mailbox = sandbox.mailbox();
    let burst = |tag: &'static str| sandbox.burst(tag, 100, Duration::from_millis(100));
    let logs: Vec<std::path::PathBuf> = aggregators.iter().map(|a| a.log.clone()).collect();
    let verified_once = |tasks: Vec<B256>, what: &'static str| {
        let (mailbox, provider, logs) = (mailbox.clone(), provider.clone(), logs.clone());
        async move {
            let open = crate::unverified_after(&mailbox, &tasks, WITHIN).await;
            assert!(
                open.is_empty(),
                "{what}: {} of 100 not verified; a's log:\n{}\nb's log:\n{}",
                open.len(),
                tail(&logs[0]),
                tail(&logs[1])
            );
            let counts = count_on_chain(&provider, stack.task_mailbox).await;
            for task in &tasks {
                assert_eq!(
                    counts.get(task),
                    Some(&(1, 1)),
                    "{what}: task {task} (submitResult mined, TaskVerified)"
                );
            }
        }
    };
    let ttl = Duration::from_millis(TTL_MS);

    // 1. The active instance is SIGKILLed three seconds into the burst.
    let standby_http = aggregators[1].http;
    let (tasks, takeover) = tokio::join!(burst("kill"), async {
        tokio::time::sleep(Duration::from_secs(3)).await;
        aggregators[0].kill();
        until_ready(
            standby_http,
            true,
            "the standby takes over the killed leader",
        )
        .await
    });
    assert!(
        takeover <= ttl + Duration::from_secs(1),
        "taken over {takeover:?} after the kill (lease {ttl:?})"
    );
    verified_once(tasks, "leader killed").await;
    let b_metrics = aggregators[1].metrics().await;
    assert_eq!(sample(&b_metrics, "ponos_aggregator_active"), Some(1.0));
    let b_epoch = epoch_of(&b_metrics);
    assert_eq!(b_epoch, first_epoch + 1);
    let log = std::fs::read_to_string(&aggregators[1].log).unwrap();
    assert!(
        log.lines().any(|l| l.contains("took over the lease")
            && l.contains("from=a")
            && l.contains("to=b")),
        "the takeover is logged with both holders:\n{}",
        tail(&aggregators[1].log)
    );

    // 2. a comes back as the standby; b is frozen three seconds into the next burst, a takes
    // over, and b is woken.
    aggregators[0].start_standby().await;
    let frozen = aggregators[1].pid() as i32;
    let a_http = aggregators[0].http;
    let b_http = aggregators[1].http;
    let (tasks, (takeover, woke_at, woke_db)) = tokio::join!(burst("freeze"), async {
        tokio::time::sleep(Duration::from_secs(3)).await;
        // SAFETY: kill(2) on this test's own aggregator process; no memory involved.
        assert_eq!(unsafe { libc::kill(frozen, libc::SIGSTOP) }, 0);
        let takeover = until_ready(a_http, true, "the standby takes over the frozen leader").await;
        // Frozen a while longer than the lease, as a long pause would be.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let woke_db = tokio::task::spawn_blocking({
            let db = db.clone();
            move || database_now(&db)
        })
        .await
        .unwrap();
        let woke_at = Instant::now();
        // SAFETY: as above.
        assert_eq!(unsafe { libc::kill(frozen, libc::SIGCONT) }, 0);
        (takeover, woke_at, woke_db)
    });
    assert!(
        takeover <= ttl + Duration::from_secs(1),
        "taken over {takeover:?} after the freeze (lease {ttl:?})"
    );
    // The woken leader learns at its next renewal that it was deposed, and stands by.
    until_ready(b_http, false, "the woken leader stands by").await;
    verified_once(tasks, "leader frozen").await;
    let b_metrics = aggregators[1].metrics().await;
    assert_eq!(sample(&b_metrics, "ponos_aggregator_active"), Some(0.0));
    assert_eq!(
        epoch_of(&aggregators[0].metrics().await),
        b_epoch + 1,
        "a holds the next epoch"
    );

    // Fencing: nothing from b after it woke, on chain or in the store.
    let late: Vec<Sent> = relays[1]
        .sent()
        .into_iter()
        .filter(|s| s.at >= woke_at)
        .collect();
    assert!(late.is_empty(), "the woken leader sent {late:?}");
    let (b_rows, b_late_rows) = tokio::task::spawn_blocking({
        let db = db.clone();
        move || rows_of_epoch(&db, b_epoch, woke_db)
    })
    .await
    .unwrap();
    assert!(b_rows > 0, "b wrote while it led");
    assert_eq!(b_late_rows, 0, "rows written at b's epoch after it woke");

    // Per sender nonce: each used nonce carries one mined transaction, and no nonce was spent
    // on anything but one task's single submitResult.
    let mut by_nonce: HashMap<u64, HashSet<B256>> = HashMap::new();
    for sent in relays.iter().flat_map(Relay::sent) {
        by_nonce.entry(sent.nonce).or_default().insert(sent.hash);
    }
    let mut mined = 0u64;
    for (nonce, hashes) in &by_nonce {
        let mut landed = 0;
        for hash in hashes {
            if provider
                .get_transaction_receipt(*hash)
                .await
                .unwrap()
                .is_some()
            {
                landed += 1;
            }
        }
        assert_eq!(landed, 1, "nonce {nonce}: {hashes:?}");
        mined += landed;
    }
    let used = provider.get_transaction_count(sender).await.unwrap();
    let before = used - mined;
    assert_eq!(
        mined, 200,
        "200 tasks, one mined submitResult each, {before} earlier transactions of the sender"
    );
    let b_log = std::fs::read_to_string(&aggregators[1].log).unwrap();
    assert!(
        b_log.lines().any(|l| l.contains("lost the lease")),
        "the woken leader logs why it stands by:\n{}",
        tail(&aggregators[1].log)
    );
    eprintln!(
        "ha: 200/200 verified once; takeover {takeover:?} after a freeze; nonces {before}..{used} \
         each one mined transaction; {} transactions sent by a, {} by b, none by b after waking; \
         fenced broadcasts on b: {}",
        relays[0].sent().len(),
        relays[1].sent().len(),
        sample(&b_metrics, "ponos_aggregator_sends_fenced_total").unwrap_or(0.0)
    );
    drop(aggregators);
    drop(sandbox);
}

/// Benchmark (docs/benchmarks.md): how long after the active aggregator is SIGKILLed the standby
/// is ready, five times, the two instances trading places each round.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark: cargo test -p ponos-devkit --test it ha::bench -- --ignored --nocapture"]
async fn bench_takeover_after_a_kill() {
    let sandbox = Sandbox::start().await;
    let url = sandbox.anvil.endpoint();
    let mut active = sandbox.aggregator("a", sandbox.shared_store("a"), &url);
    let mut standby = sandbox.aggregator("b", sandbox.shared_store("b"), &url);
    active.start().await;
    standby.start_standby().await;
    let mut times = Vec::new();
    for round in 0..5 {
        // At a different moment of the renewal interval each round.
        tokio::time::sleep(Duration::from_millis(700 + 130 * round)).await;
        active.kill();
        times.push(until_ready(standby.http, true, "the standby takes over").await);
        active.start_standby().await;
        std::mem::swap(&mut active, &mut standby);
    }
    let mut sorted = times.clone();
    sorted.sort();
    eprintln!(
        "bench: takeover after SIGKILL (lease {TTL_MS} ms, renewed every {RENEW_MS} ms): median {:?}, \
         min {:?}, max {:?}, all {times:?}",
        sorted[2], sorted[0], sorted[4]
    );
}

/// Benchmark (docs/benchmarks.md): the same burst through the aggregator on redb and on
/// PostgreSQL, in one run.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark: cargo test -p ponos-devkit --test it ha::bench -- --ignored --nocapture"]
async fn bench_pipeline_on_redb_and_postgres() {
    let sandbox = Sandbox::start().await;
    let url = sandbox.anvil.endpoint();
    let mailbox = sandbox.mailbox();
    for round in 0..2 {
        for (name, store) in [
            (
                "redb",
                format!(
                    "path = \"{}/bench{round}.redb\"",
                    sandbox.dir.path().display()
                ),
            ),
            ("postgres", sandbox.shared_store(&format!("bench{round}"))),
        ] {
            let mut aggregator = sandbox.aggregator(&format!("{name}{round}"), store, &url);
            // Each starts at the head: no run sees the tasks of the runs before it.
            let head = sandbox.provider.get_block_number().await.unwrap();
            let config = std::fs::read_to_string(&aggregator.config).unwrap();
            std::fs::write(
                &aggregator.config,
                config.replace("start_block = 0", &format!("start_block = {}", head + 1)),
            )
            .unwrap();
            aggregator.start().await;
            let started = Instant::now();
            let tasks = sandbox.burst(name, 200, Duration::ZERO).await;
            let open = crate::unverified_after(&mailbox, &tasks, WITHIN).await;
            assert!(open.is_empty(), "{name}: {} not verified", open.len());
            let took = started.elapsed();
            eprintln!(
                "bench: round {round}, {name}: 200 tasks created back to back and verified in {took:?}: {:.1} tasks/s",
                200.0 / took.as_secs_f64()
            );
            aggregator.kill();
        }
    }
}
