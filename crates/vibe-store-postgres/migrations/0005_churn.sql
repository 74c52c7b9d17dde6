-- Churn counters per day, kept at ingest (vibe_store::rollup::churn_part).
ALTER TABLE daily_stats ADD COLUMN churn_base BIGINT NOT NULL DEFAULT 0;
ALTER TABLE daily_stats ADD COLUMN churned BIGINT NOT NULL DEFAULT 0;

-- Projects whose rollups must be rebuilt from events (on the next start).
CREATE TABLE rollup_rebuilds (project_id TEXT PRIMARY KEY);
INSERT INTO rollup_rebuilds (project_id) SELECT DISTINCT project_id FROM user_days;

-- A person's active days by range (churn at ingest). With the day in the index,
-- SQLite no longer prefers scanning the (project_id, day, …) key for it.
DROP INDEX user_days_person;
CREATE INDEX user_days_person ON user_days(project_id, site_user_id, day);
