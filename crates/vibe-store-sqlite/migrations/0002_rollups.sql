-- Rollups kept current at ingest (see docs/metrics.md). Days are local to the
-- project's time zone, as 'YYYY-MM-DD'.
CREATE TABLE daily_stats (
    project_id   TEXT NOT NULL,
    day          TEXT NOT NULL,
    active_users INTEGER NOT NULL DEFAULT 0,
    new_users    INTEGER NOT NULL DEFAULT 0,
    sessions     INTEGER NOT NULL DEFAULT 0,
    pageviews    INTEGER NOT NULL DEFAULT 0,
    events       INTEGER NOT NULL DEFAULT 0,
    -- Sum of durations and count of bounced sessions among sessions started that day.
    session_ms   INTEGER NOT NULL DEFAULT 0,
    bounces      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, day)
);

-- Who was active on which day: distinct active users and churn without scanning events.
CREATE TABLE user_days (
    project_id   TEXT NOT NULL,
    day          TEXT NOT NULL,
    site_user_id TEXT NOT NULL,
    PRIMARY KEY (project_id, day, site_user_id)
);
CREATE INDEX user_days_person ON user_days(project_id, site_user_id);

-- Sessions by start time: "online at a moment in the past" for metric trends.
CREATE INDEX site_sessions_started ON site_sessions(project_id, started_at);
CREATE INDEX site_users_first_seen ON site_users(project_id, first_seen);
