-- The AI report's people page over ranges with many people
-- (vibe_store::features::ai_people): the top people of one range of local
-- days, most tokens first, as JSON rows [person, calls, prompt tokens,
-- completion tokens, cost in micro-USD], computed at `computed_at` and read
-- until it is older than the configured age; the scheduler recomputes the
-- ranges read within the last day.
CREATE TABLE ai_people_snapshots (
    project_id TEXT NOT NULL,
    from_day TEXT NOT NULL,
    to_day TEXT NOT NULL,
    computed_at BIGINT NOT NULL,
    read_at BIGINT NOT NULL,
    people TEXT NOT NULL,
    PRIMARY KEY (project_id, from_day, to_day)
);
CREATE INDEX ai_people_snapshots_read ON ai_people_snapshots(read_at);

-- Each person's number of sessions, kept at ingest (new sessions add, merges
-- add the merged person's) and recounted by rollup::rebuild, so a custom
-- segment's "sessions" condition reads a column instead of counting rows.
ALTER TABLE site_users ADD COLUMN session_count BIGINT NOT NULL DEFAULT 0;
UPDATE site_users u SET session_count = c.n
    FROM (SELECT project_id, site_user_id, COUNT(*) AS n FROM site_sessions GROUP BY project_id, site_user_id) c
    WHERE c.project_id = u.project_id AND c.site_user_id = u.id;
-- A segment driven by a set of people (a tag, an event, …) checks each one's
-- recency and session count in this narrow index, never the wide rows.
CREATE INDEX site_users_segment ON site_users(project_id, id, last_seen, session_count);
