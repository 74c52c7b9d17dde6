-- Signups per local day: user ids sent for the first time (the CRM
-- overview's "signups today"). Existing projects are rebuilt from their
-- events on the next start.
ALTER TABLE daily_stats ADD COLUMN signups INTEGER NOT NULL DEFAULT 0;
INSERT INTO rollup_rebuilds (project_id)
    SELECT id FROM projects WHERE id NOT IN (SELECT project_id FROM rollup_rebuilds);
