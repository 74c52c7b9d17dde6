-- Distinct people over a range without COUNT(DISTINCT) over per-person rows
-- (vibe_store::uniques): one mergeable sketch per (project, metric, key, local
-- day) — the exact set of person hashes up to 256 people, a HyperLogLog
-- (4096 registers, ±1.6 %) beyond. Kept at ingest in the batch's
-- transaction, rebuilt from the exact tables (user_days, feature_user_days,
-- ai_usage_days, payments) by rollup::rebuild.
--   metric 'active'  key ''          people active that day (user_days)
--   metric 'feature' key event name  people using that custom event that day
--   metric 'ai'      key ''          people with any ai_usage that day
--   metric 'paying'  key ''          people whose payment is dated that day
CREATE TABLE unique_days (
    project_id TEXT NOT NULL,
    metric TEXT NOT NULL,
    key TEXT NOT NULL,
    day TEXT NOT NULL,
    sketch BLOB NOT NULL,
    PRIMARY KEY (project_id, metric, key, day)
);
-- A report reads one metric's days of a range across keys (every feature).
CREATE INDEX unique_days_day ON unique_days(project_id, metric, day);

-- AI usage per local day and model (ai_usage_days without the person), so
-- the AI report's totals, models and days read days × models rows.
CREATE TABLE ai_model_days (
    project_id TEXT NOT NULL,
    day TEXT NOT NULL,
    model TEXT NOT NULL,
    calls INTEGER NOT NULL DEFAULT 0,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    cost_micro_usd INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, day, model)
);

-- Existing projects get the new rollups from their stored data on next start.
INSERT INTO rollup_rebuilds (project_id)
    SELECT id FROM projects WHERE id NOT IN (SELECT project_id FROM rollup_rebuilds);
