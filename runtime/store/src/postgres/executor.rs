//! The executor's store on PostgreSQL: a task id is spent once across every executor of the
//! operator that shares the database (an atomic insert-if-absent), and a retry that reaches
//! another executor gets the stored response.
//!
//! A running claim belongs to the instance that made it. Each instance keeps a row alive in
//! `executor_holders` (renewed every [`HOLDER_TTL`]/3); the claims of an instance that stopped
//! renewing (it died, or lost the database) may be taken by another one, so a task whose run
//! died with its executor is run again elsewhere rather than waiting for its deadline.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use super::{PgConfig, Pool, to_sql};
use crate::{ExecutorStore, PerformerRecord, SpentTask, StoreError, TaskId};

/// How long an instance's claims hold without a renewal.
pub const HOLDER_TTL: Duration = Duration::from_secs(6);

/// The executor's state in PostgreSQL.
#[derive(Debug)]
pub struct PgExecutorStore {
    pool: Arc<Pool>,
    namespace: String,
    instance: String,
    /// This process's holder id: the instance's name and a random suffix.
    holder: String,
    stop: Arc<AtomicBool>,
}

impl PgExecutorStore {
    /// Connects, applies the schema migrations, and starts keeping this instance alive.
    pub fn open(config: &PgConfig) -> Result<Self, StoreError> {
        let pool = Arc::new(Pool::open(config)?);
        let holder = format!("{}-{:016x}", config.instance, rand_suffix());
        let store = Self {
            pool,
            namespace: config.namespace.clone(),
            instance: config.instance.clone(),
            holder,
            stop: Arc::new(AtomicBool::new(false)),
        };
        store.renew()?;
        let (pool, namespace, holder, stop) = (
            store.pool.clone(),
            store.namespace.clone(),
            store.holder.clone(),
            store.stop.clone(),
        );
        std::thread::Builder::new()
            .name("ponos-pg-holder".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(HOLDER_TTL / 3);
                    // A failed renewal is retried at the next tick; meanwhile other instances
                    // may take this one's claims once its row expires.
                    let _ = renew(&pool, &namespace, &holder);
                }
            })
            .map_err(|e| StoreError::Open {
                path: super::redacted(&config.url),
                reason: format!("starting the holder thread: {e}"),
            })?;
        Ok(store)
    }

    fn renew(&self) -> Result<(), StoreError> {
        renew(&self.pool, &self.namespace, &self.holder)
    }
}

impl Drop for PgExecutorStore {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Gone at once: others need not wait for the row to expire.
        let (namespace, holder) = (self.namespace.clone(), self.holder.clone());
        let _ = self.pool.run("release holder", move |tx| {
            tx.execute(
                "DELETE FROM executor_holders WHERE namespace = $1 AND holder = $2",
                &[&namespace, &holder],
            )
        });
    }
}

fn renew(pool: &Pool, namespace: &str, holder: &str) -> Result<(), StoreError> {
    let (namespace, holder) = (namespace.to_string(), holder.to_string());
    let ttl = HOLDER_TTL.as_secs_f64();
    pool.run("renew holder", move |tx| {
        tx.execute(
            "INSERT INTO executor_holders (namespace, holder, alive_until)
             VALUES ($1, $2, now() + make_interval(secs => $3))
             ON CONFLICT (namespace, holder) DO UPDATE SET alive_until = EXCLUDED.alive_until",
            &[&namespace, &holder, &ttl],
        )
        .map(|_| ())
    })
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    hasher.write_u32(std::process::id());
    hasher.finish()
}

/// A spent task's row: its state, fingerprint and response.
type SpentRow = (i16, Vec<u8>, Option<Vec<u8>>);

fn read_spent(
    tx: &mut postgres::Transaction<'_>,
    namespace: &str,
    task_id: &TaskId,
) -> Result<Option<SpentRow>, postgres::Error> {
    let row = tx.query_opt(
        "SELECT state, fingerprint, response FROM executor_spent_tasks
         WHERE namespace = $1 AND task_id = $2",
        &[&namespace, &task_id.as_slice()],
    )?;
    Ok(row.map(|row| (row.get(0), row.get(1), row.get(2))))
}

fn spent_from(
    state: i16,
    fingerprint: &[u8],
    response: Option<Vec<u8>>,
) -> Result<SpentTask, StoreError> {
    let fingerprint: [u8; 32] = fingerprint.try_into().map_err(|_| StoreError::Corrupt {
        what: "spent task",
        reason: "a fingerprint that is not 32 bytes".into(),
    })?;
    Ok(match state {
        0 => SpentTask::Running { fingerprint },
        _ => SpentTask::Answered {
            fingerprint,
            response: response.unwrap_or_default(),
        },
    })
}

impl ExecutorStore for PgExecutorStore {
    fn claim_task(
        &self,
        task_id: TaskId,
        fingerprint: [u8; 32],
        deadline: u64,
    ) -> Result<Option<SpentTask>, StoreError> {
        let (namespace, holder) = (self.namespace.clone(), self.holder.clone());
        let row = self.pool.run("claim task", move |tx| {
            // Free, or held by a run of this same request here (a retry of this call after a
            // lost answer), or held by an instance that is no longer alive: claimed.
            let claimed = tx.query_opt(
                "INSERT INTO executor_spent_tasks AS s
                     (namespace, task_id, state, deadline, fingerprint, response, holder)
                 VALUES ($1, $2, 0, $3, $4, NULL, $5)
                 ON CONFLICT (namespace, task_id) DO UPDATE
                     SET deadline = EXCLUDED.deadline, fingerprint = EXCLUDED.fingerprint,
                         holder = EXCLUDED.holder
                     WHERE s.state = 0 AND (
                         (s.holder = EXCLUDED.holder AND s.fingerprint = EXCLUDED.fingerprint)
                         OR NOT EXISTS (
                             SELECT 1 FROM executor_holders h
                             WHERE h.namespace = s.namespace AND h.holder = s.holder
                               AND h.alive_until > now()))
                 RETURNING s.holder",
                &[
                    &namespace,
                    &task_id.as_slice(),
                    &to_sql(deadline),
                    &fingerprint.as_slice(),
                    &holder,
                ],
            )?;
            if claimed.is_some() {
                return Ok(None);
            }
            read_spent(tx, &namespace, &task_id)
        })?;
        row.map(|(state, fingerprint, response)| spent_from(state, &fingerprint, response))
            .transpose()
    }

    fn answer_task(&self, task_id: TaskId, response: &[u8]) -> Result<(), StoreError> {
        let (namespace, response) = (self.namespace.clone(), response.to_vec());
        self.pool.run("answer task", move |tx| {
            tx.execute(
                "UPDATE executor_spent_tasks SET state = 1, response = $3
                 WHERE namespace = $1 AND task_id = $2",
                &[&namespace, &task_id.as_slice(), &response],
            )
            .map(|_| ())
        })
    }

    fn release_task(&self, task_id: TaskId) -> Result<bool, StoreError> {
        let namespace = self.namespace.clone();
        self.pool.run("release task", move |tx| {
            tx.execute(
                "DELETE FROM executor_spent_tasks
                 WHERE namespace = $1 AND task_id = $2 AND state = 0",
                &[&namespace, &task_id.as_slice()],
            )
            .map(|n| n > 0)
        })
    }

    fn spent_task(&self, task_id: TaskId) -> Result<Option<SpentTask>, StoreError> {
        let namespace = self.namespace.clone();
        let row = self
            .pool
            .run("read task", move |tx| read_spent(tx, &namespace, &task_id))?;
        row.map(|(state, fingerprint, response)| spent_from(state, &fingerprint, response))
            .transpose()
    }

    fn prune_processed_tasks(&self, now: u64) -> Result<usize, StoreError> {
        let namespace = self.namespace.clone();
        self.pool.run("prune tasks", move |tx| {
            tx.execute(
                "DELETE FROM executor_spent_tasks WHERE namespace = $1 AND deadline < $2",
                &[&namespace, &to_sql(now)],
            )
            .map(|n| n as usize)
        })
    }

    fn put_performer(&self, record: &PerformerRecord) -> Result<(), StoreError> {
        let json = serde_json::to_vec(record).map_err(|e| StoreError::Io {
            operation: "encode performer",
            reason: e.to_string(),
        })?;
        let (namespace, instance, id) = (
            self.namespace.clone(),
            self.instance.clone(),
            record.performer_id.clone(),
        );
        self.pool.run("save performer", move |tx| {
            tx.execute(
                "INSERT INTO executor_performers (namespace, instance, performer_id, record)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (namespace, instance, performer_id)
                 DO UPDATE SET record = EXCLUDED.record",
                &[&namespace, &instance, &id, &json],
            )
            .map(|_| ())
        })
    }

    fn performers(&self) -> Result<Vec<PerformerRecord>, StoreError> {
        let (namespace, instance) = (self.namespace.clone(), self.instance.clone());
        let rows = self.pool.run("read performers", move |tx| {
            tx.query(
                "SELECT record FROM executor_performers
                 WHERE namespace = $1 AND instance = $2 ORDER BY performer_id",
                &[&namespace, &instance],
            )
            .map(|rows| {
                rows.iter()
                    .map(|r| r.get::<_, Vec<u8>>(0))
                    .collect::<Vec<_>>()
            })
        })?;
        rows.iter()
            .map(|json| {
                serde_json::from_slice(json).map_err(|e| StoreError::Corrupt {
                    what: "performer record",
                    reason: e.to_string(),
                })
            })
            .collect()
    }

    fn remove_performer(&self, performer_id: &str) -> Result<bool, StoreError> {
        let (namespace, instance, id) = (
            self.namespace.clone(),
            self.instance.clone(),
            performer_id.to_string(),
        );
        self.pool.run("remove performer", move |tx| {
            tx.execute(
                "DELETE FROM executor_performers
                 WHERE namespace = $1 AND instance = $2 AND performer_id = $3",
                &[&namespace, &instance, &id],
            )
            .map(|n| n > 0)
        })
    }
}
