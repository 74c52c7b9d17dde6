-- Flows: a start step, a complete step and an optional fail step (funnel
-- steps as JSON text) within window_hours. Their rollups are kept at ingest
-- (vibe_store::flows::ingest) and rebuilt from events on create/update and by
-- rollup::rebuild.
CREATE TABLE flows (
    project_id TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    start_step TEXT NOT NULL,
    complete_step TEXT NOT NULL,
    fail_step TEXT,
    window_hours INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, id)
);

-- Each person's latest attempt per flow: what ingest needs to end it.
-- outcome is 'open', 'completed' or 'failed'; ended_at is 0 while open.
CREATE TABLE flow_attempts (
    project_id TEXT NOT NULL,
    site_user_id TEXT NOT NULL,
    flow_id TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    ended_at INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, site_user_id, flow_id)
);
CREATE INDEX flow_attempts_flow ON flow_attempts(project_id, flow_id);

-- Attempts by the local day they started.
CREATE TABLE flow_days (
    project_id TEXT NOT NULL,
    flow_id TEXT NOT NULL,
    day TEXT NOT NULL,
    started INTEGER NOT NULL DEFAULT 0,
    completed INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    completion_ms_sum INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, flow_id, day)
);

-- Completed attempts per start day and duration bucket (flows::attempt::bucket_of).
CREATE TABLE flow_duration_days (
    project_id TEXT NOT NULL,
    flow_id TEXT NOT NULL,
    day TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    n INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, flow_id, day, bucket)
);
