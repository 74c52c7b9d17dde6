-- Conversion funnels: an ordered list of steps (JSON), each a page path (exact or
-- prefix) or an event name, and a conversion window.
CREATE TABLE funnels (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    steps       TEXT NOT NULL,
    window_days BIGINT NOT NULL DEFAULT 7,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX funnels_project ON funnels(project_id, created_at);
