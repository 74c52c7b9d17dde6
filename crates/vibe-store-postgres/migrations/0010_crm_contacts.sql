-- CRM fields an admin keeps per tracked person. A person without a row has
-- no tags, no priority and empty properties.
CREATE TABLE contacts (
    project_id   TEXT NOT NULL,
    site_user_id TEXT NOT NULL,
    priority     TEXT CHECK (priority IN ('low', 'medium', 'high', 'vip')),
    properties   TEXT NOT NULL DEFAULT '{}',
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (project_id, site_user_id)
);
CREATE INDEX contacts_priority ON contacts(project_id, priority);

-- One row per tag, not a list column: counting and filtering by tag use the index.
CREATE TABLE contact_tags (
    project_id   TEXT NOT NULL,
    site_user_id TEXT NOT NULL,
    tag          TEXT NOT NULL,
    PRIMARY KEY (project_id, site_user_id, tag)
);
CREATE INDEX contact_tags_tag ON contact_tags(project_id, tag, site_user_id);

CREATE TABLE contact_notes (
    project_id        TEXT NOT NULL,
    id                TEXT NOT NULL,
    site_user_id      TEXT NOT NULL,
    body              TEXT NOT NULL,
    author_account_id TEXT,
    created_at        BIGINT NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE INDEX contact_notes_person ON contact_notes(project_id, site_user_id, created_at);
