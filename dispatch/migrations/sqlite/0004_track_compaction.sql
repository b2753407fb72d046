-- Position reports (`crew_moved` events) are compacted: once older than the track's
-- retention and covered by a snapshot, a crew's report is removed when a later report of the
-- same crew is in the log, so each crew's latest report stays. Every other event stays
-- append-only. `track_compaction.upto` is the last seq compacted: the log may have gaps at
-- or before it, and the trigger refuses to remove anything after it. Same meaning as
-- ../postgres/0005_track_compaction.sql.

CREATE TABLE track_compaction (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    upto INTEGER NOT NULL CHECK (upto >= 0)
);
INSERT INTO track_compaction (id, upto) VALUES (1, 0);

DROP TRIGGER events_no_delete;

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    WHEN json_extract(OLD.body, '$.type') IS NOT 'crew_moved'
      OR OLD.seq > (SELECT upto FROM track_compaction WHERE id = 1)
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only: only position reports before the compaction mark can be removed');
END;

CREATE TRIGGER track_compaction_forward BEFORE UPDATE ON track_compaction
    WHEN NEW.upto < OLD.upto
BEGIN
    SELECT RAISE(ABORT, 'the compaction mark only moves forward');
END;

-- Each crew's reports in order, to find the ones a later report of the same crew replaces.
CREATE INDEX events_positions ON events (json_extract(body, '$.crew_id'), seq)
    WHERE json_extract(body, '$.type') = 'crew_moved';
