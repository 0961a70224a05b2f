//! The schema, versioned: each migration runs once, in order, under an advisory lock so that
//! instances starting together do not race. A database whose schema is newer than this binary
//! knows is refused: an older binary must not write into tables it does not understand.

use crate::StoreError;

/// The schema version this binary writes.
pub const SCHEMA_VERSION: i32 = 2;

/// The migrations, by the version each one brings the schema to.
const MIGRATIONS: &[(i32, &str)] = &[
    (1, include_str!("migrations/0001_initial.sql")),
    (2, include_str!("migrations/0002_aggregator_lease.sql")),
];

/// Any number, the same in every Ponos binary: the advisory lock migrations hold.
const MIGRATION_LOCK: i64 = 0x706f_6e6f_735f_6462;

/// Brings the schema up to [`SCHEMA_VERSION`], or refuses a newer one.
pub(super) fn migrate(client: &mut postgres::Client, url: &str) -> Result<(), StoreError> {
    let fail = |reason: String| StoreError::Open {
        path: super::redacted(url),
        reason,
    };
    let sql = |e: postgres::Error| fail(format!("migrating the schema: {}", super::describe(&e)));
    let mut tx = client.transaction().map_err(sql)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(sql)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS ponos_schema_migrations (
             version    integer PRIMARY KEY,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )
    .map_err(sql)?;
    let current: i32 = tx
        .query_one(
            "SELECT coalesce(max(version), 0) FROM ponos_schema_migrations",
            &[],
        )
        .map_err(sql)?
        .get(0);
    if current > SCHEMA_VERSION {
        return Err(fail(format!(
            "the database's schema is version {current}, newer than this binary knows \
             ({SCHEMA_VERSION}): run the Ponos release that wrote it, or a later one"
        )));
    }
    for (version, migration) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        tx.batch_execute(migration).map_err(sql)?;
        tx.execute(
            "INSERT INTO ponos_schema_migrations (version) VALUES ($1)",
            &[version],
        )
        .map_err(sql)?;
    }
    tx.commit().map_err(sql)
}
