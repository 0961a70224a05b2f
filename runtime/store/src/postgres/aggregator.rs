//! The aggregator's store on PostgreSQL: tasks with their answers, certificates and
//! submissions, and each chain's processed blocks, shared by an active aggregator and its
//! standbys.

use std::{collections::BTreeMap, sync::Arc};

use alloy_primitives::B256;

use super::{PgConfig, Pool, from_sql, to_sql};
use crate::{
    AggregatorStore, StoreError, TaskRecord, TaskStatus,
    aggregator::{decode, encode},
};

/// The aggregator's state in PostgreSQL.
///
/// A store made by [`fenced`](Self::fenced) writes only while its epoch is the lease's: each
/// write first locks the lease row shared and compares, in the write's own transaction. A
/// takeover updates that row, so it waits for the writes in flight to commit, and every write
/// after it finds the new epoch and is refused with [`StoreError::Fenced`]. Each row written
/// records the epoch (and the database time) of the write.
#[derive(Debug, Clone)]
pub struct PgAggregatorStore {
    pool: Arc<Pool>,
    namespace: String,
    /// The lease epoch every write must match; none for an unfenced store (epoch 0 recorded).
    epoch: Option<u64>,
}

impl PgAggregatorStore {
    /// Connects and applies the schema migrations.
    pub fn open(config: &PgConfig) -> Result<Self, StoreError> {
        Ok(Self {
            pool: Arc::new(Pool::open(config)?),
            namespace: config.namespace.clone(),
            epoch: None,
        })
    }

    /// This store, writing only while the lease is at `epoch`.
    pub fn fenced(&self, epoch: u64) -> Self {
        Self {
            epoch: Some(epoch),
            ..self.clone()
        }
    }

    /// Runs `write` in one transaction behind the fence.
    fn write<F>(&self, operation: &'static str, write: F) -> Result<(), StoreError>
    where
        F: Fn(&mut postgres::Transaction<'_>, &str, i64) -> Result<(), postgres::Error>
            + Send
            + 'static,
    {
        let (namespace, epoch) = (self.namespace.clone(), self.epoch);
        let refused = self.pool.run(operation, move |tx| {
            if let Some(epoch) = epoch {
                let lease = tx.query_opt(
                    "SELECT epoch, holder FROM aggregator_lease WHERE namespace = $1 FOR SHARE",
                    &[&namespace],
                )?;
                let (current, holder) = lease.map_or((0, String::new()), |row| {
                    (from_sql(row.get(0)), row.get::<_, String>(1))
                });
                if current != epoch {
                    return Ok(Some((current, holder)));
                }
            }
            write(tx, &namespace, to_sql(epoch.unwrap_or_default()))?;
            Ok(None)
        })?;
        match (refused, self.epoch) {
            (Some((current, holder)), Some(epoch)) => Err(StoreError::Fenced {
                epoch,
                current,
                holder,
            }),
            _ => Ok(()),
        }
    }
}

fn hash(bytes: &[u8]) -> Result<B256, StoreError> {
    B256::try_from(bytes).map_err(|_| StoreError::Corrupt {
        what: "block hash",
        reason: "not 32 bytes".into(),
    })
}

fn status(name: &str) -> Result<TaskStatus, StoreError> {
    TaskStatus::ALL
        .into_iter()
        .find(|s| s.as_str() == name)
        .ok_or_else(|| StoreError::Corrupt {
            what: "task status",
            reason: format!("unknown status {name:?}"),
        })
}

impl AggregatorStore for PgAggregatorStore {
    fn put_task(&self, task: &TaskRecord) -> Result<(), StoreError> {
        let record = encode(task)?;
        let (key, status) = (task.task_hash.to_vec(), task.status.as_str());
        self.write("save task", move |tx, namespace, epoch| {
            tx.execute(
                "INSERT INTO aggregator_tasks (namespace, task_hash, status, record, epoch)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (namespace, task_hash)
                 DO UPDATE SET status = EXCLUDED.status, record = EXCLUDED.record,
                               epoch = EXCLUDED.epoch, written_at = now()",
                &[&namespace, &key, &status, &record, &epoch],
            )
            .map(|_| ())
        })
    }

    fn task(&self, task_hash: B256) -> Result<Option<TaskRecord>, StoreError> {
        let namespace = self.namespace.clone();
        let record = self.pool.run("read task", move |tx| {
            tx.query_opt(
                "SELECT record FROM aggregator_tasks WHERE namespace = $1 AND task_hash = $2",
                &[&namespace, &task_hash.as_slice()],
            )
            .map(|row| row.map(|row| row.get::<_, Vec<u8>>(0)))
        })?;
        record.as_deref().map(decode).transpose()
    }

    fn tasks_with_status(&self, statuses: &[TaskStatus]) -> Result<Vec<TaskRecord>, StoreError> {
        let namespace = self.namespace.clone();
        let names: Vec<String> = statuses.iter().map(|s| s.as_str().to_string()).collect();
        let records = self.pool.run("read tasks", move |tx| {
            tx.query(
                "SELECT record FROM aggregator_tasks
                 WHERE namespace = $1 AND status = ANY($2) ORDER BY task_hash",
                &[&namespace, &names],
            )
            .map(|rows| {
                rows.iter()
                    .map(|r| r.get::<_, Vec<u8>>(0))
                    .collect::<Vec<_>>()
            })
        })?;
        records.iter().map(|r| decode(r)).collect()
    }

    fn status_counts(&self) -> Result<BTreeMap<TaskStatus, u64>, StoreError> {
        let namespace = self.namespace.clone();
        let rows = self.pool.run("count tasks", move |tx| {
            tx.query(
                "SELECT status, count(*) FROM aggregator_tasks WHERE namespace = $1
                 GROUP BY status",
                &[&namespace],
            )
            .map(|rows| {
                rows.iter()
                    .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1)))
                    .collect::<Vec<_>>()
            })
        })?;
        rows.into_iter()
            .map(|(name, n)| Ok((status(&name)?, from_sql(n))))
            .collect()
    }

    fn put_block(&self, chain_id: u64, number: u64, hash: B256) -> Result<(), StoreError> {
        self.write("save block", move |tx, namespace, epoch| {
            tx.execute(
                "INSERT INTO aggregator_blocks (namespace, chain_id, number, hash, epoch)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (namespace, chain_id, number)
                 DO UPDATE SET hash = EXCLUDED.hash, epoch = EXCLUDED.epoch, written_at = now()",
                &[
                    &namespace,
                    &to_sql(chain_id),
                    &to_sql(number),
                    &hash.as_slice(),
                    &epoch,
                ],
            )
            .map(|_| ())
        })
    }

    fn blocks_from(&self, chain_id: u64, from: u64) -> Result<Vec<(u64, B256)>, StoreError> {
        let namespace = self.namespace.clone();
        let rows = self.pool.run("read blocks", move |tx| {
            tx.query(
                "SELECT number, hash FROM aggregator_blocks
                 WHERE namespace = $1 AND chain_id = $2 AND number >= $3 ORDER BY number",
                &[&namespace, &to_sql(chain_id), &to_sql(from)],
            )
            .map(|rows| {
                rows.iter()
                    .map(|r| (r.get::<_, i64>(0), r.get::<_, Vec<u8>>(1)))
                    .collect::<Vec<_>>()
            })
        })?;
        rows.into_iter()
            .map(|(number, h)| Ok((from_sql(number), hash(&h)?)))
            .collect()
    }

    fn last_block(&self, chain_id: u64) -> Result<Option<(u64, B256)>, StoreError> {
        let namespace = self.namespace.clone();
        let row = self.pool.run("read the last block", move |tx| {
            tx.query_opt(
                "SELECT number, hash FROM aggregator_blocks
                 WHERE namespace = $1 AND chain_id = $2 ORDER BY number DESC LIMIT 1",
                &[&namespace, &to_sql(chain_id)],
            )
            .map(|row| row.map(|r| (r.get::<_, i64>(0), r.get::<_, Vec<u8>>(1))))
        })?;
        row.map(|(number, h)| Ok((from_sql(number), hash(&h)?)))
            .transpose()
    }

    fn remove_blocks_above(&self, chain_id: u64, number: u64) -> Result<(), StoreError> {
        self.write("remove blocks", move |tx, namespace, _| {
            tx.execute(
                "DELETE FROM aggregator_blocks
                 WHERE namespace = $1 AND chain_id = $2 AND number > $3",
                &[&namespace, &to_sql(chain_id), &to_sql(number)],
            )
            .map(|_| ())
        })
    }

    fn prune_blocks_below(&self, chain_id: u64, number: u64) -> Result<(), StoreError> {
        self.write("prune blocks", move |tx, namespace, _| {
            tx.execute(
                "DELETE FROM aggregator_blocks
                 WHERE namespace = $1 AND chain_id = $2 AND number < $3",
                &[&namespace, &to_sql(chain_id), &to_sql(number)],
            )
            .map(|_| ())
        })
    }
}
