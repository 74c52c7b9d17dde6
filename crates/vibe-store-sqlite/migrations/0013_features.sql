-- Feature usage and AI token usage rollups, kept at ingest
-- (vibe_store::features::ingest) and rebuilt from events by rollup::rebuild.

-- Custom events per local day and name (reserved names excluded).
CREATE TABLE feature_days (
    project_id TEXT NOT NULL,
    day TEXT NOT NULL,
    name TEXT NOT NULL,
    events INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, day, name)
);

-- Who used a feature on which day: distinct people over any range.
CREATE TABLE feature_user_days (
    project_id TEXT NOT NULL,
    day TEXT NOT NULL,
    name TEXT NOT NULL,
    site_user_id TEXT NOT NULL,
    PRIMARY KEY (project_id, day, name, site_user_id)
);
CREATE INDEX feature_user_days_person ON feature_user_days(project_id, site_user_id);

-- Per person and name: how often, first and last time (profiles, segments).
CREATE TABLE person_features (
    project_id TEXT NOT NULL,
    site_user_id TEXT NOT NULL,
    name TEXT NOT NULL,
    events INTEGER NOT NULL DEFAULT 0,
    first_ts INTEGER NOT NULL,
    last_ts INTEGER NOT NULL,
    PRIMARY KEY (project_id, site_user_id, name)
);
CREATE INDEX person_features_name ON person_features(project_id, name, events);

-- ai_usage events per local day, model and person.
CREATE TABLE ai_usage_days (
    project_id TEXT NOT NULL,
    day TEXT NOT NULL,
    model TEXT NOT NULL,
    site_user_id TEXT NOT NULL,
    calls INTEGER NOT NULL DEFAULT 0,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    cost_micro_usd INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, day, model, site_user_id)
);
CREATE INDEX ai_usage_days_person ON ai_usage_days(project_id, site_user_id);

-- Existing projects get the new rollups from their stored events on next start.
INSERT INTO rollup_rebuilds (project_id)
    SELECT id FROM projects WHERE id NOT IN (SELECT project_id FROM rollup_rebuilds);
