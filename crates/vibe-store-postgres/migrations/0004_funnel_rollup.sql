-- Funnel rollup kept at ingest (vibe_store::funnel_rollup, docs/metrics.md).
-- Every stored event matching a step of a funnel, under the person it belongs to
-- now; `steps` is a bit set of the steps it matches.
CREATE TABLE funnel_hits (
    project_id   TEXT NOT NULL,
    funnel_id    TEXT NOT NULL,
    person       TEXT NOT NULL,
    ts           BIGINT NOT NULL,
    event_id     TEXT NOT NULL,
    anonymous_id TEXT,
    steps        BIGINT NOT NULL,
    PRIMARY KEY (project_id, funnel_id, person, ts, event_id)
);

-- Per funnel, person and step k: the latest step-1 time of an attempt that
-- reached at least k steps.
CREATE TABLE funnel_reach (
    project_id TEXT NOT NULL,
    funnel_id  TEXT NOT NULL,
    person     TEXT NOT NULL,
    step       BIGINT NOT NULL,
    last_start BIGINT NOT NULL,
    PRIMARY KEY (project_id, funnel_id, person, step)
);
CREATE INDEX funnel_reach_by_start ON funnel_reach(project_id, funnel_id, step, last_start);

-- Funnels defined before the rollup existed are rebuilt from events on start.
ALTER TABLE funnels ADD COLUMN rollup_ready BOOLEAN NOT NULL DEFAULT FALSE;
