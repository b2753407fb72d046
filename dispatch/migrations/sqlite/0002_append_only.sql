-- The event log is append-only: an event, once written, is never changed or removed (the
-- audit log of who did what rests on it). Same meaning as ../postgres/0002_append_only.sql.

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only: events cannot be changed');
END;

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only: events cannot be removed');
END;
