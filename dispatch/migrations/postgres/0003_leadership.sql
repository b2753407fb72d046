-- Leadership of several `dispatch serve` instances on one database: one row, a lease with an
-- epoch. An instance becomes leader by taking an expired lease, which adds one to the epoch;
-- the leader renews it well before it expires. Every commit checks, under a share lock of
-- this row, that its epoch is still the current one and unexpired (fencing), so a paused or
-- cut-off former leader can never write after another took over. Times are the database's.

CREATE TABLE leadership (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    epoch BIGINT NOT NULL,
    holder TEXT NOT NULL,
    url TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

INSERT INTO leadership (id, epoch, holder, url, expires_at) VALUES (1, 0, '', '', '-infinity');
