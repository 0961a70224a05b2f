-- Ponos store, schema version 1. Every table is keyed by a namespace (the operator's or the
-- aggregator's address), so several deployments may share one database.

-- Executor: task ids spent by the operator's executors (state 0: a run holds it, 1: answered),
-- kept until their deadline, with the holder of a running claim.
CREATE TABLE executor_spent_tasks (
    namespace   text     NOT NULL,
    task_id     bytea    NOT NULL,
    state       smallint NOT NULL,
    deadline    bigint   NOT NULL,
    fingerprint bytea    NOT NULL,
    response    bytea,
    holder      text     NOT NULL,
    PRIMARY KEY (namespace, task_id)
);
CREATE INDEX executor_spent_tasks_deadline ON executor_spent_tasks (namespace, deadline);

-- Executor: the running instances of a fleet, each alive while it renews its row. A running
-- claim whose holder is no longer alive may be taken by another instance.
CREATE TABLE executor_holders (
    namespace   text        NOT NULL,
    holder      text        NOT NULL,
    alive_until timestamptz NOT NULL,
    PRIMARY KEY (namespace, holder)
);

-- Executor: performer records (JSON), per instance: each runs its own performers.
CREATE TABLE executor_performers (
    namespace    text  NOT NULL,
    instance     text  NOT NULL,
    performer_id text  NOT NULL,
    record       bytea NOT NULL,
    PRIMARY KEY (namespace, instance, performer_id)
);

-- Aggregator: tasks (JSON records) with their status.
CREATE TABLE aggregator_tasks (
    namespace text  NOT NULL,
    task_hash bytea NOT NULL,
    status    text  NOT NULL,
    record    bytea NOT NULL,
    PRIMARY KEY (namespace, task_hash)
);
CREATE INDEX aggregator_tasks_status ON aggregator_tasks (namespace, status);

-- Aggregator: processed blocks of each chain (the cursor and the reorg window).
CREATE TABLE aggregator_blocks (
    namespace text   NOT NULL,
    chain_id  bigint NOT NULL,
    number    bigint NOT NULL,
    hash      bytea  NOT NULL,
    PRIMARY KEY (namespace, chain_id, number)
);
