-- Support snapshots (issue 13): additive counters of the support facts and
-- agent time per closed local hour, day and ISO week of the project's time
-- zone and per (agent, team, channel), '' meaning none. `metrics` is JSON
-- text (counter name -> integer, docs/metrics.md "Support snapshots").

-- support_events is created by 0030 when present (the facts); the identical
-- definition here, IF NOT EXISTS, only lets this migration stand on its own
-- before 0030 is merged. 0030's stays the real one.
CREATE TABLE IF NOT EXISTS support_events (
    project_id      TEXT NOT NULL,
    id              TEXT NOT NULL,
    name            TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    message_id      TEXT,
    account_id      TEXT,
    team_id         TEXT,
    inbox_id        TEXT,
    channel         TEXT NOT NULL,
    value_s         BIGINT,
    value_bh_s      BIGINT,
    flag            BIGINT NOT NULL DEFAULT 0,
    label           TEXT,
    at              BIGINT NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE INDEX IF NOT EXISTS support_events_at ON support_events(project_id, at);

CREATE TABLE analytics_snapshots (
    project_id    TEXT NOT NULL,
    snapshot_type TEXT NOT NULL CHECK (snapshot_type IN ('hourly', 'daily', 'weekly')),
    period_start  BIGINT NOT NULL,
    account_id    TEXT NOT NULL DEFAULT '',
    team_id       TEXT NOT NULL DEFAULT '',
    channel       TEXT NOT NULL,
    metrics       TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (project_id, snapshot_type, period_start, account_id, team_id, channel)
);

-- How far each kind is folded: snapshots exist for every closed period
-- before `hourly_to` / `daily_to` / `weekly_to` (ms, period starts), in
-- the time zone `tz` they were cut in (a changed project zone refolds).
CREATE TABLE analytics_snapshot_marks (
    project_id TEXT NOT NULL PRIMARY KEY,
    tz         TEXT NOT NULL,
    hourly_to  BIGINT NOT NULL,
    daily_to   BIGINT NOT NULL,
    weekly_to  BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
