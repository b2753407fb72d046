-- Snapshots of the dispatcher's state after event `seq`, so a start replays only the log
-- after the latest one (the service keeps the last two); and an index of the log's closure
-- events, which a start from a snapshot replays from the beginning (the router's closures
-- are not in a snapshot). Same meaning as ../sqlite/0003_snapshots.sql. The body is TEXT:
-- it is read and written whole, never queried inside.

CREATE TABLE snapshots (
    seq   BIGINT PRIMARY KEY CHECK (seq > 0),
    at_ms BIGINT NOT NULL,
    body  TEXT   NOT NULL
);

CREATE INDEX events_closures ON events (seq)
    WHERE body->>'type' IN ('closure_added', 'closure_removed');
