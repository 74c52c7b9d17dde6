-- Custom segments: people matching saved criteria (JSON text, validated by the
-- server before it is stored), with the count of the last recount.
CREATE TABLE segments (
    project_id  TEXT NOT NULL,
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT,
    criteria    TEXT NOT NULL,
    user_count  BIGINT NOT NULL DEFAULT 0,
    counted_at  BIGINT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (project_id, id)
);
-- The scheduler recounts the oldest counts first, across projects.
CREATE INDEX segments_counted ON segments(counted_at);
