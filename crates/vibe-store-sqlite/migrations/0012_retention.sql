-- Retention rollup, kept at ingest (vibe_store::retention::ingest): how many
-- people of the cohort of local day `cohort_day` (their first-seen day) were
-- active on cohort_day + offset_days, for offsets 0 ..= 90
-- (vibe_store::retention::MAX_OFFSET). Deltas only add up, so a row can hold 0.
CREATE TABLE retention_cohorts (
    project_id TEXT NOT NULL,
    cohort_day TEXT NOT NULL,
    offset_days INTEGER NOT NULL,
    people INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, cohort_day, offset_days)
);

-- Existing data gets the rollup on the next start (vibe_store::rollup::rebuild).
INSERT INTO rollup_rebuilds (project_id)
    SELECT id FROM projects WHERE id NOT IN (SELECT project_id FROM rollup_rebuilds);
