-- People per funnel, step and hour of their latest attempt's start: a period's
-- count reads whole hours from here (vibe_store::funnel_rollup::HOUR_MS).
CREATE TABLE funnel_reach_hours (
    project_id TEXT NOT NULL,
    funnel_id  TEXT NOT NULL,
    step       INTEGER NOT NULL,
    hour       INTEGER NOT NULL,
    people     INTEGER NOT NULL,
    PRIMARY KEY (project_id, funnel_id, step, hour)
);
-- Existing funnels get their buckets on the next start.
UPDATE funnels SET rollup_ready = 0;
