-- Position reports (`crew_moved` events) are compacted: once older than the track's
-- retention and covered by a snapshot, a crew's report is removed when a later report of the
-- same crew is in the log, so each crew's latest report stays. Every other event stays
-- append-only. `track_compaction.upto` is the last seq compacted: the log may have gaps at
-- or before it, and the trigger refuses to remove anything after it. Same meaning as
-- ../sqlite/0004_track_compaction.sql.

CREATE TABLE track_compaction (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    upto BIGINT  NOT NULL CHECK (upto >= 0)
);
INSERT INTO track_compaction (id, upto) VALUES (1, 0);

CREATE FUNCTION events_track_compaction() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.body->>'type' IS DISTINCT FROM 'crew_moved'
       OR OLD.seq > (SELECT upto FROM track_compaction WHERE id = 1) THEN
        RAISE EXCEPTION 'the event log is append-only: only position reports before the compaction mark can be removed';
    END IF;
    RETURN OLD;
END
$$;

CREATE FUNCTION track_compaction_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.upto < OLD.upto THEN
        RAISE EXCEPTION 'the compaction mark only moves forward';
    END IF;
    RETURN NEW;
END
$$;

DROP TRIGGER events_no_change ON events;
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_track_compaction();
CREATE TRIGGER track_compaction_forward BEFORE UPDATE ON track_compaction
    FOR EACH ROW EXECUTE FUNCTION track_compaction_forward();

-- Each crew's reports in order, to find the ones a later report of the same crew replaces.
CREATE INDEX events_positions ON events ((body->>'crew_id'), seq)
    WHERE body->>'type' = 'crew_moved';
