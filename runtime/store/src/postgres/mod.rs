//! The PostgreSQL backend: state shared between machines — the executors of one operator behind
//! a load balancer, or an active aggregator and its standbys. Every store call is one
//! transaction, as with redb.
//!
//! The store traits are synchronous (redb's calls block on the disk); this backend runs its
//! queries on a small pool of threads of its own, each with one connection, and the calling
//! thread waits for the answer. A call that finds its connection gone (the server restarted, the
//! network dropped) reconnects with backoff and runs again, for up to
//! [`PgConfig::reconnect_for`]: the binaries pause while the database is away and carry on when
//! it is back. Every write is safe to run twice, so a call whose commit was acknowledged but
//! whose answer was lost does no harm when it runs again.
//!
//! Rows carry a namespace (the operator's or the aggregator's address) so that several
//! deployments can share one database.

mod aggregator;
mod executor;
mod lease;
mod schema;
#[cfg(any(test, feature = "test-cluster"))]
pub mod testing;
mod tls;

use std::{
    sync::{Arc, Mutex, mpsc},
    thread::JoinHandle,
    time::{Duration, Instant},
};

pub use aggregator::PgAggregatorStore;
pub use executor::{HOLDER_TTL, PgExecutorStore};
pub use lease::{Claim, Lease};
pub use schema::SCHEMA_VERSION;
pub use tls::PgTls;

use tokio_postgres_rustls::MakeRustlsConnect;

use crate::StoreError;

/// How to reach the database.
#[derive(Clone)]
pub struct PgConfig {
    /// A `postgres://user@host:port/db` URL (or key=value connection string). A password in it
    /// is used but never shown; prefer [`password`](Self::password).
    pub url: String,
    /// The password, when not in the URL (the binaries read it from the environment).
    pub password: Option<String>,
    /// Rows of this store are kept apart from other stores' in the same database by this
    /// name (an operator's or an aggregator's address).
    pub namespace: String,
    /// This instance's name among the instances sharing the namespace (the executors of one
    /// operator each run their own performers, whose records are kept under it).
    pub instance: String,
    /// Connections (and threads) in the pool.
    pub pool_size: usize,
    /// How long a call keeps reconnecting to a database that went away before it fails.
    pub reconnect_for: Duration,
    /// What TLS trusts and presents, when the URL's `sslmode` is not `disable`.
    pub tls: PgTls,
}

impl std::fmt::Debug for PgConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgConfig")
            .field("url", &redacted(&self.url))
            .field("namespace", &self.namespace)
            .field("instance", &self.instance)
            .field("pool_size", &self.pool_size)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

impl PgConfig {
    /// A config for `url` and `namespace` with the defaults: four connections, reconnecting for
    /// up to two minutes.
    pub fn new(url: impl Into<String>, namespace: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            password: None,
            namespace: namespace.into(),
            instance: "default".into(),
            pool_size: 4,
            reconnect_for: Duration::from_secs(120),
            tls: PgTls::default(),
        }
    }

    fn client_config(&self) -> Result<postgres::Config, StoreError> {
        let mut config: postgres::Config = self.url.parse().map_err(|e| StoreError::Open {
            path: redacted(&self.url),
            reason: if self.url.contains("sslmode=verify") {
                "sslmode: use disable, prefer or require; with TLS the server's certificate and \
                 name are always verified (verify-full), against the store's TLS ca_file or \
                 the system's roots"
                    .into()
            } else {
                format!("not a PostgreSQL connection URL: {e}")
            },
        })?;
        if let Some(password) = &self.password {
            config.password(password);
        }
        config.application_name("ponos");
        config.connect_timeout(Duration::from_secs(5));
        Ok(config)
    }

    /// The TLS connector, unless the URL turns TLS off.
    fn connector(
        &self,
        config: &postgres::Config,
    ) -> Result<Option<MakeRustlsConnect>, StoreError> {
        if config.get_ssl_mode() == postgres::config::SslMode::Disable {
            return Ok(None);
        }
        self.tls
            .connector()
            .map(Some)
            .map_err(|reason| StoreError::Open {
                path: redacted(&self.url),
                reason,
            })
    }
}

/// `url` with any password replaced, for messages.
pub fn redacted(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, tail) = rest.split_once('/').unwrap_or((rest, ""));
            let (user, host) = match authority.rsplit_once('@') {
                Some((userinfo, host)) => {
                    let user = userinfo.split(':').next().unwrap_or_default();
                    (format!("{user}@"), host)
                }
                None => (String::new(), authority),
            };
            // The query may carry a password too: it is left out.
            let path = tail.split('?').next().unwrap_or_default();
            format!("{scheme}://{user}{host}/{path}")
        }
        None => url
            .split_whitespace()
            .filter(|kv| !kv.starts_with("password"))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

type Job = Box<dyn FnOnce(&mut Worker) + Send>;

/// The pool: threads with a connection each, taking calls from one queue.
struct Pool {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    what: String,
}

struct Worker {
    config: postgres::Config,
    tls: Option<MakeRustlsConnect>,
    client: Option<postgres::Client>,
    reconnect_for: Duration,
    what: String,
}

impl Worker {
    fn connect(&self) -> Result<postgres::Client, postgres::Error> {
        match &self.tls {
            Some(tls) => self.config.connect(tls.clone()),
            None => self.config.connect(postgres::NoTls),
        }
    }

    /// Runs `call` in one transaction, reconnecting and running it again while the connection
    /// is lost, for up to `reconnect_for`.
    fn run<T>(
        &mut self,
        operation: &'static str,
        call: &dyn Fn(&mut postgres::Transaction<'_>) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        use backon::BackoffBuilder as _;
        let started = Instant::now();
        // Jittered: the threads of every instance that lost the database do not all come back
        // at the same instant.
        let mut waits = backon::ExponentialBuilder::new()
            .with_min_delay(Duration::from_millis(50))
            .with_max_delay(Duration::from_secs(2))
            .with_jitter()
            .without_max_times()
            .build();
        loop {
            let attempt = self.attempt(call);
            match attempt {
                Ok(value) => return Ok(value),
                Err(Attempt::Query(error)) => {
                    return Err(StoreError::Io {
                        operation,
                        reason: describe(&error),
                    });
                }
                Err(Attempt::Connection(reason)) => {
                    self.client = None;
                    if started.elapsed() >= self.reconnect_for {
                        return Err(StoreError::Io {
                            operation,
                            reason: format!(
                                "{} did not answer for {:?}: {reason}",
                                self.what, self.reconnect_for
                            ),
                        });
                    }
                    std::thread::sleep(waits.next().unwrap_or(Duration::from_secs(2)));
                }
            }
        }
    }

    fn attempt<T>(
        &mut self,
        call: &dyn Fn(&mut postgres::Transaction<'_>) -> Result<T, postgres::Error>,
    ) -> Result<T, Attempt> {
        if self.client.is_none() {
            let client = self
                .connect()
                .map_err(|e| Attempt::Connection(describe(&e)))?;
            self.client = Some(client);
        }
        let client = self.client.as_mut().expect("connected above");
        let outcome = (|| {
            let mut tx = client.transaction()?;
            let value = call(&mut tx)?;
            tx.commit()?;
            Ok(value)
        })();
        outcome.map_err(|error: postgres::Error| {
            let closed = self.client.as_ref().is_none_or(postgres::Client::is_closed);
            if closed || (error.as_db_error().is_none() && is_connection(&error)) {
                Attempt::Connection(describe(&error))
            } else {
                Attempt::Query(error)
            }
        })
    }
}

enum Attempt {
    /// The connection is gone: reconnect and run again.
    Connection(String),
    /// The database refused the query: report it.
    Query(postgres::Error),
}

/// Whether `error` is the connection's, not the query's.
fn is_connection(error: &postgres::Error) -> bool {
    use std::error::Error as _;
    error.is_closed()
        || error
            .source()
            .is_some_and(|source| source.downcast_ref::<std::io::Error>().is_some())
        || describe(error).contains("connection")
}

/// The error with its causes, on one line.
fn describe(error: &postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return format!("{}: {}", db.code().code(), db.message());
    }
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text = format!("{text}: {line}");
        }
        source = cause.source();
    }
    text
}

impl Pool {
    /// Starts the pool's threads, then connects one of them (so a wrong URL or password fails
    /// now, in one line) and applies the schema migrations there. Every connection is made on
    /// the pool's own threads: this may be called from async code.
    fn open(config: &PgConfig) -> Result<Self, StoreError> {
        let client_config = config.client_config()?;
        let tls = config.connector(&client_config)?;
        let what = format!("PostgreSQL at {}", redacted(&config.url));
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let mut threads = Vec::new();
        for i in 0..config.pool_size.max(1) {
            let queue = queue.clone();
            let mut worker = Worker {
                config: client_config.clone(),
                tls: tls.clone(),
                client: None,
                reconnect_for: config.reconnect_for,
                what: what.clone(),
            };
            let thread = std::thread::Builder::new()
                .name(format!("ponos-pg-{i}"))
                .spawn(move || {
                    loop {
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(&mut worker),
                            Err(_) => return,
                        }
                    }
                })
                .map_err(|e| StoreError::Open {
                    path: redacted(&config.url),
                    reason: format!("starting a store thread: {e}"),
                })?;
            threads.push(thread);
        }
        let pool = Self {
            jobs: Mutex::new(Some(jobs)),
            threads: Mutex::new(threads),
            what,
        };
        let url = config.url.clone();
        let (reply, answer) = mpsc::sync_channel(1);
        pool.send(Box::new(move |worker: &mut Worker| {
            let opened = worker
                .connect()
                .map_err(|e| {
                    let reason = describe(&e);
                    StoreError::Open {
                        path: redacted(&url),
                        reason: match tls::hint(&reason) {
                            Some(hint) => format!("{reason}; {hint}"),
                            None => reason,
                        },
                    }
                })
                .and_then(|mut client| {
                    schema::migrate(&mut client, &url)?;
                    worker.client = Some(client);
                    Ok(())
                });
            let _ = reply.send(opened);
        }))
        .map_err(|reason| StoreError::Open {
            path: redacted(&config.url),
            reason,
        })?;
        answer.recv().map_err(|_| StoreError::Open {
            path: redacted(&config.url),
            reason: "the store thread stopped".into(),
        })??;
        Ok(pool)
    }

    fn send(&self, job: Job) -> Result<(), String> {
        let sent = self
            .jobs
            .lock()
            .ok()
            .and_then(|jobs| jobs.as_ref().map(|jobs| jobs.send(job).is_ok()));
        match sent {
            Some(true) => Ok(()),
            _ => Err(format!("the store for {} is closed", self.what)),
        }
    }

    /// Runs `call` as one transaction on a pool thread and waits for its outcome.
    fn run<T, F>(&self, operation: &'static str, call: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&mut postgres::Transaction<'_>) -> Result<T, postgres::Error> + Send + 'static,
    {
        let (reply, answer) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |worker: &mut Worker| {
            let _ = reply.send(worker.run(operation, &call));
        });
        self.send(job)
            .map_err(|reason| StoreError::Io { operation, reason })?;
        answer.recv().map_err(|_| StoreError::Io {
            operation,
            reason: format!("a store thread for {} stopped", self.what),
        })?
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.take();
        }
        if let Ok(mut threads) = self.threads.lock() {
            for thread in threads.drain(..) {
                let _ = thread.join();
            }
        }
    }
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").field("what", &self.what).finish()
    }
}

/// Unix seconds to the `bigint` PostgreSQL keeps (saturating: no real time is that far).
fn to_sql(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A `bigint` read back.
fn from_sql(n: i64) -> u64 {
    u64::try_from(n).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn urls_lose_their_passwords_in_messages() {
        assert_eq!(
            redacted("postgres://ponos:s3cret@db.example.com:5432/ponos?sslmode=require"),
            "postgres://ponos@db.example.com:5432/ponos"
        );
        assert_eq!(
            redacted("postgres://db:5432/ponos"),
            "postgres://db:5432/ponos"
        );
        assert_eq!(
            redacted("host=db user=ponos password=s3cret dbname=ponos"),
            "host=db user=ponos dbname=ponos"
        );
    }
}

#[cfg(test)]
mod cluster_tests {
    use super::{PgAggregatorStore, PgConfig, PgExecutorStore, testing::TestCluster};
    use crate::{AggregatorStore, ExecutorStore, SpentTask, StoreError};

    fn cluster() -> TestCluster {
        TestCluster::start()
            .expect("a throwaway PostgreSQL cluster starts (script/setup installs it)")
    }

    fn config(cluster: &TestCluster, namespace: &str, instance: &str) -> PgConfig {
        PgConfig {
            instance: instance.into(),
            ..PgConfig::new(cluster.url(), namespace)
        }
    }

    #[test]
    fn the_executor_store_behaves_like_the_others() {
        let cluster = cluster();
        let store = PgExecutorStore::open(&config(&cluster, "0xop", "a")).unwrap();
        crate::tests::behaves_like_a_store(&store);
    }

    #[test]
    fn the_aggregator_store_behaves_like_the_others() {
        let cluster = cluster();
        let store = PgAggregatorStore::open(&config(&cluster, "0xagg", "a")).unwrap();
        crate::aggregator::tests::behaves_like_an_aggregator_store(&store);
    }

    #[test]
    fn a_fleet_spends_a_task_id_once_and_takes_over_the_claims_of_an_instance_that_died() {
        let cluster = cluster();
        let a = PgExecutorStore::open(&config(&cluster, "0xop", "a")).unwrap();
        let b = PgExecutorStore::open(&config(&cluster, "0xop", "b")).unwrap();
        let other = PgExecutorStore::open(&config(&cluster, "0xother", "a")).unwrap();
        let (task, fingerprint) = ([7u8; 32], [0xf0u8; 32]);
        assert_eq!(a.claim_task(task, fingerprint, 1_000).unwrap(), None);
        assert_eq!(
            b.claim_task(task, fingerprint, 1_000).unwrap(),
            Some(SpentTask::Running { fingerprint }),
            "spent once across the fleet"
        );
        assert_eq!(
            other.claim_task(task, fingerprint, 1_000).unwrap(),
            None,
            "another operator's store is apart"
        );
        a.answer_task(task, b"signed").unwrap();
        assert_eq!(
            b.claim_task(task, fingerprint, 1_000).unwrap(),
            Some(SpentTask::Answered {
                fingerprint,
                response: b"signed".to_vec()
            }),
            "a retry reaching another instance gets the stored answer"
        );

        // A claim whose instance is gone is taken by the next claim of the same task.
        let orphan = [8u8; 32];
        assert_eq!(a.claim_task(orphan, fingerprint, 1_000).unwrap(), None);
        assert_eq!(
            b.claim_task(orphan, fingerprint, 1_000).unwrap(),
            Some(SpentTask::Running { fingerprint })
        );
        drop(a);
        assert_eq!(
            b.claim_task(orphan, fingerprint, 1_000).unwrap(),
            None,
            "taken over"
        );

        // Performer records are per instance.
        b.put_performer(&crate::tests::record("p1")).unwrap();
        let a_again = PgExecutorStore::open(&config(&cluster, "0xop", "a")).unwrap();
        assert!(a_again.performers().unwrap().is_empty());
        assert_eq!(b.performers().unwrap().len(), 1);
    }

    #[test]
    fn one_instance_holds_the_lease_and_a_takeover_fences_out_the_one_it_replaced() {
        use super::{Claim, Lease};
        use std::time::Duration;

        let cluster = cluster();
        let store = PgAggregatorStore::open(&config(&cluster, "0xagg", "a")).unwrap();
        let ttl = Duration::from_millis(400);
        let a = Lease::open(&config(&cluster, "0xagg", "a"), "a", ttl).unwrap();
        let b = Lease::open(&config(&cluster, "0xagg", "b"), "b", ttl).unwrap();
        let other = Lease::open(&config(&cluster, "0xother", "b"), "b", ttl).unwrap();

        assert_eq!(
            a.try_acquire().unwrap(),
            Claim::Won {
                epoch: 1,
                previous: None
            }
        );
        assert!(
            matches!(b.try_acquire().unwrap(), Claim::Held { ref holder, epoch: 1, .. } if holder == "a"),
            "held while a renews"
        );
        assert!(
            matches!(other.try_acquire().unwrap(), Claim::Won { epoch: 1, .. }),
            "another aggregator's lease is apart"
        );
        let first = store.fenced(1);
        let task = crate::aggregator::tests::task(1, crate::TaskStatus::Pending);
        first.put_task(&task).unwrap();
        assert!(a.renew(1).unwrap());

        // a stops renewing (frozen): once its lease expires, b takes it at epoch 2.
        std::thread::sleep(ttl + Duration::from_millis(100));
        assert_eq!(
            b.try_acquire().unwrap(),
            Claim::Won {
                epoch: 2,
                previous: Some("a".into())
            }
        );
        assert!(!a.renew(1).unwrap(), "a learns it was deposed");
        let refused = first.put_task(&task).unwrap_err();
        assert!(
            matches!(refused, StoreError::Fenced { epoch: 1, current: 2, ref holder } if holder == "b"),
            "{refused}"
        );
        assert!(first.put_block(1, 1, alloy_primitives::B256::ZERO).is_err());
        assert!(first.prune_blocks_below(1, 10).is_err());
        store.fenced(2).put_task(&task).unwrap();

        // Reads are not fenced; an orderly stop hands the lease over at once.
        assert!(first.task(task.task_hash).unwrap().is_some());
        b.release(2).unwrap();
        assert!(matches!(
            a.try_acquire().unwrap(),
            Claim::Won { epoch: 3, .. }
        ));
    }

    #[test]
    fn a_schema_newer_than_the_binary_is_refused_in_one_line() {
        let cluster = cluster();
        drop(PgAggregatorStore::open(&config(&cluster, "0xagg", "a")).unwrap());
        let mut client = postgres::Client::connect(&cluster.url(), postgres::NoTls).unwrap();
        client
            .execute(
                "INSERT INTO ponos_schema_migrations (version) VALUES (99)",
                &[],
            )
            .unwrap();
        let refused = PgAggregatorStore::open(&config(&cluster, "0xagg", "a")).unwrap_err();
        let message = refused.to_string();
        assert!(
            matches!(refused, StoreError::Open { .. })
                && message.contains(&format!(
                    "version 99, newer than this binary knows ({})",
                    super::SCHEMA_VERSION
                )),
            "{message}"
        );
        assert_eq!(message.lines().count(), 1, "{message}");
    }

    #[test]
    fn calls_wait_out_a_database_restart() {
        let cluster = cluster();
        let store = PgAggregatorStore::open(&config(&cluster, "0xagg", "a")).unwrap();
        store
            .put_block(1, 10, alloy_primitives::B256::repeat_byte(1))
            .unwrap();
        cluster.stop().unwrap();
        let restarted = std::thread::scope(|scope| {
            let call = scope.spawn(|| store.last_block(1));
            std::thread::sleep(std::time::Duration::from_millis(500));
            assert!(
                !call.is_finished(),
                "the call waits while the database is away"
            );
            cluster.resume().unwrap();
            call.join().unwrap()
        });
        assert_eq!(
            restarted.unwrap(),
            Some((10, alloy_primitives::B256::repeat_byte(1)))
        );
    }

    #[test]
    fn a_wrong_url_fails_at_open_without_its_password() {
        let cluster = cluster();
        let url = format!(
            "postgres://ponos:hunter2@127.0.0.1:{}/nosuchdb",
            cluster.port()
        );
        let error = PgAggregatorStore::open(&PgConfig::new(url, "0xagg"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("nosuchdb"), "{error}");
        assert!(!error.contains("hunter2"), "{error}");
    }
}
