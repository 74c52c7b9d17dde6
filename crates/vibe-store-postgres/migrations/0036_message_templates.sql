-- Message templates (issue 14, campaigns): per project, a name unique in
-- the project, the channel (email | push | in_app | whatsapp) and the
-- template source of each part the channel uses (validated by the server;
-- NULL where the channel has no such part).
CREATE TABLE message_templates (
    project_id            TEXT NOT NULL,
    id                    TEXT NOT NULL,
    name                  TEXT NOT NULL,
    channel               TEXT NOT NULL,
    subject               TEXT,
    body_html             TEXT,
    body_text             TEXT,
    push_title            TEXT,
    push_body             TEXT,
    push_url              TEXT,
    push_icon             TEXT,
    created_by_account_id TEXT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE UNIQUE INDEX message_templates_name ON message_templates(project_id, name);
