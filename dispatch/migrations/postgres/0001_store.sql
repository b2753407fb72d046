-- The dispatch store (PostgreSQL): an append-only event log, entity snapshots and idempotency keys.
-- JSON is stored as JSONB. Same meaning as ../sqlite/0001_store.sql.

CREATE TABLE events (
    seq   BIGINT PRIMARY KEY CHECK (seq > 0),
    at_ms BIGINT NOT NULL,
    body  JSONB  NOT NULL
);

CREATE TABLE entities (
    kind        TEXT   NOT NULL CHECK (kind <> ''),
    id          TEXT   NOT NULL CHECK (id <> ''),
    body        JSONB  NOT NULL,
    updated_seq BIGINT NOT NULL,
    PRIMARY KEY (kind, id)
);

CREATE TABLE idempotency (
    key      TEXT   PRIMARY KEY CHECK (key <> ''),
    response JSONB  NOT NULL,
    seq      BIGINT NOT NULL
);
