-- Churn counters per day, kept at ingest (vibe_store::rollup::churn_part).
ALTER TABLE daily_stats ADD COLUMN churn_base INTEGER NOT NULL DEFAULT 0;
ALTER TABLE daily_stats ADD COLUMN churned INTEGER NOT NULL DEFAULT 0;

-- Projects whose rollups must be rebuilt from events (on the next start).
CREATE TABLE rollup_rebuilds (project_id TEXT PRIMARY KEY);
INSERT INTO rollup_rebuilds (project_id) SELECT DISTINCT project_id FROM user_days;
