-- Snapshots of the dispatcher's state after event `seq`, so a start replays only the log
-- after the latest one (the service keeps the last two); and an index of the log's closure
-- events, which a start from a snapshot replays from the beginning (the router's closures
-- are not in a snapshot). Same meaning as ../postgres/0004_snapshots.sql.

CREATE TABLE snapshots (
    seq   INTEGER PRIMARY KEY CHECK (seq > 0),
    at_ms INTEGER NOT NULL,
    body  TEXT    NOT NULL CHECK (json_valid(body))
);

CREATE INDEX events_closures ON events (seq)
    WHERE json_extract(body, '$.type') IN ('closure_added', 'closure_removed');
