-- People per funnel, step and hour of their latest attempt's start: a period's
-- count reads whole hours from here (vibe_store::funnel_rollup::HOUR_MS).
CREATE TABLE funnel_reach_hours (
    project_id TEXT NOT NULL,
    funnel_id  TEXT NOT NULL,
    step       BIGINT NOT NULL,
    hour       BIGINT NOT NULL,
    people     BIGINT NOT NULL,
    PRIMARY KEY (project_id, funnel_id, step, hour)
);
-- Existing funnels get their buckets on the next start.
UPDATE funnels SET rollup_ready = FALSE;
