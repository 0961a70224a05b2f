//! The active aggregator's lease: one row per namespace naming the instance that acts, with an
//! epoch raised by every takeover and an expiry in database time.
//!
//! The holder renews the expiry well before it passes; a standby takes the lease only once it
//! has passed. The epoch is the fencing token: the store's writes carry it and are refused once
//! the lease has moved on (see [`PgAggregatorStore::fenced`](super::PgAggregatorStore::fenced)),
//! and the holder stops acting by its own clock as soon as it cannot prove the lease is still
//! its own (see `ponos-aggregator`'s `Leadership`). Expiry is judged by the database's clock
//! alone, so the instances' clocks need not agree.

use std::{sync::Arc, time::Duration};

use super::{PgConfig, Pool, from_sql, to_sql};
use crate::StoreError;

/// What [`Lease::try_acquire`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This instance holds the lease now, at `epoch`.
    Won {
        /// The new epoch.
        epoch: u64,
        /// The instance that held it before (its lease had expired), if any.
        previous: Option<String>,
    },
    /// Another instance holds it.
    Held {
        /// That instance.
        holder: String,
        /// Its epoch.
        epoch: u64,
        /// How long until it expires unless renewed.
        expires_in: Duration,
    },
}

/// One aggregator instance's hand on the lease.
#[derive(Debug, Clone)]
pub struct Lease {
    pool: Arc<Pool>,
    namespace: String,
    holder: String,
    ttl: Duration,
}

impl Lease {
    /// Connects (one connection of its own, so renewals never queue behind the store's calls)
    /// as `holder`, taking and renewing the lease for `ttl` at a time.
    pub fn open(
        config: &PgConfig,
        holder: impl Into<String>,
        ttl: Duration,
    ) -> Result<Self, StoreError> {
        let config = PgConfig {
            pool_size: 1,
            // A renewal that cannot reach the database fails at once; the caller tries again at
            // its next interval and stops acting when the lease may have expired.
            reconnect_for: Duration::ZERO,
            ..config.clone()
        };
        Ok(Self {
            pool: Arc::new(Pool::open(&config)?),
            namespace: config.namespace,
            holder: holder.into(),
            ttl,
        })
    }

    /// This instance's name in the lease.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// How long a taking or a renewal holds the lease.
    pub const fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Takes the lease if nobody holds it or its holder let it expire.
    pub fn try_acquire(&self) -> Result<Claim, StoreError> {
        let (namespace, holder, ttl) = (
            self.namespace.clone(),
            self.holder.clone(),
            self.ttl.as_secs_f64(),
        );
        self.pool.run("take the lease", move |tx| {
            let current = tx.query_opt(
                "SELECT holder, epoch, expires_at <= now(),
                        greatest(extract(epoch FROM expires_at - now()), 0)::float8
                 FROM aggregator_lease WHERE namespace = $1 FOR UPDATE",
                &[&namespace],
            )?;
            let Some(row) = current else {
                let inserted = tx.query_opt(
                    "INSERT INTO aggregator_lease (namespace, holder, epoch, acquired_at, expires_at)
                     VALUES ($1, $2, 1, now(), now() + make_interval(secs => $3))
                     ON CONFLICT (namespace) DO NOTHING RETURNING epoch",
                    &[&namespace, &holder, &ttl],
                )?;
                return Ok(match inserted {
                    Some(row) => Claim::Won {
                        epoch: from_sql(row.get(0)),
                        previous: None,
                    },
                    // Another instance inserted it first.
                    None => Claim::Held {
                        holder: String::new(),
                        epoch: 1,
                        expires_in: Duration::from_secs_f64(ttl),
                    },
                });
            };
            let (previous, epoch, expired, left): (String, i64, bool, f64) =
                (row.get(0), row.get(1), row.get(2), row.get(3));
            if !expired {
                return Ok(Claim::Held {
                    holder: previous,
                    epoch: from_sql(epoch),
                    expires_in: Duration::from_secs_f64(left),
                });
            }
            let next = epoch + 1;
            tx.execute(
                "UPDATE aggregator_lease
                 SET holder = $2, epoch = $3, acquired_at = now(),
                     expires_at = now() + make_interval(secs => $4)
                 WHERE namespace = $1",
                &[&namespace, &holder, &next, &ttl],
            )?;
            Ok(Claim::Won {
                epoch: from_sql(next),
                previous: Some(previous),
            })
        })
    }

    /// Extends the lease held at `epoch` by the ttl from now; false once another instance has
    /// taken it (this one is deposed).
    pub fn renew(&self, epoch: u64) -> Result<bool, StoreError> {
        let (namespace, ttl) = (self.namespace.clone(), self.ttl.as_secs_f64());
        self.pool.run("renew the lease", move |tx| {
            tx.execute(
                "UPDATE aggregator_lease SET expires_at = now() + make_interval(secs => $3)
                 WHERE namespace = $1 AND epoch = $2",
                &[&namespace, &to_sql(epoch), &ttl],
            )
            .map(|rows| rows == 1)
        })
    }

    /// Gives the lease held at `epoch` up (an orderly stop): a standby takes it at its next
    /// attempt instead of waiting for the expiry.
    pub fn release(&self, epoch: u64) -> Result<(), StoreError> {
        let namespace = self.namespace.clone();
        self.pool.run("release the lease", move |tx| {
            tx.execute(
                "UPDATE aggregator_lease SET expires_at = now()
                 WHERE namespace = $1 AND epoch = $2",
                &[&namespace, &to_sql(epoch)],
            )
            .map(|_| ())
        })
    }
}
