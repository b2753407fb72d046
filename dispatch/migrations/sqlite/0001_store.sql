-- The dispatch store (SQLite): an append-only event log, entity snapshots and idempotency keys.
-- JSON is stored as TEXT (checked with json_valid). Same meaning as ../postgres/0001_store.sql.

CREATE TABLE events (
    seq   INTEGER PRIMARY KEY CHECK (seq > 0),
    at_ms INTEGER NOT NULL,
    body  TEXT    NOT NULL CHECK (json_valid(body))
);

CREATE TABLE entities (
    kind        TEXT    NOT NULL CHECK (kind <> ''),
    id          TEXT    NOT NULL CHECK (id <> ''),
    body        TEXT    NOT NULL CHECK (json_valid(body)),
    updated_seq INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;

CREATE TABLE idempotency (
    key      TEXT    PRIMARY KEY NOT NULL CHECK (key <> ''),
    response TEXT    NOT NULL CHECK (json_valid(response)),
    seq      INTEGER NOT NULL
) WITHOUT ROWID;
