-- A contact's timeline finds a backend's events (sent without a session) by
-- user id. Only those rows are indexed: events from the browser carry a
-- session and are found through it, so the collector's hot path pays nothing.
CREATE INDEX user_events_sessionless ON user_events(project_id, user_id, ts) WHERE session_id IS NULL;
