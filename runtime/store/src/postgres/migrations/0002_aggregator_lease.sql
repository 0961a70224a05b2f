-- Ponos store, schema version 2: the active aggregator's lease, and the epoch of every write.

-- Aggregator: which instance is active. An instance holds the lease while it renews
-- `expires_at` (database time); another takes it once it has expired, raising `epoch` by one.
-- Every aggregator write locks this row shared and checks the epoch, so a takeover waits for
-- the writes in flight and fences out all later writes of the instance it replaced.
CREATE TABLE aggregator_lease (
    namespace   text        PRIMARY KEY,
    holder      text        NOT NULL,
    epoch       bigint      NOT NULL,
    acquired_at timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);

-- The epoch (and database time) of the write that left each row as it is.
ALTER TABLE aggregator_tasks
    ADD COLUMN epoch      bigint      NOT NULL DEFAULT 0,
    ADD COLUMN written_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE aggregator_blocks
    ADD COLUMN epoch      bigint      NOT NULL DEFAULT 0,
    ADD COLUMN written_at timestamptz NOT NULL DEFAULT now();
